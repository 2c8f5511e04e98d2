// NaN/Inf rules, invalid arguments (one test per parameter) and determinism across
// thread counts.
#include <cmath>
#include <limits>

#include "pact/gemm.hpp"
#include "gemm/gemm_reference.hpp"
#include "support/expect_error.hpp"

using pact_test::test_matrix;
namespace {
using pact_test::expect_error;
constexpr float nan_f = std::numeric_limits<float>::quiet_NaN();
constexpr float inf_f = std::numeric_limits<float>::infinity();
}  // namespace

TEST(GemmRules, BetaZeroNeverReadsC) {
  for (auto [M, N, K] : {std::tuple<int, int, int>{1, 100, 30}, {5, 5, 5}, {100, 90, 300}}) {
    std::vector<float> a(static_cast<std::size_t>(M * K), 1.0f), b(static_cast<std::size_t>(K * N), 1.0f),
        c(static_cast<std::size_t>(M * N), nan_f);
    pact::gemm(1.0f, pact::make_row_major<const float>(a.data(), M, K), pact::make_row_major<const float>(b.data(), K, N),
               0.0f, pact::make_row_major(c.data(), M, N));
    for (float x : c) ASSERT_EQ(x, static_cast<float>(K));
  }
}

TEST(GemmRules, AlphaZeroOrKZeroGivesBetaC) {
  std::vector<float> a(12, inf_f), b(12, nan_f), c(9, 2.0f);
  pact::gemm(0.0f, pact::make_row_major<const float>(a.data(), 3, 4), pact::make_row_major<const float>(b.data(), 4, 3),
             1.5f, pact::make_row_major(c.data(), 3, 3));
  for (float x : c) EXPECT_EQ(x, 3.0f);
  pact::gemm(1.0f, pact::make_row_major<const float>(a.data(), 3, 0), pact::make_row_major<const float>(b.data(), 0, 3),
             0.5f, pact::make_row_major(c.data(), 3, 3));
  for (float x : c) EXPECT_EQ(x, 1.5f);
  std::fill(c.begin(), c.end(), nan_f);
  pact::gemm(0.0f, pact::make_row_major<const float>(a.data(), 3, 4), pact::make_row_major<const float>(b.data(), 4, 3),
             0.0f, pact::make_row_major(c.data(), 3, 3));
  for (float x : c) EXPECT_EQ(x, 0.0f);
}

TEST(GemmRules, NaNAndInfPropagateByRowAndColumn) {
  for (auto [M, N, K] : {std::tuple<int, int, int>{1, 40, 20}, {7, 9, 11}, {64, 80, 300}}) {
    test_matrix<float> a(M, K, 0, 0, 1), b(K, N, 0, 0, 2);
    std::vector<float> c(static_cast<std::size_t>(M * N));
    const int bad_row = M / 2, bad_col = N / 3;
    a(bad_row, K - 1) = nan_f;
    b(0, bad_col) = inf_f;
    pact::gemm(1.0f, a.cview(), b.cview(), 0.0f, pact::make_row_major(c.data(), M, N));
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        const float x = c[static_cast<std::size_t>(i * N + j)];
        if (i == bad_row) EXPECT_TRUE(std::isnan(x)) << i << "," << j;
        else if (j == bad_col) EXPECT_TRUE(std::isinf(x) || std::isnan(x)) << i << "," << j;
        else EXPECT_TRUE(std::isfinite(x)) << i << "," << j;
      }
  }
}

namespace {
struct gemm_args {
  std::vector<float> a = std::vector<float>(64, 1.0f), b = std::vector<float>(64, 1.0f), c = std::vector<float>(64, 0.0f);
};
}  // namespace

TEST(GemmInvalid, InnerDimensionMismatch) {
  gemm_args g;
  expect_error(pact::errc::invalid_shape, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), 2, 3), pact::make_row_major<const float>(g.b.data(), 4, 2),
               0.0f, pact::make_row_major(g.c.data(), 2, 2));
  });
}
TEST(GemmInvalid, OutputRowsMismatch) {
  gemm_args g;
  expect_error(pact::errc::invalid_shape, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), 2, 3), pact::make_row_major<const float>(g.b.data(), 3, 2),
               0.0f, pact::make_row_major(g.c.data(), 3, 2));
  });
}
TEST(GemmInvalid, OutputColsMismatch) {
  gemm_args g;
  expect_error(pact::errc::invalid_shape, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), 2, 3), pact::make_row_major<const float>(g.b.data(), 3, 2),
               0.0f, pact::make_row_major(g.c.data(), 2, 4));
  });
}
TEST(GemmInvalid, NegativeExtent) {
  gemm_args g;
  expect_error(pact::errc::invalid_shape, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), -2, 3), pact::make_row_major<const float>(g.b.data(), 3, 2),
               0.0f, pact::make_row_major(g.c.data(), -2, 2));
  });
}
TEST(GemmInvalid, NullPointerWithExtent) {
  gemm_args g;
  expect_error(pact::errc::null_pointer, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(nullptr, 2, 3), pact::make_row_major<const float>(g.b.data(), 3, 2),
               0.0f, pact::make_row_major(g.c.data(), 2, 2));
  });
  expect_error(pact::errc::null_pointer, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), 2, 3), pact::make_row_major<const float>(g.b.data(), 3, 2),
               0.0f, pact::make_row_major<float>(nullptr, 2, 2));
  });
}
TEST(GemmInvalid, NullPointerWithZeroExtentIsFine) {
  pact::gemm(1.0f, pact::make_row_major<const float>(nullptr, 0, 3), pact::make_row_major<const float>(nullptr, 3, 0), 0.0f,
             pact::make_row_major<float>(nullptr, 0, 0));
}
TEST(GemmInvalid, LeadingDimensionTooSmall) {
  gemm_args g;
  expect_error(pact::errc::bad_stride, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), 2, 3, 2), pact::make_row_major<const float>(g.b.data(), 3, 2),
               0.0f, pact::make_row_major(g.c.data(), 2, 2));
  });
  expect_error(pact::errc::bad_stride, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), 2, 3), pact::make_col_major<const float>(g.b.data(), 3, 2, 2),
               0.0f, pact::make_row_major(g.c.data(), 2, 2));
  });
}
TEST(GemmInvalid, NonPositiveStride) {
  gemm_args g;
  expect_error(pact::errc::bad_stride, [&] {
    pact::gemm(1.0f, pact::make_strided<const float>(g.a.data(), 2, 3, 0, 1), pact::make_row_major<const float>(g.b.data(), 3, 2),
               0.0f, pact::make_row_major(g.c.data(), 2, 2));
  });
}
TEST(GemmInvalid, OverlappingOutputElements) {
  gemm_args g;
  expect_error(pact::errc::bad_stride, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), 2, 3), pact::make_row_major<const float>(g.b.data(), 3, 2),
               0.0f, pact::make_strided(g.c.data(), 2, 2, 1, 1));
  });
}
TEST(GemmInvalid, OutputAliasesInput) {
  gemm_args g;
  expect_error(pact::errc::aliasing, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), 4, 4), pact::make_row_major<const float>(g.b.data(), 4, 4),
               0.0f, pact::make_row_major(g.a.data() + 2, 4, 4));
  });
  expect_error(pact::errc::aliasing, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), 4, 4), pact::make_row_major<const float>(g.b.data(), 4, 4),
               0.0f, pact::make_row_major(g.b.data(), 4, 4));
  });
}
TEST(GemmInvalid, EpilogueReadsOutput) {
  // The epilogue runs on C after it is stored: a residual over C itself would read the new
  // values, so it is rejected (also inside a chain, and with pre-packed B).
  gemm_args g;
  const auto A = pact::make_row_major<const float>(g.a.data(), 4, 4);
  const auto B = pact::make_row_major<const float>(g.b.data(), 4, 4);
  const auto C = pact::make_row_major(g.c.data(), 4, 4);
  const pact::epilogue::residual_add<float> over_c{pact::make_strided<const float>(g.c.data() + 4, 2, 2, 4, 1)};
  expect_error(pact::errc::aliasing, [&] { pact::gemm(1.0f, A, B, 0.0f, C, over_c); });
  expect_error(pact::errc::aliasing, [&] { pact::gemm(1.0f, A, B, 0.0f, C, pact::epilogue::chain{pact::epilogue::relu{}, over_c}); });
  const auto packed = pact::pack_b(B);
  expect_error(pact::errc::aliasing, [&] { pact::gemm(1.0f, A, packed, 0.0f, C, over_c); });
  // A residual beside C is fine.
  const pact::epilogue::residual_add<float> beside{pact::make_strided<const float>(g.a.data(), 4, 4, 4, 1)};
  pact::gemm(1.0f, A, B, 0.0f, C, beside);
}
TEST(GemmInvalid, SizeOverflow) {
  gemm_args g;
  const pact::index_t huge = std::numeric_limits<pact::index_t>::max() / 2;
  expect_error(pact::errc::size_overflow, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(g.a.data(), huge, 4, huge), pact::make_row_major<const float>(g.b.data(), 4, 4),
               0.0f, pact::make_row_major(g.c.data(), huge, 4));
  });
}

// ---- determinism --------------------------------------------------------------------

template <class Exec>
std::vector<float> run_threads(const Exec& exec, int M, int N, int K, bool packed) {
  test_matrix<float> a(M, K, 0, 0, 11), b(K, N, 0, 0, 12);
  std::vector<float> c(static_cast<std::size_t>(M * N), 0.25f);
  if (packed) {
    const auto pb = pact::pack_b(b.cview());
    pact::gemm(1.0f, a.cview(), pb, 0.5f, pact::make_row_major(c.data(), M, N), pact::epilogue::relu{}, exec);
  } else {
    pact::gemm(1.0f, a.cview(), b.cview(), 0.5f, pact::make_row_major(c.data(), M, N), pact::epilogue::relu{}, exec);
  }
  return c;
}

TEST(GemmDeterminism, BitwiseIdenticalForAnyThreadCount) {
  // {150, 200, 256}, {100, 300, 200}, {40, 64, 384}: the unpacked mid-size path (direct.hpp),
  // split into runs of row tiles, with a full-kernel tail, an 8-row tail and fewer tiles
  // than threads. {37, 700, 500}: three row tiles that threads split by columns.
  for (auto [M, N, K] : {std::tuple<int, int, int>{1, 3000, 700}, {3, 2000, 600}, {8, 1000, 900}, {37, 700, 500}, {301, 257, 800},
                         {600, 130, 400}, {150, 200, 256}, {100, 300, 200}, {40, 64, 384}})
    for (bool packed : {false, true}) {
      const auto one = run_threads(pact::serial{}, M, N, K, packed);
      for (int t : {1, 2, 3, 7}) {
        pact::thread_pool pool(t);
        EXPECT_EQ(run_threads(pool, M, N, K, packed), one) << "thread_pool(" << t << ") M=" << M;
#if defined(_OPENMP)
        EXPECT_EQ(run_threads(pact::openmp_executor{t}, M, N, K, packed), one) << "openmp(" << t << ") M=" << M;
#endif
        EXPECT_EQ(run_threads(pact::executor_ref(pool), M, N, K, packed), one) << "executor_ref(" << t << ")";
      }
    }
}
