#pragma once
// The int8 GEMM loop nest (B pre-packed as a whole, so no B packing inside):
//   for pc (KC deep)                   one rank-KC update
//     for each task's rows / slivers   tasks split M tiles (N slivers when M is small)
//       for ic (MC rows)               pack the A block once (MC x KC bytes)
//         for jc (NC columns)          the KC x NC B block is reused from L2
//           for ir / jr (policy order) A sliver in L1 with B streaming, or the reverse
//             microkernel + store
// Between k-blocks the int32 partial sums live in a workspace (M x padded N); the last
// k-block applies the epilogue. Integer sums are exact, so any thread count or split gives
// bitwise identical int32 results, and the epilogue is per element.
#include <algorithm>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/kernels/int8_gemm_microkernel.hpp"
#include "pact/quant/kernels/int8_gemm_pack.hpp"
#include "pact/quant/kernels/int8_requantize.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

template <class T>
aligned_buffer<T>& int8_thread_buffer_a() {
  thread_local aligned_buffer<T> buf;
  return buf;
}
inline aligned_buffer<std::int32_t>& int8_workspace() {
  thread_local aligned_buffer<std::int32_t> buf;
  return buf;
}

template <class P, int Rows, class TC>
PACT_ALWAYS_INLINE void int8_run_tile(index_t groups, const std::uint32_t* a, const std::int8_t* b, int m, int n,
                                      bool first, bool last, std::int32_t* ws, index_t ws_ld, out_ref<TC> c,
                                      const int8_epilogue_state& st, index_t row0, index_t col0) {
  using A = typename P::arch;
  constexpr int L = static_cast<int>(simd::lanes<std::int32_t, A>);
  constexpr int NV = P::nr / L;
  int8_tile<A, Rows, NV> tile;
#pragma GCC unroll 32
  for (int i = 0; i < Rows; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v)
      tile.acc[i][v] = (first || i >= m) ? simd::zero<std::int32_t, A>()
                                         : simd::load_aligned<A>(ws + (row0 + i) * ws_ld + col0 + v * L);
  int8_microkernel<A, Rows, NV, P::mr>(groups, a, b, tile);
  if (last) {
    int8_store_tile(tile, m, n, c, st, row0, col0);
  } else {
    for (int i = 0; i < m; ++i)
      for (int v = 0; v < NV; ++v) simd::store_aligned(ws + (row0 + i) * ws_ld + col0 + v * L, tile.acc[i][v]);
  }
}

/// Short tiles (decode-sized M) run a 1- or 4-row kernel over the same MR-row sliver.
/// Not inlined: its three kernels (and their requantizing stores) are emitted once per
/// (policy, output type), shared by both loop orders, both A types and every executor,
/// as gemm's run_tile is (blocked_driver.hpp).
template <class P, class TC>
PACT_NOINLINE void int8_tile_dispatch(index_t groups, const std::uint32_t* a, const std::int8_t* b, int m, int n,
                                           bool first, bool last, std::int32_t* ws, index_t ws_ld, out_ref<TC> c,
                                           const int8_epilogue_state& st, index_t row0, index_t col0) {
  if constexpr (P::mr > 4) {
    if (m == 1) return int8_run_tile<P, 1>(groups, a, b, m, n, first, last, ws, ws_ld, c, st, row0, col0);
    if (m <= 4) return int8_run_tile<P, 4>(groups, a, b, m, n, first, last, ws, ws_ld, c, st, row0, col0);
  }
  int8_run_tile<P, P::mr>(groups, a, b, m, n, first, last, ws, ws_ld, c, st, row0, col0);
}

/// C = epilogue(A * B) for validated arguments, M, N >= 1 (K may be 0).
template <class PB, class TA, class TC, class Exec>
void int8_gemm_blocked(index_t M, index_t N, index_t K, byte_ref<TA> a, std::uint32_t flip,
                       const int8_packed_b<PB>& bp, out_ref<TC> c, const int8_epilogue_state& st, const Exec& exec) {
  using P = typename int8_packed_b<PB>::policy;
  constexpr index_t MR = P::mr, NR = P::nr;
  const index_t Np = bp.padded_cols();
  const index_t m_tiles = ceil_div(M, MR);
  const int threads = std::max(1, exec.num_threads());
  std::int32_t* ws = nullptr;
  if (K > P::kc) {
    aligned_buffer<std::int32_t>& w = int8_workspace();
    w.reserve_discard(detail::checked_mul(static_cast<std::size_t>(M), static_cast<std::size_t>(Np), "int8 gemm: workspace"));
    ws = w.data();
  }
  const bool tiny = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) < 2.0e6;
  // Split row tiles first (each task packs only its own A); split slivers of N only when
  // there are fewer row tiles than threads (decode-sized M).
  const index_t slivers = ceil_div(N, NR);
  const index_t tm = std::min<index_t>(threads, m_tiles);
  const index_t tn = std::min<index_t>(std::max<index_t>(threads / tm, 1), slivers);
  const index_t task_m = tiny ? 1 : tm, task_n = tiny ? 1 : tn;
  const index_t tasks = task_m * task_n;
  constexpr index_t nc_slivers = P::nc / NR;
  index_t pc = 0;
  do {
    const index_t kc = std::min<index_t>(P::kc, K - pc);
    const index_t groups = ceil_div(kc, 4);
    const bool first = pc == 0, last = pc + kc >= K;
    auto task = [&](index_t t) {
      const index_t ti = t % task_m, tj = t / task_m;
      const index_t row_begin = m_tiles * ti / task_m * MR;
      const index_t row_end = std::min(M, m_tiles * (ti + 1) / task_m * MR);
      const index_t s_begin = slivers * tj / task_n, s_end = slivers * (tj + 1) / task_n;
      if (row_begin >= row_end || s_begin >= s_end) return;
      aligned_buffer<std::uint32_t>& abuf = int8_thread_buffer_a<std::uint32_t>();
      abuf.reserve_discard(static_cast<std::size_t>(
          std::max<index_t>(1, std::min<index_t>(P::mc, round_up(row_end - row_begin, MR)) * groups)));
      for (index_t ic = row_begin; ic < row_end; ic += P::mc) {
        const index_t mc = std::min<index_t>(P::mc, row_end - ic);
        // A is packed once per (ic, pc) and reused across all of N: B is pre-packed, so
        // the NC blocks below only decide which part of B is reused from L2.
        pack_a_int8<P::mr>(byte_ref<TA>{a.p + ic * a.rs + pc * a.cs, a.rs, a.cs}, mc, kc, flip, abuf.data());
        auto tile_at = [&](index_t s, index_t ir) PACT_ALWAYS_INLINE_LAMBDA {
          const index_t j0 = s * NR;
          const int n = static_cast<int>(std::min<index_t>(NR, N - j0));
          const int m = static_cast<int>(std::min<index_t>(MR, mc - ir));
          int8_tile_dispatch<P>(groups, abuf.data() + ir * groups, bp.sliver(pc, s), m, n, first, last, ws, Np, c, st,
                                ic + ir, j0);
        };
        constexpr auto order = loop_order_of<P>;
        const bool a_in_l1 = order == gemm_loop_order::a_sliver_in_l1 ||
                             (order == gemm_loop_order::automatic && mc >= 4 * MR);
        for (index_t jb = s_begin; jb < s_end; jb += nc_slivers) {
          const index_t je = std::min(s_end, jb + nc_slivers);
          if (a_in_l1) {
            // The MR x KC A sliver stays in L1 while the B slivers stream from L2. The B
            // block visited next (slivers are contiguous within a k-block) is prefetched
            // into L2 in equal parts over this block's tiles, and each tile prefetches the
            // int32 partial sums of the next one: otherwise the first row tile of every
            // block, and every tile's first dot product, waited on memory.
            const index_t next_pc = je < s_end || ic + mc < row_end ? pc : pc + kc;
            const index_t next_s = je < s_end ? je : s_begin;
            const index_t next_e = next_pc < K ? std::min(s_end, next_s + nc_slivers) : next_s;
            simd::prefetch_stream next_block(bp.sliver(next_pc < K ? next_pc : pc, next_s), 1,
                                             next_pc < K ? (next_e - next_s) * bp.sliver_stride(next_pc) : 0, 0,
                                             ceil_div(mc, MR) * (je - jb));
            for (index_t ir = 0; ir < mc; ir += MR)
              for (index_t s = jb; s < je; ++s) {
                next_block.step();
                if (!first) {
                  const bool row_end_of_block = s + 1 == je;
                  const index_t pr = row_end_of_block ? ir + MR : ir, ps = row_end_of_block ? jb : s + 1;
                  if (pr < mc)
                    for (index_t i = 0; i < std::min<index_t>(MR, mc - pr); ++i)
                      for (index_t v = 0; v < NR; v += 16) simd::prefetch_l1(ws + (ic + pr + i) * Np + ps * NR + v);
                }
                tile_at(s, ir);
              }
          } else {
            // The KC x NR B sliver stays in L1 while the A slivers stream from L2.
            for (index_t s = jb; s < je; ++s)
              for (index_t ir = 0; ir < mc; ir += MR) tile_at(s, ir);
          }
        }
      }
    };
    if (tasks <= 1) task(0);
    else exec.parallel_for(tasks, task);
    pc += kc;
  } while (pc < K);
}

}  // namespace quant_detail
PACT_NAMESPACE_END
