// docs/gemm.md's policy snippet: a user policy by name, and the same policy made the
// program-wide default (what a generated pact_tuned.hpp does). Checked against plain loops.
#include <cstdio>

#include <pact/gemm.hpp>

#include "snippet_check.hpp"

// [snippet gemm_policy]
using Arch = pact::simd::native_arch;  // the widest arch the target flags allow
using my_policy = pact::gemm_config<Arch, float, 4, 2 * pact::simd::lanes<float, Arch>, 384, 336, 1024,
                                    pact::gemm_loop_order::automatic, /*prefetch_b=*/32>;
// Override the default for every call in a program (what tools/ generates):
template <> struct pact::tuning::tuned_gemm_policy<Arch, float> : my_policy {};
// [/snippet gemm_policy]

static_assert(std::is_base_of_v<my_policy, pact::default_gemm_policy_t<float>>, "the override is the default");

int main() {
  const int M = 45, N = 70, K = 400;  // K > kc: two K blocks
  const auto av = snippet::values(static_cast<std::size_t>(M) * K, 4), bv = snippet::values(static_cast<std::size_t>(K) * N, 5);
  std::vector<float> c1(static_cast<std::size_t>(M) * N), c2(c1.size());
  const auto A = pact::make_row_major<const float>(av.data(), M, K);
  const auto B = pact::make_row_major<const float>(bv.data(), K, N);
  const auto C = pact::make_row_major(c1.data(), M, N);
  // [snippet gemm_policy]
  pact::gemm<my_policy>(1.0f, A, B, 0.0f, C);
  // [/snippet gemm_policy]
  pact::gemm(1.0f, A, B, 0.0f, pact::make_row_major(c2.data(), M, N));  // the overridden default
  std::vector<double> want(c1.size());
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int k = 0; k < K; ++k) s += double(av[static_cast<std::size_t>(i) * K + k]) * bv[static_cast<std::size_t>(k) * N + j];
      want[static_cast<std::size_t>(i) * N + j] = s;
    }
  snippet::require(snippet::max_rel_err(c1.data(), want) < 1e-5, "gemm<my_policy>");
  snippet::require(snippet::max_rel_err(c2.data(), want) < 1e-5, "gemm with the overridden default");
  std::puts("gemm policy snippet: ok");
  return 0;
}
