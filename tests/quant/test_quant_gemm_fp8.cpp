// FP8 block-scaled GEMM (quant::gemm with fp8_weights_128x128, M >= 1): f32 / bf16 and
// 1x128 FP8 activations against a float64 product of the FP8 values times their scales,
// across the 128-k scale groups, short last groups, 128-row scale blocks and the 256 x 512
// dequantization panels; poisoned outputs, the M = 1 route through gemv, NaN codes and Inf
// scales reaching only their outputs, bitwise equality for 1/2/3 threads, invalid arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/quant/fp8_blockwise.hpp"
#include "pact/quant/gemm_fp8.hpp"
#include "support/expect_error.hpp"

namespace {
using pact::fp8_e4m3;
using pact::fp8_e5m2;
using pact::index_t;
namespace q = pact::quant;

std::vector<float> random_matrix(std::size_t rows, std::size_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(rows * cols);
  // Magnitudes that change from 128-block to 128-block, so the scales differ.
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) v[r * cols + c] = nd(rng) * std::ldexp(1.0f, static_cast<int>((r / 128 + c / 128) % 5) - 2);
  return v;
}

/// Worst |Y - ref| / sum |terms| over Y, ref = sum_k xv(m, k) * wv(n, k) in float64.
double worst_error(const std::vector<float>& y, const std::vector<double>& xv, const std::vector<double>& wv, std::size_t M,
                   std::size_t N, std::size_t K) {
  double worst = 0;
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      double ref = 0, mag = 0;
      for (std::size_t k = 0; k < K; ++k) {
        const double p = xv[m * K + k] * wv[n * K + k];
        ref += p;
        mag += std::fabs(p);
      }
      const double got = y[m * N + n];
      if (!std::isfinite(got)) return INFINITY;
      worst = std::max(worst, std::fabs(got - ref) / (mag + 1e-300));
    }
  return worst;
}

/// Every element's FP8 value times its scale (weights or 1x128 activations).
template <class Q>
std::vector<double> values(const Q& m) {
  std::vector<double> v(m.rows * m.cols);
  for (std::size_t r = 0; r < m.rows; ++r)
    for (std::size_t c = 0; c < m.cols; ++c) v[r * m.cols + c] = static_cast<double>(static_cast<float>(m.data[r * m.cols + c])) * m.scale(r, c);
  return v;
}

// f32 accumulation of K terms, each operand rounded once after its scale: a few ulps of
// the magnitude sum.
constexpr double tolerance = 2e-6;

template <class Fp8>
void check(std::size_t M, std::size_t N, std::size_t K) {
  const auto wf = random_matrix(N, K, 11);
  const auto W = q::quantize_fp8_128x128<Fp8>(wf.data(), N, K, K);
  const auto wv = values(W);
  const auto xf = random_matrix(M, K, 12);
  const auto Xq = q::quantize_fp8_1x128<Fp8>(xf.data(), M, K, K);
  std::vector<double> xv(xf.begin(), xf.end());
  const auto Mi = static_cast<index_t>(M), Ni = static_cast<index_t>(N), Ki = static_cast<index_t>(K);

  // f32 activations.
  std::vector<float> y(M * N, NAN);  // poisoned
  const auto X = pact::make_row_major(static_cast<const float*>(xf.data()), Mi, Ki);
  q::gemm(X, W, pact::make_row_major(y.data(), Mi, Ni));
  EXPECT_LE(worst_error(y, xv, wv, M, N, K), tolerance) << "f32 x M " << M << " N " << N << " K " << K;

  // FP8 x FP8.
  std::vector<float> yq(M * N, NAN);
  q::gemm(Xq, W, pact::make_row_major(yq.data(), Mi, Ni));
  EXPECT_LE(worst_error(yq, values(Xq), wv, M, N, K), tolerance) << "fp8 x M " << M << " N " << N << " K " << K;

  // Bitwise equal on 2 and 3 threads.
  for (int t : {2, 3}) {
    pact::thread_pool pool(t);
    std::vector<float> yt(M * N, NAN), yqt(M * N, NAN);
    q::gemm(X, W, pact::make_row_major(yt.data(), Mi, Ni), pool);
    q::gemm(Xq, W, pact::make_row_major(yqt.data(), Mi, Ni), pool);
    EXPECT_EQ(0, std::memcmp(y.data(), yt.data(), y.size() * sizeof(float))) << "threads " << t;
    EXPECT_EQ(0, std::memcmp(yq.data(), yqt.data(), yq.size() * sizeof(float))) << "threads " << t;
  }
}

template <class Fp8>
class QuantGemmFp8 : public ::testing::Test {};
using fp8_types = ::testing::Types<fp8_e4m3, fp8_e5m2>;
TYPED_TEST_SUITE(QuantGemmFp8, fp8_types);

TYPED_TEST(QuantGemmFp8, ShapesAcrossGroupsBlocksAndPanels) {
  using F = TypeParam;
  for (std::size_t M : {1, 2, 7})
    for (std::size_t K : {1, 127, 128, 200, 513}) check<F>(M, 130, K);
  check<F>(9, 257, 640);   // a second 256-row panel of 1 row; K = 512 + 128
  check<F>(33, 300, 1100); // every edge at once, K not a multiple of 16
  check<F>(3, 1, 256);
}

TYPED_TEST(QuantGemmFp8, LayoutsAndLowPrecisionActivations) {
  using F = TypeParam;
  const std::size_t M = 5, N = 70, K = 300;
  const auto wf = random_matrix(N, K, 21);
  const auto W = q::quantize_fp8_128x128<F>(wf.data(), N, K, K);
  const auto xf = random_matrix(M, K, 22);
  std::vector<float> xc(M * K);  // the same X column-major
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t k = 0; k < K; ++k) xc[k * M + m] = xf[m * K + k];
  std::vector<float> y1(M * N), y2(M * (N + 2), -7.0f);
  q::gemm(pact::make_row_major(static_cast<const float*>(xf.data()), M, K), W, pact::make_row_major(y1.data(), M, N));
  q::gemm(pact::make_col_major(static_cast<const float*>(xc.data()), M, K), W, pact::make_row_major(y2.data(), M, N, N + 2));
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) EXPECT_NEAR(y1[m * N + n], y2[m * (N + 2) + n], 1e-4f * (1 + std::fabs(y1[m * N + n])));
    EXPECT_EQ(y2[m * (N + 2) + N], -7.0f);  // padding untouched
    EXPECT_EQ(y2[m * (N + 2) + N + 1], -7.0f);
  }
  // bf16 activations: the product of the bf16 values.
  std::vector<pact::bf16> xb(M * K);
  std::vector<double> xbv(M * K);
  for (std::size_t i = 0; i < xb.size(); ++i) {
    xb[i] = pact::bf16(xf[i]);
    xbv[i] = static_cast<float>(xb[i]);
  }
  std::vector<float> yb(M * N, NAN);
  q::gemm(pact::make_row_major(static_cast<const pact::bf16*>(xb.data()), M, K), W, pact::make_row_major(yb.data(), M, N));
  EXPECT_LE(worst_error(yb, xbv, values(W), M, N, K), tolerance);
  // K = 0: Y = 0 even when poisoned.
  const auto W0 = q::quantize_fp8_128x128<F>(wf.data(), 3, 0, 1);
  std::vector<float> y0(6, NAN);
  q::gemm(pact::make_row_major(static_cast<const float*>(xf.data()), 2, 0), W0, pact::make_row_major(y0.data(), 2, 3));
  for (float v : y0) EXPECT_EQ(v, 0.0f);
}

TYPED_TEST(QuantGemmFp8, NonFiniteReachesOnlyItsOutputs) {
  using F = TypeParam;
  const std::size_t M = 4, N = 140, K = 260;
  const auto wf = random_matrix(N, K, 31);
  auto W = q::quantize_fp8_128x128<F>(wf.data(), N, K, K);
  const auto xf = random_matrix(M, K, 32);
  auto Xq = q::quantize_fp8_1x128<F>(xf.data(), M, K, K);
  // A NaN code in weight row 5 (E4M3 S.1111.111; E5M2 0x7F); an Inf scale for x row 2's last group.
  reinterpret_cast<std::uint8_t*>(W.data.data())[5 * K + 257] = 0x7F;
  Xq.scales[2 * Xq.groups_per_row() + 2] = std::numeric_limits<float>::infinity();
  std::vector<float> y(M * N);
  q::gemm(Xq, W, pact::make_row_major(y.data(), M, N));
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) {
      const float v = y[m * N + n];
      if (n == 5) EXPECT_TRUE(std::isnan(v)) << m << "," << n;
      else if (m == 2) EXPECT_FALSE(std::isfinite(v)) << m << "," << n;
      else EXPECT_TRUE(std::isfinite(v)) << m << "," << n;
    }
  // f32 activations with a NaN: only that row.
  auto xn = xf;
  xn[1 * K + 3] = NAN;
  q::gemm(pact::make_row_major(static_cast<const float*>(xn.data()), M, K), W, pact::make_row_major(y.data(), M, N));
  for (std::size_t m = 0; m < M; ++m)
    for (std::size_t n = 0; n < N; ++n) EXPECT_EQ(std::isnan(y[m * N + n]), m == 1 || n == 5) << m << "," << n;
}

TEST(QuantGemmFp8Errors, InvalidArguments) {
  using pact::errc;
  using pact_test::expect_error;
  const std::size_t M = 3, N = 4, K = 130;
  const auto wf = random_matrix(N, K, 41);
  const auto W = q::quantize_fp8_128x128<fp8_e4m3>(wf.data(), N, K, K);
  const auto xf = random_matrix(M, K, 42);
  const auto Xq = q::quantize_fp8_1x128<fp8_e4m3>(xf.data(), M, K, K);
  std::vector<float> y(M * N);
  const auto X = pact::make_row_major(static_cast<const float*>(xf.data()), M, K);
  const auto Y = pact::make_row_major(y.data(), M, N);
  q::gemm(X, W, Y);  // valid
  q::gemm(Xq, W, Y);
  expect_error(errc::invalid_shape, [&] { q::gemm(pact::make_row_major(static_cast<const float*>(xf.data()), M, K - 1), W, Y); });
  expect_error(errc::invalid_shape, [&] { q::gemm(X, W, pact::make_row_major(y.data(), M, N - 1)); });
  expect_error(errc::invalid_shape, [&] { q::gemm(Xq, W, pact::make_row_major(y.data(), M - 1, N)); });
  auto bad_w = q::quantize_fp8_128x128<fp8_e4m3>(wf.data(), N, K, K);
  bad_w.rows = N + 1;  // buffers no longer match
  expect_error(errc::invalid_shape, [&] { q::gemm(X, bad_w, pact::make_row_major(y.data(), M, N + 1)); });
  auto bad_x = q::quantize_fp8_1x128<fp8_e4m3>(xf.data(), M, K, K);
  bad_x.rows = M - 1;
  expect_error(errc::invalid_shape, [&] { q::gemm(bad_x, W, pact::make_row_major(y.data(), M - 1, N)); });
  expect_error(errc::bad_stride, [&] { q::gemm(pact::make_row_major(static_cast<const float*>(xf.data()), M, K, K - 1), W, Y); });
  expect_error(errc::null_pointer, [&] { q::gemm(pact::make_row_major(static_cast<const float*>(nullptr), M, K), W, Y); });
  std::vector<float> xy(M * K + M * N);  // Y on top of X
  expect_error(errc::aliasing, [&] {
    q::gemm(pact::make_row_major(static_cast<const float*>(xy.data()), M, K), W, pact::make_row_major(xy.data() + K, M, N));
  });
  expect_error(errc::aliasing, [&] {  // Y on top of W's scales
    q::gemm(Xq, W, pact::make_row_major(const_cast<float*>(W.scales.data()), M, N));
  });
}

}  // namespace
