#pragma once
// pact::quant::gemm for FP8 weights with 128 x 128 block scales (DeepSeek-V3's layout,
// quant/formats/fp8_block_scaled.hpp), Y = X W^T, f32 result, M rows of activations:
//
//   auto W = pact::quant::quantize_fp8_128x128<pact::fp8_e4m3>(w, N, K, K);     // at load time
//   pact::quant::gemm(pact::make_row_major(x, M, K), W, pact::make_row_major(y, M, N), pool);
//   auto Xq = pact::quant::quantize_fp8_1x128<pact::fp8_e4m3>(x, M, K, K);      // per token
//   pact::quant::gemm(Xq, W, pact::make_row_major(y, M, N), pool);             // FP8 x FP8
//
//   Y(m, n) = sum_k (fp8(x[m, k]) * sx(m, k / 128)) * (fp8(w[n, k]) * sw(n / 128, k / 128))
// Each factor is widened exactly and scaled once (one f32 rounding), then pact's f32 GEMM
// forms the sum with f32 accumulation: the scales are applied per 128-k block as the format
// requires, folded into the operands rather than into the partial sums (in exact
// arithmetic the same; in f32 it differs from scale-after-sum by rounding only). CPUs
// without FP8 or bf16 dot products (AVX-512F, AVX2, NEON without bf16) have no faster exact
// route than f32 FMAs over the widened values, so the bar is the f32 GEMM's.
//
// W is widened one L2-sized panel at a time (quant/kernels/dequant_panels.hpp), never into
// a full f32 copy; FP8 activations are widened 512 rows at a time. M = 1 with f32 x and
// contiguous rows goes to quant::gemv (bandwidth-bound, reads the codes directly). Any M,
// N, K (partial scale blocks at the edges). NaN / Inf in X, W or the scales (the E4M3 NaN
// codes included) propagate. Bitwise identical for every executor.
// Errors (pact::error): W's or Xq's buffers not matching their rows / cols, X.cols() or
// Xq.cols != W.cols, Y not M x N -> invalid_shape; null data -> null_pointer; bad_stride;
// Y overlapping X or W -> aliasing.
#include <algorithm>
#include <cstdint>
#include <span>

#include "pact/core/error.hpp"
#include "pact/core/matrix_view.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/formats/fp8_block_scaled.hpp"
#include "pact/quant/gemv_fp8.hpp"
#include "pact/quant/kernels/dequant_panels.hpp"
#include "pact/simd/ops_kv.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace quant {

namespace dequant_detail {
/// codes[0 .. n) times one scale -> out, exact widening, one rounding per element.
template <class A, class Fp8>
void widen_fp8_span(const Fp8* codes, float scale, index_t n, float* out) noexcept {
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  const auto* p = reinterpret_cast<const std::uint8_t*>(codes);
  const auto s = simd::broadcast<A>(scale);
  index_t k = 0;
  for (; k + L <= n; k += L) {
    if constexpr (std::is_same_v<Fp8, fp8_e4m3>) simd::store(out + k, simd::load_fp8_e4m3_f32<A>(p + k) * s);
    else simd::store(out + k, simd::load_fp8_e5m2_f32<A>(p + k) * s);
  }
  for (; k < n; ++k) out[k] = static_cast<float>(codes[k]) * scale;
}

/// Row r, columns [k0, k0 + n) of an FP8 matrix with one scale per 128 columns of the row
/// (scales points at the row's ceil(K / 128) scales; k0 is a multiple of 128).
template <class A, class Fp8>
void widen_fp8_row(const Fp8* row, const float* scales, index_t k0, index_t n, float* out) noexcept {
  constexpr auto G = static_cast<index_t>(fp8_group);
  for (index_t k = 0; k < n; k += G)
    widen_fp8_span<A>(row + k0 + k, scales[(k0 + k) / G], std::min(G, n - k), out + k);
}

template <class Fp8, class LY>
void check_fp8_weights(const fp8_weights_128x128<Fp8>& W, index_t K, index_t M, const matrix_view<float, LY>& Y) {
  using pact::detail::require;
  require(W.data.size() == pact::detail::checked_mul(W.rows, W.cols, "quant::gemm: W"), errc::invalid_shape,
          "quant::gemm: W.data.size() must equal W.rows * W.cols");
  require(W.scales.size() == W.block_rows() * W.block_cols(), errc::invalid_shape,
          "quant::gemm: W.scales.size() must equal ceil(rows / 128) * ceil(cols / 128)");
  require(static_cast<std::size_t>(K) == W.cols, errc::invalid_shape, "quant::gemm: X.cols() must equal W.cols");
  require(Y.rows() == M && static_cast<std::size_t>(Y.cols()) == W.rows, errc::invalid_shape,
          "quant::gemm: Y must be M x W.rows");
  require(W.data.size() == 0 || (W.data.data() != nullptr && W.scales.data() != nullptr), errc::null_pointer,
          "quant::gemm: null W");
  require(!overlaps_bytes(Y, W.data.data(), W.data.size()) && !overlaps_bytes(Y, W.scales.data(), W.scales.size() * sizeof(float)),
          errc::aliasing, "quant::gemm: Y overlaps W");
}

/// weight_row for the panel driver.
template <class A, class Fp8>
auto fp8_weight_rows(const fp8_weights_128x128<Fp8>& W) noexcept {
  return [&W](index_t n, index_t k0, index_t kc, float* out) {
    const auto r = static_cast<std::size_t>(n);
    widen_fp8_row<A>(W.data.data() + r * W.cols, W.scales.data() + (r / fp8_group) * W.block_cols(), k0, kc, out);
  };
}
}  // namespace dequant_detail

/// Y = X W^T with float (bf16 / fp16) activations X (M x K, any layout).
template <class Fp8, class TX, class LX, class LY, executor Exec = serial>
void gemm(const matrix_view<TX, LX>& X, const fp8_weights_128x128<Fp8>& W, const matrix_view<float, LY>& Y,
          const Exec& exec = {}) {
  using pact::detail::require;
  using namespace dequant_detail;
  validate(X, "quant::gemm: X");
  validate(Y, "quant::gemm: Y");
  const index_t M = X.rows(), K = X.cols(), N = static_cast<index_t>(W.rows);
  check_fp8_weights(W, K, M, Y);
  require(!overlaps(Y, X), errc::aliasing, "quant::gemm: Y overlaps X");
  if (M == 0 || N == 0) return;
  if (K == 0) return zero_fill(Y);
  if constexpr (std::is_same_v<std::remove_cv_t<TX>, float>) {
    if (M == 1 && X.col_stride() == 1 && Y.col_stride() == 1) {
      gemv(W, std::span<const float>(X.data(), static_cast<std::size_t>(K)), std::span<float>(Y.data(), static_cast<std::size_t>(N)), exec);
      return;
    }
  }
  gemm_panels(X, N, Y, exec, fp8_weight_rows<simd::native_arch>(W));
}

/// Y = X W^T with 1x128-quantized FP8 activations (M = Xq.rows tokens): FP8 x FP8.
template <class Fp8, class LY, executor Exec = serial>
void gemm(const fp8_activations_1x128<Fp8>& Xq, const fp8_weights_128x128<Fp8>& W, const matrix_view<float, LY>& Y,
          const Exec& exec = {}) {
  using pact::detail::require;
  using namespace dequant_detail;
  using A = simd::native_arch;
  validate(Y, "quant::gemm: Y");
  const auto M = static_cast<index_t>(Xq.rows), K = static_cast<index_t>(Xq.cols), N = static_cast<index_t>(W.rows);
  require(Xq.data.size() == pact::detail::checked_mul(Xq.rows, Xq.cols, "quant::gemm: X") &&
              Xq.scales.size() == Xq.rows * Xq.groups_per_row(),
          errc::invalid_shape, "quant::gemm: X's buffers must match its rows and cols");
  check_fp8_weights(W, K, M, Y);
  require(Xq.data.size() == 0 || (Xq.data.data() != nullptr && Xq.scales.data() != nullptr), errc::null_pointer,
          "quant::gemm: null X");
  require(!overlaps_bytes(Y, Xq.data.data(), Xq.data.size()) &&
              !overlaps_bytes(Y, Xq.scales.data(), Xq.scales.size() * sizeof(float)),
          errc::aliasing, "quant::gemm: Y overlaps X");
  if (M == 0 || N == 0) return;
  if (K == 0) return zero_fill(Y);
  const std::size_t groups = Xq.groups_per_row();
  auto x_row = [&](index_t m, float* out) {
    const auto r = static_cast<std::size_t>(m);
    widen_fp8_row<A>(Xq.data.data() + r * Xq.cols, Xq.scales.data() + r * groups, 0, K, out);
  };
  gemm_rows_then_panels(M, K, N, Y, exec, x_row, fp8_weight_rows<A>(W));
}

}  // namespace quant
PACT_NAMESPACE_END
