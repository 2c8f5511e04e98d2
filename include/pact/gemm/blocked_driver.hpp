#pragma once
// The BLIS loop nest around the microkernel (the "macro-kernel"):
//   for jc (NC columns of B)          B block kc x nc lives in L3
//     for pc (KC deep)                 pack B block once, shared by all threads
//       for each task's rows:          tasks split M (and N when M is small)
//         for ic (MC rows of A)        pack A block, lives in L2
//           for jr (NR sliver of B)    B sliver stays in L1 while...
//             for ir (MR rows)         ...the A slivers stream from L2
//               microkernel + store_tile
// A C element's arithmetic depends only on KC (the pc split), never on the task split,
// so every thread count gives bitwise identical results.
#include <algorithm>
#include <concepts>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/threading.hpp"
#include "pact/gemm/pack.hpp"
#include "pact/gemm/policy.hpp"
#include "pact/gemm/store_tile.hpp"

PACT_NAMESPACE_BEGIN
namespace gemm_detail {

/// Packs B blocks on the fly into a buffer owned by the calling thread.
template <gemm_policy P, class SB>
struct b_packer {
  using T = typename P::compute_type;
  strided_ref<SB> b;
  aligned_buffer<T>& buffer;

  template <class Exec>
  const T* block(index_t jc, index_t nc, index_t pc, index_t kc, const Exec& exec) const {
    const index_t slivers = ceil_div(nc, P::nr);
    buffer.reserve_discard(static_cast<std::size_t>(slivers * P::nr * kc));
    T* dst = buffer.data();
    const strided_ref<SB> blk{&b(pc, jc), b.rs, b.cs};
    const int tasks = static_cast<int>(std::min<index_t>(exec.num_threads(), slivers));
    if (tasks <= 1 || kc * nc < 32 * 1024) {
      pack_b_slivers<P::nr, typename P::arch>(blk, kc, nc, 0, slivers, dst);
    } else {
      exec.parallel_for(tasks, [&](index_t t) {
        pack_b_slivers<P::nr, typename P::arch>(blk, kc, nc, slivers * t / tasks, slivers * (t + 1) / tasks, dst);
      });
    }
    return dst;
  }
};

/// Thread-private scratch for packed A blocks, reused across calls (no malloc per call).
template <class T>
aligned_buffer<T>& thread_a_buffer() {
  thread_local aligned_buffer<T> buf;
  return buf;
}
template <class T>
aligned_buffer<T>& thread_b_buffer() {
  thread_local aligned_buffer<T> buf;
  return buf;
}

/// A B source whose blocks are already in memory (pre-packed): block() without an executor
/// is address arithmetic, so the driver can prefetch the next block while it computes.
template <class BSource, class T>
concept addressable_b_source = requires(const BSource& b, index_t i) {
  { b.block(i, i, i, i) } -> std::same_as<const T*>;
};

/// A region to bring into L2 while the macro-kernel works: the next pre-packed B block, or
/// the next B sliver.
struct l2_region {
  const char* begin = nullptr;
  index_t bytes = 0;
};

/// GEMMs with at most this many rows read B as k-range streams (see gemm_blocked).
inline constexpr index_t stream_b_max_rows = 64;

/// StreamB: use the k-range stream kernel for every tile (tiles of <= 8 rows always do).
template <gemm_policy P, int Rows, bool StreamB, class Ep>
PACT_ALWAYS_INLINE void run_tile_rows(index_t kc, const typename P::compute_type* a_sliver,
                                      const typename P::compute_type* b_sliver, int m, int n,
                                      typename P::compute_type alpha, typename P::compute_type beta, bool read_c,
                                      c_ref<typename P::compute_type> c, bool last, const Ep& ep, index_t row0,
                                      index_t col0, l2_region next) {
  using A = typename P::arch;
  using T = typename P::compute_type;
  constexpr int NV = P::nr / static_cast<int>(simd::lanes<T, A>);
  if constexpr (prefetch_b_of<P> > 0) {
    // The C tile is read (or written) right after the k loop: start fetching it now.
    for (int i = 0; i < m; ++i) {
      T* row = c.p + (row0 + i) * c.rs + col0 * c.cs;
      simd::prefetch_l1_write(row);
      if (c.cs == 1 && n * static_cast<int>(sizeof(T)) > 64) simd::prefetch_l1_write(row + n - 1);
    }
  }
  register_tile<A, T, Rows, NV> tile;
  tile.clear();
  // Short tiles (small M): B read as 4 streams (a stand-alone 8 x 32 f32 tile over 64 MB of
  // cold packed B: 1 stream 6.0 ms at its best prefetch distance, 7.6 ms without; 2 / 4 / 8
  // streams 5.2-5.6 / 5.1-5.3 / 5.1-5.6 ms), each prefetched 8 k steps ahead (stop 34,
  // pre-packed x 4096 x 4096, medians of 40 calls against 4 steps: 2 rows 12.7-12.9 ->
  // 14.1-14.2 GFLOP/s, 4 rows 24.3-25.4 -> 27.1-29.2, 1 / 8 / 16 / 32 rows the same;
  // -march=haswell 2 / 4 / 8 rows +4-19%).
  if constexpr ((Rows < P::mr && Rows <= 8) || StreamB)
    microkernel_packed_streams<A, T, Rows, NV, P::mr, 4, 8>(kc, a_sliver, b_sliver, tile, next.begin, next.bytes);
  else
    microkernel_packed<A, T, Rows, NV, P::mr, prefetch_b_of<P>>(kc, a_sliver, b_sliver, tile, next.begin);
  store_tile(tile, m, n, alpha, beta, read_c, c, last, ep, row0, col0);
}

/// Runs one tile of m <= MR rows. Full tiles use the policy's MR x NR kernel; short row
/// counts (small M: decode, LLM batch 1-8) use a 1-, 4- or 8-row kernel over the same
/// packed sliver instead of computing MR rows of zero padding.
/// Not inlined: its five kernels are emitted once per (policy, epilogue) and shared by both
/// loop orders, every B source (packed on the fly or pre-packed) and every executor. Inlined
/// they were copied 4x per gemm_blocked instantiation, and 16x in a TU that uses both B
/// sources and both executors (MoE). A call costs a few cycles against the tile's
/// MR * NR * kc / (2 * lanes) FMA cycles (>= 900 for 14 x 32 at kc 64).
/// next: a region to ask into L2 during the k loop. The full-height sequential kernel walks
/// kc / 4 lines from its start (see microkernel_packed), the stream kernels all of it.
template <gemm_policy P, class Ep>
PACT_NOINLINE void run_tile(bool stream_b, index_t kc, const typename P::compute_type* a_sliver,
                            const typename P::compute_type* b_sliver, int m, int n, typename P::compute_type alpha,
                            typename P::compute_type beta, bool read_c, c_ref<typename P::compute_type> c, bool last,
                            const Ep& ep, index_t row0, index_t col0, l2_region next) {
  if constexpr (P::mr > 8) {
    // Short tiles read B as streams either way: one instantiation each.
    if (m <= 1) return run_tile_rows<P, 1, false>(kc, a_sliver, b_sliver, m, n, alpha, beta, read_c, c, last, ep, row0, col0, next);
    if (m <= 4) return run_tile_rows<P, 4, false>(kc, a_sliver, b_sliver, m, n, alpha, beta, read_c, c, last, ep, row0, col0, next);
    if (m <= 8) return run_tile_rows<P, 8, false>(kc, a_sliver, b_sliver, m, n, alpha, beta, read_c, c, last, ep, row0, col0, next);
  }
  if (stream_b)
    run_tile_rows<P, P::mr, true>(kc, a_sliver, b_sliver, m, n, alpha, beta, read_c, c, last, ep, row0, col0, next);
  else
    run_tile_rows<P, P::mr, false>(kc, a_sliver, b_sliver, m, n, alpha, beta, read_c, c, last, ep, row0, col0, next);
}

/// Whether the B-sliver-in-L1 order asks for the next B sliver during the current one's
/// row tiles (macro_kernel). It pays when those tiles take longer than reading a sliver from
/// memory: a second full-height tile (m > 8) does, a 2-row tail does not. Pre-packed
/// 1 thread, medians of 40 calls (GFLOP/s): 16 x 4096² (14 + 2 rows) 82-85 -> 80 with the
/// walk, 24 rows 97 -> 109, 32 rows 114 -> 122, 48 rows 115-123 -> 135; 8 rows (one
/// tile) 54 -> 47, where the tile itself reads the sliver at the memory's pace.
template <gemm_policy P>
constexpr bool walk_next_sliver(bool stream_b, index_t mc) noexcept {
  return stream_b && prefetch_b_of<P> > 0 && mc > P::mr + 8;
}

/// The macro-kernel: every tile of one packed mc x kc A block (rows ic..) against B slivers
/// [s_begin, s_end) of the packed kc x nc B block (columns jc..).
template <gemm_policy P, class Ep>
void macro_kernel(index_t kc, index_t mc, index_t nc, const typename P::compute_type* ap,
                  const typename P::compute_type* bp, index_t s_begin, index_t s_end, bool stream_b,
                  typename P::compute_type alpha, typename P::compute_type beta, bool read_c,
                  c_ref<typename P::compute_type> c, bool last, const Ep& ep, index_t ic, index_t jc,
                  l2_region next_b = {}) {
  constexpr index_t MR = P::mr, NR = P::nr;
  auto tile_at = [&](index_t s, index_t ir, l2_region next) {
    const index_t j0 = s * NR;
    const int n = static_cast<int>(std::min<index_t>(NR, nc - j0));
    const int m = static_cast<int>(std::min<index_t>(MR, mc - ir));
    run_tile<P>(stream_b, kc, ap + ir * kc, bp + s * NR * kc, m, n, alpha, beta, read_c, c, last, ep, ic + ir, jc + j0,
                next);
  };
  constexpr auto order = loop_order_of<P>;
  // Few rows: B streams once with its sliver in L1 (LLM decode/prefill with small M).
  // Many rows: keep the A sliver in L1 and reuse the L2-resident B block across it.
  const bool a_in_l1 = order == gemm_loop_order::a_sliver_in_l1 || (order == gemm_loop_order::automatic && mc >= 4 * MR);
  if (a_in_l1) {
    // The MR x KC A sliver stays in L1 while the B slivers of the (L2-sized) block stream.
    // The first pass over the B block reads it from L3 or memory; the others from L2. The
    // tiles of the later passes ask for the next block's lines (kc / 4 per tile, see
    // microkernel_packed), so that block's first pass finds it in L2 too. Pre-packed
    // 128 x 4096 x 4096 (1 thread, NC 512): the first pass took 2x the cycles of the others
    // without this, 1.3-1.4x with it. A short tail tile (stream kernel) walks its part too
    // (64 x 4096², 4 x 14 + 8 rows: 130-133 -> 139 GFLOP/s, stop 34).
    const index_t part = kc / 4 * 64;
    index_t next_done = 0;
    for (index_t ir = 0; ir < mc; ir += MR)
      for (index_t s = s_begin; s < s_end; ++s) {
        l2_region next;
        if (ir > 0 && next_done + part <= next_b.bytes) {
          next = {next_b.begin + next_done, part};
          next_done += part;
        }
        tile_at(s, ir, next);
      }
  } else {
    // BLIS order: the KC x NR B sliver stays in L1 while the A slivers stream from L2.
    // With few rows (stream_b) each sliver is read from memory once, by the first row tile;
    // the row tiles of sliver s then ask for sliver s + 1 (the last one: for the start of
    // next_b) into L2, each for its share, so the memory stays busy while they compute and
    // the next sliver's first tile finds it in L2. Pre-packed 32 x 4096 x 4096, 1 thread:
    // see docs/gemm.md (stop 34).
    const index_t sliver_bytes = NR * kc * static_cast<index_t>(sizeof(typename P::compute_type));
    const index_t row_tiles = ceil_div(mc, MR);
    const bool walk = walk_next_sliver<P>(stream_b, mc);
    for (index_t s = s_begin; s < s_end; ++s) {
      l2_region next_sliver;
      if (walk) {
        if (s + 1 < s_end) next_sliver = {reinterpret_cast<const char*>(bp + (s + 1) * NR * kc), sliver_bytes};
        else next_sliver = {next_b.begin, std::min(next_b.bytes, sliver_bytes)};
      }
      // Tile r asks for lines [r * lines / R, (r + 1) * lines / R) of the region.
      const index_t lines = next_sliver.bytes / 64;
      for (index_t ir = 0, r = 0; ir < mc; ir += MR, ++r) {
        const index_t first = lines * r / row_tiles, end = lines * (r + 1) / row_tiles;
        tile_at(s, ir, end > first ? l2_region{next_sliver.begin + first * 64, (end - first) * 64} : l2_region{});
      }
    }
  }
}

/// C(M x N) = alpha * A(M x K) * B(K x N) + beta * C, then epilogue. K >= 1, alpha != 0.
template <gemm_policy P, class SA, class BSource, class Ep, class Exec>
void gemm_blocked(index_t M, index_t N, index_t K, typename P::compute_type alpha, strided_ref<SA> a,
                  const BSource& bsrc, typename P::compute_type beta, c_ref<typename P::compute_type> c,
                  const Ep& ep, const Exec& exec) {
  using T = typename P::compute_type;
  constexpr index_t MR = P::mr, NR = P::nr;
  const index_t m_tiles = ceil_div(M, MR);
  // Calls with few rows read each B sliver from memory once, with too few FMAs per line to
  // hide a single stream's stalls at page boundaries: all their tiles take B as four k-range
  // streams (microkernel_packed_streams; 32x4096x4096 pre-packed: 10.1 -> 9.1 ms, 1 thread;
  // 128 rows: no change, so the sequential order stays there). Decided by M alone, so an
  // element's k order never depends on the thread count.
  const bool stream_b = M <= stream_b_max_rows;
  const int threads = std::max(1, exec.num_threads());
  // A pre-packed B is not written by this call, so its blocks come from L3 or memory. With
  // enough rows for the A-sliver-in-L1 order, and at most one A block (M <= MC), the tiles
  // prefetch the next block into L2 while they reuse the current one (macro_kernel). Both
  // then share the L2 budget the policy gave one KC x NC block, so the blocks are NC / 2
  // wide. Pre-packed 128 x 4096 x 4096, 1 thread, best of 60 with 9 rotated copies:
  // 136-138 -> 142-145 GFLOP/s. With more rows a block is reused across A blocks anyway,
  // and NC / 2 only repacks A more often (pre-packed 1024^3: 150 -> 145).
  constexpr bool addressable = addressable_b_source<BSource, T>;
  constexpr bool order_allows = loop_order_of<P> != gemm_loop_order::b_sliver_in_l1;
  const bool prefetch_next = addressable && order_allows && prefetch_b_of<P> > 0 && M >= 4 * MR && M <= P::mc;
  const index_t nc_block = prefetch_next ? std::max(NR, P::nc / 2 / NR * NR) : P::nc;
  // Fewer rows (B-sliver-in-L1 order): the last sliver of a task's block asks for the first
  // sliver of its next block (macro_kernel, walk_next_sliver).
  const bool sliver_walk_next_block = addressable && M < 4 * MR && walk_next_sliver<P>(stream_b, M);
  // Threads split rows while each task keeps at least 8 passes over a B block; below that
  // (in this mode) they split columns, so each reads only its share of the streamed B and
  // the first pass over a block stays one in 10 (128 x 4096^2 pre-packed on 2 threads, best
  // of 40: rows 254, columns 258-268 GFLOP/s; at 256 and 336 rows the row split was better,
  // 291-300 against 258-270). With few rows (stream_b) they always split columns: a row
  // split made every thread read all of B for one or two row tiles, and 16 rows split as
  // 14 + 2 (2 threads, x 4096 x 4096, medians of 40 / 20 calls: pre-packed 16 rows 98-101 ->
  // 134-151 GFLOP/s, 24 rows 140-151 -> 199-202, 32 rows 146-178 -> 161-224; packed per call
  // 16 rows 52-53 -> 81-87, 32 rows 94-115 -> 132-138, 48 rows 143 -> 168-173). Neither
  // split changes any element's arithmetic.
  const bool split_columns = stream_b || (prefetch_next && ceil_div(m_tiles, std::min<index_t>(threads, m_tiles)) < 8);
  // The part of block (njc, npc) that task tj reads: its slivers of that block, contiguous
  // in the packed layout.
  auto next_region = [&](index_t jc, index_t pc, index_t tj, index_t task_n) -> l2_region {
    index_t njc = jc, npc = pc + P::kc;
    if (npc >= K) npc = 0, njc = jc + nc_block;
    if (njc >= N) return {};
    const index_t nnc = std::min(nc_block, N - njc), nkc = std::min<index_t>(P::kc, K - npc);
    const index_t nsl = ceil_div(nnc, NR);
    const index_t first = nsl * tj / task_n, end = nsl * (tj + 1) / task_n;
    if constexpr (addressable) {
      const T* p = bsrc.block(njc, nnc, npc, nkc) + first * NR * nkc;
      return {reinterpret_cast<const char*>(p), (end - first) * NR * nkc * static_cast<index_t>(sizeof(T))};
    } else {
      return {};
    }
  };

  for (index_t jc = 0; jc < N; jc += nc_block) {
    const index_t nc = std::min<index_t>(nc_block, N - jc);
    const index_t slivers = ceil_div(nc, NR);
    // Split rows first (each task packs only its own A); split columns when there are
    // fewer row tiles than threads, or when split_columns says so (M <= 64, or a pre-packed
    // streaming call with few passes per task).
    const index_t tm = split_columns ? 1 : std::min<index_t>(threads, m_tiles);
    const index_t tn = std::min<index_t>(threads / tm, slivers);
    const index_t tasks = (2.0 * M * N * K < 4.0e6) ? 1 : tm * tn;
    const index_t task_m = tasks == 1 ? 1 : tm;
    const index_t task_n = tasks == 1 ? 1 : tn;

    for (index_t pc = 0; pc < K; pc += P::kc) {
      const index_t kc = std::min<index_t>(P::kc, K - pc);
      const bool first = pc == 0;
      const bool last = pc + kc == K;
      const T* bp = bsrc.block(jc, nc, pc, kc, exec);
      const T beta_eff = first ? beta : T(1);
      const bool read_c = !first || beta != T(0);

      auto task = [&](index_t t) {
        const index_t ti = t % task_m, tj = t / task_m;
        const index_t row_begin = m_tiles * ti / task_m * MR;
        const index_t row_end = std::min(M, m_tiles * (ti + 1) / task_m * MR);
        const index_t s_begin = slivers * tj / task_n, s_end = slivers * (tj + 1) / task_n;
        aligned_buffer<T>& abuf = thread_a_buffer<T>();
        abuf.reserve_discard(static_cast<std::size_t>(std::min<index_t>(P::mc, ceil_div(row_end - row_begin, MR) * MR) * kc));
        for (index_t ic = row_begin; ic < row_end; ic += P::mc) {
          const index_t mc = std::min<index_t>(P::mc, row_end - ic);
          pack_a_block<P::mr>(strided_ref<SA>{&a(ic, pc), a.rs, a.cs}, mc, kc, abuf.data());
          // The task's last A block is the one after which it reads the next B block.
          const l2_region next =
              (prefetch_next || sliver_walk_next_block) && ic + P::mc >= row_end ? next_region(jc, pc, tj, task_n) : l2_region{};
          macro_kernel<P>(kc, mc, nc, abuf.data(), bp, s_begin, s_end, stream_b, alpha, beta_eff, read_c, c, last, ep, ic, jc,
                          next);
        }
      };
      if (tasks == 1) task(0);
      else exec.parallel_for(tasks, task);
    }
  }
}

}  // namespace gemm_detail
PACT_NAMESPACE_END
