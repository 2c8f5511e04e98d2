#pragma once
// bfloat16: the top 16 bits of an IEEE float32 (1 sign, 8 exponent, 7 mantissa bits).
// Same exponent range as float32, so conversion is a rounding of the low 16 bits only.

#include <pact/simd/target.hpp>

#include <bit>
#include <cstdint>

PACT_NAMESPACE_BEGIN

// float32 -> bf16 bits, round to nearest, ties to even.
//  - NaN keeps its sign and top payload bits and gets the quiet bit forced on, so a
//    signalling NaN whose payload lives only in the low 16 bits cannot become Inf.
//  - Inf stays Inf. A finite value at or above the midpoint between the largest bf16
//    (0x7F7F) and 2^128 rounds to Inf: that is ordinary round-to-nearest-even overflow.
constexpr std::uint16_t float_to_bf16_bits(float value) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
    return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  }
  // Adding 0x7FFF rounds every discarded half above 0x8000 up; adding the kept lowest bit
  // as well rounds the exact tie 0x8000 up only when that makes the result even.
  // No wrap-around: the largest non-NaN pattern is -Inf, 0xFF800000.
  return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

// bf16 bits -> float32: exact, every bf16 (NaN payloads included) is a float32.
constexpr float bf16_bits_to_float(std::uint16_t bits) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

// Storage type: exactly 2 bytes, trivially copyable, no arithmetic. Convert to float to compute.
struct bf16 {
  std::uint16_t bits;

  bf16() = default;
  constexpr explicit bf16(float value) noexcept : bits(float_to_bf16_bits(value)) {}
  static constexpr bf16 from_bits(std::uint16_t raw) noexcept {
    bf16 result;
    result.bits = raw;
    return result;
  }
  constexpr explicit operator float() const noexcept { return bf16_bits_to_float(bits); }
};

static_assert(sizeof(bf16) == 2 && alignof(bf16) == 2);

PACT_NAMESPACE_END
