// int8 / uint8 matrices and FP8 with 1x128 / 128x128 scales, against plain references
// written from the documented rules (double where the rule has no intermediate rounding).
#include <pact/quant.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "quant/quant_reference.hpp"
#include "types/ref_float_formats.hpp"

namespace q = pact::quant;

namespace {

std::vector<float> random_matrix(std::size_t rows, std::size_t ld, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(rows * ld);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = n(gen) * (1.0f + static_cast<float>(i % 7));
  if (rows > 1) {
    for (std::size_t c = 0; c < ld; ++c) x[ld + c] = 0.0f;  // an all-zero row
  }
  return x;
}

struct shape {
  std::size_t rows, cols, ld;
};
const shape shapes[] = {{1, 1, 1}, {3, 31, 33}, {2, 32, 32}, {4, 100, 101}, {5, 128, 128}, {3, 129, 130},
                        {2, 257, 260}, {7, 384, 384}, {130, 200, 200}};

// Reference group parameters (the rule in int8.hpp), then per-element codes.
void check_int8(const float* x, std::size_t rows, std::size_t cols, std::size_t ld, q::int8_layout layout) {
  const bool asym = layout.scheme == q::int8_scheme::asymmetric;
  const std::size_t gc = layout.granularity == q::int8_granularity::per_group ? layout.group_size : cols;
  auto run = [&](const auto& m) {
    ASSERT_EQ(m.rows, rows);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        // the group's extent
        std::size_t r0 = r, r1 = r + 1, c0 = c / gc * gc, c1 = std::min(cols, c0 + gc);
        if (layout.granularity == q::int8_granularity::per_tensor) { r0 = 0; r1 = rows; c0 = 0; c1 = cols; }
        float lo = 0, hi = 0;
        for (std::size_t i = r0; i < r1; ++i)
          for (std::size_t j = c0; j < c1; ++j) { lo = std::min(lo, x[i * ld + j]); hi = std::max(hi, x[i * ld + j]); }
        const std::size_t g = m.scale_index(r, c);
        int want;
        if (!asym) {
          const float amax = std::max(-lo, hi);
          const float inv = amax > 0 ? qref::rnd(127.0f / amax) : 0.0f;
          ASSERT_EQ(m.scales[g], qref::rnd(amax / 127.0f));
          want = static_cast<int>(std::clamp(std::nearbyint(qref::mul(x[r * ld + c], inv)), -127.0f, 127.0f));
        } else {
          const float width = qref::sub(hi, lo);
          const float inv = width > 0 ? qref::rnd(255.0f / width) : 0.0f;
          const int zp = static_cast<int>(std::clamp(std::nearbyint(qref::mul(-lo, inv)), 0.0f, 255.0f));
          ASSERT_EQ(m.scales[g], qref::rnd(width / 255.0f));
          ASSERT_EQ(m.zero_points[g], zp);
          want = static_cast<int>(std::clamp(std::nearbyint(qref::mul(x[r * ld + c], inv)) + static_cast<float>(zp), 0.0f, 255.0f));
        }
        ASSERT_EQ(static_cast<int>(m.data[r * cols + c]), want) << "r " << r << " c " << c;
      }
    }
    // dequantize: float(q - zp) * scale
    std::vector<float> y(rows * cols);
    q::dequantize_int8(m, y.data(), cols);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const std::size_t g = m.scale_index(r, c);
        const int zp = asym ? m.zero_points[g] : 0;
        ASSERT_EQ(y[r * cols + c], static_cast<float>((static_cast<int>(m.data[r * cols + c]) - zp) * static_cast<double>(m.scales[g])));
      }
  };
  if (asym) run(q::quantize_uint8(x, rows, cols, ld, layout));
  else run(q::quantize_int8(x, rows, cols, ld, layout));
}

}  // namespace

TEST(QuantInt8, AllGranularitiesAndSchemes) {
  for (const auto& s : shapes) {
    const auto x = random_matrix(s.rows, s.ld, static_cast<std::uint32_t>(s.rows * 1000 + s.cols));
    for (auto scheme : {q::int8_scheme::symmetric, q::int8_scheme::asymmetric}) {
      check_int8(x.data(), s.rows, s.cols, s.ld, {q::int8_granularity::per_tensor, 0, scheme});
      check_int8(x.data(), s.rows, s.cols, s.ld, {q::int8_granularity::per_row, 0, scheme});
      for (std::size_t g : {32, 64, 128}) check_int8(x.data(), s.rows, s.cols, s.ld, {q::int8_granularity::per_group, g, scheme});
      if (::testing::Test::HasFailure()) FAIL() << "shape " << s.rows << "x" << s.cols;
    }
  }
}

TEST(QuantInt8, ErrorsAndDeterminism) {
  std::vector<float> x(64, 1.0f);
  EXPECT_THROW(q::quantize_int8(x.data(), 2, 32, 32, {q::int8_granularity::per_group, 48, q::int8_scheme::symmetric}), pact::error);
  EXPECT_THROW(q::quantize_int8(x.data(), 2, 32, 32, {q::int8_granularity::per_row, 0, q::int8_scheme::asymmetric}), pact::error);
  EXPECT_THROW(q::quantize_int8(x.data(), 2, 32, 16, {}), pact::error);
  x[33] = NAN;
  try {
    q::quantize_int8(x.data(), 2, 32, 32, {});
    FAIL();
  } catch (const pact::error& e) {
    EXPECT_EQ(e.code(), pact::errc::invalid_data);
  }
  std::vector<float> big(64, 3e38f);
  big[1] = -3e38f;  // range 6e38 overflows float
  EXPECT_THROW(q::quantize_uint8(big.data(), 2, 32, 32, {q::int8_granularity::per_row, 0, q::int8_scheme::asymmetric}), pact::error);
  const auto m = random_matrix(67, 300, 3);
  const auto ref = q::quantize_int8(m.data(), 67, 300, 300, {q::int8_granularity::per_group, 64, q::int8_scheme::symmetric});
  for (int t : {2, 3}) {
    pact::thread_pool pool(t);
    const auto got = q::quantize_int8(m.data(), 67, 300, 300, {q::int8_granularity::per_group, 64, q::int8_scheme::symmetric}, pool);
    EXPECT_EQ(std::memcmp(got.data.data(), ref.data.data(), 67 * 300), 0);
    EXPECT_EQ(std::memcmp(got.scales.data(), ref.scales.data(), ref.scales.size() * 4), 0);
  }
}

namespace {

template <class Fp8>
std::uint8_t ref_fp8(float v) {
  const ref::format& f = std::is_same_v<Fp8, pact::fp8_e4m3> ? ref::e4m3_format : ref::e5m2_format;
  static const ref::nearest_encoder table_e4m3(ref::e4m3_format), table_e5m2(ref::e5m2_format);
  const auto& table = std::is_same_v<Fp8, pact::fp8_e4m3> ? table_e4m3 : table_e5m2;
  const auto r = ref::round_to_format(table, v);
  const std::uint32_t code = r.code > f.max_finite_code ? f.max_finite_code : r.code;
  return static_cast<std::uint8_t>((r.negative ? 0x80u : 0u) | code);
}

template <class Fp8>
void check_fp8_activations() {
  const float fmax = std::is_same_v<Fp8, pact::fp8_e4m3> ? 448.0f : 57344.0f;
  for (const auto& s : shapes) {
    const auto x = random_matrix(s.rows, s.ld, static_cast<std::uint32_t>(s.cols));
    const auto a = q::quantize_fp8_1x128<Fp8>(x.data(), s.rows, s.cols, s.ld);
    for (std::size_t r = 0; r < s.rows; ++r) {
      for (std::size_t g = 0; g * 128 < s.cols; ++g) {
        float amax = 0;
        for (std::size_t c = g * 128; c < std::min(s.cols, g * 128 + 128); ++c) amax = std::max(amax, std::fabs(x[r * s.ld + c]));
        const float scale = qref::rnd(amax / fmax);
        const float inv = amax > 0 ? qref::rnd(fmax / amax) : 0.0f;
        ASSERT_EQ(a.scales[r * a.groups_per_row() + g], scale);
        for (std::size_t c = g * 128; c < std::min(s.cols, g * 128 + 128); ++c) {
          ASSERT_EQ(a.data[r * s.cols + c].bits, ref_fp8<Fp8>(qref::mul(x[r * s.ld + c], inv))) << r << "," << c;
        }
      }
    }
    std::vector<float> y(s.rows * s.cols);
    q::dequantize_fp8(a, y.data(), s.cols);
    double worst = 0;
    for (std::size_t r = 0; r < s.rows; ++r)
      for (std::size_t c = 0; c < s.cols; ++c) {
        const float sc = a.scale(r, c);
        ASSERT_EQ(y[r * s.cols + c], static_cast<float>(a.data[r * s.cols + c]) * sc);
        if (sc > 0) worst = std::max(worst, static_cast<double>(std::fabs(y[r * s.cols + c] - x[r * s.ld + c]) / (sc * fmax)));
      }
    // Relative to the group maximum: half a step at the top binade (2^-4 for E4M3, 2^-3 for E5M2).
    const double bound = std::is_same_v<Fp8, pact::fp8_e4m3> ? 0.0625 : 0.125;
    EXPECT_LE(worst, bound);
  }
}

}  // namespace

TEST(QuantFp8, Activations1x128E4M3) { check_fp8_activations<pact::fp8_e4m3>(); }
TEST(QuantFp8, Activations1x128E5M2) { check_fp8_activations<pact::fp8_e5m2>(); }

TEST(QuantFp8, Weights128x128) {
  const std::size_t rows = 300, cols = 260;
  const auto w = random_matrix(rows, cols, 17);
  const auto qw = q::quantize_fp8_128x128<pact::fp8_e4m3>(w.data(), rows, cols, cols);
  ASSERT_EQ(qw.block_rows(), 3u);
  ASSERT_EQ(qw.block_cols(), 3u);
  for (std::size_t br = 0; br < 3; ++br)
    for (std::size_t bc = 0; bc < 3; ++bc) {
      float amax = 0;
      for (std::size_t r = br * 128; r < std::min(rows, br * 128 + 128); ++r)
        for (std::size_t c = bc * 128; c < std::min(cols, bc * 128 + 128); ++c) amax = std::max(amax, std::fabs(w[r * cols + c]));
      ASSERT_EQ(qw.scales[br * 3 + bc], qref::rnd(amax / 448.0f));
      const float inv = amax > 0 ? qref::rnd(448.0f / amax) : 0.0f;
      for (std::size_t r = br * 128; r < std::min(rows, br * 128 + 128); ++r)
        for (std::size_t c = bc * 128; c < std::min(cols, bc * 128 + 128); ++c)
          ASSERT_EQ(qw.data[r * cols + c].bits, ref_fp8<pact::fp8_e4m3>(qref::mul(w[r * cols + c], inv)));
    }
  pact::thread_pool pool(3);
  const auto again = q::quantize_fp8_128x128<pact::fp8_e4m3>(w.data(), rows, cols, cols, pool);
  EXPECT_EQ(std::memcmp(again.data.data(), qw.data.data(), rows * cols), 0);
}

TEST(QuantFp8, EdgeRowsAndErrors) {
  std::vector<float> x(256, 0.0f);
  x[200] = 1e-38f;  // tiny amax: 448 / amax overflows float -> divide by the scale instead
  x[201] = -5e-39f;
  const auto a = q::quantize_fp8_1x128<pact::fp8_e4m3>(x.data(), 1, 256, 256);
  EXPECT_EQ(a.scales[0], 0.0f);
  EXPECT_EQ(a.data[0].bits, 0);
  EXPECT_EQ(a.data[200].bits, 0x7E);
  EXPECT_EQ(a.data[201].bits, ref_fp8<pact::fp8_e4m3>(-5e-39f / a.scales[1]));
  x[3] = INFINITY;
  try {
    q::quantize_fp8_1x128<pact::fp8_e4m3>(x.data(), 1, 256, 256);
    FAIL();
  } catch (const pact::error& e) {
    EXPECT_EQ(e.code(), pact::errc::invalid_data);
  }
  EXPECT_THROW(q::quantize_fp8_1x128<pact::fp8_e4m3>(x.data(), 2, 256, 100), pact::error);
}
