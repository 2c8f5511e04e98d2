#pragma once
// OCP Microscaling (MX v1.0) quantize / dequantize for MXFP8 (E4M3, E5M2), MXFP6 (E2M3,
// E3M2), MXFP4 (E2M1) and MXINT8; block layouts in quant/formats/mx_blocks.hpp.
//
// Quantizing a block of 32 floats V_i (the spec's section 6.3 rule):
//   amax = max_i |V_i|
//   X    = 2^E with E = floor(log2(amax)) - emax_elem, clamped to [-127, 127]
//          (E = -127, scale code 0, for an all-zero block)
//   P_i  = element(V_i / X): round to nearest, ties to even, saturating to the element's
//          largest finite magnitude (the spec's clamp); E4M3 has a NaN code but saturates
//          like the others; MXINT8: P_i = clamp(RNE(64 * V_i / X), -127, 127) (the symmetric
//          range; code -128 is never produced but decodes to -2 X).
// V_i / X is computed as V_i * 2^-E, exact whenever the quotient is a normal float32 (and
// anything smaller rounds to zero in every element type anyway).
// Blocks holding NaN or +-Inf get the NaN scale 0xFF (the spec's NaN block) and zero elements.
//
// Dequantizing: value_i = decode(P_i) * X; scale 0xFF gives NaN for the whole block; element
// NaN / Inf codes (E4M3 S.1111.111, E5M2 S.11111.xx) decode to NaN / Inf.

#include <pact/core/error.hpp>
#include <pact/core/threading.hpp>
#include <pact/quant/detail/float_ops.hpp>
#include <pact/quant/formats/mx_blocks.hpp>
#include <pact/quant/kernels/mx_dequantize.hpp>
#include <pact/types/e8m0.hpp>
#include <pact/types/fp4.hpp>
#include <pact/types/fp6.hpp>
#include <pact/types/fp8.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

PACT_NAMESPACE_BEGIN
namespace quant {

/// Per-format element codec and packing. encode/decode work on one element code.
template <class Block>
struct mx_traits;

template <>
struct mx_traits<mx_block_fp8_e4m3> {
  static constexpr int emax = mx_emax_fp8_e4m3;
  static std::uint8_t encode(float v) noexcept { return float_to_fp8_e4m3_bits(v, fp8_overflow::saturate); }
  static float decode(std::uint8_t c) noexcept { return fp8_e4m3_bits_to_float(c); }
  static std::uint8_t get(const mx_block_fp8_e4m3& b, int j) noexcept { return b.q[j]; }
  static void set_all(mx_block_fp8_e4m3& b, const std::uint8_t* c) noexcept { std::copy(c, c + 32, b.q); }
};
template <>
struct mx_traits<mx_block_fp8_e5m2> {
  static constexpr int emax = mx_emax_fp8_e5m2;
  static std::uint8_t encode(float v) noexcept { return float_to_fp8_e5m2_bits(v, fp8_overflow::saturate); }
  static float decode(std::uint8_t c) noexcept { return fp8_e5m2_bits_to_float(c); }
  static std::uint8_t get(const mx_block_fp8_e5m2& b, int j) noexcept { return b.q[j]; }
  static void set_all(mx_block_fp8_e5m2& b, const std::uint8_t* c) noexcept { std::copy(c, c + 32, b.q); }
};

namespace detail {
/// 6-bit code j of a 24-byte little-endian bit stream.
inline std::uint8_t get_fp6(const std::uint8_t* packed, int j) noexcept {
  const int g = j / 4;
  const std::uint32_t word = static_cast<std::uint32_t>(packed[3 * g]) |
                             static_cast<std::uint32_t>(packed[3 * g + 1]) << 8 |
                             static_cast<std::uint32_t>(packed[3 * g + 2]) << 16;
  return static_cast<std::uint8_t>((word >> (6 * (j % 4))) & 0x3Fu);
}
inline void set_fp6_all(std::uint8_t* packed, const std::uint8_t* codes) noexcept {
  for (int g = 0; g < 8; ++g) {
    const std::uint32_t word = static_cast<std::uint32_t>(codes[4 * g] & 0x3F) |
                               static_cast<std::uint32_t>(codes[4 * g + 1] & 0x3F) << 6 |
                               static_cast<std::uint32_t>(codes[4 * g + 2] & 0x3F) << 12 |
                               static_cast<std::uint32_t>(codes[4 * g + 3] & 0x3F) << 18;
    packed[3 * g] = static_cast<std::uint8_t>(word);
    packed[3 * g + 1] = static_cast<std::uint8_t>(word >> 8);
    packed[3 * g + 2] = static_cast<std::uint8_t>(word >> 16);
  }
}
}  // namespace detail

template <>
struct mx_traits<mx_block_fp6_e2m3> {
  static constexpr int emax = mx_emax_fp6_e2m3;
  static std::uint8_t encode(float v) noexcept { return float_to_fp6_e2m3_bits(v); }
  static float decode(std::uint8_t c) noexcept { return fp6_e2m3_bits_to_float(c); }
  static std::uint8_t get(const mx_block_fp6_e2m3& b, int j) noexcept { return detail::get_fp6(b.packed, j); }
  static void set_all(mx_block_fp6_e2m3& b, const std::uint8_t* c) noexcept { detail::set_fp6_all(b.packed, c); }
};
template <>
struct mx_traits<mx_block_fp6_e3m2> {
  static constexpr int emax = mx_emax_fp6_e3m2;
  static std::uint8_t encode(float v) noexcept { return float_to_fp6_e3m2_bits(v); }
  static float decode(std::uint8_t c) noexcept { return fp6_e3m2_bits_to_float(c); }
  static std::uint8_t get(const mx_block_fp6_e3m2& b, int j) noexcept { return detail::get_fp6(b.packed, j); }
  static void set_all(mx_block_fp6_e3m2& b, const std::uint8_t* c) noexcept { detail::set_fp6_all(b.packed, c); }
};
template <>
struct mx_traits<mx_block_fp4> {
  static constexpr int emax = mx_emax_fp4_e2m1;
  static std::uint8_t encode(float v) noexcept { return float_to_fp4_e2m1_bits(v); }
  static float decode(std::uint8_t c) noexcept { return fp4_e2m1_bits_to_float(c); }
  static std::uint8_t get(const mx_block_fp4& b, int j) noexcept {
    return static_cast<std::uint8_t>((b.packed[j / 2] >> (4 * (j % 2))) & 0xF);
  }
  static void set_all(mx_block_fp4& b, const std::uint8_t* c) noexcept {
    for (int i = 0; i < 16; ++i) b.packed[i] = static_cast<std::uint8_t>((c[2 * i] & 0xF) | (c[2 * i + 1] & 0xF) << 4);
  }
};
template <>
struct mx_traits<mx_block_int8> {
  static constexpr int emax = mx_emax_int8;
  /// v is V / X; the element is RNE(64 v) clamped to [-127, 127].
  static std::uint8_t encode(float v) noexcept {
    return static_cast<std::uint8_t>(static_cast<std::int8_t>(detail::round_even_clamp(v * 64.0f, -127, 127)));
  }
  static float decode(std::uint8_t c) noexcept { return static_cast<float>(static_cast<std::int8_t>(c)) * 0.015625f; }
  static std::uint8_t get(const mx_block_int8& b, int j) noexcept { return static_cast<std::uint8_t>(b.q[j]); }
  static void set_all(mx_block_int8& b, const std::uint8_t* c) noexcept {
    for (int j = 0; j < 32; ++j) b.q[j] = static_cast<std::int8_t>(c[j]);
  }
};

template <class Block>
concept mx_block = requires { mx_traits<Block>::emax; };

namespace scalar {

/// The shared exponent E of a block maximum (see the top of the file).
template <class Block>
int mx_shared_exponent(float amax) noexcept {
  if (amax == 0.0f) return -127;
  const int e = std::ilogb(amax) - mx_traits<Block>::emax;  // exact floor(log2), subnormals too
  return e < -127 ? -127 : (e > 127 ? 127 : e);
}

template <mx_block Block>
void quantize_block(const float* x, Block& y) noexcept {
  using T = mx_traits<Block>;
  float amax = 0.0f;
  bool finite = true;
  for (int j = 0; j < 32; ++j) {
    const float a = std::fabs(x[j]);
    if (!(a <= 3.402823466e+38f)) finite = false;
    else if (a > amax) amax = a;
  }
  std::uint8_t codes[32] = {};
  if (!finite) {
    y.scale = e8m0::from_bits(e8m0::nan_bits);
    T::set_all(y, codes);
    return;
  }
  const int e = mx_shared_exponent<Block>(amax);
  const float inv = quant::detail::exp2_int(-e);
  for (int j = 0; j < 32; ++j) codes[j] = T::encode(x[j] * inv);
  y.scale = e8m0_from_exponent(e);
  T::set_all(y, codes);
}

template <mx_block Block>
void dequantize_block(const Block& b, float* y) noexcept {
  using T = mx_traits<Block>;
  const float s = e8m0_to_float(b.scale);  // NaN for 0xFF
  for (int j = 0; j < 32; ++j) y[j] = T::decode(T::get(b, j)) * s;
}

}  // namespace scalar

/// Quantize x (x.size() == 32 * y.size()) into MX blocks. NaN/Inf blocks become NaN blocks
/// (scale 0xFF), as the spec encodes them; no error.
template <mx_block Block, executor E = serial>
void quantize_mx(std::span<const float> x, std::span<Block> y, const E& exec = E{}) {
  pact::detail::require(x.size() == pact::detail::checked_mul(y.size(), 32, "quantize_mx"),
                        errc::invalid_shape, "quant::quantize_mx: x.size() must equal 32 * y.size()");
  constexpr std::size_t chunk = 512;
  const std::size_t tasks = (y.size() + chunk - 1) / chunk;
  exec.parallel_for(static_cast<index_t>(tasks), [&](index_t t) {
    const std::size_t b0 = static_cast<std::size_t>(t) * chunk;
    const std::size_t b1 = std::min(y.size(), b0 + chunk);
    for (std::size_t b = b0; b < b1; ++b) scalar::quantize_block(x.data() + 32 * b, y[b]);
  });
}

/// Dequantize MX blocks (y.size() == 32 * x.size()) with the native arch's SIMD kernel
/// (quant/kernels/mx_dequantize.hpp, bit-identical to scalar::dequantize_block). A NaN
/// scale gives NaN values.
template <mx_block Block, executor E = serial>
void dequantize_mx(std::span<const Block> x, std::span<float> y, const E& exec = E{}) {
  pact::detail::require(y.size() == pact::detail::checked_mul(x.size(), 32, "dequantize_mx"),
                        errc::invalid_shape, "quant::dequantize_mx: y.size() must equal 32 * x.size()");
  constexpr std::size_t chunk = 512;
  const std::size_t tasks = (x.size() + chunk - 1) / chunk;
  exec.parallel_for(static_cast<index_t>(tasks), [&](index_t t) {
    const std::size_t b0 = static_cast<std::size_t>(t) * chunk;
    const std::size_t b1 = std::min(x.size(), b0 + chunk);
    mx_detail::dequantize_mx_blocks<simd::native_arch>(x.data() + b0, y.data() + 32 * b0, b1 - b0);
  });
}

}  // namespace quant
PACT_NAMESPACE_END
