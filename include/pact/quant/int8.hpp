#pragma once
// int8 / uint8 quantization of float matrices (layout in quant/formats/int8_matrix.hpp):
//
//   quantize_int8(x, rows, cols, ld, layout, exec)   symmetric:  int8_matrix<int8_t>
//   quantize_uint8(x, rows, cols, ld, layout, exec)  asymmetric: int8_matrix<uint8_t>
//   dequantize_int8(q, y, ld_y)                      y = scale * (q - zero_point)
//
// Rules per scale group G (the whole tensor, a row, or group_size consecutive columns):
//   symmetric:  amax = max |x|;  scale = amax / 127;  inv = amax > 0 ? 127 / amax : 0;
//               q = clamp(RNE(x * inv), -127, 127)          (-128 is never produced)
//   asymmetric: lo = min(0, min x), hi = max(0, max x) (the range always holds 0, so 0 is
//               exactly representable); scale = (hi - lo) / 255;
//               inv = hi > lo ? 255 / (hi - lo) : 0;  zero_point = clamp(RNE(-lo * inv), 0, 255);
//               q = clamp(RNE(x * inv) + zero_point, 0, 255)
// RNE = round to nearest, ties to even (the default FP rounding mode; cvtps2dq / fcvtns).
// Saturation: the clamps above. If inv overflows to Inf (amax or range below ~1e-36), the
// quotient x / scale is used instead. NaN/Inf input and ranges hi - lo that overflow float
// are rejected with errc::invalid_data. Per-row and per-group quantization run on
// simd::native_arch (bit-identical to the scalar path, tested on every arch).

#include <pact/core/error.hpp>
#include <pact/core/threading.hpp>
#include <pact/quant/detail/float_ops.hpp>
#include <pact/quant/formats/int8_matrix.hpp>
#include <pact/simd/ops_quant.hpp>
#include <pact/simd/simd.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

PACT_NAMESPACE_BEGIN
namespace quant {
namespace int8_kernels {

struct range {
  float lo = 0.0f;  // min(0, min x)
  float hi = 0.0f;  // max(0, max x)
  float amax = 0.0f;
};

template <class A>
range range_span(const float* x, std::size_t n, simd::vec<float, A>& finite_acc) noexcept {
  constexpr std::size_t L = simd::lanes<float, A>;
  const auto zero = simd::zero<float, A>();
  auto lo = zero, hi = zero;
  std::size_t i = 0;
  for (; i + L <= n; i += L) {
    const auto a = simd::load<A>(x + i);
    finite_acc = finite_acc + a * zero;
    lo = simd::min(lo, a);
    hi = simd::max(hi, a);
  }
  if (i < n) {
    const auto a = simd::load_partial<A>(x + i, n - i);  // padded with 0: inside [lo, hi]
    finite_acc = finite_acc + a * zero;
    lo = simd::min(lo, a);
    hi = simd::max(hi, a);
  }
  range r;
  r.lo = simd::reduce_min(lo) + 0.0f;  // + 0 turns a -0 into +0 (same value)
  r.hi = simd::reduce_max(hi) + 0.0f;
  r.amax = std::max(-r.lo, r.hi);
  return r;
}

/// q[i] = clamp(RNE(x[i] * inv) + zp, lo, hi) (or x[i] / scale when inv is Inf).
template <class A, class Int>
void encode_span(const float* x, std::size_t n, float scale, float inv, std::int32_t zp, Int* q) noexcept {
  constexpr float qlo = std::is_signed_v<Int> ? -127.0f : 0.0f;
  constexpr float qhi = std::is_signed_v<Int> ? 127.0f : 255.0f;
  if (!(inv <= 3.402823466e+38f)) {
    for (std::size_t i = 0; i < n; ++i) {
      const float r = std::nearbyint(x[i] / scale) + static_cast<float>(zp);
      q[i] = static_cast<Int>(r < qlo ? qlo : (r > qhi ? qhi : r));
    }
    return;
  }
  constexpr std::size_t L = simd::lanes<float, A>;
  const auto vinv = simd::broadcast<A>(inv);
  const auto vzp = simd::broadcast<A>(static_cast<float>(zp));
  const auto vlo = simd::broadcast<A>(qlo);
  const auto vhi = simd::broadcast<A>(qhi);
  auto one = [&](const simd::vec<float, A>& v) {
    // |x * inv| <= 255 (+ rounding), so the float sum with zp is exact.
    const auto r = simd::round_nearest(v * vinv) + vzp;
    return simd::to_int32(simd::min(simd::max(r, vlo), vhi));
  };
  auto store = [&](Int* p, const simd::vec<std::int32_t, A>& v) {
    if constexpr (std::is_signed_v<Int>) simd::store_i32_to_i8(p, v);
    else simd::store_i32_to_u8(p, v);
  };
  std::size_t i = 0;
  for (; i + L <= n; i += L) store(q + i, one(simd::load<A>(x + i)));
  if (i < n) {
    alignas(64) Int tmp[64];
    store(tmp, one(simd::load_partial<A>(x + i, n - i)));
    std::memcpy(q + i, tmp, (n - i) * sizeof(Int));
  }
}

/// Scale (and zero point) of one group from its range.
template <class Int>
inline bool group_params(const range& r, float& scale, float& inv, std::int32_t& zp) noexcept {
  if constexpr (std::is_signed_v<Int>) {
    scale = r.amax / 127.0f;
    inv = r.amax > 0.0f ? 127.0f / r.amax : 0.0f;
    zp = 0;
    return true;
  } else {
    const float width = r.hi - r.lo;
    if (!(width <= 3.402823466e+38f)) return false;  // range overflows float
    scale = width / 255.0f;
    inv = width > 0.0f ? 255.0f / width : 0.0f;
    float z = (inv <= 3.402823466e+38f) ? std::nearbyint(-r.lo * inv) : std::nearbyint(-r.lo / scale);
    z = z < 0.0f ? 0.0f : (z > 255.0f ? 255.0f : z);
    zp = static_cast<std::int32_t>(z);
    return true;
  }
}

/// Rows [r0, r1) with groups of group_cols columns (cols for per-row). Returns false on
/// NaN/Inf input or an overflowing range.
template <class A, class Int>
bool quantize_rows(const float* x, std::size_t ld, std::size_t cols, std::size_t group_cols,
                   std::size_t r0, std::size_t r1, Int* q, float* scales, std::int32_t* zps) noexcept {
  auto finite_acc = simd::zero<float, A>();
  bool ok = true;
  const std::size_t groups = (cols + group_cols - 1) / group_cols;
  for (std::size_t r = r0; r < r1; ++r) {
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t c0 = g * group_cols;
      const std::size_t n = std::min(group_cols, cols - c0);
      const float* xg = x + r * ld + c0;
      float scale, inv;
      std::int32_t zp;
      ok &= group_params<Int>(range_span<A>(xg, n, finite_acc), scale, inv, zp);
      scales[r * groups + g] = scale;
      if (zps != nullptr) zps[r * groups + g] = zp;
      encode_span<A>(xg, n, scale, inv, zp, q + r * cols + c0);
    }
  }
  return ok && simd::reduce_add(finite_acc) == 0.0f;
}

}  // namespace int8_kernels

namespace detail {

template <class Int, executor E>
int8_matrix<Int> quantize_int_matrix(const float* x, std::size_t rows, std::size_t cols, std::size_t ld,
                                     int8_layout layout, const E& exec, const char* what) {
  pact::detail::require(rows == 0 || cols == 0 || x != nullptr, errc::null_pointer, what);
  pact::detail::require(rows <= 1 || ld >= cols, errc::bad_stride, what);
  pact::detail::require(layout.granularity != int8_granularity::per_group ||
                            layout.group_size == 32 || layout.group_size == 64 || layout.group_size == 128,
                        errc::invalid_argument, "quant: per_group needs group_size 32, 64 or 128");
  int8_matrix<Int> m;
  m.rows = rows;
  m.cols = cols;
  m.layout = layout;
  m.data.resize(pact::detail::checked_mul(rows, cols, what));
  m.scales.resize(m.scale_count());
  const bool asym = !std::is_signed_v<Int>;
  if (asym) m.zero_points.resize(m.scale_count());
  if (rows == 0 || cols == 0) return m;
  using A = simd::native_arch;
  std::atomic<bool> ok{true};
  if (layout.granularity == int8_granularity::per_tensor) {
    // Pass 1: the tensor's range (per row, combined in row order: any thread count agrees).
    std::vector<int8_kernels::range> ranges(rows);
    exec.parallel_for(static_cast<index_t>(rows), [&](index_t r) {
      auto acc = simd::zero<float, A>();
      ranges[static_cast<std::size_t>(r)] = int8_kernels::range_span<A>(x + static_cast<std::size_t>(r) * ld, cols, acc);
      if (!(simd::reduce_add(acc) == 0.0f)) ok.store(false, std::memory_order_relaxed);
    });
    int8_kernels::range all;
    for (const auto& r : ranges) {
      all.lo = std::min(all.lo, r.lo);
      all.hi = std::max(all.hi, r.hi);
    }
    all.amax = std::max(-all.lo, all.hi);
    float scale, inv;
    std::int32_t zp;
    if (!int8_kernels::group_params<Int>(all, scale, inv, zp)) ok = false;
    m.scales[0] = scale;
    if (asym) m.zero_points[0] = zp;
    exec.parallel_for(static_cast<index_t>(rows), [&](index_t r) {
      const auto ru = static_cast<std::size_t>(r);
      int8_kernels::encode_span<A>(x + ru * ld, cols, scale, inv, zp, m.data.data() + ru * cols);
    });
  } else {
    const std::size_t group_cols = m.group_cols();
    constexpr std::size_t rows_per_task = 8;
    const std::size_t tasks = (rows + rows_per_task - 1) / rows_per_task;
    exec.parallel_for(static_cast<index_t>(tasks), [&](index_t t) {
      const std::size_t r0 = static_cast<std::size_t>(t) * rows_per_task;
      const std::size_t r1 = std::min(rows, r0 + rows_per_task);
      if (!int8_kernels::quantize_rows<A>(x, ld, cols, group_cols, r0, r1, m.data.data(), m.scales.data(),
                                          asym ? m.zero_points.data() : nullptr))
        ok.store(false, std::memory_order_relaxed);
    });
  }
  pact::detail::require(ok.load(), errc::invalid_data, "quant: input holds NaN or Inf (or a range beyond float)");
  return m;
}

}  // namespace detail

/// Symmetric int8 quantization (layout.scheme must be symmetric).
template <executor E = serial>
int8_matrix<std::int8_t> quantize_int8(const float* x, std::size_t rows, std::size_t cols, std::size_t ld,
                                       int8_layout layout, const E& exec = E{}) {
  pact::detail::require(layout.scheme == int8_scheme::symmetric, errc::invalid_argument,
                        "quant::quantize_int8 is symmetric; use quantize_uint8 for an asymmetric scheme");
  return detail::quantize_int_matrix<std::int8_t>(x, rows, cols, ld, layout, exec, "quant::quantize_int8: bad matrix");
}

/// Asymmetric uint8 quantization with zero points (layout.scheme must be asymmetric).
template <executor E = serial>
int8_matrix<std::uint8_t> quantize_uint8(const float* x, std::size_t rows, std::size_t cols, std::size_t ld,
                                         int8_layout layout, const E& exec = E{}) {
  pact::detail::require(layout.scheme == int8_scheme::asymmetric, errc::invalid_argument,
                        "quant::quantize_uint8 is asymmetric; use quantize_int8 for a symmetric scheme");
  return detail::quantize_int_matrix<std::uint8_t>(x, rows, cols, ld, layout, exec, "quant::quantize_uint8: bad matrix");
}

/// y(r, c) = scale * (q(r, c) - zero_point), evaluated as float(q - zp) * scale (exact
/// integer difference, one rounding).
template <class Int>
void dequantize_int8(const int8_matrix<Int>& q, float* y, std::size_t ld_y) {
  pact::detail::require(q.rows <= 1 || ld_y >= q.cols, errc::bad_stride, "quant::dequantize_int8: ld_y < cols");
  const bool asym = q.zero_points.size() != 0;
  for (std::size_t r = 0; r < q.rows; ++r) {
    for (std::size_t c = 0; c < q.cols; ++c) {
      const std::size_t g = q.scale_index(r, c);
      const std::int32_t zp = asym ? q.zero_points[g] : 0;
      y[r * ld_y + c] = static_cast<float>(static_cast<std::int32_t>(q.data[r * q.cols + c]) - zp) * q.scales[g];
    }
  }
}

}  // namespace quant
PACT_NAMESPACE_END
