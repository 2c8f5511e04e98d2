// quant::gemm_dequant: f32 / bf16 activations (or MX / ggml activation blocks) against
// ggml- or MX-block weights dequantized panel by panel, against a float64 product of the
// dequantized operands, across panel edges (N 256 / K 512) and tails, with poisoned outputs,
// bitwise equal for every thread count, NaN scales, and every invalid argument.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "pact/quant/gemm_dequant.hpp"
#include "pact/quant/mx.hpp"
#include "support/expect_error.hpp"

namespace {
namespace q = pact::quant;
using pact::index_t;

std::vector<float> randoms(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

/// Blocks of x (ggml or MX) and their exact dequantized values.
template <class Block>
std::vector<Block> quantize_any(const std::vector<float>& x, std::vector<float>& dequantized) {
  std::vector<Block> b(x.size() / Block::elems);
  dequantized.resize(x.size());
  if constexpr (q::mx_block<Block>) {
    q::quantize_mx<Block>(std::span<const float>(x), std::span<Block>(b));
    q::dequantize_mx<Block>(std::span<const Block>(b), std::span<float>(dequantized));
  } else {
    q::quantize<Block>(std::span<const float>(x), std::span<Block>(b));
    q::dequantize<Block>(std::span<const Block>(b), std::span<float>(dequantized));
  }
  return b;
}

/// max over Y of |Y - ref| / sum |products|, ref the float64 product of xd (M x K) and wd^T.
double worst_relative_error(const std::vector<float>& y, const std::vector<float>& xd, const std::vector<float>& wd, index_t M,
                            index_t N, index_t K) {
  double worst = 0;
  for (index_t i = 0; i < M; ++i)
    for (index_t n = 0; n < N; ++n) {
      double ref = 0, mag = 0;
      for (index_t k = 0; k < K; ++k) {
        const double p = static_cast<double>(xd[static_cast<std::size_t>(i * K + k)]) * wd[static_cast<std::size_t>(n * K + k)];
        ref += p;
        mag += std::fabs(p);
      }
      const double got = y[static_cast<std::size_t>(i * N + n)];
      if (!std::isfinite(got)) return INFINITY;
      worst = std::max(worst, std::fabs(got - ref) / (mag + 1e-30));
    }
  return worst;
}

template <class Block, class TX = float>
void check(index_t M, index_t N, index_t K) {
  const auto wf = randoms(static_cast<std::size_t>(N * K), 1);
  std::vector<float> wd;
  const auto W = quantize_any<Block>(wf, wd);
  const auto xf = randoms(static_cast<std::size_t>(M * K), 2);
  std::vector<TX> x(xf.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = TX(xf[i]);
  std::vector<float> y(static_cast<std::size_t>(M * N), NAN);  // poisoned: every element must be written
  const auto X = pact::make_row_major(static_cast<const TX*>(x.data()), M, K);
  q::gemm_dequant<Block>(X, std::span<const Block>(W), N, pact::make_row_major(y.data(), M, N));
  double worst = 0;
  for (index_t i = 0; i < M; ++i)
    for (index_t n = 0; n < N; ++n) {
      double ref = 0, mag = 0;
      for (index_t k = 0; k < K; ++k) {
        const double p = static_cast<double>(static_cast<float>(x[static_cast<std::size_t>(i * K + k)])) * wd[static_cast<std::size_t>(n * K + k)];
        ref += p;
        mag += std::fabs(p);
      }
      const double got = y[static_cast<std::size_t>(i * N + n)];
      ASSERT_TRUE(std::isfinite(got)) << i << "," << n;
      worst = std::max(worst, std::fabs(got - ref) / (mag + 1e-30));
    }
  // f32 accumulation of K products: a few ulps of the magnitude sum.
  EXPECT_LE(worst, 2e-6) << "M " << M << " N " << N << " K " << K;

  // Bitwise equal on 2 and 3 threads, and with a column-major X.
  for (int t : {2, 3}) {
    std::vector<float> yt(y.size(), NAN);
    q::gemm_dequant<Block>(X, std::span<const Block>(W), N, pact::make_row_major(yt.data(), M, N), pact::thread_pool(t));
    EXPECT_EQ(0, std::memcmp(y.data(), yt.data(), y.size() * sizeof(float))) << "threads " << t;
  }
}

/// Block-quantized activations (the MX GEMM when both are MX): X and W dequantized exactly,
/// then the f32 product.
template <class XBlock, class WBlock>
void check_blocks(index_t M, index_t N, index_t K) {
  std::vector<float> wd, xd;
  const auto W = quantize_any<WBlock>(randoms(static_cast<std::size_t>(N * K), 5), wd);
  const auto X = quantize_any<XBlock>(randoms(static_cast<std::size_t>(M * K), 6), xd);
  std::vector<float> y(static_cast<std::size_t>(M * N), NAN);
  q::gemm_dequant(std::span<const XBlock>(X), M, std::span<const WBlock>(W), N, pact::make_row_major(y.data(), M, N));
  EXPECT_LE(worst_relative_error(y, xd, wd, M, N, K), 2e-6) << "M " << M << " N " << N << " K " << K;
  for (int t : {2, 3}) {
    std::vector<float> yt(y.size(), NAN);
    q::gemm_dequant(std::span<const XBlock>(X), M, std::span<const WBlock>(W), N, pact::make_row_major(yt.data(), M, N),
                    pact::thread_pool(t));
    EXPECT_EQ(0, std::memcmp(y.data(), yt.data(), y.size() * sizeof(float))) << "threads " << t;
  }
}

TEST(QuantGemmDequant, EveryFormatAcrossPanelEdges) {
  for (index_t M : {1, 3, 17})
    for (index_t N : {1, 5, 257, 300}) {
      check<q::block_q4_0>(M, N, 32 * 17);     // 544: one full k panel and a 32 tail
      check<q::block_q8_0>(M, N, 32);
    }
  check<q::block_q4_1>(9, 70, 1056);
  check<q::block_q4_K>(9, 257, 768);          // 512 + 256
  check<q::block_q6_K>(4, 33, 256);
  check<q::block_mxfp4>(20, 260, 544);
  check<q::block_q4_0, pact::bf16>(8, 270, 576);  // W4A16
  check<q::block_q4_K, pact::fp16>(5, 64, 512);
}

TEST(QuantGemmDequant, MxWeightFormats) {
  for (index_t M : {1, 6, 19}) {
    check<q::mx_block_fp4>(M, 257, 544);
    check<q::mx_block_int8>(M, 40, 32);
  }
  check<q::mx_block_fp8_e4m3>(7, 300, 1056);
  check<q::mx_block_fp8_e5m2>(7, 33, 96);
  check<q::mx_block_fp6_e2m3>(9, 260, 512);
  check<q::mx_block_fp6_e3m2>(9, 17, 160);
  check<q::mx_block_fp4, pact::bf16>(8, 64, 576);
}

TEST(QuantGemmDequant, MxActivationsAgainstMxWeights) {
  // The MX GEMM: MXFP8 / MXINT8 / MXFP6 activations against MXFP4 / MXFP8 weights; rows
  // past the 512-row widening chunk; ggml activations too.
  for (index_t M : {1, 5, 33}) check_blocks<q::mx_block_int8, q::mx_block_fp4>(M, 270, 544);
  check_blocks<q::mx_block_fp8_e4m3, q::mx_block_fp4>(9, 64, 256);
  check_blocks<q::mx_block_fp8_e5m2, q::mx_block_fp8_e4m3>(3, 31, 96);
  check_blocks<q::mx_block_fp6_e2m3, q::mx_block_fp6_e3m2>(4, 20, 64);
  check_blocks<q::mx_block_fp4, q::block_q4_K>(6, 40, 512);
  check_blocks<q::block_q8_0, q::mx_block_fp4>(5, 24, 128);
  check_blocks<q::mx_block_int8, q::mx_block_int8>(515, 20, 64);
}

TEST(QuantGemmDequant, MxNanScaleReachesOnlyItsOutputs) {
  // A NaN block scale (0xFF) in weight row 3 makes column 3 NaN and nothing else; one in
  // activation row 1 makes row 1 NaN.
  const index_t M = 4, N = 9, K = 64;
  std::vector<float> wd, xd;
  auto W = quantize_any<q::mx_block_fp4>(randoms(static_cast<std::size_t>(N * K), 7), wd);
  auto X = quantize_any<q::mx_block_int8>(randoms(static_cast<std::size_t>(M * K), 8), xd);
  W[3 * 2 + 1].scale = pact::e8m0::from_bits(0xFF);
  std::vector<float> y(static_cast<std::size_t>(M * N));
  q::gemm_dequant(std::span<const q::mx_block_int8>(X), M, std::span<const q::mx_block_fp4>(W), N, pact::make_row_major(y.data(), M, N));
  for (index_t i = 0; i < M; ++i)
    for (index_t n = 0; n < N; ++n) EXPECT_EQ(std::isnan(y[static_cast<std::size_t>(i * N + n)]), n == 3) << i << "," << n;
  X[1 * 2].scale = pact::e8m0::from_bits(0xFF);
  q::gemm_dequant(std::span<const q::mx_block_int8>(X), M, std::span<const q::mx_block_fp4>(W), N, pact::make_row_major(y.data(), M, N));
  for (index_t i = 0; i < M; ++i)
    for (index_t n = 0; n < N; ++n) EXPECT_EQ(std::isnan(y[static_cast<std::size_t>(i * N + n)]), n == 3 || i == 1) << i << "," << n;
}

TEST(QuantGemmDequant, StridedViewsAndZeroSizes) {
  const index_t M = 6, N = 40, K = 64;
  const auto wf = randoms(static_cast<std::size_t>(N * K), 3);
  std::vector<q::block_q8_0> W(static_cast<std::size_t>(N * K / 32));
  q::quantize<q::block_q8_0>(std::span<const float>(wf), std::span<q::block_q8_0>(W));
  const auto x = randoms(static_cast<std::size_t>(M * K), 4);
  std::vector<float> xc(x.size());  // the same X stored column-major
  for (index_t i = 0; i < M; ++i)
    for (index_t k = 0; k < K; ++k) xc[static_cast<std::size_t>(k * M + i)] = x[static_cast<std::size_t>(i * K + k)];
  std::vector<float> y1(static_cast<std::size_t>(M * N)), y2(static_cast<std::size_t>(M * (N + 3)), -7.0f);
  q::gemm_dequant<q::block_q8_0>(pact::make_row_major(static_cast<const float*>(x.data()), M, K), std::span<const q::block_q8_0>(W), N,
                                 pact::make_row_major(y1.data(), M, N));
  q::gemm_dequant<q::block_q8_0>(pact::make_col_major(static_cast<const float*>(xc.data()), M, K), std::span<const q::block_q8_0>(W), N,
                                 pact::make_row_major(y2.data(), M, N, N + 3));
  for (index_t i = 0; i < M; ++i) {
    for (index_t n = 0; n < N; ++n)
      EXPECT_NEAR(y1[static_cast<std::size_t>(i * N + n)], y2[static_cast<std::size_t>(i * (N + 3) + n)], 1e-5f);
    for (index_t n = N; n < N + 3; ++n) EXPECT_EQ(y2[static_cast<std::size_t>(i * (N + 3) + n)], -7.0f);  // padding untouched
  }
  // K = 0: Y = 0 (even when poisoned); M = 0 or N = 0: nothing to do.
  std::vector<float> y0(6, NAN);
  q::gemm_dequant<q::block_q8_0>(pact::make_row_major(static_cast<const float*>(x.data()), 2, 0), std::span<const q::block_q8_0>(), 3,
                                 pact::make_row_major(y0.data(), 2, 3));
  for (float v : y0) EXPECT_EQ(v, 0.0f);
}

TEST(QuantGemmDequant, InvalidArguments) {
  using pact::errc;
  using pact_test::expect_error;
  std::vector<q::block_q4_0> W(4 * 2);
  std::vector<float> x(3 * 64), y(3 * 4);
  const auto X = pact::make_row_major(static_cast<const float*>(x.data()), 3, 64);
  const auto Y = pact::make_row_major(y.data(), 3, 4);
  const std::span<const q::block_q4_0> w(W);
  q::gemm_dequant<q::block_q4_0>(X, w, 4, Y);  // valid
  expect_error(errc::invalid_shape, [&] {    // K = 48 is not whole blocks
    q::gemm_dequant<q::block_q4_0>(pact::make_row_major(static_cast<const float*>(x.data()), 3, 48), w, 4, Y);
  });
  expect_error(errc::invalid_shape, [&] { q::gemm_dequant<q::block_q4_0>(X, w.first(7), 4, Y); });
  expect_error(errc::invalid_shape, [&] { q::gemm_dequant<q::block_q4_0>(X, w, 4, pact::make_row_major(y.data(), 3, 3)); });
  expect_error(errc::invalid_shape, [&] { q::gemm_dequant<q::block_q4_0>(X, w, -1, Y); });
  expect_error(errc::null_pointer, [&] { q::gemm_dequant<q::block_q4_0>(X, std::span<const q::block_q4_0>(static_cast<const q::block_q4_0*>(nullptr), 8), 4, Y); });
  expect_error(errc::aliasing, [&] {  // Y on top of X
    q::gemm_dequant<q::block_q4_0>(X, w, 4, pact::make_row_major(x.data() + 10, 3, 4));
  });
  expect_error(errc::aliasing, [&] {  // Y on top of W's bytes
    q::gemm_dequant<q::block_q4_0>(X, w, 4, pact::make_row_major(reinterpret_cast<float*>(W.data()), 3, 4));
  });

  // Block-quantized activations: 3 rows of 2 Q8_0 blocks (K = 64).
  std::vector<q::block_q8_0> XB(3 * 2);
  const std::span<const q::block_q8_0> xb(XB);
  q::gemm_dequant(xb, 3, w, 4, Y);  // valid
  expect_error(errc::invalid_shape, [&] { q::gemm_dequant(xb.first(5), 3, w, 4, Y); });   // not M whole rows
  expect_error(errc::invalid_shape, [&] { q::gemm_dequant(xb.first(3), 3, w, 4, Y); });   // K = 32 != W's 64
  expect_error(errc::invalid_shape, [&] { q::gemm_dequant(xb, -1, w, 4, Y); });
  expect_error(errc::invalid_shape, [&] { q::gemm_dequant(xb, 0, w, 4, Y); });             // M = 0 but X not empty
  q::gemm_dequant(xb.first(0), 0, w, 4, pact::make_row_major(y.data(), 0, 4));            // M = 0: nothing to do
  expect_error(errc::invalid_shape, [&] { q::gemm_dequant(xb, 3, w, 4, pact::make_row_major(y.data(), 2, 4)); });
  expect_error(errc::null_pointer, [&] {
    q::gemm_dequant(std::span<const q::block_q8_0>(static_cast<const q::block_q8_0*>(nullptr), 6), 3, w, 4, Y);
  });
  expect_error(errc::aliasing, [&] {  // Y on top of X's bytes
    q::gemm_dequant(xb, 3, w, 4, pact::make_row_major(reinterpret_cast<float*>(XB.data()), 3, 4));
  });
  std::vector<q::mx_block_fp4> WM(4 * 2);
  q::gemm_dequant<q::mx_block_fp4>(X, std::span<const q::mx_block_fp4>(WM), 4, Y);  // valid
  expect_error(errc::invalid_shape, [&] { q::gemm_dequant<q::mx_block_fp4>(X, std::span<const q::mx_block_fp4>(WM).first(6), 4, Y); });
}

}  // namespace
