#pragma once
// Scalar float helpers shared by the quantizers.
//
// Why `no_contract`: g++ in its default GNU mode (-std=gnu++20, -ffp-contract=fast) fuses
// `a * b + c` into one FMA on targets that have it, which rounds once instead of twice. The
// reference quantizers (ggml's, and pact's own) are specified with every operation rounded
// separately, and the SIMD paths must match the scalar path bit for bit on every arch, so
// every product that feeds an addition goes through no_contract(): an empty asm statement
// the optimizer cannot see through, which forces the product to be rounded to float first.
// It costs nothing at run time (no instruction is emitted).

#include <pact/simd/target.hpp>

#include <bit>
#include <cmath>
#include <cstdint>

PACT_NAMESPACE_BEGIN
namespace quant::detail {

PACT_ALWAYS_INLINE float no_contract(float x) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__)
  __asm__("" : "+x"(x));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(x));
#elif defined(__GNUC__) && defined(__riscv) && defined(__riscv_flen)
  __asm__("" : "+f"(x));
#else
  volatile float barrier = x;
  x = barrier;
#endif
  return x;
}

/// ggml's nearest_int: round to nearest, ties to even, by adding 1.5 * 2^23 and reading
/// the low mantissa bits. Exact for |v| <= 2^22 - 1 (ggml asserts that range); outside it
/// the result is meaningless but defined (no UB), and callers clamp it.
PACT_ALWAYS_INLINE int nearest_int_magic(float v) noexcept {
  const float shifted = v + 12582912.f;
  const auto bits = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(shifted) & 0x007FFFFFu);
  return bits - 0x00400000;
}

/// (int)value clamped to [lo, hi], truncating toward zero like a C cast;
/// NaN -> 0 (clamped into [lo, hi]). Never UB (a plain cast of NaN or a huge value is).
PACT_ALWAYS_INLINE int trunc_clamp(float value, int lo, int hi) noexcept {
  if (!(value == value)) return lo > 0 ? lo : (hi < 0 ? hi : 0);
  if (value <= static_cast<float>(lo)) return lo;
  if (value >= static_cast<float>(hi)) return hi;
  return static_cast<int>(value);
}

/// roundf (half away from zero) clamped to [lo, hi]; NaN -> 0 (clamped into range).
PACT_ALWAYS_INLINE int round_away_clamp(float value, int lo, int hi) noexcept {
  if (!(value == value)) return lo > 0 ? lo : (hi < 0 ? hi : 0);
  if (value <= static_cast<float>(lo)) return lo;
  if (value >= static_cast<float>(hi)) return hi;
  return static_cast<int>(std::round(value));
}

/// Round to nearest, ties to even, clamped to [lo, hi]; NaN -> 0 (clamped into range).
PACT_ALWAYS_INLINE int round_even_clamp(float value, int lo, int hi) noexcept {
  if (!(value == value)) return lo > 0 ? lo : (hi < 0 ? hi : 0);
  if (value <= static_cast<float>(lo)) return lo;
  if (value >= static_cast<float>(hi)) return hi;
  return static_cast<int>(std::nearbyint(value));
}

/// 2^e exactly as a float, for e in [-149, 127].
constexpr float exp2_int(int e) noexcept {
  if (e >= -126) return std::bit_cast<float>(static_cast<std::uint32_t>(e + 127) << 23);
  return std::bit_cast<float>(std::uint32_t{1} << (e + 149));
}

}  // namespace quant::detail
PACT_NAMESPACE_END
