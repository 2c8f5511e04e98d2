// Q8_0 / Q4_0 GEMV against a float64 product of the DEQUANTIZED operands: every row tail
// (N 1 .. 2*4+1 rows of the 4-row kernel), K from one block to past two full vectors,
// random scales, determinism across threads, invalid arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/quant/gemv_q.hpp"
#include "support/arch_list.hpp"

namespace {
using pact::quant::block_q4_0;
using pact::quant::block_q8_0;

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

/// Dequantized value j of a block, in double.
double deq(const block_q8_0& b, int j) { return static_cast<double>(static_cast<float>(b.d)) * b.qs[j]; }
double deq(const block_q4_0& b, int j) {
  const int q = j < 16 ? (b.qs[j] & 0x0F) : (b.qs[j - 16] >> 4);
  return static_cast<double>(static_cast<float>(b.d)) * (q - 8);
}

template <class Block>
void check(int N, int K, std::mt19937& rng, int threads = 1) {
  const int nb = K / 32;
  const auto W = random_blocks<Block>(static_cast<std::size_t>(N) * nb, rng);
  const auto x = random_blocks<block_q8_0>(static_cast<std::size_t>(nb), rng);
  std::vector<float> y(static_cast<std::size_t>(N), std::numeric_limits<float>::quiet_NaN());
  pact::thread_pool pool(threads);
  pact::quant::gemv<Block>(std::span<const Block>(W), N, K, std::span<const block_q8_0>(x), std::span<float>(y), pool);
  for (int n = 0; n < N; ++n) {
    double ref = 0, mag = 0;
    for (int b = 0; b < nb; ++b)
      for (int j = 0; j < 32; ++j) {
        const double p = deq(W[static_cast<std::size_t>(n) * nb + b], j) * deq(x[static_cast<std::size_t>(b)], j);
        ref += p;
        mag += std::abs(p);
      }
    // f32 scale products and sums: a few ulps of the absolute sum per block term.
    const double tol = 8.0 * std::numeric_limits<float>::epsilon() * mag + 1e-30;
    ASSERT_NEAR(y[static_cast<std::size_t>(n)], ref, tol) << "N=" << N << " K=" << K << " row " << n;
  }
}

TEST(QuantGemv, EveryRowTailAndLengthQ8_0) {
  std::mt19937 rng(1);
  for (int N = 1; N <= 9; ++N) check<block_q8_0>(N, 96, rng);
  for (int K = 32; K <= 32 * 11; K += 32) check<block_q8_0>(5, K, rng);
  check<block_q8_0>(200, 4096, rng);
}

TEST(QuantGemv, EveryRowTailAndLengthQ4_0) {
  std::mt19937 rng(2);
  for (int N = 1; N <= 9; ++N) check<block_q4_0>(N, 160, rng);
  for (int K = 32; K <= 32 * 11; K += 32) check<block_q4_0>(6, K, rng);
  check<block_q4_0>(200, 4096, rng);
}

/// The row kernel of every compiled arch against the native public path (same formula;
/// lane counts differ, so compare with the float64 tolerance through check-like sums).
template <class A>
class QuantGemvArch : public ::testing::Test {};
TYPED_TEST_SUITE(QuantGemvArch, pact_test::compiled_archs, pact_test::arch_name);
TYPED_TEST(QuantGemvArch, RowKernelsMatchReference) {
  using A = TypeParam;
  std::mt19937 rng(5);
  auto run = [&]<class Block>(int N, int K) {
    const int nb = K / 32;
    const auto W = random_blocks<Block>(static_cast<std::size_t>(N) * nb, rng);
    const auto x = random_blocks<block_q8_0>(static_cast<std::size_t>(nb), rng);
    pact::quant_detail::q8_activation act;
    pact::quant_detail::prepare_q8_activation<A, Block>(x.data(), nb, act);
    std::vector<float> y(static_cast<std::size_t>(N), std::numeric_limits<float>::quiet_NaN());
    pact::quant_detail::gemv_row_range<A, Block>(W.data(), nb, act, y.data(), 0, N);
    for (int n = 0; n < N; ++n) {
      double ref = 0, mag = 0;
      for (int b = 0; b < nb; ++b)
        for (int j = 0; j < 32; ++j) {
          const double p = deq(W[static_cast<std::size_t>(n) * nb + b], j) * deq(x[static_cast<std::size_t>(b)], j);
          ref += p;
          mag += std::abs(p);
        }
      ASSERT_NEAR(y[static_cast<std::size_t>(n)], ref, 8.0 * std::numeric_limits<float>::epsilon() * mag + 1e-30)
          << A::name << " N=" << N << " K=" << K << " row " << n;
    }
  };
  for (int K : {32, 64, 96, 128, 160, 224, 416}) {
    run.template operator()<block_q8_0>(9, K);
    run.template operator()<block_q4_0>(9, K);
  }
}

TEST(QuantGemv, ThreadedMatchesReference) {
  std::mt19937 rng(4);
  for (int t : {2, 3}) {
    check<block_q4_0>(1500, 2048, rng, t);
    check<block_q8_0>(1300, 1056, rng, t);
  }
}

TEST(QuantGemv, ExtremeBytes) {
  // All weight bytes at -128 / nibble 0 and activations at -128 / 127: largest block sums.
  std::vector<block_q8_0> W(8), x(4);
  std::vector<block_q4_0> W4(8);
  for (auto& b : W) { b.d = pact::fp16(1.0f); for (auto& q : b.qs) q = -128; }
  for (auto& b : W4) { b.d = pact::fp16(1.0f); for (auto& q : b.qs) q = 0; }
  for (auto& b : x) { b.d = pact::fp16(0.5f); for (int j = 0; j < 32; ++j) b.qs[j] = j % 2 ? 127 : -128; }
  std::vector<float> y(2);
  pact::quant::gemv<block_q8_0>(std::span<const block_q8_0>(W), 2, 128, std::span<const block_q8_0>(x), std::span<float>(y));
  for (float v : y) EXPECT_EQ(v, 0.5f * 4 * 16 * (-128.0f * 127.0f + 128.0f * 128.0f));
  pact::quant::gemv<block_q4_0>(std::span<const block_q4_0>(W4), 2, 128, std::span<const block_q8_0>(x), std::span<float>(y));
  for (float v : y) EXPECT_EQ(v, 0.5f * 4 * 16 * (-8.0f * 127.0f + 8.0f * 128.0f));
}

TEST(QuantGemv, DeterministicAcrossThreads) {
  std::mt19937 rng(3);
  const int N = 777, K = 1024;
  const auto W = random_blocks<block_q4_0>(static_cast<std::size_t>(N) * (K / 32), rng);
  std::vector<float> xf(K);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& v : xf) v = u(rng);
  std::vector<float> y1(N), yt(N);
  pact::quant::gemv<block_q4_0>(std::span<const block_q4_0>(W), N, K, std::span<const float>(xf), std::span<float>(y1));
  for (int t : {2, 3}) {
    pact::thread_pool pool(t);
    pact::quant::gemv<block_q4_0>(std::span<const block_q4_0>(W), N, K, std::span<const float>(xf), std::span<float>(yt), pool);
    ASSERT_EQ(0, std::memcmp(y1.data(), yt.data(), sizeof(float) * N)) << t;
  }
}

TEST(QuantGemv, InvalidArguments) {
  std::vector<block_q8_0> W(4), x(2);
  std::vector<float> y(2), xf(64);
  auto code = [](auto&& f) {
    try { f(); } catch (const pact::error& e) { return e.code(); }
    return pact::errc::invalid_argument;  // "no error" sentinel, compared below
  };
  using S = std::span<const block_q8_0>;
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { pact::quant::gemv<block_q8_0>(S(W), 2, 48, S(x), std::span<float>(y)); }));
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { pact::quant::gemv<block_q8_0>(S(W), 3, 64, S(x), std::span<float>(y)); }));
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { pact::quant::gemv<block_q8_0>(S(W), 2, 64, S(x.data(), 1), std::span<float>(y)); }));
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { pact::quant::gemv<block_q8_0>(S(W), 2, 64, S(x), std::span<float>(y.data(), 1)); }));
  xf[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(pact::errc::invalid_data, code([&] {
    pact::quant::gemv<block_q8_0>(S(W), 2, 64, std::span<const float>(xf), std::span<float>(y));
  }));
}

}  // namespace
