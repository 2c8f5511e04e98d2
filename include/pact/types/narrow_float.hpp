#pragma once
// The one rounding routine shared by fp16, fp8 and fp4: take the magnitude of a float32
// and round it, to nearest with ties to even, into a narrower binary floating-point format
// with `MantBits` stored mantissa bits and exponent bias `Bias` (subnormals included).
// Each format header adds only its own NaN / Inf / overflow rule on top.

#include <pact/simd/target.hpp>

#include <bit>
#include <cstdint>

PACT_NAMESPACE_BEGIN
namespace detail {

// value / 2^shift rounded to nearest, ties to even. Adding (half - 1) rounds every
// remainder above one half up; adding the result's lowest bit on top turns the exact
// half into a round-up only when that would make the result even.
// Needs 1 <= shift <= 31 and value + 2^(shift-1) < 2^32 (callers stay far below).
constexpr std::uint32_t shift_right_round_nearest_even(std::uint32_t value,
                                                       unsigned shift) noexcept {
  const std::uint32_t half_minus_one = (std::uint32_t{1} << (shift - 1)) - 1;
  const std::uint32_t result_lsb = (value >> shift) & 1;
  return (value + half_minus_one + result_lsb) >> shift;
}

// Encoding (exponent field << MantBits | mantissa field) of |x|, rounded to nearest even,
// for a finite or infinite float32 whose sign bit is already cleared (`abs_bits`).
// The exponent is treated as unbounded above: a result larger than the format's largest
// finite encoding means "overflowed after rounding", and the caller applies its own rule.
// This is exactly "round first, then check the range", so a value that rounds down to the
// largest finite number is not an overflow.
template <int MantBits, int Bias>
constexpr std::uint32_t round_magnitude_nearest_even(std::uint32_t abs_bits) noexcept {
  static_assert(MantBits >= 1 && MantBits <= 22 && Bias >= 1 && Bias <= 126,
                "narrow float formats must be strictly narrower than float32");
  constexpr int f32_mant_bits = 23;
  constexpr int f32_bias = 127;
  // Smallest biased float32 exponent that is still a normal number in the target format.
  constexpr std::uint32_t min_normal_f32_exp = f32_bias + 1 - Bias;

  const std::uint32_t f32_exp = abs_bits >> f32_mant_bits;
  if (f32_exp >= min_normal_f32_exp) {
    // Normal in the target: re-bias the exponent in place, then drop the extra mantissa
    // bits. A mantissa carry ripples into the exponent field, which is exactly right.
    const std::uint32_t rebiased = abs_bits - ((f32_bias - Bias) << f32_mant_bits);
    return shift_right_round_nearest_even(rebiased, f32_mant_bits - MantBits);
  }
  // Subnormal (or zero) in the target: count in units of the smallest subnormal,
  // 2^(1 - Bias - MantBits). The float32 significand with its implicit bit is
  // significand * 2^(f32_exp - 150); shifting by the exponent difference gives the count.
  // Shifts of 25 or more leave less than half a unit (significand < 2^24): result 0.
  // Float32 subnormals (f32_exp == 0) are far below every format's range and land there.
  const std::uint32_t significand = (abs_bits & 0x007FFFFFu) | 0x00800000u;
  const std::uint32_t shift = (f32_bias + f32_mant_bits + 1 - Bias - MantBits) - f32_exp;
  return shift_right_round_nearest_even(significand, shift < 25 ? shift : 25);
}

// Exact float32 value of a finite encoding (exponent field << MantBits | mantissa field).
template <int MantBits, int Bias>
constexpr float decode_finite_magnitude(std::uint32_t code) noexcept {
  constexpr std::uint32_t mant_mask = (std::uint32_t{1} << MantBits) - 1;
  const std::uint32_t exp_field = code >> MantBits;
  const std::uint32_t mant_field = code & mant_mask;
  if (exp_field == 0) {
    // Subnormal: mant_field * 2^(1 - Bias - MantBits). The product is exact because
    // mant_field is tiny and the scale is a normal float32 for every format here.
    constexpr float smallest_subnormal =
        std::bit_cast<float>(static_cast<std::uint32_t>(127 + 1 - Bias - MantBits) << 23);
    return static_cast<float>(mant_field) * smallest_subnormal;
  }
  // Normal: re-bias the exponent and left-align the mantissa in float32's 23 bits.
  return std::bit_cast<float>(((exp_field + 127 - Bias) << 23) | (mant_field << (23 - MantBits)));
}

}  // namespace detail
PACT_NAMESPACE_END
