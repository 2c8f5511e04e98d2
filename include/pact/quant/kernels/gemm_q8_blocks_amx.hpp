#pragma once
// The batched block GEMM (gemm_q8_blocks.hpp) on Intel AMX tiles, for the formats without
// mins (Q8_0, Q4_0, MXFP4, MXINT8 weights x Q8_0 / MXINT8 activations), M >= 16.
//
// Same packed weights, same arithmetic, same bits. Per (16-row tile, 32-column sliver,
// 32-k block): one tdpbsud per 16-column half (A = 16 x 32 signed activation codes, B = the
// record's 8 x 64-byte VNNI rows read with a 128-byte stride) gives the exact integer block
// sums, the tiles are stored to an L1 buffer, and the vector unit finishes the block as
// the vector kernel does: f = fma(float(sum + comp), d_x * d_w, f), blocks in increasing
// order. So the vector kernel and this one give identical results (tested bit for bit),
// and the int32 sums are exact in both.
//
// Cost (Q8_0, M = 128, N = K = 4096, one core of the Intel AMX VM): the tile work alone
// (products and stores, no scaling) took 4.5 ms, the vector work alone 4.9 ms, both 7.3 ms
// with the A panel of 512 rows (B streamed once): 1.25x the vector kernel, whose 8 VNNI
// ops per 3 conversion ops per block and accumulator are the same 4 vector ops per 16
// outputs and block here plus the products. Per block the tiles compute only 32 k deep
// and store 2 KiB of sums, so they stay far from their peak. Two pairs of C tiles
// alternate between blocks; scaling each block two blocks later (a ring of sum buffers),
// or one 16-column half per pass with four blocks in flight, measured no faster. The next L2
// block of weights is requested a few lines per block, right after the block's tile stores
// (stop 30; per pair of blocks before the products since stop 27, one burst per kernel call
// before that, which stalled the core on its fill buffers). In L2 the kernel takes 37-44 ns
// per block (82-95% of the VNNI peak), streaming from L3 54-66 ns, hence the small L2
// blocks of qgemm_amx_geometry (stop 29). At M = 32 the L3 stream is what remains: with
// every call reading the same L2-resident records and no prefetch, M = 32 takes 1.30 ms
// against 1.74 (stop 30, Q8_0 4096², 1 thread).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pact/quant/kernels/gemm_q8_blocks.hpp"
#include "pact/quant/kernels/int8_gemm_pack.hpp"  // ceil_div, round_up
#include "pact/simd/ops_amx.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

#if defined(PACT_HAS_AMX_INT8)

struct qgemm_amx_geometry {
  static constexpr index_t MR = 16;   // rows per tile
  static constexpr index_t NR = 32;   // columns per sliver: two 16-column C tiles
  static constexpr index_t KB = 64;   // 32-k blocks per k-step (Y read and written twice at K = 4096)
  static constexpr index_t MC = 512;  // rows per A panel (32 tiles, 1 MiB of codes in L2): B is streamed once for M <= MC
  // Slivers per L2 block: 2 x 64 records = 160 KiB, and as much for the next block being
  // prefetched. A 640 KiB block (16 x 32) was 1.15-1.2x slower at M = 16..128 (stop 29):
  // at small M each record is reused within a few microseconds, so a small block is the
  // one that stays in L2.
  static constexpr index_t NCS = 2;
};

/// Fewest rows worth the tiles: below, half-empty tiles lose to the vector kernel.
inline constexpr index_t qgemm_amx_min_rows = 16;

/// Packs activation rows [i0, i0 + mc) x blocks [b0, b0 + kb) per 16-row tile: per block
/// 16 rows x 32 signed codes (rows past mc are zero), d_x and -offset * sum(x) per row.
template <class XBlock>
void qgemm_amx_pack_a(const XBlock* x, index_t nb, index_t i0, index_t mc, index_t b0, index_t kb, std::int32_t offset,
                      std::int8_t* PACT_RESTRICT codes, float* PACT_RESTRICT scales, std::int32_t* PACT_RESTRICT comp) noexcept {
  constexpr index_t MR = qgemm_amx_geometry::MR;
  const index_t tiles = ceil_div(mc, MR);
  for (index_t t = 0; t < tiles; ++t)
    for (index_t b = 0; b < kb; ++b)
      for (index_t i = 0; i < MR; ++i) {
        const index_t at = (t * kb + b) * MR + i, row = t * MR + i;
        if (row < mc) {
          const XBlock& blk = x[(i0 + row) * nb + b0 + b];
          const std::int8_t* qs = activation_codes(blk);
          std::memcpy(codes + at * 32, qs, 32);
          std::int32_t sum = 0;
          for (int j = 0; j < 32; ++j) sum += qs[j];
          scales[at] = block_scale(blk);
          comp[at] = -offset * sum;
        } else {
          std::memset(codes + at * 32, 0, 32);
          scales[at] = 0.0f;
          comp[at] = 0;
        }
      }
}

/// f[16][32] += blocks [0, kb) of one 16-row tile (codes / dx / comp of the tile, per block
/// 16 rows) times one sliver's records; `ahead` steps once per block (kb steps per call),
/// right after the block's tile stores.
template <class A>
PACT_ALWAYS_INLINE void qgemm_amx_kernel(index_t kb, const std::int8_t* codes, const float* dx, const std::int32_t* comp,
                                         const std::uint8_t* rec, index_t record_bytes, float* PACT_RESTRICT f,
                                         simd::prefetch_stream& ahead) noexcept {
  using VF = simd::vec<float, A>;
  using VI = simd::vec<std::int32_t, A>;
  alignas(64) std::int32_t c[4][16 * 16];
  // Pair P of C tiles (2P, 2P + 1) takes block b: the products and the tile stores.
  auto products = [&]<int P>(index_t b) PACT_ALWAYS_INLINE_LAMBDA {
    const std::uint8_t* wq = rec + b * record_bytes;
    simd::amx::zero<2 * P>();
    simd::amx::zero<2 * P + 1>();
    simd::amx::load<4>(codes + b * 16 * 32, 32);
    simd::amx::load<6>(wq, 128);
    simd::amx::load<7>(wq + 64, 128);
    simd::amx::dp_s8u8<2 * P, 4, 6>();
    simd::amx::dp_s8u8<2 * P + 1, 4, 7>();
    simd::amx::store<2 * P>(c[2 * P], 64);
    simd::amx::store<2 * P + 1>(c[2 * P + 1], 64);
    ahead.step();
  };
  // The vector kernel's f32 step for block b from the sums of pair P.
  auto scale = [&]<int P>(index_t b) PACT_ALWAYS_INLINE_LAMBDA {
    const float* dw = reinterpret_cast<const float*>(rec + b * record_bytes + 32 * 32);
    const VF w0 = simd::load_aligned<A>(dw), w1 = simd::load_aligned<A>(dw + 16);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      const VI ci = simd::broadcast<A>(comp[b * 16 + i]);
      const VF s = simd::broadcast<A>(dx[b * 16 + i]);
      float* fi = f + i * 32;
      simd::store_aligned(fi, simd::fma(simd::to_float(simd::load_aligned<A>(c[2 * P] + i * 16) + ci), s * w0, simd::load_aligned<A>(fi)));
      simd::store_aligned(fi + 16,
                          simd::fma(simd::to_float(simd::load_aligned<A>(c[2 * P + 1] + i * 16) + ci), s * w1, simd::load_aligned<A>(fi + 16)));
    }
  };
  index_t b = 0;
  for (; b + 2 <= kb; b += 2) {
    products.template operator()<0>(b);
    products.template operator()<1>(b + 1);
    scale.template operator()<0>(b);
    scale.template operator()<1>(b + 1);
  }
  if (b < kb) {
    products.template operator()<0>(b);
    scale.template operator()<0>(b);
  }
}

/// Y = X W^T on the tiles for validated arguments, M >= 1, N >= 1, at least one block.
/// Blocking and threading as the vector driver (quant/gemm_q.hpp): threads split N unless
/// there are too few slivers; k-steps of KB blocks with Y as the f32 accumulator between
/// them; the next L2 block of weights is prefetched across the current one's tiles.
template <class Block, class XBlock, class Exec>
void qgemm_amx(const XBlock* X, index_t M, const quant::packed_q_weights<Block>& W, const matrix_view<float, row_major>& Y,
               const Exec& exec) {
  using A = simd::native_arch;
  using G = qgemm_amx_geometry;
  using VF = simd::vec<float, A>;
  static_assert(qgemm_geometry<A>::NR == G::NR && simd::lanes<float, A> == 16, "the AMX block GEMM reads AVX-512 records");
  static_assert(!quant::packed_q_weights<Block>::mins, "the AMX block GEMM has no mins step (Q4_K runs the vector kernel)");
  constexpr index_t MR = G::MR, NR = G::NR;
  constexpr index_t record_bytes = quant::packed_q_weights<Block>::record_bytes;
  const index_t N = W.rows(), nb = W.blocks();
  const qgemm_task_grid grid(M, N, W.cols(), MR, NR, exec.num_threads());
  // Each task owns its rows x slivers of Y for all k-steps, so the k-steps run inside the
  // task: one fork-join per call, not one per k-step.
  auto task = [&](index_t t) {
    const auto part = grid.of(t);
    if (part.empty()) return;
    const index_t row_begin = part.row_begin, row_end = part.row_end, s_begin = part.s_begin, s_end = part.s_end;
    thread_local aligned_buffer<std::int8_t> codes;
    thread_local aligned_buffer<float> scales;
    thread_local aligned_buffer<std::int32_t> comps;
    thread_local aligned_buffer<float> facc;
    const index_t rows_cap = std::min<index_t>(G::MC, round_up(row_end - row_begin, MR));
    const index_t kb_cap = std::min<index_t>(G::KB, nb);
    codes.reserve_discard(static_cast<std::size_t>(rows_cap * kb_cap * 32));
    scales.reserve_discard(static_cast<std::size_t>(rows_cap * kb_cap));
    comps.reserve_discard(static_cast<std::size_t>(rows_cap * kb_cap));
    facc.reserve_discard(static_cast<std::size_t>(MR * NR));
    simd::amx::configure_32k_blocks();
    for (index_t b0 = 0; b0 < nb; b0 += G::KB) {
      const index_t kb = std::min<index_t>(G::KB, nb - b0);
      const bool first = b0 == 0;
      for (index_t ic = row_begin; ic < row_end; ic += G::MC) {
        const index_t mc = std::min<index_t>(G::MC, row_end - ic);
        qgemm_amx_pack_a(X, nb, ic, mc, b0, kb, weight_offset<Block>, codes.data(), scales.data(), comps.data());
        const index_t row_tiles = ceil_div(mc, MR);
        for (index_t jb = s_begin; jb < s_end; jb += G::NCS) {
          const index_t je = std::min(s_end, jb + G::NCS);
          const qgemm_next_block nextb = qgemm_next_after(je, s_begin, s_end, ic + G::MC < row_end, b0, kb, nb, G::KB, G::NCS);
          // Requested a few lines per block, after its tile stores: one burst per kernel call
          // filled the core's fill buffers and stalled it (18% of the samples at M = 32), and
          // twice the lines per pair of blocks before the products measured 1.07-1.25x slower
          // at M = 16..32 than this (stop 30; see the cost note above).
          simd::prefetch_stream next_block(W.record(nextb.s_begin, nextb.b), nextb.s_end - nextb.s_begin, nextb.kb * record_bytes,
                                           nb * record_bytes, row_tiles * (je - jb) * kb);
          for (index_t tile = 0; tile < row_tiles; ++tile) {
            const index_t ir = tile * MR;
            const index_t m = std::min<index_t>(MR, mc - ir);
            const std::int8_t* tc = codes.data() + tile * kb * MR * 32;
            const float* ts = scales.data() + tile * kb * MR;
            const std::int32_t* tcomp = comps.data() + tile * kb * MR;
            for (index_t s = jb; s < je; ++s) {
              const index_t j0 = s * NR;
              const index_t n = std::min<index_t>(NR, N - j0);
              float* f = facc.data();
              for (index_t i = 0; i < MR; ++i)
                for (index_t v = 0; v < 2; ++v) {
                  const index_t nv = std::clamp<index_t>(n - v * 16, 0, 16);
                  const float* yrow = Y.data() + (ic + ir + i) * Y.ld() + j0 + v * 16;
                  const VF y = first || i >= m || nv == 0 ? simd::zero<float, A>()
                               : nv == 16                 ? simd::load<A>(yrow)
                                                          : simd::load_partial<A>(yrow, static_cast<std::size_t>(nv));
                  simd::store_aligned(f + i * NR + v * 16, y);
                }
              qgemm_amx_kernel<A>(kb, tc, ts, tcomp, W.record(s, b0), record_bytes, f, next_block);
              for (index_t i = 0; i < m; ++i)
                for (index_t v = 0; v < 2; ++v) {
                  const index_t nv = std::clamp<index_t>(n - v * 16, 0, 16);
                  float* yrow = Y.data() + (ic + ir + i) * Y.ld() + j0 + v * 16;
                  const VF y = simd::load_aligned<A>(f + i * NR + v * 16);
                  if (nv == 16) simd::store(yrow, y);
                  else if (nv > 0) simd::store_partial(yrow, y, static_cast<std::size_t>(nv));
                }
            }
          }
        }
      }
    }
    simd::amx::release();
  };
  if (grid.tasks() <= 1) task(0);
  else exec.parallel_for(grid.tasks(), task);
}

#endif  // PACT_HAS_AMX_INT8

}  // namespace quant_detail
PACT_NAMESPACE_END
