// FP8 GEMV (128x128 block-scaled weights, E4M3 and E5M2) against a float64 product of the
// FP8 values and scales: every row tail of the 4-row kernel, K across vector steps, group
// edges and short last groups, N across 128-row scale blocks, every compiled arch's row
// kernel, NaN codes and Inf inputs, 1x128 activations, determinism, invalid arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/quant/fp8_blockwise.hpp"
#include "pact/quant/gemv_fp8.hpp"
#include "support/arch_list.hpp"

namespace {
using pact::fp8_e4m3;
using pact::fp8_e5m2;
namespace q = pact::quant;

template <class Fp8>
q::fp8_weights_128x128<Fp8> random_weights(std::size_t N, std::size_t K, std::mt19937& rng) {
  std::vector<float> w(N * K);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  // Rows of very different magnitude, so the 128x128 scales differ from block to block.
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t k = 0; k < K; ++k) w[n * K + k] = nd(rng) * std::ldexp(1.0f, static_cast<int>((n / 128 + k / 128) % 7) - 3);
  return q::quantize_fp8_128x128<Fp8>(w.data(), N, K, K);
}

std::vector<float> random_x(std::size_t K, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<float> x(K);
  for (auto& v : x) v = u(rng);
  return x;
}

template <class Fp8>
void expect_matches_reference(const q::fp8_weights_128x128<Fp8>& W, const std::vector<float>& x, const std::vector<float>& y,
                              const char* what) {
  for (std::size_t n = 0; n < W.rows; ++n) {
    double ref = 0, mag = 0;
    for (std::size_t k = 0; k < W.cols; ++k) {
      const double p = static_cast<double>(static_cast<float>(W.data[n * W.cols + k])) * W.scale(n, k) * x[k];
      ref += p;
      mag += std::abs(p);
    }
    // f32 lane sums within a group, one scale product per group: a few ulps of sum |terms|.
    const double tol = 8.0 * std::numeric_limits<float>::epsilon() * mag + 1e-30;
    ASSERT_NEAR(y[n], ref, tol) << what << " N=" << W.rows << " K=" << W.cols << " row " << n;
  }
}

template <class Fp8>
void check(std::size_t N, std::size_t K, std::mt19937& rng, int threads = 1) {
  const auto W = random_weights<Fp8>(N, K, rng);
  const auto x = random_x(K, rng);
  std::vector<float> y(N, std::numeric_limits<float>::quiet_NaN());
  pact::thread_pool pool(threads);
  q::gemv(W, std::span<const float>(x), std::span<float>(y), pool);
  expect_matches_reference(W, x, y, "public");
}

template <class Fp8>
class QuantGemvFp8 : public ::testing::Test {};
using fp8_types = ::testing::Types<fp8_e4m3, fp8_e5m2>;
TYPED_TEST_SUITE(QuantGemvFp8, fp8_types);

TYPED_TEST(QuantGemvFp8, EveryRowTailAndLength) {
  std::mt19937 rng(1);
  for (std::size_t N = 1; N <= 9; ++N) check<TypeParam>(N, 200, rng);
  for (std::size_t K : {1, 5, 15, 16, 17, 63, 64, 65, 127, 128, 129, 191, 256, 300, 513}) check<TypeParam>(6, K, rng);
  check<TypeParam>(300, 1024, rng);  // three 128-row scale blocks, the last one partial
}

TYPED_TEST(QuantGemvFp8, ThreadedAndDeterministic) {
  std::mt19937 rng(2);
  const auto W = random_weights<TypeParam>(777, 1000, rng);
  const auto x = random_x(1000, rng);
  std::vector<float> y1(777), yt(777);
  q::gemv(W, std::span<const float>(x), std::span<float>(y1));
  expect_matches_reference(W, x, y1, "serial");
  for (int t : {2, 3, 7}) {
    pact::thread_pool pool(t);
    q::gemv(W, std::span<const float>(x), std::span<float>(yt), pool);
    ASSERT_EQ(0, std::memcmp(y1.data(), yt.data(), sizeof(float) * y1.size())) << t;
  }
}

TYPED_TEST(QuantGemvFp8, NaNCodesAndInfinities) {
  std::mt19937 rng(3);
  auto W = random_weights<TypeParam>(9, 300, rng);
  auto x = random_x(300, rng);
  // Row 1: a NaN code in the vector part; row 6: one in the scalar tail (k = 299).
  const std::uint8_t nan_code = std::is_same_v<TypeParam, fp8_e4m3> ? 0xFF : 0x7F;
  W.data[1 * 300 + 37] = TypeParam::from_bits(nan_code);
  W.data[6 * 300 + 299] = TypeParam::from_bits(nan_code);
  std::vector<float> y(9);
  q::gemv(W, std::span<const float>(x), std::span<float>(y));
  for (std::size_t n = 0; n < 9; ++n) EXPECT_EQ(std::isnan(y[n]), n == 1 || n == 6) << n;
  // The positive E4M3 NaN code too (0x7F), and a NaN scale.
  if constexpr (std::is_same_v<TypeParam, fp8_e4m3>) {
    W.data[3 * 300 + 130] = TypeParam::from_bits(0x7F);
    q::gemv(W, std::span<const float>(x), std::span<float>(y));
    EXPECT_TRUE(std::isnan(y[3]));
  }
  // Inf in x: every row whose weight at that k is non-zero becomes +-Inf or NaN.
  auto W2 = random_weights<TypeParam>(5, 300, rng);
  x[200] = std::numeric_limits<float>::infinity();
  q::gemv(W2, std::span<const float>(x), std::span<float>(y.data(), 5));
  for (std::size_t n = 0; n < 5; ++n) {
    if (static_cast<float>(W2.data[n * 300 + 200]) != 0.0f) {
      EXPECT_FALSE(std::isfinite(y[n])) << n;
    }
  }
}

TYPED_TEST(QuantGemvFp8, QuantizedActivations) {
  std::mt19937 rng(4);
  const auto W = random_weights<TypeParam>(70, 384, rng);
  const auto x = random_x(384, rng);
  const auto xq = q::quantize_fp8_1x128<TypeParam>(x.data(), 1, 384, 384);
  std::vector<float> xf(384);
  for (std::size_t k = 0; k < 384; ++k) xf[k] = static_cast<float>(xq.data[k]) * xq.scale(0, k);
  std::vector<float> y1(70), y2(70);
  q::gemv(W, xq, std::span<float>(y1));
  q::gemv(W, std::span<const float>(xf), std::span<float>(y2));
  ASSERT_EQ(0, std::memcmp(y1.data(), y2.data(), sizeof(float) * 70));
  expect_matches_reference(W, xf, y1, "1x128");
}

TYPED_TEST(QuantGemvFp8, InvalidArguments) {
  std::mt19937 rng(5);
  auto W = random_weights<TypeParam>(8, 256, rng);
  std::vector<float> x(256), y(8);
  auto code = [](auto&& f) {
    try { f(); } catch (const pact::error& e) { return e.code(); }
    return pact::errc::invalid_argument;  // "no error" sentinel
  };
  using S = std::span<const float>;
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { q::gemv(W, S(x.data(), 255), std::span<float>(y)); }));
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { q::gemv(W, S(x), std::span<float>(y.data(), 7)); }));
  EXPECT_EQ(pact::errc::null_pointer, code([&] { q::gemv(W, S(static_cast<const float*>(nullptr), 256), std::span<float>(y)); }));
  std::vector<float> buf(300);
  EXPECT_EQ(pact::errc::aliasing, code([&] { q::gemv(W, S(buf.data(), 256), std::span<float>(buf.data() + 250, 8)); }));
  W.cols = 255;  // the buffers no longer match
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { q::gemv(W, S(x.data(), 255), std::span<float>(y)); }));
  W.cols = 256;
  auto xq = q::quantize_fp8_1x128<TypeParam>(x.data(), 2, 128, 128);
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { q::gemv(W, xq, std::span<float>(y)); }));
}

/// The row kernel of every compiled arch against the float64 reference.
template <class A>
class QuantGemvFp8Arch : public ::testing::Test {};
TYPED_TEST_SUITE(QuantGemvFp8Arch, pact_test::compiled_archs, pact_test::arch_name);
TYPED_TEST(QuantGemvFp8Arch, RowKernelsMatchReference) {
  using A = TypeParam;
  std::mt19937 rng(6);
  auto run = [&]<class Fp8>(std::size_t N, std::size_t K) {
    auto W = random_weights<Fp8>(N, K, rng);
    if constexpr (std::is_same_v<Fp8, fp8_e4m3>) W.data[K + K / 2] = Fp8::from_bits(0x7F);  // row 1: NaN
    const auto x = random_x(K, rng);
    std::vector<float> y(N, std::numeric_limits<float>::quiet_NaN());
    pact::quant_detail::gemv_fp8_row_range<A, Fp8>(W, x.data(), y.data(), 0, static_cast<pact::index_t>(N));
    if constexpr (std::is_same_v<Fp8, fp8_e4m3>) {
      ASSERT_TRUE(std::isnan(y[1])) << A::name;
      W.data[K + K / 2] = Fp8(0.0f);
      pact::quant_detail::gemv_fp8_row_range<A, Fp8>(W, x.data(), y.data(), 0, static_cast<pact::index_t>(N));
    }
    expect_matches_reference(W, x, y, A::name);
  };
  for (std::size_t K : {16, 64, 100, 128, 200, 384}) {
    run.template operator()<fp8_e4m3>(9, K);
    run.template operator()<fp8_e5m2>(9, K);
  }
}

}  // namespace
