#pragma once
// The int8 GEMM on Intel AMX tiles (policies with amx_tiles, used when simd::amx says the
// tiles are granted). Same packed B as the vector kernel (nr = 32 columns per sliver, the
// VNNI word order, k-blocks padded to 64 k-values), so one int8_packed_b serves both.
//
//   per task (rows [r0, r1) x slivers [s0, s1)), tile configuration loaded once
//     for pc (KC deep)                 one rank-KC update
//       for ic (MC rows)               pack A in tile order (MC x KC bytes in L2)
//         for jb (amx_nc columns)      the KC x amx_nc B block is reused from L2
//           for ir (32 rows)           the 32 x KC A pair stays in L1
//             for s (32 columns)       C = 2 x 2 tiles of 16 x 16 int32 (tmm0..3)
//               for 64 k-values        A tiles tmm4, tmm5; B tiles tmm6, tmm7; 4 tdpbusd
//
// The B sliver's rows are 4-k groups of 32 columns (128 bytes), so the B tile of columns
// [16h, 16h+16) is the sliver read with a 128-byte stride from byte 64h, 16 groups per tile.
// Between k-blocks the int32 partial sums go through a workspace (rows padded to 32, tile
// stores write whole tiles); the last k-block stores the tiles to a 32 x 32 buffer and runs
// the vector epilogue. Integer sums are exact, so results are bitwise those of the vector
// kernel, for every split.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/kernels/int8_gemm_driver.hpp"  // int8_workspace, int8_store_tile
#include "pact/simd/ops_amx.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

#if defined(PACT_HAS_AMX_INT8)

/// Smallest M that goes to the tiles (measured in docs/quant.md).
inline constexpr index_t int8_amx_min_rows = 16;

/// Rows [0, mc) x k-values [0, kc) of `a` in tile order: for each pair of 16-row tiles
/// (32 rows), for each 64-k step, the 32 x 64 bytes of both A tiles back to back (2 KiB), so
/// that the kernel reads A as one sequential stream (tile rows 64 bytes apart). Stored in
/// the kernel's unsigned domain (xor flip); zero past kc and for rows [mc, 32 * pairs).
template <class S>
void pack_a_int8_tiles(byte_ref<S> a, index_t mc, index_t kc, std::uint8_t flip, std::uint8_t* PACT_RESTRICT dst) noexcept {
  const index_t steps = ceil_div(kc, 64);
  const index_t pairs = ceil_div(mc, 32);
  for (index_t p = 0; p < pairs; ++p)
    for (index_t r = 0; r < 32; ++r) {
      const index_t i = 32 * p + r;
      std::uint8_t* d = dst + p * steps * 2048 + r * 64;
      if (i >= mc) {
        for (index_t t = 0; t < steps; ++t) std::memset(d + t * 2048, 0, 64);
        continue;
      }
      index_t k = 0;
      if (a.cs == 1) {
        const auto* src = reinterpret_cast<const std::uint8_t*>(a.p + i * a.rs);
        for (; k + 64 <= kc; k += 64) {
          std::uint8_t* o = d + (k / 64) * 2048;
#pragma GCC unroll 4
          for (int u = 0; u < 64; ++u) o[u] = src[k + u] ^ flip;
        }
      }
      for (; k < 64 * steps; ++k) {
        d[(k / 64) * 2048 + k % 64] = k < kc ? static_cast<std::uint8_t>(static_cast<std::uint8_t>(a(i, k)) ^ flip) : 0;
      }
    }
}

/// One 32 x 32 block of C (rows 16 * pairs, pairs = 1 or 2) over `steps` 64-k steps.
/// a: the pair's packed A (2 KiB per step), b: the B sliver (128-byte group rows, 2 KiB
/// per step); both are sequential streams.
template <int Pairs>
PACT_ALWAYS_INLINE void amx_block(index_t steps, const std::uint8_t* a, const std::int8_t* b) noexcept {
  namespace amx = simd::amx;
  for (index_t t = 0; t < steps; ++t) {
    amx::load_stream<6>(b, 128);
    amx::load_stream<7>(b + 64, 128);
    amx::load<4>(a, 64);
    amx::dp_u8s8<0, 4, 6>();
    amx::dp_u8s8<1, 4, 7>();
    if constexpr (Pairs == 2) {
      amx::load<5>(a + 1024, 64);
      amx::dp_u8s8<2, 5, 6>();
      amx::dp_u8s8<3, 5, 7>();
    }
    a += 2048;
    b += 16 * 128;
  }
}

template <int Pairs>
PACT_ALWAYS_INLINE void amx_load_c(bool first, const std::int32_t* ws, index_t ld) noexcept {
  namespace amx = simd::amx;
  if (first) {
    amx::zero<0>();
    amx::zero<1>();
    if constexpr (Pairs == 2) amx::zero<2>(), amx::zero<3>();
  } else {
    const index_t stride = ld * 4;
    amx::load<0>(ws, stride);
    amx::load<1>(ws + 16, stride);
    if constexpr (Pairs == 2) amx::load<2>(ws + 16 * ld, stride), amx::load<3>(ws + 16 * ld + 16, stride);
  }
}

template <int Pairs>
PACT_ALWAYS_INLINE void amx_store_c(std::int32_t* ws, index_t ld) noexcept {
  namespace amx = simd::amx;
  const index_t stride = ld * 4;
  amx::store<0>(ws, stride);
  amx::store<1>(ws + 16, stride);
  if constexpr (Pairs == 2) amx::store<2>(ws + 16 * ld, stride), amx::store<3>(ws + 16 * ld + 16, stride);
}

/// The finished 32 x 32 int32 block in `buf` (row stride 32) through the vector epilogue.
template <class A, class TC>
PACT_ALWAYS_INLINE void amx_epilogue(const std::int32_t* buf, int m, int n, out_ref<TC> c, const int8_epilogue_state& st,
                                     index_t row0, index_t col0) noexcept {
  for (int h = 0; h < 2 && 16 * h < m; ++h) {
    int8_tile<A, 16, 2> tile;
    const int mh = std::min(16, m - 16 * h);
    for (int i = 0; i < mh; ++i)
      for (int v = 0; v < 2; ++v) tile.acc[i][v] = simd::load_aligned<A>(buf + (16 * h + i) * 32 + 16 * v);
    int8_store_tile(tile, mh, n, c, st, row0 + 16 * h, col0);
  }
}

inline aligned_buffer<std::uint8_t>& int8_amx_buffer_a() {
  thread_local aligned_buffer<std::uint8_t> buf;
  return buf;
}

/// C = epilogue(A * B) on AMX tiles for validated arguments, M, N >= 1 (K may be 0).
template <class PB, class TA, class TC, class Exec>
void int8_gemm_amx(index_t M, index_t N, index_t K, byte_ref<TA> a, std::uint32_t flip, const int8_packed_b<PB>& bp,
                   out_ref<TC> c, const int8_epilogue_state& st, const Exec& exec) {
  using P = typename int8_packed_b<PB>::policy;
  using Arch = typename P::arch;
  static_assert(P::nr == 32 && P::kc % 64 == 0);
  constexpr index_t TM = 32;                    // rows per C block (2 tiles)
  constexpr index_t MC = round_up(P::mc, TM);  // rows of A packed per block
  const index_t Np = bp.padded_cols();
  const index_t m_tiles = ceil_div(M, TM);
  const index_t slivers = ceil_div(N, P::nr);
  std::int32_t* ws = nullptr;
  if (K > P::kc) {
    aligned_buffer<std::int32_t>& w = int8_workspace();
    w.reserve_discard(detail::checked_mul(static_cast<std::size_t>(m_tiles * TM), static_cast<std::size_t>(Np),
                                          "int8 gemm: workspace"));
    ws = w.data();
  }
  const int threads = std::max(1, exec.num_threads());
  const bool tiny = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) < 4.0e6;
  const index_t tm = std::min<index_t>(threads, m_tiles);
  const index_t tn = std::min<index_t>(std::max<index_t>(threads / tm, 1), slivers);
  const index_t task_m = tiny ? 1 : tm, task_n = tiny ? 1 : tn;
  const std::uint8_t flip8 = static_cast<std::uint8_t>(flip & 0xFF);
  auto task = [&](index_t t) {
    const index_t ti = t % task_m, tj = t / task_m;
    const index_t row_begin = m_tiles * ti / task_m * TM;
    const index_t row_end = std::min(M, m_tiles * (ti + 1) / task_m * TM);
    const index_t s_begin = slivers * tj / task_n, s_end = slivers * (tj + 1) / task_n;
    if (row_begin >= row_end || s_begin >= s_end) return;
    simd::amx::configure_16x64();
    aligned_buffer<std::uint8_t>& abuf = int8_amx_buffer_a();
    alignas(64) std::int32_t cbuf[TM * 32];
    index_t pc = 0;
    do {
      const index_t kc = std::min<index_t>(P::kc, K - pc);
      const index_t kcp = round_up(kc, 64), steps = kcp / 64;
      const bool first = pc == 0, last = pc + kc >= K;
      for (index_t ic = row_begin; ic < row_end; ic += MC) {
        const index_t mc = std::min<index_t>(MC, row_end - ic);
        const index_t mcp = round_up(mc, TM);
        abuf.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, mcp * kcp)));
        pack_a_int8_tiles(byte_ref<TA>{a.p + ic * a.rs + pc * a.cs, a.rs, a.cs}, mc, kc, flip8, abuf.data());
        // Consecutive blocks walk along the 32 rows (A pair stationary in L1, B slivers
        // streaming from the L2-resident NC block): stepping down C's rows instead put every
        // block's lines in the same cache sets when C's row stride is a power of two.
        constexpr index_t nc_slivers = int8_amx_nc_of<P> / P::nr;
        for (index_t jb = s_begin; jb < s_end; jb += nc_slivers) {
          const index_t je = std::min(s_end, jb + nc_slivers);
          for (index_t ir = 0; ir < mc; ir += TM) {
            const int m = static_cast<int>(std::min<index_t>(TM, mc - ir));
            const std::uint8_t* ablk = abuf.data() + ir * kcp;
            for (index_t s = jb; s < je; ++s) {
              const std::int8_t* b = bp.sliver(pc, s);
              const index_t j0 = s * P::nr;
              const int n = static_cast<int>(std::min<index_t>(P::nr, N - j0));
              std::int32_t* wblk = ws ? ws + (ic + ir) * Np + j0 : nullptr;
              auto run = [&]<int Pairs>() PACT_ALWAYS_INLINE_LAMBDA {
                amx_load_c<Pairs>(first, wblk, Np);
                amx_block<Pairs>(steps, ablk, b);
                if (last) {
                  amx_store_c<Pairs>(cbuf, 32);
                  amx_epilogue<Arch>(cbuf, m, n, c, st, ic + ir, j0);
                } else {
                  amx_store_c<Pairs>(wblk, Np);
                }
              };
              if (m > 16) run.template operator()<2>();
              else run.template operator()<1>();
            }
          }
        }
      }
      pc += kc;
    } while (pc < K);
    simd::amx::release();
  };
  const index_t tasks = task_m * task_n;
  if (tasks <= 1) task(0);
  else exec.parallel_for(tasks, task);
}

#endif  // PACT_HAS_AMX_INT8

}  // namespace quant_detail
PACT_NAMESPACE_END
