#pragma once
// pact::quant::gemm_dequant — W4A16 / W4A32-style GEMM: float (or bf16 / fp16) activations
// against weights in any ggml block format, dequantized on the fly:
//
//   pact::quant::gemm_dequant<pact::quant::block_q4_K>(X, W, N, Y, pool);   // Y = X W^T
//
// X: M x K activations (any layout), W: the GGUF layout (N rows of K / Block::elems blocks),
// Y: M x N float. Unlike quant::gemm, X is not quantized: the only rounding is that of the
// f32 GEMM over the dequantized weights. W is dequantized one panel at a time -- panel_rows
// rows x panel_k columns, 512 KiB of f32 that stays in L2 while the f32 GEMM streams X
// against it -- never into a full-size temporary, and each panel is dequantized once per
// call, so the cost is N K conversions against 2 M N K flops (worthwhile from M ~ 8; for
// M = 1 use quant::gemv, which reads the blocks directly).
//
// Threads split the panels' columns of Y; every panel runs the same serial GEMM calls in
// the same k order, so Y is bitwise identical for every executor. NaN / Inf in X or in a
// block's scales propagate through the products (validate untrusted blobs with
// quant/untrusted.hpp first). Errors (pact::error): invalid_shape (K not a multiple of
// Block::elems, W.size() != N K / Block::elems, Y not M x N), null_pointer, bad_stride,
// aliasing (Y overlaps X or W).
#include <algorithm>
#include <cstdint>
#include <span>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/error.hpp"
#include "pact/core/matrix_view.hpp"
#include "pact/core/threading.hpp"
#include "pact/gemm/gemm.hpp"
#include "pact/quant/ggml.hpp"

PACT_NAMESPACE_BEGIN
namespace quant {

namespace dequant_detail {
/// Weight rows per panel: a multiple of every GEMM NR, and few enough that 2 threads get
/// 16+ panels at N = 4096.
inline constexpr index_t panel_rows = 256;
/// Columns (k) per panel: a multiple of 256 (the K-quant super-block), so panels hold whole
/// blocks of every format; 256 x 512 f32 = 512 KiB, half the L2 of the cores we tune for.
inline constexpr index_t panel_k = 512;
/// Weight rows dequantized together before the transposed write: 8 x 512 f32 = 16 KiB (L1).
inline constexpr index_t rows_per_group = 8;
}  // namespace dequant_detail

template <class Block, class TX, class LX, class LY, executor Exec = serial>
  requires is_ggml_block_v<Block>
void gemm_dequant(const matrix_view<TX, LX>& X, std::span<const Block> W, index_t N, const matrix_view<float, LY>& Y,
                  const Exec& exec = {}) {
  using pact::detail::require;
  using namespace dequant_detail;
  constexpr index_t E = static_cast<index_t>(Block::elems);
  validate(X, "quant::gemm_dequant: X");
  validate(Y, "quant::gemm_dequant: Y");
  const index_t M = X.rows(), K = X.cols();
  require(N >= 0, errc::invalid_shape, "quant::gemm_dequant: N must be >= 0");
  require(K % E == 0, errc::invalid_shape, "quant::gemm_dequant: K must be a multiple of the block size");
  const index_t kb = K / E;
  require(W.size() == pact::detail::checked_mul(static_cast<std::size_t>(N), static_cast<std::size_t>(kb), "quant::gemm_dequant: W"),
          errc::invalid_shape, "quant::gemm_dequant: W must hold N * K / Block::elems blocks");
  require(Y.rows() == M && Y.cols() == N, errc::invalid_shape, "quant::gemm_dequant: Y must be M x N");
  if (M == 0 || N == 0) return;
  require(W.empty() || W.data() != nullptr, errc::null_pointer, "quant::gemm_dequant: null W");
  {
    const auto* wb = reinterpret_cast<const std::byte*>(W.data());
    const auto* we = wb + W.size_bytes();
    const matrix_view<const float, LY> yc = Y;
    const auto* yb = reinterpret_cast<const std::byte*>(yc.data());
    const auto* ye = reinterpret_cast<const std::byte*>(&yc(M - 1, N - 1)) + sizeof(float);
    require(!overlaps(Y, X) && (ye <= wb || we <= yb), errc::aliasing, "quant::gemm_dequant: Y overlaps X or W");
  }
  if (K == 0) {
    for (index_t i = 0; i < M; ++i)
      for (index_t j = 0; j < N; ++j) Y(i, j) = 0.0f;
    return;
  }
  using A = simd::native_arch;
  const index_t panels = (N + panel_rows - 1) / panel_rows;
  auto run_panel = [&](index_t p) {
    const index_t n0 = p * panel_rows, nr = std::min(panel_rows, N - n0);
    thread_local aligned_buffer<float> panel, rows;
    panel.reserve_discard(static_cast<std::size_t>(panel_rows * panel_k));
    rows.reserve_discard(static_cast<std::size_t>(rows_per_group * panel_k));
    for (index_t k0 = 0; k0 < K; k0 += panel_k) {
      const index_t kc = std::min(panel_k, K - k0);
      // The panel is B (kc x nr) row-major: B(k, r) = weight row n0 + r at column k0 + k.
      // Rows are dequantized 8 at a time into an L1 buffer and written out transposed
      // (8 consecutive floats per k), because the GEMM packs a row-major B with contiguous
      // loads; a column-major B (each dequantized row in place) made its packing gather
      // with stride kc, half of the time at M = 8.
      for (index_t r0 = 0; r0 < nr; r0 += rows_per_group) {
        const index_t g = std::min(rows_per_group, nr - r0);
        for (index_t r = 0; r < g; ++r)
          dequantize_blocks<A>(W.data() + (n0 + r0 + r) * kb + k0 / E, rows.data() + r * panel_k, static_cast<std::size_t>(kc / E));
        float* dst = panel.data() + r0;
        if (g == rows_per_group) {
          for (index_t k = 0; k < kc; ++k)
            for (index_t r = 0; r < rows_per_group; ++r) dst[k * nr + r] = rows.data()[r * panel_k + k];
        } else {
          for (index_t k = 0; k < kc; ++k)
            for (index_t r = 0; r < g; ++r) dst[k * nr + r] = rows.data()[r * panel_k + k];
        }
      }
      const auto Xk = X.block(0, k0, M, kc);
      const auto B = make_row_major(static_cast<const float*>(panel.data()), kc, nr, nr);
      const auto Yp = Y.block(0, n0, M, nr);
      pact::gemm(1.0f, Xk, B, k0 == 0 ? 0.0f : 1.0f, Yp);  // beta 0 first: Y may hold NaN
    }
  };
  if (panels == 1 || exec.num_threads() <= 1) {
    for (index_t p = 0; p < panels; ++p) run_panel(p);
  } else {
    exec.parallel_for(panels, run_panel);
  }
}

}  // namespace quant
PACT_NAMESPACE_END
