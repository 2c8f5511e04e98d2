#pragma once
// The int8 GEMM for a single row of A (M = 1, a decode step): a GEMV over pre-packed B.
// With one row, every B byte is used by one dot_u8s8 and then never again, so reading B
// is all the work and the loop order serves the memory system (gemv_stream.hpp): each
// task's N slivers are cut into gemv_streams contiguous parts, one sliver of each part is
// computed at a time, and each runs through all k-blocks with its int32 sums in registers
// (no workspace round trip between k-blocks), then goes through the epilogue.
//
// Measured, 4096 x 4096 cold on the Intel AVX-512 VM: the blocked driver's single B stream
// read 11.9 GB/s of a 16.7 GB/s DRAM read on 1 thread (docs/quant.md has the table).
#include <algorithm>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/kernels/gemv_stream.hpp"
#include "pact/quant/kernels/int8_gemm_microkernel.hpp"
#include "pact/quant/kernels/int8_gemm_pack.hpp"
#include "pact/quant/kernels/int8_requantize.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

/// tiles[r] += a . B_sliver(r) over `groups` 4-k groups for R slivers side by side (one
/// row of A, packed with MR = 1: word g holds k = 4g..4g+3). The slivers are R separate
/// sequential streams, each prefetched gemv_prefetch_bytes ahead.
template <class A, int R, int NV>
PACT_ALWAYS_INLINE void int8_row_streams_kernel(index_t groups, const std::uint32_t* PACT_RESTRICT a,
                                                const std::int8_t* const* b, int8_tile<A, 1, NV>* tiles) noexcept {
  using VI = simd::vec<std::int32_t, A>;
  constexpr int L = int8_tile<A, 1, NV>::lanes;
  constexpr index_t group_bytes = NV * L * 4;
  VI acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = tiles[r].acc[0][v];
  for (index_t g = 0; g < groups; ++g) {
    const auto ag = simd::bitcast<std::uint8_t>(simd::broadcast<A>(static_cast<std::int32_t>(a[g])));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const std::int8_t* bg = b[r] + g * group_bytes;
      // One hint per 64-byte line (a group of fewer bytes repeats the hint: harmless).
      constexpr int lines = group_bytes < 64 ? 1 : static_cast<int>(group_bytes / 64);
#pragma GCC unroll 8
      for (int e = 0; e < lines; ++e) simd::prefetch_l1(bg + 64 * e + gemv_prefetch_bytes);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = simd::dot_u8s8(acc[r][v], ag, simd::load_aligned<A>(bg + v * L * 4));
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) tiles[r].acc[0][v] = acc[r][v];
}

inline aligned_buffer<std::uint32_t>& int8_gemv_a_buffer() {
  thread_local aligned_buffer<std::uint32_t> buf;
  return buf;
}

/// C (1 x N) = epilogue(a * B) for validated arguments, N >= 1 (K may be 0).
template <class PB, class TA, class TC, class Exec>
void int8_gemv_packed(index_t N, index_t K, byte_ref<TA> a, std::uint32_t flip, const int8_packed_b<PB>& bp,
                      out_ref<TC> c, const int8_epilogue_state& st, const Exec& exec) {
  using P = typename int8_packed_b<PB>::policy;
  using A = typename P::arch;
  constexpr int L = static_cast<int>(simd::lanes<std::int32_t, A>);
  constexpr int NV = P::nr / L;
  constexpr index_t NR = P::nr;
  // A packed once for all of K. KC is a multiple of 4, so word g is the same word the
  // k-block of g would hold: block pc starts at word pc / 4.
  aligned_buffer<std::uint32_t>& abuf = int8_gemv_a_buffer();
  abuf.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, ceil_div(K, 4))));
  pack_a_int8<1>(a, 1, K, flip, abuf.data());
  const std::uint32_t* aw = abuf.data();
  const index_t slivers = ceil_div(N, NR);
  const bool tiny = 2.0 * static_cast<double>(N) * static_cast<double>(K) < 2.0e6;
  const index_t tasks = tiny ? 1 : std::min<index_t>(std::max(1, exec.num_threads()), slivers);
  auto task = [&](index_t t) {
    for_each_in_streams(slivers * t / tasks, slivers * (t + 1) / tasks, [&](auto count, const index_t* s) PACT_ALWAYS_INLINE_LAMBDA {
      constexpr int R = decltype(count)::value;
      int8_tile<A, 1, NV> tiles[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) tiles[r].acc[0][v] = simd::zero<std::int32_t, A>();
      for (index_t pc = 0; pc < K; pc += P::kc) {
        const std::int8_t* b[R];
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) b[r] = bp.sliver(pc, s[r]);
        int8_row_streams_kernel<A, R, NV>(ceil_div(std::min<index_t>(P::kc, K - pc), 4), aw + pc / 4, b, tiles);
      }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const index_t j0 = s[r] * NR;
        int8_store_tile(tiles[r], 1, static_cast<int>(std::min<index_t>(NR, N - j0)), c, st, 0, j0);
      }
    });
  };
  if (tasks == 1) task(0);
  else exec.parallel_for(tasks, task);
}

}  // namespace quant_detail
PACT_NAMESPACE_END
