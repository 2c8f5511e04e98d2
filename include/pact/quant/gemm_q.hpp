#pragma once
// pact::quant::gemm — batched quantized GEMM (prefill / batched decode), Q8_0, Q4_0,
// MXFP4 (ggml or OCP) or MXINT8 weights repacked once (packed_q_weights) against Q8_0 or
// MXINT8 activation rows, f32 Y (W4A8 / W8A8 with integer block dot products):
//
//   pact::quant::packed_q_weights<pact::quant::block_q4_0> W(w_blocks, N, K);   // at load
//   pact::quant::gemm(x_blocks, M, W, pact::make_row_major(y, M, N), pool);     // Y = X W^T
//
// X holds M rows of K / 32 block_q8_0 (e.g. from quant::quantize of each token's row) or
// mx_block_int8 (quant::quantize_mx); a NaN MX scale (0xFF) makes the outputs it reaches NaN;
// Y(i, n) = sum_b d_x(i, b) d_w(n, b) isum(i, n, b) with exact integer block sums; see
// quant/kernels/gemm_q8_blocks.hpp for the arithmetic order. Bitwise identical for every
// executor. Errors: size mismatch -> errc::invalid_shape, null data -> errc::null_pointer.
#include <span>

#include "pact/quant/kernels/gemm_q8_blocks.hpp"
#include "pact/quant/kernels/gemm_q8_blocks_amx.hpp"

PACT_NAMESPACE_BEGIN
namespace quant {

namespace gemm_q_detail {
template <class Block, class XBlock, executor Exec>
  requires quant_detail::is_int_activation_block_v<XBlock>
void gemm_blocks(std::span<const XBlock> X, index_t M, const packed_q_weights<Block>& W, const matrix_view<float, row_major>& Y,
                 const Exec& exec, [[maybe_unused]] bool allow_amx = true) {
  using A = simd::native_arch;
  using G = quant_detail::qgemm_geometry<A>;
  using VF = simd::vec<float, A>;
  constexpr int MR = G::MR, L = G::L, NR = G::NR;
  validate(Y, "quant::gemm: Y");
  const index_t N = W.rows(), nb = W.blocks();
  pact::detail::require(M >= 0, errc::invalid_shape, "quant::gemm: M must be >= 0");
  pact::detail::require(X.size() == pact::detail::checked_mul(static_cast<std::size_t>(M), static_cast<std::size_t>(nb), "quant::gemm: X"),
                        errc::invalid_shape, "quant::gemm: X.size() must equal M * K / 32 blocks");
  pact::detail::require(Y.rows() == M && Y.cols() == N, errc::invalid_shape, "quant::gemm: Y must be M x N (N = W.rows())");
  if (M == 0 || N == 0) return;
  pact::detail::require(X.empty() || X.data() != nullptr, errc::null_pointer, "quant::gemm: null X");
#if defined(PACT_HAS_AMX_INT8)
  // Intel AMX tiles when the OS grants them (same results, quant/kernels/gemm_q8_blocks_amx.hpp).
  if constexpr (!packed_q_weights<Block>::mins && std::is_base_of_v<simd::avx512, A>) {
    if (allow_amx && M >= quant_detail::qgemm_amx_min_rows && nb > 0 && simd::amx::tiles_ready())
      return quant_detail::qgemm_amx(X.data(), M, W, Y, exec);
  }
#endif
  const quant_detail::qgemm_task_grid grid(M, N, W.cols(), MR, NR, exec.num_threads());
  index_t b0 = 0;
  do {
    const index_t kb = std::min<index_t>(G::KB, nb - b0);
    const bool first = b0 == 0;
    auto task = [&](index_t t) {
      const auto part = grid.of(t);
      if (part.empty()) return;
      const index_t row_begin = part.row_begin, row_end = part.row_end, s_begin = part.s_begin, s_end = part.s_end;
      thread_local aligned_buffer<std::uint32_t> words;
      thread_local aligned_buffer<float> scales;
      thread_local aligned_buffer<std::int32_t> comps;
      thread_local aligned_buffer<float> xsums;  // d_x * sum(x), for formats with mins
      const index_t rows_cap = std::min<index_t>(G::MC, (row_end - row_begin + MR - 1) / MR * MR);
      words.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, rows_cap * kb * 8)));
      scales.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, rows_cap * kb)));
      comps.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, rows_cap * kb)));
      constexpr bool mins = packed_q_weights<Block>::mins;
      if constexpr (mins) xsums.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, rows_cap * kb)));
      for (index_t ic = row_begin; ic < row_end; ic += G::MC) {
        const index_t mc = std::min<index_t>(G::MC, row_end - ic);
        quant_detail::qgemm_pack_a<MR>(X.data(), nb, ic, mc, b0, kb, quant_detail::weight_offset<Block>, words.data(),
                                       scales.data(), comps.data(), mins ? xsums.data() : nullptr);
        // A sliver (MR rows x KB blocks, ~3.5 KiB) in L1 while the B slivers of an NC block
        // (~290 KiB) are reused from L2; Y is then walked row-sequentially (prefetch-friendly).
        // The NC block the loop visits next is prefetched into L2 in equal parts across this
        // block's microkernel calls, a few lines per k block: without it the first row tile
        // of every block waited on memory and the others ran from L2, so at M <= 32 the time
        // was the sum of the memory stream and the arithmetic instead of the larger of the
        // two; one burst per call instead stalled the core on its fill buffers (M = 8 1.2x
        // and Q4_K M = 32 1.1x slower than the spread requests), and twice the lines per pair
        // of blocks measured 1.07-1.15x slower at M = 8 than one step per block (stop 30).
        const index_t row_tiles = quant_detail::qgemm_row_tiles<MR>(mc);
        for (index_t jb = s_begin; jb < s_end; jb += G::NCS) {
          const index_t je = std::min(s_end, jb + G::NCS);
          const quant_detail::qgemm_next_block nextb =
              quant_detail::qgemm_next_after(je, s_begin, s_end, ic + G::MC < row_end, b0, kb, nb, G::KB, G::NCS);
          simd::prefetch_stream next_block(W.record(nextb.s_begin, nextb.b), nextb.s_end - nextb.s_begin,
                                           nextb.kb * G::record_bytes(mins), nb * G::record_bytes(mins),
                                           row_tiles * (je - jb) * kb);
          for (index_t tile = 0; tile < row_tiles; ++tile) {
            const index_t ir = quant_detail::qgemm_row_tile_begin<MR>(mc, tile);
            const int m = static_cast<int>(quant_detail::qgemm_row_tile_begin<MR>(mc, tile + 1) - ir);
            const std::uint32_t* aw = words.data() + tile * MR * kb * 8;
            const float* as = scales.data() + tile * MR * kb;
            const std::int32_t* ac = comps.data() + tile * MR * kb;
            const float* ax = mins ? xsums.data() + tile * MR * kb : nullptr;
            for (index_t s = jb; s < je; ++s) {
              const index_t j0 = s * NR;
              const int n = static_cast<int>(std::min<index_t>(NR, N - j0));
              const std::uint8_t* rec = W.record(s, b0);
              auto run = [&]<int Rows>() {
                VF f[Rows][2];
                for (int i = 0; i < Rows; ++i) {
                  float* yrow = Y.data() + (ic + ir + i) * Y.ld() + j0;
                  for (int v = 0; v < 2; ++v) {
                    const int nv = std::clamp(n - v * L, 0, L);
                    f[i][v] = first || nv == 0 ? simd::zero<float, A>()
                              : nv == L        ? simd::load<A>(yrow + v * L)
                                               : simd::load_partial<A>(yrow + v * L, static_cast<std::size_t>(nv));
                  }
                }
                quant_detail::qgemm_microkernel<A, Rows, MR, mins>(kb, aw, as, ac, rec, f, ax, &next_block);
                for (int i = 0; i < Rows; ++i) {
                  float* yrow = Y.data() + (ic + ir + i) * Y.ld() + j0;
                  for (int v = 0; v < 2; ++v) {
                    const int nv = std::clamp(n - v * L, 0, L);
                    if (nv == L) simd::store(yrow + v * L, f[i][v]);
                    else if (nv > 0) simd::store_partial(yrow + v * L, f[i][v], static_cast<std::size_t>(nv));
                  }
                }
              };
              quant_detail::dispatch_rows<MR>(m, run);
            }
          }
        }
      }
    };
    if (grid.tasks() <= 1) task(0);
    else exec.parallel_for(grid.tasks(), task);
    b0 += kb;
  } while (b0 < nb);
  if (nb == 0)
    for (index_t i = 0; i < M; ++i) std::fill(Y.data() + i * Y.ld(), Y.data() + i * Y.ld() + N, 0.0f);
}
}  // namespace gemm_q_detail

/// Q8_0 activations (M rows of K / 32 blocks).
template <class Block, executor Exec = serial>
void gemm(std::span<const block_q8_0> X, index_t M, const packed_q_weights<Block>& W, const matrix_view<float, row_major>& Y,
          const Exec& exec = {}) {
  gemm_q_detail::gemm_blocks(X, M, W, Y, exec);
}
/// MXINT8 activations (M rows of K / 32 blocks, e.g. from quant::quantize_mx).
template <class Block, executor Exec = serial>
void gemm(std::span<const mx_block_int8> X, index_t M, const packed_q_weights<Block>& W, const matrix_view<float, row_major>& Y,
          const Exec& exec = {}) {
  gemm_q_detail::gemm_blocks(X, M, W, Y, exec);
}

}  // namespace quant
PACT_NAMESPACE_END
