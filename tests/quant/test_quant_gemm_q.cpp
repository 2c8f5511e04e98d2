// Batched block GEMM (Q8_0 / Q4_0 / Q4_K / MXFP4 ggml and OCP / MXINT8 weights, Q8_0 / MXINT8
// activations) against a float64 product of the DEQUANTIZED operands: every row / column
// tail up to 2 tiles + 1, K across the 16-block k-step, threads {1, 2, 3} bitwise identical,
// poisoned Y, NaN MX scales, invalid arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/quant/gemm_q.hpp"
#include "pact/quant/ggml.hpp"
#include "pact/quant/mx.hpp"

namespace {
using pact::quant::block_mxfp4;
using pact::quant::block_q4_0;
using pact::quant::block_q4_K;
using pact::quant::block_q8_0;
using pact::quant::mx_block_fp4;
using pact::quant::mx_block_int8;
using G = pact::quant_detail::qgemm_geometry<pact::simd::native_arch>;

template <class Block>
std::vector<Block> random_blocks(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255), exponent(120, 134);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  std::vector<Block> v(n);
  for (auto& b : v) {
    auto* bytes = reinterpret_cast<std::uint8_t*>(&b);
    for (std::size_t i = 0; i < sizeof(Block); ++i) bytes[i] = static_cast<std::uint8_t>(byte(rng));
    if constexpr (std::is_same_v<Block, block_mxfp4>) b.e = pact::e8m0::from_bits(static_cast<std::uint8_t>(exponent(rng)));
    else if constexpr (std::is_same_v<Block, mx_block_fp4> || std::is_same_v<Block, mx_block_int8>)
      b.scale = pact::e8m0::from_bits(static_cast<std::uint8_t>(exponent(rng)));
    else if constexpr (std::is_same_v<Block, block_q4_K>) {
      b.d = pact::fp16(scale(rng) * 0.1f);
      b.dmin = pact::fp16(scale(rng) * 0.1f * (byte(rng) & 1 ? 1.0f : -1.0f));
    } else b.d = pact::fp16(scale(rng) * (byte(rng) & 1 ? 1.0f : -1.0f));
  }
  return v;
}
double deq(const block_q8_0& b, int j) { return static_cast<double>(static_cast<float>(b.d)) * b.qs[j]; }
double deq(const block_q4_0& b, int j) {
  const int q = j < 16 ? (b.qs[j] & 0x0F) : (b.qs[j - 16] >> 4);
  return static_cast<double>(static_cast<float>(b.d)) * (q - 8);
}
// The MX formats from their own decoders (types/, quant/mx.hpp), not the GEMM's integer tables.
double deq(const block_mxfp4& b, int j) {
  float y[32];
  pact::quant::scalar::dequantize_blocks(&b, y, 1);
  return y[j];
}
double deq(const mx_block_fp4& b, int j) {
  float y[32];
  pact::quant::scalar::dequantize_block(b, y);
  return y[j];
}
double deq(const block_q4_K& b, int j) {
  float y[256];
  pact::quant::scalar::dequantize_block(b, y);
  return y[j];
}
double deq(const mx_block_int8& b, int j) {
  float y[32];
  pact::quant::scalar::dequantize_block(b, y);
  return y[j];
}

/// Row-major dequantized values of rows x (K / elems) blocks, from the format's own decoder.
template <class Block>
std::vector<double> dequantized(const std::vector<Block>& v, int rows, int K) {
  constexpr int E = static_cast<int>(Block::elems);
  std::vector<double> d(static_cast<std::size_t>(rows) * K);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < K; ++k) d[static_cast<std::size_t>(r) * K + k] = deq(v[static_cast<std::size_t>(r) * (K / E) + k / E], k % E);
  return d;
}

template <class Block, class XBlock = block_q8_0>
std::vector<float> check(int M, int N, int K, std::mt19937& rng, int threads = 1) {
  const int nb = K / 32;
  const auto W = random_blocks<Block>(static_cast<std::size_t>(N) * (K / static_cast<int>(Block::elems)), rng);
  const auto X = random_blocks<XBlock>(static_cast<std::size_t>(M) * nb, rng);
  const auto wd = dequantized(W, N, K), xd = dequantized(X, M, K);
  const pact::quant::packed_q_weights<Block> packed(std::span<const Block>(W), N, K);
  const int ldy = N + 2;
  std::vector<float> y(static_cast<std::size_t>(M) * ldy, std::numeric_limits<float>::quiet_NaN());
  pact::thread_pool pool(threads);
  pact::quant::gemm(std::span<const XBlock>(X), M, packed, pact::make_row_major(y.data(), M, N, ldy), pool);
  for (int i = 0; i < M; ++i) {
    for (int n = 0; n < N; ++n) {
      double ref = 0, mag = 0;
      for (int k = 0; k < K; ++k) {
        const double p = wd[static_cast<std::size_t>(n) * K + k] * xd[static_cast<std::size_t>(i) * K + k];
        ref += p;
        mag += std::abs(p);
      }
      EXPECT_NEAR(y[static_cast<std::size_t>(i) * ldy + n], ref, 8.0 * std::numeric_limits<float>::epsilon() * mag + 1e-30)
          << "M=" << M << " N=" << N << " K=" << K << " at " << i << "," << n;
    }
    for (int n = N; n < ldy && i + 1 < M; ++n) EXPECT_TRUE(std::isnan(y[static_cast<std::size_t>(i) * ldy + n])) << "wrote past N";
  }
  return y;
}

TEST(QuantGemmBlocks, EveryTail) {
  std::mt19937 rng(21);
  for (int M = 1; M <= 2 * G::MR + 1; ++M) {
    check<block_q8_0>(M, G::NR + 3, 64, rng);
    check<block_q4_0>(M, 5, 96, rng);
  }
  for (int N = 1; N <= 2 * G::NR + 1; ++N) {
    check<block_q4_0>(G::MR + 1, N, 32, rng);
    check<block_q8_0>(2, N, 64, rng);
  }
  for (int K : {32, 512, 544, 1056}) {
    check<block_q4_0>(G::MR * 2 + 3, G::NR + 7, K, rng);
    check<block_q8_0>(3, 2 * G::NR + 1, K, rng);
  }
}

// Weight blocks of more than one L2 block (NCS slivers), the prefetch of the next block across
// the k-step and across row chunks (M > MC), balanced row tiles (20 = 5 + 5 + 5 + 5, 580 rows),
// on 1 and 2 threads (the N split).
TEST(QuantGemmBlocks, AcrossL2BlocksKStepsAndRowChunks) {
  std::mt19937 rng(33);
  const int wide_n = static_cast<int>(2 * G::NCS * G::NR + G::NR / 2 + 3);
  for (int threads : {1, 2}) {
    check<block_q4_0>(20, wide_n, 1056, rng, threads);
    check<block_q8_0>(static_cast<int>(G::MC) + 4, 2 * G::NR + 5, 544, rng, threads);
    check<block_q4_K>(9, wide_n, 512, rng, threads);
  }
}

TEST(QuantGemmBlocks, MxWeightsAndActivations) {
  // MXFP4 (ggml nibble order and OCP pair order) and MXINT8 weights against Q8_0 and MXINT8
  // activations: the integer path for MX models (W4A8 / W8A8).
  std::mt19937 rng(23);
  for (int M : {1, G::MR, G::MR + 1, 2 * G::MR + 1}) {
    check<block_mxfp4>(M, G::NR + 3, 544, rng);
    check<mx_block_fp4>(M, 2 * G::NR + 1, 64, rng);
    check<mx_block_int8>(M, 7, 96, rng);
    check<mx_block_fp4, mx_block_int8>(M, G::NR, 544, rng);
    check<mx_block_int8, mx_block_int8>(M, 2 * G::NR - 1, 32, rng);
    check<block_q4_0, mx_block_int8>(M, 9, 64, rng);
  }
  std::mt19937 r1(8), r2(8);
  const auto y1 = check<mx_block_fp4, mx_block_int8>(40, 300, 1024, r1, 1);
  const auto y2 = check<mx_block_fp4, mx_block_int8>(40, 300, 1024, r2, 2);
  EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));
}

TEST(QuantGemmBlocks, Q4KWeightsWithMins) {
  // Q4_K super-blocks (8 sub-blocks with 6-bit scales and mins) against Q8_0 and MXINT8
  // activations: the min term -(dmin m) * d_x * sum(x) per sub-block.
  std::mt19937 rng(31);
  for (int M : {1, G::MR, 2 * G::MR + 1}) {
    check<block_q4_K>(M, G::NR + 3, 256, rng);
    check<block_q4_K>(M, 5, 768, rng);  // 24 sub-blocks: across the 16-block k-step
    check<block_q4_K, mx_block_int8>(M, 2 * G::NR + 1, 512, rng);
  }
  std::mt19937 r1(9), r2(9);
  const auto y1 = check<block_q4_K>(30, 200, 1024, r1, 1);
  const auto y2 = check<block_q4_K>(30, 200, 1024, r2, 3);
  EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));
  // K must be whole super-blocks.
  std::vector<block_q4_K> w(2);
  EXPECT_THROW((pact::quant::packed_q_weights<block_q4_K>(std::span<const block_q4_K>(w), 2, 128)), pact::error);
}

TEST(QuantGemmBlocks, MxNanScaleReachesOnlyItsOutputs) {
  std::mt19937 rng(29);
  const int M = 7, N = 5, K = 64;
  auto W = random_blocks<mx_block_fp4>(N * 2, rng);
  auto X = random_blocks<mx_block_int8>(M * 2, rng);
  W[2 * 2 + 1].scale = pact::e8m0::from_bits(0xFF);  // weight row 2
  X[4 * 2].scale = pact::e8m0::from_bits(0xFF);      // activation row 4
  const pact::quant::packed_q_weights<mx_block_fp4> P(std::span<const mx_block_fp4>(W), N, K);
  std::vector<float> y(M * N);
  pact::quant::gemm(std::span<const mx_block_int8>(X), M, P, pact::make_row_major(y.data(), M, N));
  for (int i = 0; i < M; ++i)
    for (int n = 0; n < N; ++n) EXPECT_EQ(std::isnan(y[static_cast<std::size_t>(i * N + n)]), i == 4 || n == 2) << i << "," << n;
}

TEST(QuantGemmBlocks, DeterministicAcrossThreads) {
  for (auto [M, N, K] : {std::tuple{67, 150, 1024}, std::tuple{3, 700, 1024}}) {
    std::mt19937 r1(5);
    const auto y1 = check<block_q4_0>(M, N, K, r1, 1);
    for (int t : {2, 3}) {
      std::mt19937 rt(5);
      const auto yt = check<block_q4_0>(M, N, K, rt, t);
      ASSERT_EQ(0, std::memcmp(y1.data(), yt.data(), y1.size() * sizeof(float))) << t << " threads";
    }
  }
}

// A row's outputs do not depend on the other rows in the call (row tiles of 1..MR rows, the
// 1-row kernel, row chunks, threads): a many-row call and single-row calls give the same
// bits, on row counts across tile and chunk boundaries, k-steps, L2 blocks, every format family.
template <class Block, class XBlock = block_q8_0>
void expect_rows_match_single_row_calls(int M, int N, int K, std::mt19937& rng, int threads = 1) {
  const int nb = K / 32;
  const auto W = random_blocks<Block>(static_cast<std::size_t>(N) * (K / static_cast<int>(Block::elems)), rng);
  const auto X = random_blocks<XBlock>(static_cast<std::size_t>(M) * nb, rng);
  const pact::quant::packed_q_weights<Block> packed(std::span<const Block>(W), N, K);
  pact::thread_pool pool(threads);
  std::vector<float> y(static_cast<std::size_t>(M) * N, std::numeric_limits<float>::quiet_NaN());
  pact::quant::gemm(std::span<const XBlock>(X), M, packed, pact::make_row_major(y.data(), M, N), pool);
  std::vector<float> row(static_cast<std::size_t>(N));
  for (int i = 0; i < M; ++i) {
    pact::quant::gemm(std::span<const XBlock>(X).subspan(static_cast<std::size_t>(i) * nb, static_cast<std::size_t>(nb)), 1,
                      packed, pact::make_row_major(row.data(), 1, N));
    ASSERT_EQ(0, std::memcmp(row.data(), y.data() + static_cast<std::size_t>(i) * N, row.size() * sizeof(float)))
        << "M=" << M << " N=" << N << " K=" << K << " row " << i;
  }
}

TEST(QuantGemmBlocks, TileRowsMatchSingleRowCallsBitwise) {
  std::mt19937 rng(41);
  for (int M : {16, 17, 31, 32, 33, 47, 48, 70})
    for (int N : {1, 31, 33, 70}) expect_rows_match_single_row_calls<block_q4_0>(M, N, 544, rng);
  const int wide_n = static_cast<int>(G::NCS * G::NR + G::NR / 2 + 3);
  expect_rows_match_single_row_calls<block_q8_0>(static_cast<int>(G::MC) + 40, 45, 1056, rng);
  expect_rows_match_single_row_calls<block_q8_0>(40, wide_n, 1056, rng, 2);
  expect_rows_match_single_row_calls<block_q4_K>(37, 70, 768, rng);
  expect_rows_match_single_row_calls<mx_block_fp4, mx_block_int8>(33, 65, 544, rng, 3);
  expect_rows_match_single_row_calls<block_mxfp4>(20, 40, 64, rng);
  expect_rows_match_single_row_calls<mx_block_int8, mx_block_int8>(18, 33, 32, rng);
}

// The AMX tile kernel (quant/kernels/gemm_q8_blocks_amx.hpp, M >= 16 when the OS grants
// the tiles) against the vector kernel, bit for bit: tile-row tails, A panels (MC), L2
// blocks of slivers (NCS), k-steps (KB), column tails, every format without mins, threads.
template <class Block, class XBlock = block_q8_0>
void expect_amx_matches_vector(int M, int N, int K, std::mt19937& rng, int threads = 1) {
  const int nb = K / 32;
  const auto W = random_blocks<Block>(static_cast<std::size_t>(N) * (K / static_cast<int>(Block::elems)), rng);
  const auto X = random_blocks<XBlock>(static_cast<std::size_t>(M) * nb, rng);
  const pact::quant::packed_q_weights<Block> packed(std::span<const Block>(W), N, K);
  pact::thread_pool pool(threads);
  std::vector<float> y(static_cast<std::size_t>(M) * N, std::numeric_limits<float>::quiet_NaN()), yv = y;
  pact::quant::gemm(std::span<const XBlock>(X), M, packed, pact::make_row_major(y.data(), M, N), pool);
  pact::quant::gemm_q_detail::gemm_blocks(std::span<const XBlock>(X), M, packed, pact::make_row_major(yv.data(), M, N), pool, false);
  ASSERT_EQ(0, std::memcmp(y.data(), yv.data(), y.size() * sizeof(float))) << "M=" << M << " N=" << N << " K=" << K;
}

TEST(QuantGemmBlocks, AmxTilesMatchVectorKernelBitwise) {
#if defined(PACT_HAS_AMX_INT8)
  if (!pact::simd::amx::tiles_ready()) GTEST_SKIP() << "the OS did not grant the AMX tile state";
  using AG = pact::quant_detail::qgemm_amx_geometry;
  std::mt19937 rng(47);
  for (int M : {16, 17, 31, 32, 33, 48, 63})
    for (int N : {1, 16, 17, 33, 70}) expect_amx_matches_vector<block_q8_0>(M, N, 96, rng);
  const int k_steps = static_cast<int>(32 * (2 * AG::KB + 3));        // three k-steps, the last short
  const int wide_n = static_cast<int>(AG::NCS * AG::NR + AG::NR + 7);  // two L2 blocks, a column tail
  expect_amx_matches_vector<block_q4_0>(40, 70, k_steps, rng);
  expect_amx_matches_vector<block_q8_0>(20, wide_n, 64, rng, 2);
  expect_amx_matches_vector<block_q4_0>(static_cast<int>(AG::MC) + 21, 40, 64, rng, 3);  // two A panels
  expect_amx_matches_vector<block_mxfp4>(35, 65, 544, rng);
  expect_amx_matches_vector<mx_block_fp4, mx_block_int8>(33, 40, 160, rng, 2);
  expect_amx_matches_vector<mx_block_int8, mx_block_int8>(18, 33, 32, rng);
#else
  GTEST_SKIP() << "AMX-INT8 is not enabled by this build's target flags";
#endif
}

TEST(QuantGemmBlocks, TileSizedShapesAgainstFloat64) {
  std::mt19937 rng(43);
  for (int M = 14; M <= 70; ++M) check<block_q4_0>(M, 35, 64, rng);
  check<block_q8_0>(65, 2 * G::NR + 5, 1056, rng, 2);
  check<block_q4_K>(33, G::NR + 3, 512, rng);
}

TEST(QuantGemmBlocks, InvalidArguments) {
  std::vector<block_q8_0> W(8), X(4);
  std::vector<float> y(16);
  auto code = [](auto&& f) {
    try { f(); } catch (const pact::error& e) { return static_cast<int>(e.code()); }
    return -1;
  };
  using S = std::span<const block_q8_0>;
  EXPECT_EQ(static_cast<int>(pact::errc::invalid_shape), code([&] { pact::quant::packed_q_weights<block_q8_0>(S(W), 4, 48); }));
  EXPECT_EQ(static_cast<int>(pact::errc::invalid_shape), code([&] { pact::quant::packed_q_weights<block_q8_0>(S(W), 3, 64); }));
  const pact::quant::packed_q_weights<block_q8_0> P(S(W), 4, 64);
  EXPECT_EQ(static_cast<int>(pact::errc::invalid_shape), code([&] { pact::quant::gemm(S(X), 3, P, pact::make_row_major(y.data(), 3, 4)); }));
  EXPECT_EQ(static_cast<int>(pact::errc::invalid_shape), code([&] { pact::quant::gemm(S(X), 2, P, pact::make_row_major(y.data(), 2, 5)); }));
  EXPECT_EQ(static_cast<int>(pact::errc::null_pointer), code([&] { pact::quant::gemm(S(X), 2, P, pact::make_row_major<float>(nullptr, 2, 4)); }));
  EXPECT_EQ(-1, code([&] { pact::quant::gemm(S(X), 2, P, pact::make_row_major(y.data(), 2, 4)); }));
}

}  // namespace
