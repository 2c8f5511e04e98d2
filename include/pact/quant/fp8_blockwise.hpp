#pragma once
// FP8 (E4M3 / E5M2) with DeepSeek-V3 fine-grained scales (layouts in
// quant/formats/fp8_block_scaled.hpp):
//
//   quantize_fp8_1x128<Fp8>(x, rows, cols, ld, exec)    activations, one scale per row per
//                                                        128 columns (dynamic, per token)
//   quantize_fp8_128x128<Fp8>(w, rows, cols, ld, exec)  weights, one scale per 128x128 block
//   dequantize_fp8(q, y, ld_y)                          value = float(code) * scale
//
// Rule per group (or block) G, with fp8_max = 448 (E4M3) or 57344 (E5M2):
//   amax  = max_{x in G} |x|
//   scale = amax / fp8_max                         (float32 division)
//   inv   = amax > 0 ? fp8_max / amax : 0          (float32 division)
//   code  = fp8(x * inv), round to nearest even, saturating to +-fp8_max
// so the largest magnitude maps onto (nearly) fp8_max and value = code * scale. If inv
// overflows (amax < fp8_max / FLT_MAX, ~1e-36) the code is fp8(x / scale) instead. An
// all-zero group gets scale 0 and +-0 codes. NaN/Inf input: errc::invalid_data.
// The SIMD path (simd::native_arch) is bit-identical to the scalar one on every arch.

#include <pact/core/error.hpp>
#include <pact/core/threading.hpp>
#include <pact/quant/detail/fp8_simd.hpp>
#include <pact/quant/formats/fp8_block_scaled.hpp>
#include <pact/quant/kernels/gemv_stream.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <limits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

PACT_NAMESPACE_BEGIN
namespace quant {
namespace fp8_kernels {

/// max |x[0..n)|; finite_acc collects x * 0 (NaN iff some x is NaN/Inf).
template <class A>
float amax_span(const float* x, std::size_t n, simd::vec<float, A>& finite_acc) noexcept {
  constexpr std::size_t L = simd::lanes<float, A>;
  const auto zero = simd::zero<float, A>();
  auto m0 = zero, m1 = zero;
  std::size_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    const auto a = simd::load<A>(x + i);
    const auto b = simd::load<A>(x + i + L);
    finite_acc = finite_acc + a * zero + b * zero;
    m0 = simd::max(m0, simd::abs(a));
    m1 = simd::max(m1, simd::abs(b));
  }
  for (; i < n; i += L) {
    const auto a = simd::load_partial<A>(x + i, std::min(L, n - i));
    finite_acc = finite_acc + a * zero;
    m0 = simd::max(m0, simd::abs(a));
  }
  return simd::reduce_max(simd::max(m0, m1)) + 0.0f;  // + 0 turns a -0 into +0
}

/// Codes of x[0..n) * inv (or x / scale when inv overflowed), stored as bytes.
template <class A, class Fp8>
void encode_span(const float* x, std::size_t n, float scale, float inv, Fp8* out) noexcept {
  using F = detail::fp8_format<Fp8>;
  auto* o = reinterpret_cast<std::uint8_t*>(out);
  if (!(inv <= 3.402823466e+38f)) {  // inv == Inf: tiny amax, divide instead
    for (std::size_t i = 0; i < n; ++i) o[i] = F::encode(x[i] / scale);
    return;
  }
  constexpr std::size_t L = simd::lanes<float, A>;
  const auto vinv = simd::broadcast<A>(inv);
  std::size_t i = 0;
  for (; i + L <= n; i += L) {
    simd::store_i32_to_u8(o + i, detail::fp8_encode_lanes<Fp8, A>(simd::load<A>(x + i) * vinv));
  }
  if (i < n) {
    alignas(64) std::uint8_t tmp[64];
    simd::store_i32_to_u8(tmp, detail::fp8_encode_lanes<Fp8, A>(simd::load_partial<A>(x + i, n - i) * vinv));
    std::memcpy(o + i, tmp, n - i);
  }
}

template <class Fp8>
inline void group_scale(float amax, float& scale, float& inv) noexcept {
  constexpr float fmax = detail::fp8_format<Fp8>::max_value;
  scale = amax / fmax;
  inv = amax > 0.0f ? fmax / amax : 0.0f;
}

/// One full 1x128 group, read once: its fp8_group / L vectors stay in registers (8 on
/// AVX-512) for the amax and the codes, and |x| is taken on the bit patterns, whose int32
/// maximum is both amax and the finiteness test (NaN and Inf patterns sort above every
/// finite one). Same rule and bits as amax_span + encode_span (the finite case; a group
/// with NaN/Inf only reports it, its codes are not used). Returns false on NaN/Inf.
template <class A, class Fp8>
PACT_ALWAYS_INLINE bool quantize_group_1x128(const float* xg, float& scale, Fp8* out) noexcept {
  using VI = simd::vec<std::int32_t, A>;
  constexpr std::size_t L = simd::lanes<float, A>;
  constexpr int NV = static_cast<int>(fp8_group / L);
  static_assert(fp8_group % L == 0, "a group is a whole number of vectors");
  simd::vec<float, A> v[NV];
  VI m = simd::zero<std::int32_t, A>();
  const VI magnitude = simd::broadcast<A>(std::int32_t{0x7FFFFFFF});
#pragma GCC unroll 16
  for (int i = 0; i < NV; ++i) {
    v[i] = simd::load<A>(xg + i * L);
    m = simd::max(m, simd::bitcast<std::int32_t>(v[i]) & magnitude);
  }
  const std::int32_t amax_bits = simd::reduce_max(m);
  if (amax_bits >= 0x7F800000) [[unlikely]] return false;
  const float amax = std::bit_cast<float>(amax_bits);
  float inv;
  group_scale<Fp8>(amax, scale, inv);
  if (!(inv <= 3.402823466e+38f)) [[unlikely]] {  // tiny amax: divide instead
    encode_span<A>(xg, fp8_group, scale, inv, out);
    return true;
  }
  auto* o = reinterpret_cast<std::uint8_t*>(out);
  const auto vinv = simd::broadcast<A>(inv);
  auto code = [&](int i) PACT_ALWAYS_INLINE_LAMBDA { return detail::fp8_encode_lanes<Fp8, A, true>(v[i] * vinv); };
  if constexpr (NV % 4 == 0) {
#pragma GCC unroll 16
    for (int i = 0; i < NV; i += 4) simd::store4_i32_to_u8(o + i * L, code(i), code(i + 1), code(i + 2), code(i + 3));
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < NV; ++i) simd::store_i32_to_u8(o + i * L, code(i));
  }
  return true;
}

/// Rows [r0, r1) of the 1x128 activation quantization. Returns false on NaN/Inf input.
/// The rows are walked as quant_detail::gemv_streams spread streams (one group of each in
/// turn, for_each_in_streams), each prefetched ahead: one sequential stream stalls at every
/// 4 KiB page boundary on the Intel VM (docs/quant.md).
template <class A, class Fp8>
bool quantize_rows_1x128(const float* x, std::size_t ld, std::size_t cols, std::size_t r0,
                         std::size_t r1, Fp8* q, float* scales) noexcept {
  auto finite_acc = simd::zero<float, A>();
  bool finite = true;
  const std::size_t groups = (cols + fp8_group - 1) / fp8_group;
  auto group = [&](std::size_t r, std::size_t g) PACT_ALWAYS_INLINE_LAMBDA {
    const std::size_t c0 = g * fp8_group;
    const std::size_t n = std::min(fp8_group, cols - c0);
    const float* xg = x + r * ld + c0;
    for (std::size_t e = 0; e < fp8_group * sizeof(float); e += 64)
      simd::prefetch_l1(reinterpret_cast<const char*>(xg) + e + quant_detail::quantize_prefetch_bytes);
    if (n == fp8_group) {
      finite &= quantize_group_1x128<A>(xg, scales[r * groups + g], q + r * cols + c0);
      return;
    }
    const float amax = amax_span<A>(xg, n, finite_acc);
    float scale, inv;
    group_scale<Fp8>(amax, scale, inv);
    scales[r * groups + g] = scale;
    encode_span<A>(xg, n, scale, inv, q + r * cols + c0);
  };
  quant_detail::for_each_in_streams(static_cast<index_t>(r0), static_cast<index_t>(r1), [&](auto streams, const index_t* rows) {
    for (std::size_t g = 0; g < groups; ++g)
      for (int s = 0; s < streams; ++s) group(static_cast<std::size_t>(rows[s]), g);
  });
  return finite && simd::reduce_add(finite_acc) == 0.0f;
}

/// Block row br (rows [128 br, 128 br + 128)) of the 128x128 weight quantization.
template <class A, class Fp8>
bool quantize_block_row_128x128(const float* w, std::size_t ld, std::size_t rows, std::size_t cols,
                                std::size_t br, Fp8* q, float* scales) noexcept {
  auto finite_acc = simd::zero<float, A>();
  const std::size_t bcols = (cols + fp8_group - 1) / fp8_group;
  const std::size_t r0 = br * fp8_group;
  const std::size_t r1 = std::min(rows, r0 + fp8_group);
  for (std::size_t bc = 0; bc < bcols; ++bc) {
    const std::size_t c0 = bc * fp8_group;
    const std::size_t n = std::min(fp8_group, cols - c0);
    float amax = 0.0f;
    for (std::size_t r = r0; r < r1; ++r) amax = std::max(amax, amax_span<A>(w + r * ld + c0, n, finite_acc));
    float scale, inv;
    group_scale<Fp8>(amax, scale, inv);
    scales[br * bcols + bc] = scale;
    for (std::size_t r = r0; r < r1; ++r) encode_span<A>(w + r * ld + c0, n, scale, inv, q + r * cols + c0);
  }
  return simd::reduce_add(finite_acc) == 0.0f;
}

}  // namespace fp8_kernels

namespace detail {
inline void check_matrix_args(const float* x, std::size_t rows, std::size_t cols, std::size_t ld, const char* what) {
  pact::detail::require(rows == 0 || cols == 0 || x != nullptr, errc::null_pointer, what);
  pact::detail::require(rows <= 1 || ld >= cols, errc::bad_stride, what);
  (void)pact::detail::checked_mul(rows, cols, what);
}
}  // namespace detail

/// Quantize activations x (rows, cols) row-major with leading dimension ld into `out`
/// (buffers reused when large enough). Rows are split across the executor's threads.
template <class Fp8, executor E = serial>
void quantize_fp8_1x128(const float* x, std::size_t rows, std::size_t cols, std::size_t ld,
                        fp8_activations_1x128<Fp8>& out, const E& exec = E{}) {
  detail::check_matrix_args(x, rows, cols, ld, "quant::quantize_fp8_1x128: bad activation matrix");
  out.rows = rows;
  out.cols = cols;
  out.data.reserve_discard(rows * cols);
  out.scales.reserve_discard(rows * out.groups_per_row());
  if (rows == 0 || cols == 0) return;
  constexpr std::size_t rows_per_task = 16;
  const std::size_t tasks = (rows + rows_per_task - 1) / rows_per_task;
  std::atomic<bool> finite{true};
  exec.parallel_for(static_cast<index_t>(tasks), [&](index_t t) {
    const std::size_t r0 = static_cast<std::size_t>(t) * rows_per_task;
    const std::size_t r1 = std::min(rows, r0 + rows_per_task);
    if (!fp8_kernels::quantize_rows_1x128<simd::native_arch>(x, ld, cols, r0, r1, out.data.data(), out.scales.data()))
      finite.store(false, std::memory_order_relaxed);
  });
  pact::detail::require(finite.load(), errc::invalid_data, "quant::quantize_fp8_1x128: input holds NaN or Inf");
}

template <class Fp8, executor E = serial>
fp8_activations_1x128<Fp8> quantize_fp8_1x128(const float* x, std::size_t rows, std::size_t cols,
                                              std::size_t ld, const E& exec = E{}) {
  fp8_activations_1x128<Fp8> out;
  quantize_fp8_1x128(x, rows, cols, ld, out, exec);
  return out;
}

/// Quantize weights w (rows = N, cols = K) row-major with 128x128 block scales.
template <class Fp8, executor E = serial>
fp8_weights_128x128<Fp8> quantize_fp8_128x128(const float* w, std::size_t rows, std::size_t cols,
                                              std::size_t ld, const E& exec = E{}) {
  detail::check_matrix_args(w, rows, cols, ld, "quant::quantize_fp8_128x128: bad weight matrix");
  fp8_weights_128x128<Fp8> out;
  out.rows = rows;
  out.cols = cols;
  out.data.resize(rows * cols);
  out.scales.resize(out.block_rows() * out.block_cols());
  if (rows == 0 || cols == 0) return out;
  std::atomic<bool> finite{true};
  exec.parallel_for(static_cast<index_t>(out.block_rows()), [&](index_t br) {
    if (!fp8_kernels::quantize_block_row_128x128<simd::native_arch>(w, ld, rows, cols, static_cast<std::size_t>(br),
                                                                     out.data.data(), out.scales.data()))
      finite.store(false, std::memory_order_relaxed);
  });
  pact::detail::require(finite.load(), errc::invalid_data, "quant::quantize_fp8_128x128: input holds NaN or Inf");
  return out;
}

/// y(r, c) = float(code(r, c)) * scale(r, c); y has leading dimension ld_y >= cols.
template <class Fp8>
void dequantize_fp8(const fp8_activations_1x128<Fp8>& q, float* y, std::size_t ld_y) {
  pact::detail::require(q.rows <= 1 || ld_y >= q.cols, errc::bad_stride, "quant::dequantize_fp8: ld_y < cols");
  for (std::size_t r = 0; r < q.rows; ++r)
    for (std::size_t c = 0; c < q.cols; ++c) y[r * ld_y + c] = static_cast<float>(q.data[r * q.cols + c]) * q.scale(r, c);
}
template <class Fp8>
void dequantize_fp8(const fp8_weights_128x128<Fp8>& q, float* y, std::size_t ld_y) {
  pact::detail::require(q.rows <= 1 || ld_y >= q.cols, errc::bad_stride, "quant::dequantize_fp8: ld_y < cols");
  for (std::size_t r = 0; r < q.rows; ++r)
    for (std::size_t c = 0; c < q.cols; ++c) y[r * ld_y + c] = static_cast<float>(q.data[r * q.cols + c]) * q.scale(r, c);
}

}  // namespace quant
PACT_NAMESPACE_END
