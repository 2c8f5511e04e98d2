#pragma once
// FP4 E2M1, the OCP Microscaling (MX) 4-bit element type: 1 sign, 2 exponent bits (bias 1),
// 1 mantissa bit. Values +-{0, 0.5, 1, 1.5, 2, 3, 4, 6}; no Inf, no NaN. The nibble lives
// in the low 4 bits of a byte (packing two per byte is the caller's layout decision).
//
// Encoding from float32 rounds to nearest, ties to even (0.25 -> 0, 0.75 -> 1, 2.5 -> 2,
// 5 -> 4), then saturates. The OCP spec leaves NaN/Inf conversion implementation-defined;
// pact's rule:
//   |x| > 6 after rounding (|x| >= 7, the tie 7 goes to 8 then clamps) and +-Inf -> +-6;
//   NaN -> +0 (0x0): there is no NaN to carry, and 0 is the value least likely to blow up
//   a block scaled by a finite MX scale. The sign of zero is kept (-0.0 and tiny negative
//   values -> 0x8).

#include <pact/simd/target.hpp>
#include <pact/types/narrow_float.hpp>

#include <bit>
#include <cstdint>

PACT_NAMESPACE_BEGIN

constexpr std::uint8_t float_to_fp4_e2m1_bits(float value) noexcept {
  constexpr std::uint32_t max_finite_code = 0x7u;  // S.11.1 = 6
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (u >> 28) & 0x8u;
  const std::uint32_t abs_bits = u & 0x7FFFFFFFu;
  if (abs_bits > 0x7F800000u) return 0;  // NaN -> +0
  const std::uint32_t code = detail::round_magnitude_nearest_even<1, 1>(abs_bits);
  return static_cast<std::uint8_t>(sign | (code > max_finite_code ? max_finite_code : code));
}

// Exact. Only the low 4 bits of `bits` are read.
constexpr float fp4_e2m1_bits_to_float(std::uint8_t bits) noexcept {
  const std::uint32_t sign = (bits & 0x8u) << 28;
  return std::bit_cast<float>(
      sign | std::bit_cast<std::uint32_t>(detail::decode_finite_magnitude<1, 1>(bits & 0x7u)));
}

// One E2M1 value in the low nibble; the high nibble is always 0.
struct fp4_e2m1 {
  std::uint8_t bits;

  fp4_e2m1() = default;
  constexpr explicit fp4_e2m1(float value) noexcept : bits(float_to_fp4_e2m1_bits(value)) {}
  static constexpr fp4_e2m1 from_bits(std::uint8_t raw) noexcept {
    fp4_e2m1 result;
    result.bits = static_cast<std::uint8_t>(raw & 0xFu);
    return result;
  }
  constexpr explicit operator float() const noexcept { return fp4_e2m1_bits_to_float(bits); }
};

static_assert(sizeof(fp4_e2m1) == 1);

PACT_NAMESPACE_END
