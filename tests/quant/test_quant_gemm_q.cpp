// Batched Q8_0 / Q4_0 GEMM against a float64 product of the DEQUANTIZED operands: every
// row / column tail up to 2 tiles + 1, K across the 16-block k-step, threads {1, 2, 3}
// bitwise identical, poisoned Y, invalid arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/quant/gemm_q.hpp"

namespace {
using pact::quant::block_q4_0;
using pact::quant::block_q8_0;
using G = pact::quant_detail::qgemm_geometry<pact::simd::native_arch>;

template <class Block>
std::vector<Block> random_blocks(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  std::vector<Block> v(n);
  for (auto& b : v) {
    b.d = pact::fp16(scale(rng) * (byte(rng) & 1 ? 1.0f : -1.0f));
    for (auto& q : b.qs) q = static_cast<std::remove_reference_t<decltype(q)>>(byte(rng));
  }
  return v;
}
double deq(const block_q8_0& b, int j) { return static_cast<double>(static_cast<float>(b.d)) * b.qs[j]; }
double deq(const block_q4_0& b, int j) {
  const int q = j < 16 ? (b.qs[j] & 0x0F) : (b.qs[j - 16] >> 4);
  return static_cast<double>(static_cast<float>(b.d)) * (q - 8);
}

template <class Block>
std::vector<float> check(int M, int N, int K, std::mt19937& rng, int threads = 1) {
  const int nb = K / 32;
  const auto W = random_blocks<Block>(static_cast<std::size_t>(N) * nb, rng);
  const auto X = random_blocks<block_q8_0>(static_cast<std::size_t>(M) * nb, rng);
  const pact::quant::packed_q_weights<Block> packed(std::span<const Block>(W), N, K);
  const int ldy = N + 2;
  std::vector<float> y(static_cast<std::size_t>(M) * ldy, std::numeric_limits<float>::quiet_NaN());
  pact::thread_pool pool(threads);
  pact::quant::gemm(std::span<const block_q8_0>(X), M, packed, pact::make_row_major(y.data(), M, N, ldy), pool);
  for (int i = 0; i < M; ++i) {
    for (int n = 0; n < N; ++n) {
      double ref = 0, mag = 0;
      for (int b = 0; b < nb; ++b)
        for (int j = 0; j < 32; ++j) {
          const double p = deq(W[static_cast<std::size_t>(n) * nb + b], j) * deq(X[static_cast<std::size_t>(i) * nb + b], j);
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
