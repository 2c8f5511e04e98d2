#pragma once
// Bit-level and conversion ops: reinterpret lanes, round, float <-> int32.
#include <cmath>
#include <cstring>

#include "pact/simd/ops_arith.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {

/// Reinterpret the register's bits as lanes of U (same total width).
template <class U>
struct bitcast_fn {
  template <class V>
  PACT_ALWAYS_INLINE vec<U, arch_of<V>> operator()(const V& v) const noexcept {
  using R = vec<U, arch_of<V>>;
  if constexpr (is_scalar_arch<arch_of<V>>) {
    R r;
    static_assert(sizeof(r.v) == sizeof(v.v));
    std::memcpy(r.v, v.v, sizeof(r.v));
    return r;
  } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
    return xsimd::bitwise_cast<R>(v);
#endif
  }
  }
};
template <class U>
inline constexpr bitcast_fn<U> bitcast{};

/// Round to nearest, ties to even (the current rounding mode, which pact assumes is default).
struct round_nearest_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V& v) const noexcept {
  if constexpr (is_scalar_arch<arch_of<V>>) {
    V r;
    for (std::size_t i = 0; i < V::size; ++i) r.v[i] = std::nearbyint(v.v[i]);
    return r;
  } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
    return xsimd::nearbyint(v);
#endif
  }
  }
};
inline constexpr round_nearest_fn round_nearest{};

/// float lanes -> int32 lanes, truncating; exact for integral values in int32 range.
struct to_int32_fn {
  template <class V>
  PACT_ALWAYS_INLINE vec<std::int32_t, arch_of<V>> operator()(const V& v) const noexcept {
  static_assert(std::is_same_v<typename V::value_type, float>);
  if constexpr (is_scalar_arch<arch_of<V>>) {
    vec<std::int32_t, scalar> r;
    for (std::size_t i = 0; i < V::size; ++i) r.v[i] = static_cast<std::int32_t>(v.v[i]);
    return r;
  } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
    return xsimd::to_int(v);
#endif
  }
  }
};
inline constexpr to_int32_fn to_int32{};

/// int32 lanes -> float lanes (rounded to nearest for |x| > 2^24).
struct to_float_fn {
  template <class V>
  PACT_ALWAYS_INLINE vec<float, arch_of<V>> operator()(const V& v) const noexcept {
  static_assert(std::is_same_v<typename V::value_type, std::int32_t>);
  if constexpr (is_scalar_arch<arch_of<V>>) {
    vec<float, scalar> r;
    for (std::size_t i = 0; i < V::size; ++i) r.v[i] = static_cast<float>(v.v[i]);
    return r;
  } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
    return xsimd::to_float(v);
#endif
  }
  }
};
inline constexpr to_float_fn to_float{};

}  // namespace simd
PACT_NAMESPACE_END
