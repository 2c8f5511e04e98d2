// Every tail size, every arch's microkernel, blocking boundaries (small-cache policy),
// all layouts, alpha/beta cases, f32/f64.
#include "pact/gemm.hpp"
#include "support/arch_list.hpp"
#include "support/reference.hpp"
#include "gemm/gemm_reference.hpp"

using pact_test::test_matrix;

template <class A>
class GemmArch : public ::testing::Test {};
TYPED_TEST_SUITE(GemmArch, pact_test::float_archs, pact_test::arch_name);

template <class P, class T = float>
void run_case(pact::index_t M, pact::index_t N, pact::index_t K, int la, int lb, int lc, pact::index_t pad, double alpha,
              double beta, std::uint32_t seed) {
  test_matrix<T> a(M, K, la, pad, seed), b(K, N, lb, pad, seed + 1), c(M, N, lc, pad, seed + 2);
  const auto c0 = c;
  if (beta == 0)
    for (auto& x : c.storage) x = std::numeric_limits<T>::quiet_NaN();  // poison: must be overwritten, never read
  const auto ref = pact_test::reference_gemm(alpha, a, b, beta, c0);
  const auto a_before = a.storage, b_before = b.storage;
  pact::gemm<P>(static_cast<T>(alpha), a.cview(), b.cview(), static_cast<T>(beta), c.view());
  pact_test::expect_gemm_close(c, ref, alpha, a, b, beta, c0, std::numeric_limits<T>::epsilon(), "");
  EXPECT_EQ(a.storage, a_before);
  EXPECT_EQ(b.storage, b_before);
  // Elements of C's storage outside the matrix are untouched.
  std::vector<bool> inside(c.storage.size());
  for (pact::index_t i = 0; i < M; ++i)
    for (pact::index_t j = 0; j < N; ++j) inside[static_cast<std::size_t>(i * c.rs + j * c.cs)] = true;
  for (std::size_t e = 0; e < c.storage.size(); ++e)
    if (!inside[e]) {
      if (beta == 0) ASSERT_TRUE(std::isnan(c.storage[e])) << "wrote outside C at " << e;
      else ASSERT_EQ(c.storage[e], c0.storage[e]) << "wrote outside C at " << e;
    }
}

TYPED_TEST(GemmArch, EveryTailSize) {
  using A = TypeParam;
  using P = pact::tuning::default_gemm_policy<A, float>;
  // Every M, N from 1 past 2x the tile; K from the sblat3 set plus around the unroll.
  for (pact::index_t M = 1; M <= 2 * P::mr + 1; ++M)
    for (pact::index_t N = 1; N <= 2 * P::nr + 1; N += (N < P::nr + 2 ? 1 : 3))
      for (pact::index_t K : {1, 2, 5, 17})
        run_case<P>(M, N, K, 0, 0, 0, 0, 1.0, 0.0, static_cast<std::uint32_t>(M * 1000 + N * 10 + K));
}

TYPED_TEST(GemmArch, BlockingBoundariesWithSmallCachePolicy) {
  using A = TypeParam;
  using D = pact::tuning::default_gemm_policy<A, float>;
  // KC = 5, MC = 2 MR, NC = 2 NR: small matrices cross every cache-block boundary.
  using P = pact::gemm_config<A, float, D::mr, D::nr, 5, 2 * D::mr, 2 * D::nr>;
  for (pact::index_t M : {pact::index_t{2 * D::mr - 1}, pact::index_t{2 * D::mr}, pact::index_t{2 * D::mr + 1}, pact::index_t{4 * D::mr + 3}})
    for (pact::index_t N : {pact::index_t{2 * D::nr - 1}, pact::index_t{2 * D::nr + 1}, pact::index_t{4 * D::nr + 5}})
      for (pact::index_t K : {4, 5, 6, 11, 23})
        for (double beta : {0.0, 1.3}) run_case<P>(M, N, K, 0, 0, 0, 0, 0.7, beta, static_cast<std::uint32_t>(M + N + K));
}

TYPED_TEST(GemmArch, OtherLoopOrderAndPrefetch) {
  using A = TypeParam;
  using D = pact::tuning::default_gemm_policy<A, float>;
  using P = pact::gemm_config<A, float, D::mr, D::nr, 7, 3 * D::mr, 2 * D::nr, pact::gemm_loop_order::a_sliver_in_l1, 3>;
  using Q = pact::gemm_config<A, float, D::mr, D::nr, 9, D::mr, D::nr, pact::gemm_loop_order::b_sliver_in_l1, 0>;
  for (pact::index_t M : {pact::index_t{1}, pact::index_t{D::mr + 3}, pact::index_t{3 * D::mr + 1}, pact::index_t{7 * D::mr - 1}})
    for (pact::index_t N : {pact::index_t{5}, pact::index_t{2 * D::nr + 1}, pact::index_t{5 * D::nr - 3}})
      for (pact::index_t K : {6, 7, 8, 30}) {
        run_case<P>(M, N, K, 0, 1, 0, 0, 1.0, 0.5, static_cast<std::uint32_t>(M * N + K));
        run_case<Q>(M, N, K, 1, 0, 2, 1, 0.7, 0.0, static_cast<std::uint32_t>(M + N * K));
      }
}

TYPED_TEST(GemmArch, ColumnMajorB) {
  // Column-major B through each arch's default policy: whole L x L transposed tiles of the
  // B pack, a k tail, a short last sliver, and a k-block boundary crossed.
  using A = TypeParam;
  using D = pact::tuning::default_gemm_policy<A, float>;
  for (pact::index_t N : {pact::index_t{D::nr}, pact::index_t{2 * D::nr + 5}})
    for (pact::index_t K : {pact::index_t{16}, pact::index_t{37}, pact::index_t{D::kc + 21}})
      run_case<D>(D::mr + 2, N, K, 0, 1, 0, 3, 1.0, 0.0, static_cast<std::uint32_t>(N + K));
}

TYPED_TEST(GemmArch, DoublePrecision) {
  using A = TypeParam;
  using P = pact::tuning::default_gemm_policy<A, double>;
  for (pact::index_t M : {pact::index_t{1}, pact::index_t{3}, pact::index_t{P::mr + 1}, pact::index_t{40}})
    for (pact::index_t N : {pact::index_t{1}, pact::index_t{7}, pact::index_t{P::nr + 1}, pact::index_t{45}})
      for (pact::index_t K : {1, 9, 130}) run_case<P, double>(M, N, K, 0, 1, 0, 1, 1.0, 1.0, static_cast<std::uint32_t>(M * N + K));
}

TEST(Gemm, AllLayoutsAndLeadingDimensions) {
  for (int la = 0; la < 3; ++la)
    for (int lb = 0; lb < 3; ++lb)
      for (int lc = 0; lc < 3; ++lc)
        for (pact::index_t pad : {0, 1, 7})
          // {16, 16, 10}, {12, 9, 7}: the direct path's 16-row tiles (full and short);
          // {22, 30, 5}: a row tile plus an 8-row tail tile.
          for (auto [M, N, K] : {std::tuple<int, int, int>{1, 33, 20}, {17, 1, 9}, {37, 41, 29}, {130, 70, 300}, {16, 16, 10},
                                 {12, 9, 7}, {22, 30, 5}})
            run_case<pact::default_gemm_policy_t<float>>(M, N, K, la, lb, lc, pad, 1.0, 0.0,
                                                         static_cast<std::uint32_t>(la * 9 + lb * 3 + lc));
}

TEST(Gemm, AlphaBetaCases) {
  for (double alpha : {0.0, 1.0, 0.7})
    for (double beta : {0.0, 1.0, 1.3})
      for (auto [M, N, K] : {std::tuple<int, int, int>{0, 5, 3}, {1, 1, 1}, {2, 3, 0}, {3, 5, 9}, {9, 2, 5}, {60, 70, 80}, {200, 150, 90}})
        run_case<pact::default_gemm_policy_t<float>>(M, N, K, 0, 0, 0, 0, alpha, beta, 5);
}

TEST(Gemm, MidSizeUnpackedRuleBoundaries) {
  // Both sides of every limit of the unpacked mid-size path (gemm/direct.hpp: 128 <= K <= 384,
  // K * N * 4 <= 576 KiB, M * N * K <= 384^3, row-major A), with row tails of every kind.
  for (auto [M, N, K] : {std::tuple<int, int, int>{97, 90, 127}, {97, 90, 128}, {45, 383, 384}, {45, 383, 385}, {150, 384, 384},
                         {151, 385, 384}, {390, 384, 384}, {23, 1000, 150}})
    for (int la : {0, 1})
      run_case<pact::default_gemm_policy_t<float>>(M, N, K, la, 0, 0, 1, 0.9, 0.4, static_cast<std::uint32_t>(M + N + K + la));
}

TEST(Gemm, LargeAcrossDefaultBlocks) {
  // Crosses the default KC, MC and NC of every policy at least once (NC <= 2048: N = 2100
  // leaves a 52-column last block there, and crosses NC = 1024 twice).
  run_case<pact::default_gemm_policy_t<float>>(401, 2100, 777, 0, 0, 0, 3, 1.0, 0.5, 99);
  run_case<pact::default_gemm_policy_t<float>>(333, 97, 1025, 1, 1, 1, 0, 0.7, 0.0, 98);
}
