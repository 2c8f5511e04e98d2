// docs/tuning.md's generated header (pact_tuned_example.hpp, an avx512_vnni policy) named
// through PACT_TUNED_HEADER, as the tuning workflow does: the default GEMM policy must become
// the recorded one and the product must stay right. On other archs the header does not apply
// (it names avx512_vnni) and the program only checks the product with the default policy.
#include "pact/simd/target.hpp"
#if defined(PACT_TARGET_AVX512_VNNI)
#define PACT_TUNED_HEADER "pact_tuned_example.hpp"
#endif
#include <cstdio>
#include <type_traits>

#include <pact/gemm.hpp>

#include "snippet_check.hpp"

#if defined(PACT_TARGET_AVX512_VNNI)
using recorded = pact::gemm_config<pact::simd::avx512_vnni, float, 14, 32, 384, 336, 1024, pact::gemm_loop_order::automatic, 32>;
static_assert(std::is_base_of_v<recorded, pact::default_gemm_policy_t<float>>, "the tuned header sets the default policy");
#endif

int main() {
  const int M = 50, N = 70, K = 500;
  const auto a = snippet::values(std::size_t(M) * K, 1), b = snippet::values(std::size_t(K) * N, 2);
  std::vector<float> c(std::size_t(M) * N);
  pact::gemm(1.0f, pact::make_row_major<const float>(a.data(), M, K), pact::make_row_major<const float>(b.data(), K, N), 0.0f,
             pact::make_row_major(c.data(), M, N));
  std::vector<double> want(c.size());
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j)
      for (int k = 0; k < K; ++k) want[std::size_t(i) * N + j] += double(a[std::size_t(i) * K + k]) * b[std::size_t(k) * N + j];
  snippet::require(snippet::max_rel_err(c.data(), want) < 1e-5, "gemm with the tuned default policy");
#if defined(PACT_TARGET_AVX512_VNNI)
  std::puts("tuned header snippet: ok (policy 14x32 KC384 MC336 NC1024 in use)");
#else
  std::puts("tuned header snippet: ok (header names avx512_vnni; not applied on this arch)");
#endif
  return 0;
}
