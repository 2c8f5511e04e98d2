#pragma once
// Plain float64 references and comparison helpers shared by the tests. Nothing here
// calls the code under test.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace pact_test {

/// Seeded uniform values in [lo, hi], never exactly zero (zeros hide unwritten outputs).
template <class T>
std::vector<T> random_values(std::size_t n, std::uint32_t seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) {
    double d = dist(gen);
    if (d == 0.0) d = 0.5;
    x = static_cast<T>(d);
  }
  return v;
}

/// Distance in units in the last place between two floats (same sign assumed near).
inline std::int64_t ulp_distance(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<std::int64_t>::max();
  auto key = [](float x) {
    std::int32_t i;
    std::memcpy(&i, &x, 4);
    return i < 0 ? static_cast<std::int64_t>(std::numeric_limits<std::int32_t>::min()) - i : static_cast<std::int64_t>(i);
  };
  const std::int64_t d = key(a) - key(b);
  return d < 0 ? -d : d;
}

}  // namespace pact_test
