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

/// One tile of m <= Rows rows and n <= NVt * L columns at (i0, j0). WithFull = false
/// compiles only the general kernel (tail tiles: one instantiation instead of two).
template <class A, class T, int Rows, int NVt, bool WithFull, class Ep>
PACT_ALWAYS_INLINE void direct_tile(index_t K, int m, int n, T alpha, const T* a, index_t a_rs, index_t a_cs, const T* b,
                                    index_t b_ld, T beta, bool read_c, c_ref<T> c, const Ep& ep, index_t i0, index_t j0) {
  constexpr int NR = NVt * static_cast<int>(simd::lanes<T, A>);
  register_tile<A, T, Rows, NVt> tile;
  tile.clear();
  if (WithFull && m == Rows && n == NR)
    microkernel_direct<A, T, Rows, NVt, WithFull>(K, a + i0 * a_rs, a_rs, a_cs, b + j0, b_ld, n, m, tile);
  else
    microkernel_direct<A, T, Rows, NVt>(K, a + i0 * a_rs, a_rs, a_cs, b + j0, b_ld, n, m, tile);
  store_tile(tile, m, n, alpha, beta, read_c, c, true, ep, i0, j0);
}

/// Row tiles of MRt rows over column blocks of NVt vectors. A last tile of at most 8 rows
/// (MRt > 8) runs an 8-row kernel: the MRt-row one would repeat its last row to fill the
/// tile, MRt FMAs per k step where m are needed.
template <class A, class T, int MRt, int NVt, class Ep>
void direct_tiles(index_t M, index_t N, index_t K, T alpha, const T* a, index_t a_rs, index_t a_cs, const T* b,
                  index_t b_ld, T beta, c_ref<T> c, const Ep& ep, index_t tile_begin = 0, index_t tile_end = -1) {
  constexpr int NR = NVt * static_cast<int>(simd::lanes<T, A>);
  const bool read_c = beta != T(0);
  const index_t i_begin = tile_begin * MRt, i_end = tile_end < 0 ? M : std::min(M, tile_end * MRt);
  for (index_t j0 = 0; j0 < N; j0 += NR) {
    const int n = static_cast<int>(std::min<index_t>(NR, N - j0));
    for (index_t i0 = i_begin; i0 < i_end; i0 += MRt) {
      const int m = static_cast<int>(std::min<index_t>(MRt, M - i0));
      if constexpr (MRt > 8) {
        if (m <= 8) {
          direct_tile<A, T, 8, NVt, false>(K, m, n, alpha, a, a_rs, a_cs, b, b_ld, beta, read_c, c, ep, i0, j0);
          continue;
        }
      }
      direct_tile<A, T, MRt, NVt, true>(K, m, n, alpha, a, a_rs, a_cs, b, b_ld, beta, read_c, c, ep, i0, j0);
    }
  }
}

/// Whether gemm() multiplies without packing (row-major B, no type conversion):
/// - tiny products (M*N*K <= 80^3): packing would cost as much as the multiply;
/// - mid-size ones with row-major A whose B fits the L2 beside A's row streams
///   (K*N*sizeof(T) <= 576 KiB) and whose depth makes the A rows long streams
///   (128 <= K <= 384, so a K x NR column sliver of B, <= 48 KiB, stays in L1 while every
///   row tile passes over it). Intel AVX-512 VM, stop 31, best of 4 x 9 alternated runs,
///   1 thread: 192^3 137.5 -> 157.6 GFLOP/s, 256^3 146.6 -> 160.2, 384^3 149.6 -> 157.2;
///   2 threads (runs of row tiles, gemm_direct): 256^3 236 -> 308. Slower unpacked: 512^3
///   (B 1 MiB), K = 64 (4096 x 128 x 64: 120 -> 70; A rows too short for the prefetchers),
///   and 2 threads splitting the columns instead (256^3 206 -> 184: each thread then
///   streams all of A).
template <class T>
constexpr bool use_direct(index_t M, index_t N, index_t K, index_t a_cs) noexcept {
  const double flops = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  if (flops <= 80.0 * 80.0 * 80.0) return true;
  return a_cs == 1 && K >= 128 && K <= 384 &&
         static_cast<double>(K) * static_cast<double>(N) * sizeof(T) <= 576.0 * 1024 && flops <= 384.0 * 384.0 * 384.0;
}

template <gemm_policy P, class Ep, class Exec>
void gemm_direct(index_t M, index_t N, index_t K, typename P::compute_type alpha,
                 const typename P::compute_type* a, index_t a_rs, index_t a_cs,
                 const typename P::compute_type* b, index_t b_ld, typename P::compute_type beta,
                 c_ref<typename P::compute_type> c, const Ep& ep, const Exec& exec) {
  using A = typename P::arch;
  using T = typename P::compute_type;
  constexpr int L = static_cast<int>(simd::lanes<T, A>);
  constexpr int NV = P::nr / L;
  if constexpr (NV > 1) {
    // One vector of columns or fewer: a one-vector tile with twice the rows keeps the
    // FMA units busy instead of multiplying NV-1 vectors of zeros.
    if (N <= L) {
      constexpr int rows = std::min(2 * P::mr, detail::vector_registers<A>() - 2);
      // 9-16 rows: one 16-row tile, not 28 rows of which 12 repeat the last one (16 x 16 x 16
      // f32 on AVX-512: 169-178 -> 95 ns).
      if constexpr (rows > 16) {
        if (M <= 16 && M > 8) {
          direct_tiles<A, T, 16, 1>(M, N, K, alpha, a, a_rs, a_cs, b, b_ld, beta, c, ep);
          return;
        }
      }
      direct_tiles<A, T, rows, 1>(M, N, K, alpha, a, a_rs, a_cs, b, b_ld, beta, c, ep);
      return;
    }
  }
  // Threads take contiguous runs of whole row tiles: the same tiles, so the same bits, as
  // on one thread. Below 128^3 a share is shorter than waking a thread.
  const index_t tiles = ceil_div(M, index_t{P::mr});
  const double flops = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const index_t tasks = flops > 128.0 * 128.0 * 128.0 ? std::min<index_t>(std::max(1, exec.num_threads()), tiles) : 1;
  if (tasks <= 1) {
    direct_tiles<A, T, P::mr, NV>(M, N, K, alpha, a, a_rs, a_cs, b, b_ld, beta, c, ep);
    return;
  }
  exec.parallel_for(tasks, [&](index_t t) {
    direct_tiles<A, T, P::mr, NV>(M, N, K, alpha, a, a_rs, a_cs, b, b_ld, beta, c, ep, tiles * t / tasks, tiles * (t + 1) / tasks);
  });
}

}  // namespace gemm_detail
PACT_NAMESPACE_END
