#pragma once
// pact::quant::gemv for FP8 weights with 128 x 128 block scales (DeepSeek-V3's layout,
// quant/formats/fp8_block_scaled.hpp), y = W x, f32 result:
//
//   auto W = pact::quant::quantize_fp8_128x128<pact::fp8_e4m3>(w, N, K, K);   // at load time
//   pact::quant::gemv(W, x_f32, y, pool);          // x: K floats
//   pact::quant::gemv(W, x_fp8_1x128, y, pool);    // x: one token quantized 1 x 128
//
//   y[n] = sum_kb scale_w(n / 128, kb) * sum_{k in kb} fp8(w[n, k]) * x[k]
// in f32 (per-lane FMA within each 128-group, then the group's scale; one horizontal sum
// per row). A 1x128-quantized x is first widened to f32 (x[k] = fp8(x) * scale_x(kb),
// exact products rounded once), then the same kernel runs. Any K (the last group may be
// short), any N. NaN/Inf in x or W (including the E4M3 NaN codes) give NaN/Inf in the
// rows they reach, as the f32 sum would.
// Threads split the rows; each row's arithmetic is fixed, so results are bitwise identical
// for any executor.
// Errors: W's buffers not matching its rows/cols, x or y of the wrong length ->
// errc::invalid_shape; null data -> errc::null_pointer; y overlapping x -> errc::aliasing;
// a 1x128 x with rows != 1 -> errc::invalid_shape.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "pact/core/error.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/formats/fp8_block_scaled.hpp"
#include "pact/quant/kernels/gemv_fp8.hpp"

PACT_NAMESPACE_BEGIN
namespace quant {

/// y = W x with f32 activations.
template <class Fp8, executor Exec = serial>
void gemv(const fp8_weights_128x128<Fp8>& W, std::span<const float> x, std::span<float> y, const Exec& exec = {}) {
  using A = simd::native_arch;
  using pact::detail::require;
  const std::size_t N = W.rows, K = W.cols;
  require(W.data.size() == pact::detail::checked_mul(N, K, "quant::gemv: W"), errc::invalid_shape,
          "quant::gemv: W.data.size() must equal W.rows * W.cols");
  require(W.scales.size() == W.block_rows() * W.block_cols(), errc::invalid_shape,
          "quant::gemv: W.scales.size() must equal ceil(rows / 128) * ceil(cols / 128)");
  require(x.size() == K, errc::invalid_shape, "quant::gemv: x.size() must equal W.cols");
  require(y.size() == N, errc::invalid_shape, "quant::gemv: y.size() must equal W.rows");
  if (N == 0) return;
  require(y.data() != nullptr && (K == 0 || (W.data.data() != nullptr && x.data() != nullptr)), errc::null_pointer,
          "quant::gemv: null data");
  const auto xb = reinterpret_cast<std::uintptr_t>(x.data()), yb = reinterpret_cast<std::uintptr_t>(y.data());
  require(K == 0 || xb + K * sizeof(float) <= yb || yb + N * sizeof(float) <= xb, errc::aliasing, "quant::gemv: y overlaps x");
  const auto n = static_cast<index_t>(N);
  // Tasks of >= 64 rows (a task hand-off costs about as much as a few rows).
  const index_t tasks = std::max<index_t>(1, std::min<index_t>(std::max(1, exec.num_threads()), n / 64));
  auto task = [&](index_t t) {
    quant_detail::gemv_fp8_row_range<A, Fp8>(W, x.data(), y.data(), n * t / tasks, n * (t + 1) / tasks);
  };
  if (tasks == 1) task(0);
  else exec.parallel_for(tasks, task);
}

/// y = W x with one token of 1x128-quantized FP8 activations (x.rows == 1).
template <class Fp8, executor Exec = serial>
void gemv(const fp8_weights_128x128<Fp8>& W, const fp8_activations_1x128<Fp8>& x, std::span<float> y, const Exec& exec = {}) {
  using pact::detail::require;
  require(x.rows == 1, errc::invalid_shape, "quant::gemv: x must hold one token (rows == 1)");
  require(x.cols == W.cols, errc::invalid_shape, "quant::gemv: x.cols must equal W.cols");
  require(x.data.size() == x.cols && x.scales.size() == x.groups_per_row(), errc::invalid_shape,
          "quant::gemv: x's buffers must match its cols");
  thread_local std::vector<float> xf;
  xf.resize(x.cols);
  for (std::size_t k = 0; k < x.cols; ++k) xf[k] = static_cast<float>(x.data[k]) * x.scale(0, k);
  gemv(W, std::span<const float>(xf), y, exec);
}

}  // namespace quant
PACT_NAMESPACE_END
