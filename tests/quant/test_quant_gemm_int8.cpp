// int8 GEMM (u8/s8 x s8 -> s32 / f32 / int8 / u8): exact against an int64 reference for
// every tail, every compiled arch, two policies (the default and a tiny-cache one that
// crosses every blocking boundary with small matrices); requantize against float64;
// determinism across thread counts; invalid arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/quant/int8_gemm.hpp"
#include "support/arch_list.hpp"

namespace {

template <class T>
std::vector<T> random_bytes(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

/// Plain int64 reference: sum_k (a(i,k) - zp) * b(k,j), A/B by strides.
template <class TA>
std::vector<std::int64_t> ref_gemm(int M, int N, int K, const TA* a, long ars, long acs, const std::int8_t* b, long brs,
                                   long bcs, int zp) {
  std::vector<std::int64_t> c(static_cast<std::size_t>(M) * N, 0);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      std::int64_t s = 0;
      for (int k = 0; k < K; ++k) s += (static_cast<std::int64_t>(a[i * ars + k * acs]) - zp) * b[k * brs + j * bcs];
      c[static_cast<std::size_t>(i) * N + j] = s;
    }
  return c;
}

constexpr std::int32_t poison32 = 0x5A5A5A5A;

template <class A>
using default_policy = pact::tuning::default_int8_gemm_policy<A>;
/// Tiny cache blocks: KC 8, MC 2 tiles, NC 2 slivers, so small shapes cross every boundary.
template <class A>
using small_policy = pact::int8_gemm_config<A, default_policy<A>::mr, default_policy<A>::nr, 8, 2 * default_policy<A>::mr,
                                            2 * default_policy<A>::nr>;

/// One exact check: A (u8 or s8), B row- or column-major, C row-major with padding.
template <class P, class TA>
void check_exact(int M, int N, int K, int zp, bool b_col_major, bool a_col_major, std::mt19937& rng) {
  const auto a = random_bytes<TA>(static_cast<std::size_t>(M) * K + 1, rng);
  const auto b = random_bytes<std::int8_t>(static_cast<std::size_t>(K) * N + 1, rng);
  const long ars = a_col_major ? 1 : K, acs = a_col_major ? M : 1;
  const long brs = b_col_major ? 1 : N, bcs = b_col_major ? K : 1;
  const int ldc = N + 3;
  std::vector<std::int32_t> c(static_cast<std::size_t>(M) * ldc + 1, poison32);
  const pact::matrix_view<const TA, pact::strided> av(a.data(), M, K, ars, acs);
  const pact::matrix_view<const std::int8_t, pact::strided> bv(b.data(), K, N, brs, bcs);
  pact::int8_requantize rq;
  rq.a_zero_point = zp;
  pact::int8_gemm<P>(av, bv, pact::make_row_major(c.data(), M, N, ldc), rq);
  const auto ref = ref_gemm(M, N, K, a.data(), ars, acs, b.data(), brs, bcs, zp);
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j)
      ASSERT_EQ(c[static_cast<std::size_t>(i) * ldc + j], ref[static_cast<std::size_t>(i) * N + j])
          << "M=" << M << " N=" << N << " K=" << K << " zp=" << zp << " at " << i << "," << j;
    for (int j = N; j < ldc && (i + 1 < M || j == N); ++j)
      ASSERT_EQ(c[static_cast<std::size_t>(i) * ldc + j], poison32) << "wrote past N";
  }
}

template <class A>
class Int8Gemm : public ::testing::Test {};
TYPED_TEST_SUITE(Int8Gemm, pact_test::compiled_archs, pact_test::arch_name);

TYPED_TEST(Int8Gemm, EveryTailExact) {
  using A = TypeParam;
  std::mt19937 rng(11);
  auto run = [&]<class P>() {
    constexpr int MR = P::mr, NR = P::nr;
    for (int M = 1; M <= 2 * MR + 1; ++M) check_exact<P, std::uint8_t>(M, NR + 3, 13, 0, false, false, rng);
    for (int N = 1; N <= 2 * NR + 1; ++N) check_exact<P, std::int8_t>(MR + 1, N, 9, 0, false, false, rng);
    for (int K : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65})
      check_exact<P, std::uint8_t>(MR + 2, NR + 1, K, 7, false, false, rng);
  };
  run.template operator()<default_policy<A>>();
  run.template operator()<small_policy<A>>();
}

TYPED_TEST(Int8Gemm, LayoutsZeroPointsAndBlocking) {
  using A = TypeParam;
  using P = small_policy<A>;
  std::mt19937 rng(12);
  for (int zp : {0, 1, 128, 255}) check_exact<P, std::uint8_t>(2 * P::mr + 1, 2 * P::nr + 1, 37, zp, true, false, rng);
  for (int zp : {-128, -3, 0, 127}) check_exact<P, std::int8_t>(P::mr + 5, P::nr + 7, 42, zp, false, true, rng);
  check_exact<P, std::int8_t>(3, 5 * P::nr + 2, 301, 0, true, true, rng);
  check_exact<default_policy<A>, std::uint8_t>(30, 70, 1030, 200, false, false, rng);  // K > default KC
  check_exact<default_policy<A>, std::int8_t>(1, 300, 600, 0, true, false, rng);      // decode shape
  // Column-major B with K % 4 == 0 (the word-transposing pack): whole tiles of k-groups,
  // a group tail, column tails and k-blocks crossed.
  check_exact<P, std::uint8_t>(P::mr + 1, 3 * P::nr + 5, 4 * 64 + 12, 3, true, false, rng);
  check_exact<default_policy<A>, std::int8_t>(17, 2 * default_policy<A>::nr + 9, 2 * default_policy<A>::kc + 68, 0, true, false, rng);
}

TYPED_TEST(Int8Gemm, ExtremeValuesStayExact) {
  // All-max bytes: the largest magnitudes vpdpbusd / pmaddwd can see (no saturation).
  using P = default_policy<TypeParam>;
  const int M = 5, N = 40, K = 1000;
  std::vector<std::uint8_t> a(static_cast<std::size_t>(M) * K, 255);
  std::vector<std::int8_t> b(static_cast<std::size_t>(K) * N, -128);
  for (std::size_t i = 0; i < b.size(); i += 3) b[i] = 127;
  std::vector<std::int32_t> c(static_cast<std::size_t>(M) * N, poison32);
  pact::int8_gemm<P>(pact::make_row_major<const std::uint8_t>(a.data(), M, K),
                     pact::make_row_major<const std::int8_t>(b.data(), K, N), pact::make_row_major(c.data(), M, N));
  const auto ref = ref_gemm(M, N, K, a.data(), K, 1, b.data(), N, 1, 0);
  for (std::size_t i = 0; i < c.size(); ++i) ASSERT_EQ(c[i], ref[i]);
}

/// f32 and int8 / u8 C against float64 of the same formula.
template <class P, class TA, class TC>
void check_requantize(int M, int N, int K, bool per_row, bool per_col, bool bias, std::mt19937& rng) {
  const auto a = random_bytes<TA>(static_cast<std::size_t>(M) * K, rng);
  const auto b = random_bytes<std::int8_t>(static_cast<std::size_t>(K) * N, rng);
  std::uniform_real_distribution<float> sd(1e-4f, 2e-3f), bd(-3.0f, 3.0f);
  std::vector<float> rs(static_cast<std::size_t>(M)), cs(static_cast<std::size_t>(N)), bi(static_cast<std::size_t>(N));
  for (auto& x : rs) x = sd(rng);
  for (auto& x : cs) x = sd(rng) * 10.0f;
  for (auto& x : bi) x = bd(rng);
  pact::int8_requantize rq;
  rq.a_zero_point = std::is_same_v<TA, std::uint8_t> ? 100 : -5;
  rq.a_scale = 0.003f;
  rq.b_scale = 0.02f;
  if (per_row) rq.a_row_scales = rs.data();
  if (per_col) rq.b_col_scales = cs.data();
  if (bias) rq.bias = bi.data();
  if constexpr (!std::is_same_v<TC, float>) {
    rq.out_scale = 0.05f;
    rq.out_zero_point = std::is_same_v<TC, std::uint8_t> ? 120 : -7;
  }
  std::vector<TC> c(static_cast<std::size_t>(M) * N);
  if constexpr (std::is_same_v<TC, float>) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
  const pact::int8_packed_b<P> packed(pact::make_row_major<const std::int8_t>(b.data(), K, N));
  pact::int8_gemm(pact::make_row_major<const TA>(a.data(), M, K), packed, pact::make_row_major(c.data(), M, N), rq);
  const auto acc = ref_gemm(M, N, K, a.data(), K, 1, b.data(), N, 1, rq.a_zero_point);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      const double r = per_row ? rs[static_cast<std::size_t>(i)] : rq.a_scale;
      const double s = per_col ? cs[static_cast<std::size_t>(j)] : rq.b_scale;
      const double y = static_cast<double>(acc[static_cast<std::size_t>(i) * N + j]) * r * s +
                       (bias ? bi[static_cast<std::size_t>(j)] : 0.0);
      const TC got = c[static_cast<std::size_t>(i) * N + j];
      if constexpr (std::is_same_v<TC, float>) {
        const double tol = 4.0 * std::numeric_limits<float>::epsilon() *
                           (std::abs(static_cast<double>(acc[static_cast<std::size_t>(i) * N + j]) * r * s) +
                            (bias ? std::abs(bi[static_cast<std::size_t>(j)]) : 0.0));
        ASSERT_NEAR(got, y, tol) << i << "," << j;
      } else {
        const double t = y / rq.out_scale;
        const double lo = std::numeric_limits<TC>::min(), hi = std::numeric_limits<TC>::max();
        const double q = std::clamp(std::nearbyint(t) + rq.out_zero_point, lo, hi);
        const double frac = std::abs(t - std::floor(t) - 0.5);
        if (frac > 1e-3) ASSERT_EQ(static_cast<double>(got), q) << i << "," << j << " t=" << t;
        else ASSERT_NEAR(static_cast<double>(got), q, 1.0);
      }
    }
}

TYPED_TEST(Int8Gemm, RequantizeEpilogue) {
  using P = small_policy<TypeParam>;
  std::mt19937 rng(13);
  for (int v = 0; v < 8; ++v) {
    const bool pr = v & 1, pcol = v & 2, bias = v & 4;
    check_requantize<P, std::uint8_t, float>(P::mr + 3, 2 * P::nr + 1, 45, pr, pcol, bias, rng);
    check_requantize<P, std::int8_t, float>(2, P::nr - 1, 17, pr, pcol, bias, rng);
    check_requantize<P, std::uint8_t, std::int8_t>(P::mr + 1, P::nr + 5, 64, pr, pcol, bias, rng);
    check_requantize<P, std::int8_t, std::uint8_t>(3, 2 * P::nr + 3, 23, pr, pcol, bias, rng);
  }
}

// M = 1 runs the row-streams GEMV (quant/kernels/int8_gemv.hpp): N cut into gemv_streams
// parts of slivers, all k-blocks deep in registers. Every sliver count up to two full
// rounds of streams plus a remainder, column tails, k-blocks crossed (small KC), both
// activation types and layouts, the epilogues and several thread counts.
TYPED_TEST(Int8Gemm, SingleRowStreams) {
  using A = TypeParam;
  std::mt19937 rng(16);
  constexpr int S = pact::quant_detail::gemv_streams;
  auto run = [&]<class P>(int K) {
    for (int N = 1; N <= (2 * S + 1) * P::nr + 1; N += (N < 3 * P::nr ? 1 : P::nr / 2 + 1))
      check_exact<P, std::uint8_t>(1, N, K, 3, false, false, rng);
    check_exact<P, std::int8_t>(1, 5 * P::nr + 3, K + 1, -7, true, true, rng);
  };
  run.template operator()<small_policy<A>>(29);
  run.template operator()<default_policy<A>>(13);
  check_exact<default_policy<A>, std::uint8_t>(1, 9 * default_policy<A>::nr - 1, 2 * default_policy<A>::kc + 37, 128,
                                                false, false, rng);
  for (int v = 0; v < 8; ++v) {
    const bool pr = v & 1, pcol = v & 2, bias = v & 4;
    check_requantize<small_policy<A>, std::uint8_t, float>(1, 7 * small_policy<A>::nr + 5, 45, pr, pcol, bias, rng);
    check_requantize<small_policy<A>, std::int8_t, std::int8_t>(1, 3 * small_policy<A>::nr + 1, 30, pr, pcol, bias, rng);
  }
  // Thread counts: every task gets its own sliver range; the bits do not depend on them.
  using P = default_policy<A>;
  const int N = 37 * P::nr + 5, K = P::kc + 300;
  const auto a = random_bytes<std::uint8_t>(static_cast<std::size_t>(K), rng);
  const auto b = random_bytes<std::int8_t>(static_cast<std::size_t>(K) * N, rng);
  const pact::int8_packed_b<P> packed(pact::make_row_major<const std::int8_t>(b.data(), K, N));
  const auto ref = ref_gemm(1, N, K, a.data(), K, 1, b.data(), N, 1, 0);
  for (int t : {1, 2, 3, 7}) {
    pact::thread_pool pool(t);
    std::vector<std::int32_t> c(static_cast<std::size_t>(N), poison32);
    pact::int8_gemm(pact::make_row_major<const std::uint8_t>(a.data(), 1, K), packed, pact::make_row_major(c.data(), 1, N),
                    pact::int8_requantize{}, pool);
    for (int j = 0; j < N; ++j) ASSERT_EQ(c[static_cast<std::size_t>(j)], ref[static_cast<std::size_t>(j)]) << t << " threads, column " << j;
  }
}

TYPED_TEST(Int8Gemm, SaturationAndNaN) {
  using P = default_policy<TypeParam>;
  const int M = 2, N = 20, K = 8;
  std::vector<std::uint8_t> a(static_cast<std::size_t>(M) * K, 200);
  std::vector<std::int8_t> b(static_cast<std::size_t>(K) * N, 100);
  for (int j = 0; j < N; j += 2)
    for (int k = 0; k < K; ++k) b[static_cast<std::size_t>(k) * N + j] = -100;
  std::vector<float> bias(static_cast<std::size_t>(N), 0.0f);
  bias[3] = std::numeric_limits<float>::quiet_NaN();
  bias[5] = std::numeric_limits<float>::infinity();
  bias[6] = -std::numeric_limits<float>::infinity();
  pact::int8_requantize rq;
  rq.bias = bias.data();
  rq.out_zero_point = 4;
  std::vector<std::int8_t> c(static_cast<std::size_t>(M) * N, 0);
  pact::int8_gemm<P>(pact::make_row_major<const std::uint8_t>(a.data(), M, K),
                     pact::make_row_major<const std::int8_t>(b.data(), K, N), pact::make_row_major(c.data(), M, N), rq);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      const std::int8_t got = c[static_cast<std::size_t>(i) * N + j];
      if (j == 3) EXPECT_EQ(got, 4) << "NaN gives the zero point";
      else if (j == 5) EXPECT_EQ(got, 127);
      else if (j == 6) EXPECT_EQ(got, -128);
      else EXPECT_EQ(got, j % 2 == 0 ? -128 : 127);
    }
}

TYPED_TEST(Int8Gemm, DeterministicAcrossThreads) {
  using P = default_policy<TypeParam>;
  std::mt19937 rng(14);
  const int M = 2 * P::mr + 7, N = 3 * P::nr + 5, K = 700;
  const auto a = random_bytes<std::uint8_t>(static_cast<std::size_t>(M) * K, rng);
  const auto b = random_bytes<std::int8_t>(static_cast<std::size_t>(K) * N, rng);
  std::vector<float> cs(static_cast<std::size_t>(N));
  for (int j = 0; j < N; ++j) cs[static_cast<std::size_t>(j)] = 0.001f * static_cast<float>(j + 1);
  pact::int8_requantize rq;
  rq.a_zero_point = 77;
  rq.b_col_scales = cs.data();
  const auto av = pact::make_row_major<const std::uint8_t>(a.data(), M, K);
  const auto bv = pact::make_row_major<const std::int8_t>(b.data(), K, N);
  std::vector<float> c1(static_cast<std::size_t>(M) * N);
  pact::int8_gemm<P>(av, bv, pact::make_row_major(c1.data(), M, N), rq);
  for (int t : {2, 3}) {
    pact::thread_pool pool(t);
    std::vector<float> ct(c1.size(), std::numeric_limits<float>::quiet_NaN());
    pact::int8_gemm<P>(av, bv, pact::make_row_major(ct.data(), M, N), rq, pool);
    ASSERT_EQ(0, std::memcmp(c1.data(), ct.data(), c1.size() * sizeof(float))) << t << " threads";
    // Pre-packed (packed in parallel) gives the same bits.
    const pact::int8_packed_b<P> packed(bv, pool);
    std::fill(ct.begin(), ct.end(), 0.0f);
    pact::int8_gemm(av, packed, pact::make_row_major(ct.data(), M, N), rq, pool);
    ASSERT_EQ(0, std::memcmp(c1.data(), ct.data(), c1.size() * sizeof(float))) << t << " threads, packed";
  }
}

// The AMX tile kernel (policies with amx_tiles; the default on AVX512-VNNI when the target
// has AMX-INT8). M >= 16 goes to the tiles, so the sweeps start there; a policy with 64-k
// blocks and 48-row A blocks (64 once rounded to tile pairs) crosses every k-block, row-block and 32-row pair boundary.
#if defined(PACT_HAS_AMX_INT8)
using amx_small_policy =
    pact::int8_gemm_config<pact::simd::avx512_vnni, 12, 32, 64, 48, 64, pact::gemm_loop_order::a_sliver_in_l1, true>;
using vector_policy =
    pact::int8_gemm_config<pact::simd::avx512_vnni, 12, 32, 1024, 576, 256, pact::gemm_loop_order::a_sliver_in_l1, false>;
static_assert(pact::quant_detail::int8_amx_tiles_of<default_policy<pact::simd::avx512_vnni>>);

bool amx_usable() { return pact::simd::amx::tiles_ready(); }

TEST(Int8GemmAmx, EveryTailExact) {
  if (!amx_usable()) GTEST_SKIP() << "the OS did not grant the AMX tile state";
  std::mt19937 rng(21);
  auto run = [&]<class P>() {
    for (int M = 16; M <= 70; ++M) check_exact<P, std::uint8_t>(M, 35, 13, 0, false, false, rng);
    for (int N = 1; N <= 70; ++N) check_exact<P, std::int8_t>(33, N, 9, 0, false, false, rng);
    for (int K : {0, 1, 3, 4, 5, 63, 64, 65, 127, 128, 129, 200})
      check_exact<P, std::uint8_t>(40, 33, K, 7, false, false, rng);
  };
  run.template operator()<amx_small_policy>();
  run.template operator()<default_policy<pact::simd::avx512_vnni>>();
}

TEST(Int8GemmAmx, LayoutsZeroPointsAndDeepK) {
  if (!amx_usable()) GTEST_SKIP() << "the OS did not grant the AMX tile state";
  using D = default_policy<pact::simd::avx512_vnni>;
  std::mt19937 rng(22);
  for (int zp : {0, 1, 128, 255}) check_exact<amx_small_policy, std::uint8_t>(65, 66, 137, zp, true, false, rng);
  for (int zp : {-128, -3, 0, 127}) check_exact<amx_small_policy, std::int8_t>(47, 39, 142, zp, false, true, rng);
  check_exact<D, std::uint8_t>(100, 70, 1030, 200, false, false, rng);  // K > default KC
  check_exact<D, std::int8_t>(600, 45, 2100, 5, true, true, rng);       // M > MC, 3 k-blocks
}

TEST(Int8GemmAmx, SameBitsAsVectorKernelOnEveryThreadCount) {
  if (!amx_usable()) GTEST_SKIP() << "the OS did not grant the AMX tile state";
  using D = default_policy<pact::simd::avx512_vnni>;
  std::mt19937 rng(23);
  const int M = 97, N = 101, K = 1500;
  const auto a = random_bytes<std::int8_t>(static_cast<std::size_t>(M) * K, rng);
  const auto b = random_bytes<std::int8_t>(static_cast<std::size_t>(K) * N, rng);
  std::vector<float> rs(static_cast<std::size_t>(M)), cs(static_cast<std::size_t>(N)), bias(static_cast<std::size_t>(N));
  for (int i = 0; i < M; ++i) rs[static_cast<std::size_t>(i)] = 0.01f + 0.001f * static_cast<float>(i);
  for (int j = 0; j < N; ++j) {
    cs[static_cast<std::size_t>(j)] = 0.002f * static_cast<float>(j + 1);
    bias[static_cast<std::size_t>(j)] = static_cast<float>(j % 7) - 3.0f;
  }
  pact::int8_requantize rq;
  rq.a_zero_point = -9;
  rq.a_row_scales = rs.data();
  rq.b_col_scales = cs.data();
  rq.bias = bias.data();
  rq.out_scale = 0.5f;
  rq.out_zero_point = 3;
  const auto av = pact::make_row_major<const std::int8_t>(a.data(), M, K);
  const auto bv = pact::make_row_major<const std::int8_t>(b.data(), K, N);
  std::vector<std::int8_t> want(static_cast<std::size_t>(M) * N, 0);
  pact::int8_gemm<vector_policy>(av, bv, pact::make_row_major(want.data(), M, N), rq);
  for (int t : {1, 2, 3, 7}) {
    pact::thread_pool pool(t);
    std::vector<std::int8_t> got(want.size(), 0x5A);
    pact::int8_gemm<D>(av, bv, pact::make_row_major(got.data(), M, N), rq, pool);
    ASSERT_EQ(0, std::memcmp(want.data(), got.data(), want.size())) << t << " threads";
  }
}
#else
TEST(Int8GemmAmx, EveryTailExact) { GTEST_SKIP() << "AMX-INT8 is not enabled by this build's target flags"; }
#endif

TEST(Int8GemmErrors, InvalidArguments) {
  std::vector<std::uint8_t> a(64, 1);
  std::vector<std::int8_t> b(64, 1);
  std::vector<std::int32_t> c(64);
  std::vector<float> cf(64);
  std::vector<std::int8_t> cq(64);
  const auto A = pact::make_row_major<const std::uint8_t>(a.data(), 4, 4);
  const auto B = pact::make_row_major<const std::int8_t>(b.data(), 4, 4);
  auto expect = [](pact::errc code, auto&& f) {
    try {
      f();
      ADD_FAILURE() << "no error";
    } catch (const pact::error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
    }
  };
  expect(pact::errc::invalid_shape, [&] {
    pact::int8_gemm(A, pact::make_row_major<const std::int8_t>(b.data(), 3, 4), pact::make_row_major(c.data(), 4, 4));
  });
  expect(pact::errc::invalid_shape, [&] { pact::int8_gemm(A, B, pact::make_row_major(c.data(), 3, 4)); });
  expect(pact::errc::invalid_shape, [&] { pact::int8_gemm(A, B, pact::make_row_major(c.data(), 4, 5)); });
  expect(pact::errc::null_pointer, [&] {
    pact::int8_gemm(pact::make_row_major<const std::uint8_t>(nullptr, 4, 4), B, pact::make_row_major(c.data(), 4, 4));
  });
  expect(pact::errc::bad_stride, [&] {
    pact::int8_gemm(pact::make_row_major<const std::uint8_t>(a.data(), 4, 4, 2), B, pact::make_row_major(c.data(), 4, 4));
  });
  expect(pact::errc::aliasing, [&] {
    pact::int8_gemm(pact::make_row_major<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(cq.data()), 4, 4), B,
                    pact::make_row_major(cq.data(), 4, 4), pact::int8_requantize{});
  });
  expect(pact::errc::aliasing, [&] {
    pact::int8_gemm(A, pact::make_row_major<const std::int8_t>(cq.data(), 4, 4), pact::make_row_major(cq.data(), 4, 4));
  });
  pact::int8_requantize rq;
  rq.a_zero_point = 256;
  expect(pact::errc::invalid_argument, [&] { pact::int8_gemm(A, B, pact::make_row_major(c.data(), 4, 4), rq); });
  rq = {};
  rq.a_zero_point = 128;
  expect(pact::errc::invalid_argument, [&] {
    pact::int8_gemm(pact::make_row_major<const std::int8_t>(b.data(), 4, 4), B, pact::make_row_major(c.data(), 4, 4), rq);
  });
  rq = {};
  rq.b_scale = 2.0f;
  expect(pact::errc::invalid_argument, [&] { pact::int8_gemm(A, B, pact::make_row_major(c.data(), 4, 4), rq); });
  rq = {};
  rq.a_scale = std::numeric_limits<float>::infinity();
  expect(pact::errc::invalid_argument, [&] { pact::int8_gemm(A, B, pact::make_row_major(cf.data(), 4, 4), rq); });
  rq = {};
  rq.out_scale = 0.0f;
  expect(pact::errc::invalid_argument, [&] { pact::int8_gemm(A, B, pact::make_row_major(cq.data(), 4, 4), rq); });
  rq = {};
  rq.out_zero_point = 200;
  expect(pact::errc::invalid_argument, [&] { pact::int8_gemm(A, B, pact::make_row_major(cq.data(), 4, 4), rq); });
  rq = {};
  rq.out_scale = 0.5f;
  expect(pact::errc::invalid_argument, [&] { pact::int8_gemm(A, B, pact::make_row_major(cf.data(), 4, 4), rq); });
}

}  // namespace
