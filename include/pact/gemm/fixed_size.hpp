#pragma once
// Compile-time-sized GEMM: M, N, K are template constants, so every loop of the direct
// (unpacked) microkernel unrolls and the product stays in registers, with no packing and
// no run-time dispatch. Row-major A (M x K, lda), B (K x N, ldb), C (M x N, ldc).
#include <algorithm>
#include <utility>

#include "pact/gemm/direct.hpp"
#include "pact/gemm/epilogue.hpp"
#include "pact/tuning/gemm_defaults.hpp"

PACT_NAMESPACE_BEGIN

template <index_t M, index_t N, index_t K, class T = float, class Policy = void, class Ep = epilogue::none>
  requires(M > 0 && N > 0 && K > 0 && (std::is_same_v<T, float> || std::is_same_v<T, double>))
PACT_ALWAYS_INLINE void gemm_fixed(T alpha, const T* a, index_t lda, const T* b, index_t ldb, T beta, T* c, index_t ldc,
                                   const Ep& ep = {}) {
  using P = std::conditional_t<std::is_void_v<Policy>, default_gemm_policy_t<T>, Policy>;
  static_assert(detail::check_gemm_policy<P>());
  using A = typename P::arch;
  constexpr int L = static_cast<int>(simd::lanes<T, A>);
  // Column block: the policy's NR, or all of N when narrower. Rows per tile: as many as
  // the registers hold next to NV B vectors and one broadcast (16 rows for N = 16 on
  // AVX-512, so a 16^3 product is one tile).
  constexpr int NV = static_cast<int>(std::min<index_t>(P::nr / L, (N + L - 1) / L));
  constexpr int max_rows = std::min((detail::vector_registers<A>() - NV - 1) / NV, 32);
  // Balanced row tiles: 32 rows with at most 14 per tile become 11 + 11 + 10, not
  // 14 + 14 + 4 (a 4-row tile runs at half speed: too few accumulators per B load).
  constexpr index_t row_tiles = (M + max_rows - 1) / max_rows;
  constexpr int MR = static_cast<int>((M + row_tiles - 1) / row_tiles);
  constexpr int NRt = NV * L;
  const bool read_c = beta != T(0);
  const gemm_detail::c_ref<T> cref{c, ldc, 1};
  [&]<index_t... J>(std::integer_sequence<index_t, J...>) PACT_ALWAYS_INLINE_LAMBDA {
    (
        [&]() PACT_ALWAYS_INLINE_LAMBDA {
          constexpr index_t j0 = J * NRt;
          constexpr int n = static_cast<int>(std::min<index_t>(NRt, N - j0));
          [&]<index_t... I>(std::integer_sequence<index_t, I...>) PACT_ALWAYS_INLINE_LAMBDA {
            (
                [&]() PACT_ALWAYS_INLINE_LAMBDA {
                  constexpr index_t i0 = I * MR;
                  constexpr int m = static_cast<int>(std::min<index_t>(MR, M - i0));
                  // A tile of exactly m rows (the last one may be shorter): every row is
                  // real, so A is addressed from one base pointer with no row clamping.
                  gemm_detail::register_tile<A, T, m, NV> tile;
                  tile.clear();
                  gemm_detail::microkernel_direct<A, T, m, NV, n == NRt, true>(K, a + i0 * lda, lda, 1, b + j0, ldb, n, m, tile);
                  gemm_detail::store_tile(tile, m, n, alpha, beta, read_c, cref, true, ep, i0, j0);
                }(),
                ...);
          }(std::make_integer_sequence<index_t, (M + MR - 1) / MR>{});
        }(),
        ...);
  }(std::make_integer_sequence<index_t, (N + NRt - 1) / NRt>{});
}

PACT_NAMESPACE_END
