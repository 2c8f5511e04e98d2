#pragma once
// The two OCP Microscaling (MX v1.0) 6-bit element types. Neither has Inf or NaN; every
// code is a finite number:
//   fp6_e2m3: 1 sign, 2 exponent (bias 1), 3 mantissa bits. Values up to +-7.5
//             (S.11.111), smallest subnormal 0.125.
//   fp6_e3m2: 1 sign, 3 exponent (bias 3), 2 mantissa bits. Values up to +-28
//             (S.111.11), smallest subnormal 0.0625.
// The 6-bit code lives in the low 6 bits of a byte (sign = bit 5); packing four codes into
// three bytes is the MX block's business (quant/formats/mx_blocks.hpp).
//
// Encoding from float32 rounds to nearest, ties to even (types/narrow_float.hpp), then
// saturates: |x| above the largest finite value after rounding and +-Inf -> +-max (the
// spec's conversion clamps to the normal range). NaN -> +0 (no NaN code; same rule as
// fp4_e2m1). The sign of zero is kept.

#include <pact/simd/target.hpp>
#include <pact/types/narrow_float.hpp>

#include <bit>
#include <cstdint>

PACT_NAMESPACE_BEGIN
namespace detail {

template <int MantBits, int Bias, std::uint32_t MaxFiniteCode>
constexpr std::uint8_t float_to_fp6_bits(float value) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (u >> 26) & 0x20u;
  const std::uint32_t abs_bits = u & 0x7FFFFFFFu;
  if (abs_bits > 0x7F800000u) return 0;  // NaN -> +0
  const std::uint32_t code = round_magnitude_nearest_even<MantBits, Bias>(abs_bits);
  return static_cast<std::uint8_t>(sign | (code > MaxFiniteCode ? MaxFiniteCode : code));
}

template <int MantBits, int Bias>
constexpr float fp6_bits_to_float(std::uint8_t bits) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x20u) << 26;
  return std::bit_cast<float>(
      sign | std::bit_cast<std::uint32_t>(decode_finite_magnitude<MantBits, Bias>(bits & 0x1Fu)));
}

}  // namespace detail

constexpr std::uint8_t float_to_fp6_e2m3_bits(float value) noexcept {
  return detail::float_to_fp6_bits<3, 1, 0x1Fu>(value);  // S.11.111 = 7.5
}
constexpr std::uint8_t float_to_fp6_e3m2_bits(float value) noexcept {
  return detail::float_to_fp6_bits<2, 3, 0x1Fu>(value);  // S.111.11 = 28
}
/// Exact. Only the low 6 bits of `bits` are read.
constexpr float fp6_e2m3_bits_to_float(std::uint8_t bits) noexcept {
  return detail::fp6_bits_to_float<3, 1>(bits);
}
/// Exact. Only the low 6 bits of `bits` are read.
constexpr float fp6_e3m2_bits_to_float(std::uint8_t bits) noexcept {
  return detail::fp6_bits_to_float<2, 3>(bits);
}

struct fp6_e2m3 {
  std::uint8_t bits;  // low 6 bits; the top 2 are always 0

  fp6_e2m3() = default;
  constexpr explicit fp6_e2m3(float value) noexcept : bits(float_to_fp6_e2m3_bits(value)) {}
  static constexpr fp6_e2m3 from_bits(std::uint8_t raw) noexcept {
    fp6_e2m3 result;
    result.bits = static_cast<std::uint8_t>(raw & 0x3Fu);
    return result;
  }
  constexpr explicit operator float() const noexcept { return fp6_e2m3_bits_to_float(bits); }
};

struct fp6_e3m2 {
  std::uint8_t bits;  // low 6 bits; the top 2 are always 0

  fp6_e3m2() = default;
  constexpr explicit fp6_e3m2(float value) noexcept : bits(float_to_fp6_e3m2_bits(value)) {}
  static constexpr fp6_e3m2 from_bits(std::uint8_t raw) noexcept {
    fp6_e3m2 result;
    result.bits = static_cast<std::uint8_t>(raw & 0x3Fu);
    return result;
  }
  constexpr explicit operator float() const noexcept { return fp6_e3m2_bits_to_float(bits); }
};

static_assert(sizeof(fp6_e2m3) == 1 && sizeof(fp6_e3m2) == 1);

PACT_NAMESPACE_END
