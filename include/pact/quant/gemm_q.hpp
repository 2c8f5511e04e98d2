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

PACT_NAMESPACE_BEGIN
namespace quant {

namespace gemm_q_detail {
template <class Block, class XBlock, executor Exec>
  requires quant_detail::is_int_activation_block_v<XBlock>
void gemm_blocks(std::span<const XBlock> X, index_t M, const packed_q_weights<Block>& W, const matrix_view<float, row_major>& Y,
                 const Exec& exec) {
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
  const index_t m_tiles = (M + MR - 1) / MR;
  const index_t slivers = (N + NR - 1) / NR;
  const int threads = std::max(1, exec.num_threads());
  const index_t tm = std::min<index_t>(threads, m_tiles);
  const index_t tn = std::min<index_t>(std::max<index_t>(threads / tm, 1), slivers);
  const bool tiny = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(W.cols()) < 2.0e6;
  const index_t task_m = tiny ? 1 : tm, task_n = tiny ? 1 : tn;
  index_t b0 = 0;
  do {
    const index_t kb = std::min<index_t>(G::KB, nb - b0);
    const bool first = b0 == 0;
    auto task = [&](index_t t) {
      const index_t ti = t % task_m, tj = t / task_m;
      const index_t row_begin = m_tiles * ti / task_m * MR;
      const index_t row_end = std::min(M, m_tiles * (ti + 1) / task_m * MR);
      const index_t s_begin = slivers * tj / task_n, s_end = slivers * (tj + 1) / task_n;
      if (row_begin >= row_end || s_begin >= s_end) return;
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
        // (~650 KiB) are reused from L2; Y is then walked row-sequentially (prefetch-friendly).
        for (index_t jb = s_begin; jb < s_end; jb += G::NCS) {
          const index_t je = std::min(s_end, jb + G::NCS);
          for (index_t ir = 0; ir < mc; ir += MR) {
            const int m = static_cast<int>(std::min<index_t>(MR, mc - ir));
            const std::uint32_t* aw = words.data() + ir * kb * 8;
            const float* as = scales.data() + ir * kb;
            const std::int32_t* ac = comps.data() + ir * kb;
            const float* ax = mins ? xsums.data() + ir * kb : nullptr;
            for (index_t s = jb; s < je; ++s) {
              const index_t j0 = s * NR;
              const int n = static_cast<int>(std::min<index_t>(NR, N - j0));
              const std::uint8_t* rec = W.record(s, b0);
              auto run = [&]<int Rows>(int i_off) {
                VF f[Rows][2];
                for (int i = 0; i < Rows; ++i) {
                  float* yrow = Y.data() + (ic + ir + i_off + i) * Y.ld() + j0;
                  for (int v = 0; v < 2; ++v) {
                    const int nv = std::clamp(n - v * L, 0, L);
                    f[i][v] = first || nv == 0 ? simd::zero<float, A>()
                              : nv == L        ? simd::load<A>(yrow + v * L)
                                               : simd::load_partial<A>(yrow + v * L, static_cast<std::size_t>(nv));
                  }
                }
                quant_detail::qgemm_microkernel<A, Rows, MR, mins>(kb, aw + i_off, as + i_off, ac + i_off, rec, f,
                                                                    mins ? ax + i_off : nullptr);
                for (int i = 0; i < Rows; ++i) {
                  float* yrow = Y.data() + (ic + ir + i_off + i) * Y.ld() + j0;
                  for (int v = 0; v < 2; ++v) {
                    const int nv = std::clamp(n - v * L, 0, L);
                    if (nv == L) simd::store(yrow + v * L, f[i][v]);
                    else if (nv > 0) simd::store_partial(yrow + v * L, f[i][v], static_cast<std::size_t>(nv));
                  }
                }
              };
              if (m == MR) {
                run.template operator()<MR>(0);
              } else {  // the last rows in 4-, 2- and 1-row tiles: each tile streams the B sliver once
                int i = 0;
                if constexpr (MR > 4)
                  for (; i + 4 <= m; i += 4) run.template operator()<4>(i);
                if constexpr (MR > 2)
                  for (; i + 2 <= m; i += 2) run.template operator()<2>(i);
                for (; i < m; ++i) run.template operator()<1>(i);
              }
            }
          }
        }
      }
    };
    if (task_m * task_n <= 1) task(0);
    else exec.parallel_for(task_m * task_n, task);
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
