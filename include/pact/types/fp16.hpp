#pragma once
// IEEE 754 binary16 ("half"): 1 sign, 5 exponent (bias 15), 10 mantissa bits, with
// subnormals, Inf and NaN. Portable scalar conversions whose results are bit-identical
// to x86 F16C (vcvtps2ph with round-to-nearest-even, vcvtph2ps), NaNs included.

#include <pact/simd/target.hpp>
#include <pact/types/narrow_float.hpp>

#include <bit>
#include <cstdint>

PACT_NAMESPACE_BEGIN

// float32 -> binary16 bits, round to nearest, ties to even (subnormals included).
//  - |x| >= 65520 (midpoint between the max 65504 and 2^16; the tie goes up because 65504's
//    mantissa is odd) and Inf -> +-Inf (0x7C00 | sign).
//  - NaN -> sign | 0x7C00 | 0x0200 | top 10 float32 payload bits: quiet, payload kept.
constexpr std::uint16_t float_to_fp16_bits(float value) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (u >> 16) & 0x8000u;
  const std::uint32_t abs_bits = u & 0x7FFFFFFFu;
  if (abs_bits > 0x7F800000u) {
    return static_cast<std::uint16_t>(sign | 0x7C00u | 0x0200u | ((abs_bits >> 13) & 0x03FFu));
  }
  constexpr std::uint32_t max_finite_code = 0x7BFFu;  // 65504
  const std::uint32_t code = detail::round_magnitude_nearest_even<10, 15>(abs_bits);
  return static_cast<std::uint16_t>(sign | (code > max_finite_code ? 0x7C00u : code));
}

// binary16 bits -> float32, exact (every binary16 value is a float32).
// NaN -> sign | 0x7F800000 | 0x00400000 | payload << 13: quiet, payload kept (like F16C).
constexpr float fp16_bits_to_float(std::uint16_t bits) noexcept {
  const std::uint32_t sign = (bits & 0x8000u) << 16;
  const std::uint32_t magnitude = bits & 0x7FFFu;
  if (magnitude >= 0x7C00u) {
    const std::uint32_t mantissa = magnitude & 0x03FFu;
    const std::uint32_t quiet = mantissa != 0 ? 0x00400000u : 0u;  // Inf has no payload
    return std::bit_cast<float>(sign | 0x7F800000u | quiet | (mantissa << 13));
  }
  return std::bit_cast<float>(
      sign | std::bit_cast<std::uint32_t>(detail::decode_finite_magnitude<10, 15>(magnitude)));
}

// Storage type: exactly 2 bytes, trivially copyable, no arithmetic. Convert to float to compute.
struct fp16 {
  std::uint16_t bits;

  fp16() = default;
  constexpr explicit fp16(float value) noexcept : bits(float_to_fp16_bits(value)) {}
  static constexpr fp16 from_bits(std::uint16_t raw) noexcept {
    fp16 result;
    result.bits = raw;
    return result;
  }
  constexpr explicit operator float() const noexcept { return fp16_bits_to_float(bits); }
};

static_assert(sizeof(fp16) == 2 && alignof(fp16) == 2);

PACT_NAMESPACE_END
