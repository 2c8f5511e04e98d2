#pragma once
// E8M0: the OCP Microscaling (MX) shared block scale. Eight exponent bits, nothing else:
// code e means 2^(e - 127) for e in [0, 254], and 0xFF is NaN. There is no sign, no zero
// and no Inf; the smallest scale, 2^-127 (e = 0), is a float32 subnormal.

#include <pact/simd/target.hpp>

#include <bit>
#include <cstdint>

PACT_NAMESPACE_BEGIN

struct e8m0 {
  std::uint8_t bits;

  static constexpr int bias = 127;
  static constexpr std::uint8_t nan_bits = 0xFF;

  static constexpr e8m0 from_bits(std::uint8_t raw) noexcept {
    e8m0 result;
    result.bits = raw;
    return result;
  }
  constexpr bool is_nan() const noexcept { return bits == nan_bits; }
  // The power of two this scale stands for (meaningless for NaN).
  constexpr int exponent() const noexcept { return static_cast<int>(bits) - bias; }
};

static_assert(sizeof(e8m0) == 1);

// Exact: 2^(e - 127). For e >= 1 that is the float32 whose biased exponent field is e and
// whose mantissa is 0, i.e. e << 23. e = 0 (2^-127) is the subnormal with only mantissa
// bit 22 set. 0xFF -> quiet NaN 0x7FC00000.
constexpr float e8m0_to_float(e8m0 scale) noexcept {
  if (scale.is_nan()) return std::bit_cast<float>(0x7FC00000u);
  if (scale.bits == 0) return std::bit_cast<float>(0x00400000u);
  return std::bit_cast<float>(static_cast<std::uint32_t>(scale.bits) << 23);
}

// The scale 2^exponent, with exponent clamped to the representable [-127, 127]
// (never produces NaN).
constexpr e8m0 e8m0_from_exponent(int exponent) noexcept {
  const int clamped = exponent < -127 ? -127 : (exponent > 127 ? 127 : exponent);
  return e8m0::from_bits(static_cast<std::uint8_t>(clamped + e8m0::bias));
}

// floor(log2(|x|)) clamped to [-127, 127], as an E8M0 code: the shared-exponent rule of the
// OCP MX spec (scale = 2^(floor(log2(amax)) - emax_of_element_type), the caller subtracts).
// For a normal float32 floor(log2|x|) + 127 is just its biased exponent field. Zero and
// float32 subnormals (|x| < 2^-126, so floor(log2|x|) <= -127) clamp to -127, code 0;
// the float32 exponent field of those is 0 as well. NaN and +-Inf -> NaN (0xFF).
constexpr e8m0 e8m0_from_float_floor_log2(float value) noexcept {
  const std::uint32_t biased_exponent = (std::bit_cast<std::uint32_t>(value) >> 23) & 0xFFu;
  return e8m0::from_bits(static_cast<std::uint8_t>(biased_exponent));  // 0xFF only for NaN/Inf
}

PACT_NAMESPACE_END
