#pragma once
// Quantizing K / V rows for the int8 and FP8 E4M3 caches: one symmetric fp32 scale per row
// (value = scale * code), chosen so the row's largest magnitude maps to the format's largest
// code (127 for int8, 448 for E4M3). paged_kv_cache<int8_t / fp8_e4m3> quantizes every
// appended (token, head) row with it; users filling a dense quantized_kv can too.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <type_traits>

#include "pact/core/error.hpp"
#include "pact/core/tensor_view.hpp"
#include "pact/types/fp8.hpp"

PACT_NAMESPACE_BEGIN

/// Largest code magnitude of a quantized KV element type.
template <class T>
inline constexpr float kv_code_max = std::is_same_v<T, std::int8_t> ? 127.0f : 448.0f;

/// codes[i] = round(x[i] / scale) with scale = max|x| / kv_code_max<T> (0 for an all-zero
/// row, whose codes are then 0); returns the scale. int8 rounds half away from zero, FP8
/// E4M3 to nearest even. No checks (the caller guarantees equal sizes, finite values).
template <class T>
float quantize_kv_row_unchecked(std::span<const float> x, std::span<T> codes) noexcept {
  static_assert(std::is_same_v<T, std::int8_t> || std::is_same_v<T, fp8_e4m3>, "KV rows quantize to int8_t or fp8_e4m3");
  float amax = 0.0f;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  const float scale = amax / kv_code_max<T>;
  const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if constexpr (std::is_same_v<T, std::int8_t>)
      codes[i] = static_cast<std::int8_t>(std::clamp(std::lround(x[i] * inv), -127L, 127L));
    else
      codes[i] = fp8_e4m3(x[i] * inv);  // saturating: |x * inv| <= 448 up to rounding
  }
  return scale;
}

/// Checked form. Errors: invalid_shape (sizes differ), invalid_data (NaN or Inf in x: a
/// scale cannot represent it).
template <class T>
float quantize_kv_row(std::span<const float> x, std::span<T> codes) {
  detail::require(x.size() == codes.size(), errc::invalid_shape, "quantize_kv_row: x and codes must have the same size");
  for (float v : x) detail::require(std::isfinite(v), errc::invalid_data, "quantize_kv_row: x holds NaN or Inf");
  return quantize_kv_row_unchecked<T>(x, codes);
}

PACT_NAMESPACE_END
