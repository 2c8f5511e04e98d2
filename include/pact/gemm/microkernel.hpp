#pragma once
// The GEMM microkernel: one MR x NR register tile, the only loop that does the FLOPs.
//
// Contract (BLIS's, see docs/gemm.md):
//   accumulate: acc[i][v] += sum_{k < kc} a(i, k) * b(k, v*L .. v*L+L-1) for i < MR, v < NV,
//     with a(i, k) = a[i*a_rs + k*a_cs] and b(k, j) = b[k*b_ld + j]. Packed operands give
//     a_rs = 1, a_cs = MR and b_ld = NR (contiguous slivers, B 64-byte aligned). The sum
//     runs in increasing k with one fused multiply-add per step, so an element's value
//     does not depend on where its tile sits or which thread computes it.
//   The caller zero-pads packed slivers, so rows >= m and columns >= n of the tile hold
//   garbage-free zeros and only the m x n corner is ever stored (store_tile below).
//   For unpacked B (small sizes) loads are limited to the first n columns (masked), so
//   nothing past the matrix is read.
#include <algorithm>

#include "pact/core/matrix_view.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace gemm_detail {

/// Blocks of b needed to cover a (a >= 0, b > 0): tiles, slivers, tasks.
constexpr index_t ceil_div(index_t a, index_t b) noexcept { return (a + b - 1) / b; }

template <class A, class T, int MR, int NV>
struct register_tile {
  using V = simd::vec<T, A>;
  static constexpr int lanes = static_cast<int>(simd::lanes<T, A>);
  V acc[MR][NV];

  PACT_ALWAYS_INLINE void clear() noexcept {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = simd::zero<T, A>();
  }
};

/// One k step of a packed tile: acc[i][v] += ak[i] * bk[v*L .. v*L + L-1] (NV aligned loads
/// of B, MR broadcasts of A).
template <class A, class T, int MR, int NV>
PACT_ALWAYS_INLINE void packed_step(const T* PACT_RESTRICT ak, const T* PACT_RESTRICT bk,
                                    register_tile<A, T, MR, NV>& tile) noexcept {
  using V = simd::vec<T, A>;
  constexpr int L = register_tile<A, T, MR, NV>::lanes;
  V bv[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) bv[v] = simd::load_aligned<A>(bk + v * L);
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    const V ai = simd::broadcast<A>(ak[i]);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) tile.acc[i][v] = simd::fma(ai, bv[v], tile.acc[i][v]);
  }
}

/// acc += A_sliver * B_sliver over kc steps (packed, aligned B). The tile may have fewer
/// rows than the packed sliver (RowsInTile < SliverRows) for short M: only those rows are
/// computed, the sliver layout stays the policy's.
/// Prefetch > 0 prefetches both slivers that many k steps ahead into L1 (one hint per
/// 64-byte line of B, one per step of A), hiding L2/L3 latency when they are not in L1.
/// next_l2, when not null, is a region the caller reads later (the next pre-packed B
/// block): one line of it, in order, is asked into L2 per four k steps (kc / 4 lines per
/// call), so its misses trickle out beside the FMAs instead of stalling a whole pass later.
template <class A, class T, int MR, int NV, int SliverRows = MR, int PrefetchB = 0>
PACT_ALWAYS_INLINE void microkernel_packed(index_t kc, const T* PACT_RESTRICT a, const T* PACT_RESTRICT b,
                                           register_tile<A, T, MR, NV>& tile, const char* next_l2 = nullptr) noexcept {
  constexpr int L = register_tile<A, T, MR, NV>::lanes;
  constexpr int NR = NV * L;
  constexpr int line = 64 / static_cast<int>(sizeof(T));
  auto step = [&](const T* ak, const T* bk) PACT_ALWAYS_INLINE_LAMBDA { packed_step<A, T, MR, NV>(ak, bk, tile); };
  // Four k steps per iteration: the loop overhead and the prefetch hints for A (one per
  // cache line, not per step) are shared, which keeps small tiles (6x16 on AVX2: 12 FMAs
  // per step) from being limited by the front end instead of the FMA units.
  index_t k = 0;
  for (; k + 4 <= kc; k += 4) {
    if constexpr (PrefetchB > 0) {
#pragma GCC unroll 8
      for (int e = 0; e < 4 * NR; e += line) simd::prefetch_l1(b + PrefetchB * NR + e);
#pragma GCC unroll 8
      for (int e = 0; e < 4 * SliverRows; e += line) simd::prefetch_l1(a + PrefetchB * SliverRows + e);
    }
    if (next_l2 != nullptr) {
      simd::prefetch_l2(next_l2);
      next_l2 += 64;
    }
    step(a, b);
    step(a + SliverRows, b + NR);
    step(a + 2 * SliverRows, b + 2 * NR);
    step(a + 3 * SliverRows, b + 3 * NR);
    a += 4 * SliverRows;
    b += 4 * NR;
  }
  for (; k < kc; ++k) {
    step(a, b);
    a += SliverRows;
    b += NR;
  }
}

/// Small-M variant of microkernel_packed: the kc steps are taken from `Streams` equal k
/// ranges, two steps of each in turn (k = 0, 1, q, q + 1, 2q, 2q + 1, .., 2, 3, q + 2, ..;
/// q = kc / Streams; an odd last step of each range, then the kc % Streams last steps,
/// after them), so a B sliver coming from memory is read as Streams sequential
/// streams instead of one. With few rows there are too few FMAs per B line to hide a
/// stream's stalls at 4 KiB page boundaries; the other streams keep misses in flight (the
/// lesson of the quantized GEMVs, quant/kernels/gemv_stream.hpp). The order is fixed by kc
/// alone, so results still do not depend on the thread count.
/// [next_l2, next_l2 + next_bytes), when not empty, is asked into L2 in equal parts over the
/// k loop (the caller's next B sliver, see macro_kernel): with few rows a sliver is read from
/// memory once, and without this the memory idles while the other row tiles reuse it.
template <class A, class T, int MR, int NV, int SliverRows, int Streams, int PrefetchB = 0>
PACT_ALWAYS_INLINE void microkernel_packed_streams(index_t kc, const T* PACT_RESTRICT a, const T* PACT_RESTRICT b,
                                                   register_tile<A, T, MR, NV>& tile, const char* next_l2 = nullptr,
                                                   index_t next_bytes = 0) noexcept {
  constexpr int L = register_tile<A, T, MR, NV>::lanes;
  constexpr int NR = NV * L;
  constexpr int line = 64 / static_cast<int>(sizeof(T));
  const index_t q = kc / Streams;
  auto step = [&](index_t k) PACT_ALWAYS_INLINE_LAMBDA {
    packed_step<A, T, MR, NV>(a + k * SliverRows, b + k * NR, tile);
  };
  simd::prefetch_stream next(next_l2, next_l2 != nullptr ? 1 : 0, next_bytes, 0, q / 2);
  index_t k = 0;
  for (; k + 2 <= q; k += 2) {
    next.step();
#pragma GCC unroll 8
    for (int s = 0; s < Streams; ++s) {
      if constexpr (PrefetchB > 0) {
        // Two k steps of this stream, PrefetchB steps ahead (past q: the next stream's start,
        // which is already on its way, or the next sliver's, which comes next).
#pragma GCC unroll 8
        for (int e = 0; e < 2 * NR; e += line) simd::prefetch_l1(b + (s * q + k + PrefetchB) * NR + e);
      }
      step(s * q + k);
      step(s * q + k + 1);
    }
  }
  for (; k < q; ++k)
#pragma GCC unroll 8
    for (int s = 0; s < Streams; ++s) step(s * q + k);
  for (k = Streams * q; k < kc; ++k) step(k);
}

/// acc += A(rows, k) * B(k, cols) straight from the matrices (no packing): A by strides,
/// B row-major with unit column stride. Only the first n columns of B are read: vectors
/// past n are not loaded at all and the vector holding column n-1 loads n - v*L lanes.
/// Full = true promises m == MR and n == NR, so the loop carries no bound checks;
/// FullRows = true promises only m == MR (columns may still end early).
template <class A, class T, int MR, int NV, bool Full = false, bool FullRows = Full>
PACT_ALWAYS_INLINE void microkernel_direct(index_t kc, const T* PACT_RESTRICT a, index_t a_rs, index_t a_cs,
                                           const T* PACT_RESTRICT b, index_t b_ld, int n, int m,
                                           register_tile<A, T, MR, NV>& tile) noexcept {
  using V = simd::vec<T, A>;
  constexpr int L = register_tile<A, T, MR, NV>::lanes;
  // Rows past m re-read row m-1 instead of branching: a branch per row inside the k loop
  // makes the compiler keep the accumulators in memory. store_tile drops those rows.
  const T* a_row[MR];
  int valid[NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) a_row[i] = a + (FullRows ? i : std::min(i, m - 1)) * a_rs;
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) valid[v] = Full ? L : std::clamp(n - v * L, 0, L);
  // Full rows: one base pointer per four rows, so a row is base + {0, 1, 2, 3} x a_rs,
  // offsets x86 addressing forms from two index registers (a_rs and 3 a_rs). With a
  // runtime a_rs, a product i x a_rs per row took a register each and spilled (16 rows: 5
  // reloads per k step).
  const T* a_quad[(MR + 3) / 4];
#pragma GCC unroll 8
  for (int q = 0; q < (MR + 3) / 4; ++q) a_quad[q] = a + 4 * q * a_rs;
  // Accumulate in a local copy: the tile is reached through a reference that g++ cannot
  // prove distinct from A's rows, and would otherwise store it back on every k step.
  register_tile<A, T, MR, NV> acc = tile;
  for (index_t k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const T* bk = b + k * b_ld + v * L;
      // Branch-free: a data-dependent choice between two loads splits the loop body and
      // g++ then keeps the accumulators in memory. Masked loads cost the same as plain ones.
      if constexpr (Full) bv[v] = simd::load<A>(bk);
      else bv[v] = simd::load_partial<A>(bk, static_cast<std::size_t>(valid[v]));
    }
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      // Full rows index A from the quad base pointers (see a_quad): with a compile-time
      // a_rs (gemm_fixed) every row is an immediate offset, where the table of MR row
      // pointers took MR registers and spilled (a reload per FMA at MR = 16).
      const V ai = simd::broadcast<A>(FullRows ? a_quad[i / 4][(i % 4) * a_rs + k * a_cs] : a_row[i][k * a_cs]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc.acc[i][v] = simd::fma(ai, bv[v], acc.acc[i][v]);
    }
  }
  tile = acc;
}

}  // namespace gemm_detail
PACT_NAMESPACE_END
