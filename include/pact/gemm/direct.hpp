#pragma once
// Small GEMMs without packing: when the matrices are this small, copying them into
// slivers costs as much as the multiply. The microkernel reads A through its strides and
// B rows in place (row-major B only), with masked loads for the last columns.
// With M, N, K as template constants (gemm_fixed) every loop unrolls and the whole
// product stays in registers.
#include <algorithm>

#include "pact/gemm/policy.hpp"
#include "pact/gemm/store_tile.hpp"

PACT_NAMESPACE_BEGIN
namespace gemm_detail {

template <gemm_policy P, class Ep>
void gemm_direct(index_t M, index_t N, index_t K, typename P::compute_type alpha,
                 const typename P::compute_type* a, index_t a_rs, index_t a_cs,
                 const typename P::compute_type* b, index_t b_ld, typename P::compute_type beta,
                 c_ref<typename P::compute_type> c, const Ep& ep) {
  using A = typename P::arch;
  using T = typename P::compute_type;
  constexpr int NV = P::nr / static_cast<int>(simd::lanes<T, A>);
  const bool read_c = beta != T(0);
  for (index_t j0 = 0; j0 < N; j0 += P::nr) {
    const int n = static_cast<int>(std::min<index_t>(P::nr, N - j0));
    for (index_t i0 = 0; i0 < M; i0 += P::mr) {
      const int m = static_cast<int>(std::min<index_t>(P::mr, M - i0));
      register_tile<A, T, P::mr, NV> tile;
      tile.clear();
      microkernel_direct<A, T, P::mr, NV>(K, a + i0 * a_rs, a_rs, a_cs, b + j0, b_ld, n, m, tile);
      store_tile(tile, m, n, alpha, beta, read_c, c, true, ep, i0, j0);
    }
  }
}

}  // namespace gemm_detail
PACT_NAMESPACE_END
