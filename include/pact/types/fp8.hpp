#pragma once
// The two OCP 8-bit floating-point formats (OCP "OFP8" spec, also NVIDIA/AMD/Arm FP8):
//   fp8_e4m3: 1 sign, 4 exponent (bias 7), 3 mantissa bits. "FN" variant: no infinities,
//             the only NaN is S.1111.111, so S.1111.110 = +-448 is the largest finite value.
//   fp8_e5m2: 1 sign, 5 exponent (bias 15), 2 mantissa bits. IEEE-like: Inf = S.11111.00,
//             NaN = S.11111.{01,10,11}, largest finite +-57344. (It is binary16 with the low
//             8 bits dropped.)
//
// Encoding from float32 rounds to nearest, ties to even (subnormals included), and only
// then checks the range: a value that rounds down to the largest finite number is not an
// overflow. What happens to overflow and Inf is chosen by fp8_overflow:
//
//                      | e4m3 saturate | e4m3 to_nan_or_inf | e5m2 saturate | e5m2 to_nan_or_inf
//   overflow (|x|>max) | +-448 (0x7E)  | NaN (0x7F)         | +-57344 (0x7B)| +-Inf (0x7C)
//   +-Inf              | +-448         | NaN                | +-57344       | +-Inf
//   NaN                | NaN 0x7F|sign | NaN 0x7F|sign      | NaN 0x7E|sign | NaN 0x7E|sign
//
// "Overflow" means after rounding: e4m3 overflows for |x| > 464 (464 is the tie between 448
// and 480 and goes to 448, whose mantissa is even); e5m2 overflows for |x| >= 61440 (the tie
// between 57344 and 65536 goes up, 57344's mantissa being odd). The default is saturate for
// both formats (the usual choice when quantizing weights and activations; OCP's saturating
// mode maps Inf to the largest finite value as well).

#include <pact/simd/target.hpp>
#include <pact/types/narrow_float.hpp>

#include <bit>
#include <cstdint>

PACT_NAMESPACE_BEGIN

enum class fp8_overflow : std::uint8_t {
  saturate,       // out of range and Inf -> largest finite value of the same sign
  to_nan_or_inf,  // out of range and Inf -> NaN (e4m3, which has no Inf) or Inf (e5m2)
};

// ---- e4m3 (FN) ----

constexpr std::uint8_t float_to_fp8_e4m3_bits(float value,
                                              fp8_overflow mode = fp8_overflow::saturate) noexcept {
  constexpr std::uint32_t max_finite_code = 0x7Eu;  // S.1111.110 = 448
  constexpr std::uint32_t nan_code = 0x7Fu;         // S.1111.111
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (u >> 24) & 0x80u;
  const std::uint32_t abs_bits = u & 0x7FFFFFFFu;
  if (abs_bits > 0x7F800000u) return static_cast<std::uint8_t>(sign | nan_code);
  // Inf needs no case of its own: its rounded code is far above max_finite_code.
  const std::uint32_t code = detail::round_magnitude_nearest_even<3, 7>(abs_bits);
  const std::uint32_t overflow_code = mode == fp8_overflow::saturate ? max_finite_code : nan_code;
  return static_cast<std::uint8_t>(sign | (code > max_finite_code ? overflow_code : code));
}

// Exact. NaN (S.1111.111) -> float32 quiet NaN with the same sign (sign | 0x7FC00000).
constexpr float fp8_e4m3_bits_to_float(std::uint8_t bits) noexcept {
  const std::uint32_t sign = (bits & 0x80u) << 24;
  const std::uint32_t magnitude = bits & 0x7Fu;
  if (magnitude == 0x7Fu) return std::bit_cast<float>(sign | 0x7FC00000u);
  return std::bit_cast<float>(
      sign | std::bit_cast<std::uint32_t>(detail::decode_finite_magnitude<3, 7>(magnitude)));
}

// ---- e5m2 ----

constexpr std::uint8_t float_to_fp8_e5m2_bits(float value,
                                              fp8_overflow mode = fp8_overflow::saturate) noexcept {
  constexpr std::uint32_t max_finite_code = 0x7Bu;  // S.11110.11 = 57344
  constexpr std::uint32_t inf_code = 0x7Cu;         // S.11111.00
  constexpr std::uint32_t quiet_nan_code = 0x7Eu;   // S.11111.10
  const std::uint32_t u = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (u >> 24) & 0x80u;
  const std::uint32_t abs_bits = u & 0x7FFFFFFFu;
  if (abs_bits > 0x7F800000u) return static_cast<std::uint8_t>(sign | quiet_nan_code);
  const std::uint32_t code = detail::round_magnitude_nearest_even<2, 15>(abs_bits);
  const std::uint32_t overflow_code = mode == fp8_overflow::saturate ? max_finite_code : inf_code;
  return static_cast<std::uint8_t>(sign | (code > max_finite_code ? overflow_code : code));
}

// Exact, and equal to binary16 decoding of (bits << 8), NaNs included:
// NaN -> sign | 0x7F800000 | 0x00400000 | mantissa << 21 (quiet, payload kept).
constexpr float fp8_e5m2_bits_to_float(std::uint8_t bits) noexcept {
  const std::uint32_t sign = (bits & 0x80u) << 24;
  const std::uint32_t magnitude = bits & 0x7Fu;
  if (magnitude >= 0x7Cu) {
    const std::uint32_t mantissa = magnitude & 0x03u;
    const std::uint32_t quiet = mantissa != 0 ? 0x00400000u : 0u;  // Inf has no payload
    return std::bit_cast<float>(sign | 0x7F800000u | quiet | (mantissa << 21));
  }
  return std::bit_cast<float>(
      sign | std::bit_cast<std::uint32_t>(detail::decode_finite_magnitude<2, 15>(magnitude)));
}

// ---- storage types: exactly 1 byte, trivially copyable, no arithmetic ----

struct fp8_e4m3 {
  std::uint8_t bits;

  fp8_e4m3() = default;
  constexpr explicit fp8_e4m3(float value, fp8_overflow mode = fp8_overflow::saturate) noexcept
      : bits(float_to_fp8_e4m3_bits(value, mode)) {}
  static constexpr fp8_e4m3 from_bits(std::uint8_t raw) noexcept {
    fp8_e4m3 result;
    result.bits = raw;
    return result;
  }
  constexpr explicit operator float() const noexcept { return fp8_e4m3_bits_to_float(bits); }
};

struct fp8_e5m2 {
  std::uint8_t bits;

  fp8_e5m2() = default;
  constexpr explicit fp8_e5m2(float value, fp8_overflow mode = fp8_overflow::saturate) noexcept
      : bits(float_to_fp8_e5m2_bits(value, mode)) {}
  static constexpr fp8_e5m2 from_bits(std::uint8_t raw) noexcept {
    fp8_e5m2 result;
    result.bits = raw;
    return result;
  }
  constexpr explicit operator float() const noexcept { return fp8_e5m2_bits_to_float(bits); }
};

static_assert(sizeof(fp8_e4m3) == 1 && sizeof(fp8_e5m2) == 1);

PACT_NAMESPACE_END
