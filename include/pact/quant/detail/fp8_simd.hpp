#pragma once
// float lanes -> FP8 codes (saturating), bit-identical to types/fp8.hpp's scalar
// float_to_fp8_e4m3_bits / float_to_fp8_e5m2_bits (fp8_overflow::saturate), written with
// pact::simd vocabulary only:
//   normal range: the float32 bits re-biased, then the 23 - M dropped mantissa bits rounded
//                 to nearest even with integer adds (x + half - 1 + lsb) >> (23 - M);
//   subnormal range: RNE(|x| / smallest_subnormal) with round_nearest on an exact power-of-2
//                 product (the result 2^M is exactly the smallest normal's code);
//   then saturate to the largest finite code, NaN -> the NaN code, sign bit ORed back.

#include <pact/simd/ops_quant.hpp>
#include <pact/simd/simd.hpp>
#include <pact/types/fp8.hpp>

#include <cstdint>
#include <type_traits>

PACT_NAMESPACE_BEGIN
namespace quant::detail {

template <class Fp8>
struct fp8_format;
template <>
struct fp8_format<fp8_e4m3> {
  static constexpr int mant = 3, bias = 7;
  static constexpr std::int32_t max_code = 0x7E, nan_code = 0x7F;
  static constexpr float max_value = 448.0f;
  static std::uint8_t encode(float v) noexcept { return float_to_fp8_e4m3_bits(v, fp8_overflow::saturate); }
};
template <>
struct fp8_format<fp8_e5m2> {
  static constexpr int mant = 2, bias = 15;
  static constexpr std::int32_t max_code = 0x7B, nan_code = 0x7E;
  static constexpr float max_value = 57344.0f;
  static std::uint8_t encode(float v) noexcept { return float_to_fp8_e5m2_bits(v, fp8_overflow::saturate); }
};

/// FP8 codes of the lanes of v, as int32 lanes in [0, 255]. Finite = true promises no NaN
/// lane (callers that reject NaN/Inf input anyway), which drops the NaN code selection.
template <class Fp8, class A, bool Finite = false>
PACT_ALWAYS_INLINE simd::vec<std::int32_t, A> fp8_encode_lanes(const simd::vec<float, A>& v) noexcept {
  using F = fp8_format<Fp8>;
  using VI = simd::vec<std::int32_t, A>;
  constexpr int drop = 23 - F::mant;
  // |v| by masking the sign bit (not abs(): the scalar arch's abs keeps -0 and -NaN, whose
  // negative bit patterns would overflow the int32 arithmetic below).
  const VI bits = simd::bitcast<std::int32_t>(v) & simd::broadcast<A>(std::int32_t{0x7FFFFFFF});
  const auto a = simd::bitcast<float>(bits);
  const VI rebiased = bits - simd::broadcast<A>(std::int32_t{(127 - F::bias) << 23});
  const VI lsb = (rebiased >> drop) & simd::broadcast<A>(std::int32_t{1});
  const VI normal = (rebiased + simd::broadcast<A>(std::int32_t{(1 << (drop - 1)) - 1}) + lsb) >> drop;
  // Smallest normal 2^(1 - bias); smallest subnormal 2^(1 - bias - mant).
  constexpr float min_normal = static_cast<float>(1.0 / (1 << (F::bias - 1)));
  constexpr float inv_sub = static_cast<float>(1 << (F::bias - 1 + F::mant));
  const auto sub = simd::round_nearest(a * simd::broadcast<A>(inv_sub));
  const auto is_sub = simd::cmp_lt(a, simd::broadcast<A>(min_normal));
  // Select in the float domain (codes are small integers, exact as floats).
  auto code = simd::select(is_sub, sub, simd::to_float(simd::min(normal, simd::broadcast<A>(F::max_code))));
  if constexpr (!Finite) code = simd::select(simd::is_nan(v), simd::broadcast<A>(static_cast<float>(F::nan_code)), code);
  const VI sign = (simd::bitcast<std::int32_t>(v) >> 24) & simd::broadcast<A>(std::int32_t{0x80});
  return simd::to_int32(code) | sign;
}

}  // namespace quant::detail
PACT_NAMESPACE_END
