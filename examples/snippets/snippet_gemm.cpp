// The GEMM snippets of README.md ("A first kernel"), docs/gemm.md (views) and docs/errors.md, each
// checked against plain loops. Exit code 0 = every check passed.
// [snippet readme_gemm]
#include <pact/gemm.hpp>
// [/snippet readme_gemm]
// [snippet gemm_views]
#include <pact/gemm.hpp>
// [/snippet gemm_views]
#include <cstdio>

#include "snippet_check.hpp"

namespace {
/// want[i][j] = sum_k a(i, k) * b(k, j) for row-major a (ld K) and b given by an accessor.
template <class B>
std::vector<double> product(const std::vector<float>& a, B b, int M, int N, int K) {
  std::vector<double> want(static_cast<std::size_t>(M) * N);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int k = 0; k < K; ++k) s += double(a[static_cast<std::size_t>(i) * K + k]) * b(k, j);
      want[static_cast<std::size_t>(i) * N + j] = s;
    }
  return want;
}
}  // namespace

int main() {
  const int M = 37, N = 53, K = 29, ldb = K + 3;
  const auto av = snippet::values(static_cast<std::size_t>(M) * K, 1), bv = snippet::values(static_cast<std::size_t>(K) * N, 2);
  const auto bcol = snippet::values(static_cast<std::size_t>(ldb) * N, 3);  // (K, N) column-major, ld = K + 3
  std::vector<float> cv(static_cast<std::size_t>(M) * N, -7.0f);
  const float* a = av.data();
  const float* b = bv.data();
  float* c = cv.data();
  {
    // [snippet readme_gemm]
    // C (M x N) = A (M x K) * B (K x N), row-major, two threads, ReLU fused into the store.
    pact::thread_pool pool(2);
    pact::gemm(1.0f, pact::make_row_major<const float>(a, M, K),
                     pact::make_row_major<const float>(b, K, N), 0.0f,
               pact::make_row_major(c, M, N), pact::epilogue::relu{}, pool);
    // [/snippet readme_gemm]
    auto want = product(av, [&](int k, int j) { return double(bv[static_cast<std::size_t>(k) * N + j]); }, M, N, K);
    for (auto& w : want) w = w > 0 ? w : 0;
    snippet::require(snippet::max_rel_err(c, want) < 1e-5, "README gemm + ReLU");
  }
  {
    b = bcol.data();
    // [snippet gemm_views]
    auto A = pact::make_row_major<const float>(a, M, K);        // (M, K) row-major, ld = K
    auto B = pact::make_col_major<const float>(b, K, N, ldb);   // (K, N) column-major
    auto C = pact::make_row_major(c, M, N);
    pact::gemm(1.0f, A, B, 0.0f, C);                            // serial, default policy
    pact::gemm(1.0f, A.t().t(), B.t().t(), 1.0f, C,             // transposes are views: X.t()
               pact::epilogue::relu{}, pact::thread_pool{2});
    // [/snippet gemm_views]
    auto want = product(av, [&](int k, int j) { return double(bcol[static_cast<std::size_t>(j) * ldb + k]); }, M, N, K);
    for (auto& w : want) w = 2 * w > 0 ? 2 * w : 0;  // C = relu(A B + A B)
    snippet::require(snippet::max_rel_err(c, want) < 1e-5, "gemm views, col-major B, beta = 1 + ReLU");

    // [snippet errors]
    try {
      pact::gemm(1.0f, A, B, 0.0f, C);
    } catch (const pact::error& e) {
      if (e.code() == pact::errc::invalid_shape) { /* ... */ }
      std::puts(e.what());   // "pact: gemm: A.cols() != B.rows() (inner dimensions differ)"
    }
    // [/snippet errors]
    bool threw = false;
    try {
      pact::gemm(1.0f, pact::make_row_major<const float>(a, M, K), pact::make_row_major<const float>(b, K + 1, N), 0.0f, C);
    } catch (const pact::error& e) {
      threw = e.code() == pact::errc::invalid_shape;
      std::puts(e.what());
    }
    snippet::require(threw, "a shape mismatch throws invalid_shape");
  }
  std::puts("gemm snippets: ok");
  return 0;
}
