#pragma once
// The driver shared by every dequantize-on-the-fly GEMM (quant/gemm_dequant.hpp for ggml and
// MX blocks, quant/gemm_fp8.hpp for FP8 with 128x128 scales): Y = X W^T, where W (N x K)
// is only reachable through a row decoder
//
//   weight_row(n, k0, kc, out)   writes W(n, k0 .. k0 + kc) as kc floats to out
//
// W is dequantized one panel at a time -- panel_rows rows x panel_k columns, 512 KiB of f32
// written straight into the f32 GEMM's packed B layout, which stays in L2 while pact::gemm
// streams X against it -- never into a full-size temporary, and each panel once per call (per x_rows_per_chunk rows of quantized X), so
// the conversion costs N K decodes against 2 M N K flops.
//
// Threads split the panels' columns of Y; every panel runs the same serial GEMM calls in the
// same k order, so Y is bitwise identical for every executor. Callers validate; nothing here
// checks.
#include <algorithm>
#include <cstddef>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/matrix_view.hpp"
#include "pact/core/threading.hpp"
#include "pact/gemm/gemm.hpp"
#include "pact/gemm/prepacked.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace quant::dequant_detail {

/// Weight rows per panel: a multiple of every GEMM NR, and few enough that 2 threads get
/// 16+ panels at N = 4096.
inline constexpr index_t panel_rows = 256;
/// Columns (k) per panel: a multiple of 256 (the K-quant super-block) and of 128 (the FP8
/// scale block), so panels hold whole blocks of every format; 256 x 512 f32 = 512 KiB, half
/// the L2 of the cores we tune for.
inline constexpr index_t panel_k = 512;
/// Quantized activations are widened to f32 this many rows at a time (2 MiB at K = 1024):
/// the panels are then decoded once per chunk, ceil(M / 512) times in all.
inline constexpr index_t x_rows_per_chunk = 512;

/// Writes weight rows [n0, n0 + nr), columns [k0, k0 + kc) as the K = kc x nr matrix B
/// (B(k, r) = W(n0 + r, k0 + k)) in the f32 GEMM's packed layout (gemm/prepacked.hpp), so
/// the GEMM neither copies nor packs B. L = lanes rows are decoded into an L1 buffer
/// (16 x 512 f32 = 32 KiB on AVX-512), then moved in L x L register transposes: a sliver
/// row (NR floats per k) is NR / L tiles wide, and KC is a multiple of L, so no tile
/// straddles a sliver or a KC block. Columns past nr (up to the sliver width) are zeros.
template <class A, class WeightRow>
void write_packed_panel(const WeightRow& weight_row, index_t n0, index_t nr, index_t k0, index_t kc, float* packed,
                        float* rows) {
  using layout = packed_b_layout<float>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  static_assert(layout::nr % L == 0 && layout::kc % L == 0, "the packed layout must be whole L x L tiles");
  const index_t padded = layout::padded_cols(nr);
  for (index_t r0 = 0; r0 < padded; r0 += L) {
    const index_t g = std::clamp<index_t>(nr - r0, 0, L);
    for (index_t r = 0; r < g; ++r) weight_row(n0 + r0 + r, k0, kc, rows + r * panel_k);
    for (index_t r = g; r < L; ++r) std::fill(rows + r * panel_k, rows + r * panel_k + kc, 0.0f);
    for (index_t pc = 0; pc < kc; pc += layout::kc) {
      const index_t kcb = std::min(layout::kc, kc - pc);
      float* dst = packed + layout::offset(kc, padded, pc, r0);  // row pc, columns r0 .. r0 + L
      index_t k = 0;
      for (; k + L <= kcb; k += L) simd::transpose_tile<A>(rows + pc + k, panel_k, dst + k * layout::nr, layout::nr);
      for (; k < kcb; ++k)
        for (index_t r = 0; r < L; ++r) dst[k * layout::nr + r] = rows[r * panel_k + pc + k];
    }
  }
}

/// Y = X W^T over the panels of W; X is M x K (f32 / bf16 / fp16, any layout), Y is M x N.
template <class TX, class LX, class LY, executor Exec, class WeightRow>
void gemm_panels(const matrix_view<TX, LX>& X, index_t N, const matrix_view<float, LY>& Y, const Exec& exec,
                 const WeightRow& weight_row) {
  using A = simd::native_arch;
  using layout = packed_b_layout<float>;
  const index_t M = X.rows(), K = X.cols();
  const index_t panels = (N + panel_rows - 1) / panel_rows;
  auto run_panel = [&](index_t p) {
    const index_t n0 = p * panel_rows, nr = std::min(panel_rows, N - n0);
    thread_local aligned_buffer<float> panel, rows;
    panel.reserve_discard(static_cast<std::size_t>(layout::padded_cols(panel_rows) * panel_k));
    rows.reserve_discard(static_cast<std::size_t>(simd::lanes<float, A> * panel_k));
    for (index_t k0 = 0; k0 < K; k0 += panel_k) {
      const index_t kc = std::min(panel_k, K - k0);
      write_packed_panel<A>(weight_row, n0, nr, k0, kc, panel.data(), rows.data());
      const auto Xk = X.block(0, k0, M, kc);
      const auto Yp = Y.block(0, n0, M, nr);
      pact::gemm(1.0f, Xk, packed_b_view<float>(panel.data(), kc, nr), k0 == 0 ? 0.0f : 1.0f, Yp);  // beta 0 first: Y may hold NaN
    }
  };
  if (panels == 1 || exec.num_threads() <= 1) {
    for (index_t p = 0; p < panels; ++p) run_panel(p);
  } else {
    exec.parallel_for(panels, run_panel);
  }
}

/// Y = X W^T for quantized activations reachable through activation_row(m, out), which
/// writes the K floats of row m: rows are widened x_rows_per_chunk at a time (threads split
/// the rows; each row's decode is fixed, so the result does not depend on the executor).
template <class LY, executor Exec, class ActivationRow, class WeightRow>
void gemm_rows_then_panels(index_t M, index_t K, index_t N, const matrix_view<float, LY>& Y, const Exec& exec,
                           const ActivationRow& activation_row, const WeightRow& weight_row) {
  const index_t chunk = std::min(M, x_rows_per_chunk);
  // Reused by the calling thread: no allocation per call. Lambdas below use the pointer,
  // never the name: a thread_local named inside a lambda is the running thread's instance.
  thread_local aligned_buffer<float> x_widened;
  x_widened.reserve_discard(static_cast<std::size_t>(chunk) * static_cast<std::size_t>(K));
  float* const xf = x_widened.data();
  for (index_t m0 = 0; m0 < M; m0 += chunk) {
    const index_t mc = std::min(chunk, M - m0);
    constexpr index_t rows_per_task = 16;
    const index_t tasks = (mc + rows_per_task - 1) / rows_per_task;
    auto widen = [&](index_t t) {
      for (index_t i = t * rows_per_task; i < std::min(mc, (t + 1) * rows_per_task); ++i)
        activation_row(m0 + i, xf + i * K);
    };
    if (tasks == 1 || exec.num_threads() <= 1) {
      for (index_t t = 0; t < tasks; ++t) widen(t);
    } else {
      exec.parallel_for(tasks, widen);
    }
    gemm_panels(make_row_major(static_cast<const float*>(xf), mc, K), N, Y.block(m0, 0, mc, N), exec, weight_row);
  }
}

/// True if the float view Y and the byte range [p, p + bytes) share memory.
template <class LY>
bool overlaps_bytes(const matrix_view<float, LY>& Y, const void* p, std::size_t bytes) noexcept {
  if (Y.empty() || bytes == 0) return false;
  const auto* yb = reinterpret_cast<const std::byte*>(Y.data());
  const auto* ye = reinterpret_cast<const std::byte*>(&Y(Y.rows() - 1, Y.cols() - 1)) + sizeof(float);
  const auto* b = static_cast<const std::byte*>(p);
  return yb < b + bytes && b < ye;
}

/// Y = 0 (the K = 0 product; Y may hold NaN).
template <class LY>
void zero_fill(const matrix_view<float, LY>& Y) noexcept {
  for (index_t i = 0; i < Y.rows(); ++i)
    for (index_t j = 0; j < Y.cols(); ++j) Y(i, j) = 0.0f;
}

}  // namespace quant::dequant_detail
PACT_NAMESPACE_END
