#pragma once
// The two register-tiled microkernels of flash attention. Both keep the *query* index in
// the vector lanes, so the online softmax (a per-query max and sum over keys) is plain
// lane-wise arithmetic with no horizontal reductions, and both read K and V rows in their
// natural [seq, head_dim] layout through broadcasts (no transposed K panel to pack):
//
//   score_tile : S^T[j][i]  = sum_k K[j][k] * Q^T[k][i]          (8 keys x chunk queries)
//   pv_tile    : O^T[c][i]  = alpha[i] * O^T[c][i] + sum_j V[j][c] * P^T[j][i]
//                                                                 (8 value dims x chunk queries)
// Contract (both): the 8 broadcast rows/columns exist (callers pad K tiles to a multiple
// of 8 rows and V tiles to a multiple of 8 columns); Q^T, S^T/P^T and O^T rows hold at
// least `chunk` floats starting at the given pointer; nothing is read beyond that.
// chunk = nv * lanes: 2 registers of queries on 32-register archs (AVX-512: 8 x 2 = 16
// accumulators + 2 loads + 1 broadcast), 1 register on 16-register archs.
#include "pact/core/matrix_view.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace attention_detail {

template <class A>
struct micro_shape {
  static constexpr index_t lanes = static_cast<index_t>(simd::lanes<float, A>);
#if defined(__aarch64__)
  static constexpr bool wide_register_file = A::bytes >= 64 || !std::is_same_v<A, simd::scalar>;
#else
  static constexpr bool wide_register_file = A::bytes >= 64;
#endif
  static constexpr index_t nv = wide_register_file ? 2 : 1;
  static constexpr index_t chunk = nv * lanes;  ///< query lanes per microkernel call
  static constexpr index_t kv_rows = 8;         ///< broadcast rows per microkernel call
};

/// st[r * ldst + i] = sum_{k < d} krow_r[k] * qt[k * ldq + i], r < 8, i < chunk.
template <class A, index_t D>
PACT_ALWAYS_INLINE void score_tile(const float* k, index_t k_rs, const float* qt, index_t ldq, index_t d_runtime,
                                   float* st, index_t ldst) noexcept {
  using V = simd::vec<float, A>;
  constexpr index_t L = micro_shape<A>::lanes;
  constexpr index_t NV = micro_shape<A>::nv;
  const index_t d = D > 0 ? D : d_runtime;
  V acc[8][NV];
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r)
#pragma GCC unroll 2
    for (index_t v = 0; v < NV; ++v) acc[r][v] = simd::zero<float, A>();
  const float* k0 = k;
  const float* k4 = k + 4 * k_rs;
  for (index_t kk = 0; kk < d; ++kk) {
    V q[NV];
#pragma GCC unroll 2
    for (index_t v = 0; v < NV; ++v) q[v] = simd::load<A>(qt + kk * ldq + v * L);
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      const V a = simd::broadcast<A>(k0[r * k_rs + kk]);
      const V b = simd::broadcast<A>(k4[r * k_rs + kk]);
#pragma GCC unroll 2
      for (index_t v = 0; v < NV; ++v) {
        acc[r][v] = simd::fma(a, q[v], acc[r][v]);
        acc[r + 4][v] = simd::fma(b, q[v], acc[r + 4][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r)
#pragma GCC unroll 2
    for (index_t v = 0; v < NV; ++v) simd::store(st + r * ldst + v * L, acc[r][v]);
}

/// ot[c * ldo + i] = alpha[i] * ot[c * ldo + i] + sum_{j < nj} v[j * v_rs + c] * pt[j * ldp + i],
/// c < 8, i < chunk.
template <class A>
PACT_ALWAYS_INLINE void pv_tile(const float* v, index_t v_rs, const float* pt, index_t ldp, index_t nj, float* ot,
                                index_t ldo, const float* alpha) noexcept {
  using V = simd::vec<float, A>;
  constexpr index_t L = micro_shape<A>::lanes;
  constexpr index_t NV = micro_shape<A>::nv;
  V acc[8][NV];
  V a[NV];
#pragma GCC unroll 2
  for (index_t u = 0; u < NV; ++u) a[u] = simd::load<A>(alpha + u * L);
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r)
#pragma GCC unroll 2
    for (index_t u = 0; u < NV; ++u) acc[r][u] = simd::load<A>(ot + r * ldo + u * L) * a[u];
  for (index_t j = 0; j < nj; ++j) {
    V p[NV];
#pragma GCC unroll 2
    for (index_t u = 0; u < NV; ++u) p[u] = simd::load<A>(pt + j * ldp + u * L);
    const float* vr = v + j * v_rs;
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) {
      const V b = simd::broadcast<A>(vr[r]);
#pragma GCC unroll 2
      for (index_t u = 0; u < NV; ++u) acc[r][u] = simd::fma(b, p[u], acc[r][u]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r)
#pragma GCC unroll 2
    for (index_t u = 0; u < NV; ++u) simd::store(ot + r * ldo + u * L, acc[r][u]);
}

}  // namespace attention_detail
PACT_NAMESPACE_END
