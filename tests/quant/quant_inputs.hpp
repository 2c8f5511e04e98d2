#pragma once
// Input rows for the quantizer tests: random rows of several shapes and scales, plus the
// edge rows every format must handle (each a multiple of 256 floats so every block format
// can take it).
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace qin {

struct row {
  std::string name;
  std::vector<float> x;
};

inline std::vector<row> edge_rows() {
  std::vector<row> rows;
  const std::size_t n = 256;
  auto make = [&](std::string name, auto f) {
    row r{std::move(name), std::vector<float>(n)};
    for (std::size_t i = 0; i < n; ++i) r.x[i] = f(i);
    rows.push_back(std::move(r));
  };
  make("zeros", [](std::size_t) { return 0.0f; });
  make("negative_zeros", [](std::size_t i) { return i % 3 == 0 ? -0.0f : 0.0f; });
  make("one_huge", [](std::size_t i) { return i == 37 ? 3.0e4f : 0.001f * static_cast<float>(i % 7); });
  make("one_huge_negative", [](std::size_t i) { return i % 64 == 5 ? -1.0e30f : 1.0f; });
  make("negative_amax_tie_first", [](std::size_t i) { return i % 32 == 3 ? -2.5f : (i % 32 == 9 ? 2.5f : 0.25f * static_cast<float>(i % 5)); });
  make("positive_amax_tie_first", [](std::size_t i) { return i % 32 == 3 ? 2.5f : (i % 32 == 9 ? -2.5f : -0.3f); });
  make("subnormals", [](std::size_t i) { return std::ldexp(static_cast<float>(i % 11) - 5.0f, -140); });
  make("tiny_normals", [](std::size_t i) { return std::ldexp(static_cast<float>(i % 13) - 6.0f, -120); });
  make("constant", [](std::size_t) { return 0.7f; });
  make("constant_negative", [](std::size_t) { return -3.25f; });
  make("alternating", [](std::size_t i) { return i % 2 ? 1.0f : -1.0f; });
  make("ramp", [](std::size_t i) { return static_cast<float>(i) - 128.0f; });
  make("large", [](std::size_t i) { return 1.0e37f * (static_cast<float>(i % 9) - 4.0f); });
  // amax 127 in every 32-block: Q8_0's d is exactly 1, so every x.5 is a rounding tie.
  make("q8_0_exact_ties", [](std::size_t i) {
    return i % 32 == 0 ? 127.0f : 0.5f * static_cast<float>((i * 7) % 255) - 63.5f;
  });
  make("half_steps", [](std::size_t i) { return 0.5f * (static_cast<float>(i % 31) - 15.0f); });
  make("powers_of_two", [](std::size_t i) { return std::ldexp(1.0f, static_cast<int>(i % 20) - 10) * (i % 2 ? -1.0f : 1.0f); });
  return rows;
}

/// `count` random rows of `n` floats: normal, uniform, heavy-tailed and mixed scales.
/// max_exp bounds the row scale 2^[-max_exp, max_exp] (20 reaches beyond fp16 scale range,
/// which the byte-comparison tests want; error-bound tests use realistic weight scales).
inline std::vector<row> random_rows(int count, std::size_t n, std::uint32_t seed, int max_exp = 20) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::uniform_int_distribution<int> scale_exp(-max_exp, max_exp);
  std::vector<row> rows;
  for (int k = 0; k < count; ++k) {
    row r{"random_" + std::to_string(k), std::vector<float>(n)};
    const int kind = k % 4;
    const float scale = std::ldexp(1.0f, scale_exp(gen));
    for (auto& v : r.x) {
      float u;
      switch (kind) {
        case 0: u = normal(gen); break;
        case 1: u = uniform(gen); break;
        case 2: u = normal(gen) / (0.05f + std::fabs(uniform(gen))); break;  // heavy tails
        default: u = normal(gen) * std::ldexp(1.0f, scale_exp(gen) / 4); break;
      }
      v = u * scale;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

inline std::vector<row> all_rows(int random_count = 96, std::uint32_t seed = 1234) {
  auto rows = edge_rows();
  for (auto& r : random_rows(random_count, 256, seed)) rows.push_back(std::move(r));
  return rows;
}

}  // namespace qin
