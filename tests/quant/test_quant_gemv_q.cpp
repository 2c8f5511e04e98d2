// Quantized GEMV (Q8_0, Q4_0, MXFP4 against Q8_0; Q4_K against Q8_K) compared with a float64
// product of the DEQUANTIZED operands: every row tail (N 1 .. 2*4+1 rows of the 4-row
// kernel), K from one block to past two full vectors, random scales, every compiled arch's
// row kernel, determinism across threads, extreme codes, NaN scales, invalid arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/quant/gemv_q.hpp"
#include "support/arch_list.hpp"

namespace {
using pact::quant::block_mxfp4;
using pact::quant::block_q4_0;
using pact::quant::block_q4_K;
using pact::quant::block_q8_0;
using pact::quant::block_q8_K;

std::uniform_int_distribution<int> byte_dist(0, 255);

float random_scale(std::mt19937& rng) {
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  return scale(rng) * (byte_dist(rng) & 1 ? 1.0f : -1.0f);
}

template <class Block>
Block random_block(std::mt19937& rng) {
  Block b{};
  if constexpr (std::is_same_v<Block, block_mxfp4>) {
    b.e = pact::e8m0::from_bits(static_cast<std::uint8_t>(110 + byte_dist(rng) % 30));  // 2^-17 .. 2^12
    for (auto& q : b.qs) q = static_cast<std::uint8_t>(byte_dist(rng));
  } else if constexpr (std::is_same_v<Block, block_q4_K>) {
    b.d = pact::fp16(random_scale(rng));
    b.dmin = pact::fp16(random_scale(rng));
    for (auto& s : b.scales) s = static_cast<std::uint8_t>(byte_dist(rng));
    for (auto& q : b.qs) q = static_cast<std::uint8_t>(byte_dist(rng));
  } else if constexpr (std::is_same_v<Block, block_q8_K>) {
    b.d = random_scale(rng);
    for (auto& q : b.qs) q = static_cast<std::int8_t>(byte_dist(rng) - 128);
    for (auto& s : b.bsums) s = static_cast<std::int16_t>(byte_dist(rng) * 97);  // garbage: gemv must not read it
  } else {
    b.d = pact::fp16(random_scale(rng));
    for (auto& q : b.qs) q = static_cast<std::remove_reference_t<decltype(q)>>(byte_dist(rng));
  }
  return b;
}

template <class Block>
std::vector<Block> random_blocks(std::size_t n, std::mt19937& rng) {
  std::vector<Block> v(n);
  for (auto& b : v) b = random_block<Block>(rng);
  return v;
}

/// Dequantized value j of a block, in double, written from the format descriptions.
double deq(const block_q8_0& b, int j) { return static_cast<double>(static_cast<float>(b.d)) * b.qs[j]; }
double deq(const block_q8_K& b, int j) { return static_cast<double>(b.d) * b.qs[j]; }
double deq(const block_q4_0& b, int j) {
  const int q = j < 16 ? (b.qs[j] & 0x0F) : (b.qs[j - 16] >> 4);
  return static_cast<double>(static_cast<float>(b.d)) * (q - 8);
}
double deq(const block_mxfp4& b, int j) {
  static constexpr double e2m1[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};
  const int q = j < 16 ? (b.qs[j] & 0x0F) : (b.qs[j - 16] >> 4);
  return e2m1[q] * std::ldexp(1.0, b.e.bits - 127);
}
double deq(const block_q4_K& b, int j) {
  const int s = j / 32;
  int sc, m;
  if (s < 4) {
    sc = b.scales[s] & 63;
    m = b.scales[s + 4] & 63;
  } else {
    sc = (b.scales[s + 4] & 0xF) | ((b.scales[s - 4] >> 6) << 4);
    m = (b.scales[s + 4] >> 4) | ((b.scales[s] >> 6) << 4);
  }
  const int byte = 32 * (j / 64) + j % 32;
  const int q = (j % 64) < 32 ? (b.qs[byte] & 0x0F) : (b.qs[byte] >> 4);
  return static_cast<double>(static_cast<float>(b.d)) * sc * q - static_cast<double>(static_cast<float>(b.dmin)) * m;
}

template <class Block>
using act_t = pact::quant::gemv_activation_t<Block>;

/// Checks y against the float64 product row by row; the bound is a few f32 ulps of the
/// sum of |terms| (f32 scale products and per-lane sums).
template <class Block>
void expect_matches_reference(const std::vector<Block>& W, const std::vector<act_t<Block>>& x, const std::vector<float>& y,
                              int N, int K, const char* what) {
  constexpr int QK = static_cast<int>(Block::elems);
  const int nb = K / QK;
  for (int n = 0; n < N; ++n) {
    double ref = 0, mag = 0;
    for (int b = 0; b < nb; ++b)
      for (int j = 0; j < QK; ++j) {
        const double p = deq(W[static_cast<std::size_t>(n) * nb + b], j) * deq(x[static_cast<std::size_t>(b)], j);
        ref += p;
        mag += std::abs(p);
      }
    const double tol = 8.0 * std::numeric_limits<float>::epsilon() * mag + 1e-30;
    ASSERT_NEAR(y[static_cast<std::size_t>(n)], ref, tol) << what << " N=" << N << " K=" << K << " row " << n;
  }
}

template <class Block>
void check(int N, int K, std::mt19937& rng, int threads = 1) {
  const int nb = K / static_cast<int>(Block::elems);
  const auto W = random_blocks<Block>(static_cast<std::size_t>(N) * nb, rng);
  const auto x = random_blocks<act_t<Block>>(static_cast<std::size_t>(nb), rng);
  std::vector<float> y(static_cast<std::size_t>(N), std::numeric_limits<float>::quiet_NaN());
  pact::thread_pool pool(threads);
  pact::quant::gemv<Block>(std::span<const Block>(W), N, K, std::span<const act_t<Block>>(x), std::span<float>(y), pool);
  expect_matches_reference(W, x, y, N, K, "public");
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

TEST(QuantGemv, EveryRowTailAndLengthMXFP4) {
  std::mt19937 rng(6);
  for (int N = 1; N <= 9; ++N) check<block_mxfp4>(N, 160, rng);
  for (int K = 32; K <= 32 * 11; K += 32) check<block_mxfp4>(6, K, rng);
  check<block_mxfp4>(200, 4096, rng);
}

TEST(QuantGemv, EveryRowTailAndLengthQ4_K) {
  std::mt19937 rng(7);
  for (int N = 1; N <= 9; ++N) check<block_q4_K>(N, 512, rng);
  for (int K = 256; K <= 256 * 5; K += 256) check<block_q4_K>(6, K, rng);
  check<block_q4_K>(200, 4096, rng);
}

/// The row kernel of every compiled arch against the float64 reference.
template <class A>
class QuantGemvArch : public ::testing::Test {};
TYPED_TEST_SUITE(QuantGemvArch, pact_test::compiled_archs, pact_test::arch_name);
TYPED_TEST(QuantGemvArch, RowKernelsMatchReference) {
  using A = TypeParam;
  std::mt19937 rng(5);
  auto run = [&]<class Block>(int N, int K) {
    const int nb = K / static_cast<int>(Block::elems);
    const auto W = random_blocks<Block>(static_cast<std::size_t>(N) * nb, rng);
    const auto x = random_blocks<act_t<Block>>(static_cast<std::size_t>(nb), rng);
    std::vector<float> y(static_cast<std::size_t>(N), std::numeric_limits<float>::quiet_NaN());
    if constexpr (std::is_same_v<Block, block_q4_K>) {
      pact::quant_detail::q4k_activation act;
      pact::quant_detail::prepare_q4k_activation<A>(x.data(), nb, act);
      pact::quant_detail::gemv_q4k_row_range<A>(W.data(), act, y.data(), 0, N);
    } else {
      pact::quant_detail::q8_activation act;
      pact::quant_detail::prepare_q8_activation<A, Block>(x.data(), nb, act);
      pact::quant_detail::gemv_row_range<A, Block>(W.data(), nb, act, y.data(), 0, N);
    }
    expect_matches_reference(W, x, y, N, K, A::name);
  };
  for (int K : {32, 64, 96, 128, 160, 224, 416}) {
    run.template operator()<block_q8_0>(9, K);
    run.template operator()<block_q4_0>(9, K);
    run.template operator()<block_mxfp4>(9, K);
  }
  for (int K : {256, 512, 768}) run.template operator()<block_q4_K>(9, K);
}

TEST(QuantGemv, ThreadedMatchesReference) {
  std::mt19937 rng(4);
  for (int t : {2, 3}) {
    check<block_q4_0>(1500, 2048, rng, t);
    check<block_q8_0>(1300, 1056, rng, t);
    check<block_mxfp4>(1100, 1024, rng, t);
    check<block_q4_K>(1000, 1024, rng, t);
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

TEST(QuantGemv, ExtremeCodesMXFP4AndQ4_K) {
  // MXFP4: every code at -6 (0xF) against +-127 activations; Q4_K: nibbles 15, scales and
  // mins 63 (all 12 scale bytes 0xFF), against -128: the largest lane sums of each kernel.
  std::vector<block_mxfp4> W(8);
  for (auto& b : W) { b.e = pact::e8m0::from_bits(127); for (auto& q : b.qs) q = 0xFF; }
  std::vector<block_q8_0> x(4);
  for (auto& b : x) { b.d = pact::fp16(0.5f); for (int j = 0; j < 32; ++j) b.qs[j] = j % 2 ? 127 : -127; }
  std::vector<float> y(2);
  pact::quant::gemv<block_mxfp4>(std::span<const block_mxfp4>(W), 2, 128, std::span<const block_q8_0>(x), std::span<float>(y));
  for (float v : y) EXPECT_EQ(v, 0.0f);
  for (auto& b : x) for (int j = 0; j < 32; ++j) b.qs[j] = 127;
  pact::quant::gemv<block_mxfp4>(std::span<const block_mxfp4>(W), 2, 128, std::span<const block_q8_0>(x), std::span<float>(y));
  for (float v : y) EXPECT_EQ(v, 0.5f * 128 * -6.0f * 127.0f);

  std::vector<block_q4_K> W4(6);
  for (auto& b : W4) {
    b.d = pact::fp16(1.0f); b.dmin = pact::fp16(0.25f);
    for (auto& s : b.scales) s = 0xFF;
    for (auto& q : b.qs) q = 0xFF;
  }
  std::vector<block_q8_K> x8(3);
  for (auto& b : x8) { b.d = 0.5f; for (auto& q : b.qs) q = -128; }
  std::vector<float> y4(2);
  pact::quant::gemv<block_q4_K>(std::span<const block_q4_K>(W4), 2, 768, std::span<const block_q8_K>(x8), std::span<float>(y4));
  // Per element: 0.5 * (63 * 15 - 0.25 * 63) * -128.
  for (float v : y4) EXPECT_EQ(v, 768 * 0.5f * (63.0f * 15.0f - 0.25f * 63.0f) * -128.0f);
}

TEST(QuantGemv, MXFP4NaNScaleGivesNaN) {
  std::mt19937 rng(8);
  auto W = random_blocks<block_mxfp4>(4 * 8, rng);
  const auto x = random_blocks<block_q8_0>(8, rng);
  W[8 + 3].e = pact::e8m0::from_bits(0xFF);  // row 1, block 3
  std::vector<float> y(4);
  pact::quant::gemv<block_mxfp4>(std::span<const block_mxfp4>(W), 4, 256, std::span<const block_q8_0>(x), std::span<float>(y));
  EXPECT_FALSE(std::isnan(y[0]));
  EXPECT_TRUE(std::isnan(y[1]));
  EXPECT_FALSE(std::isnan(y[2]));
}

TEST(QuantGemv, TestDequantizerAgreesWithPact) {
  // The reference above decodes the formats itself; it must agree with quant::dequantize.
  std::mt19937 rng(9);
  const auto q4k = random_blocks<block_q4_K>(4, rng);
  const auto mx = random_blocks<block_mxfp4>(8, rng);
  std::vector<float> a(1024), b(256);
  pact::quant::dequantize<block_q4_K>(std::span<const block_q4_K>(q4k), std::span<float>(a));
  pact::quant::dequantize<block_mxfp4>(std::span<const block_mxfp4>(mx), std::span<float>(b));
  for (int i = 0; i < 1024; ++i) ASSERT_EQ(a[static_cast<std::size_t>(i)], static_cast<float>(deq(q4k[static_cast<std::size_t>(i / 256)], i % 256))) << i;
  for (int i = 0; i < 256; ++i) ASSERT_EQ(b[static_cast<std::size_t>(i)], static_cast<float>(deq(mx[static_cast<std::size_t>(i / 32)], i % 32))) << i;
}

TEST(QuantGemv, FloatActivationsQ4_K) {
  // The float overload quantizes x to Q8_K (ggml's rule) and gives the same bits as the
  // blocks overload on quant::quantize's output.
  std::mt19937 rng(10);
  const int N = 37, K = 1024;
  const auto W = random_blocks<block_q4_K>(static_cast<std::size_t>(N) * (K / 256), rng);
  std::vector<float> xf(K);
  std::uniform_real_distribution<float> u(-1, 1);
  for (auto& v : xf) v = u(rng);
  std::vector<block_q8_K> xq(K / 256);
  pact::quant::quantize<block_q8_K>(std::span<const float>(xf), std::span<block_q8_K>(xq));
  std::vector<float> y1(N), y2(N);
  pact::quant::gemv<block_q4_K>(std::span<const block_q4_K>(W), N, K, std::span<const float>(xf), std::span<float>(y1));
  pact::quant::gemv<block_q4_K>(std::span<const block_q4_K>(W), N, K, std::span<const block_q8_K>(xq), std::span<float>(y2));
  ASSERT_EQ(0, std::memcmp(y1.data(), y2.data(), sizeof(float) * N));
  expect_matches_reference(W, xq, y1, N, K, "float overload");
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
  const auto W4 = random_blocks<block_q4_K>(static_cast<std::size_t>(N) * (K / 256), rng);
  const auto Wm = random_blocks<block_mxfp4>(static_cast<std::size_t>(N) * (K / 32), rng);
  std::vector<float> z1(N), zt(N);
  pact::quant::gemv<block_q4_K>(std::span<const block_q4_K>(W4), N, K, std::span<const float>(xf), std::span<float>(y1));
  pact::quant::gemv<block_mxfp4>(std::span<const block_mxfp4>(Wm), N, K, std::span<const float>(xf), std::span<float>(z1));
  for (int t : {2, 3, 7}) {
    pact::thread_pool pool(t);
    pact::quant::gemv<block_q4_K>(std::span<const block_q4_K>(W4), N, K, std::span<const float>(xf), std::span<float>(yt), pool);
    ASSERT_EQ(0, std::memcmp(y1.data(), yt.data(), sizeof(float) * N)) << t;
    pact::quant::gemv<block_mxfp4>(std::span<const block_mxfp4>(Wm), N, K, std::span<const float>(xf), std::span<float>(zt), pool);
    ASSERT_EQ(0, std::memcmp(z1.data(), zt.data(), sizeof(float) * N)) << t;
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
  std::vector<block_q4_K> W4(4);
  std::vector<block_q8_K> x8(2);
  using S4 = std::span<const block_q4_K>;
  using S8 = std::span<const block_q8_K>;
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { pact::quant::gemv<block_q4_K>(S4(W4), 2, 384, S8(x8), std::span<float>(y)); }));
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { pact::quant::gemv<block_q4_K>(S4(W4), 3, 512, S8(x8), std::span<float>(y)); }));
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { pact::quant::gemv<block_q4_K>(S4(W4), 2, 512, S8(x8.data(), 1), std::span<float>(y)); }));
  EXPECT_EQ(pact::errc::null_pointer, code([&] { pact::quant::gemv<block_q4_K>(S4(static_cast<const block_q4_K*>(nullptr), 4), 2, 512, S8(x8), std::span<float>(y)); }));
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { pact::quant::gemv<block_q4_K>(S4(W4), 2, 512, std::span<const float>(xf), std::span<float>(y)); }));
  xf[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(pact::errc::invalid_data, code([&] {
    pact::quant::gemv<block_q8_0>(S(W), 2, 64, std::span<const float>(xf), std::span<float>(y));
  }));
}

}  // namespace
