#pragma once
// SIMD dequantization of OCP MX blocks (quant/formats/mx_blocks.hpp), bit-identical to
// quant::scalar::dequantize_block: value_j = decode(element_j) * X, one rounding-free
// decode and one multiply, in the scalar path's order.
//
//   MXFP8 E4M3 / E5M2: the exact FP8 -> f32 loads of simd/ops_kv.hpp (NaN codes -> NaN,
//                      E5M2 Inf -> Inf)
//   MXINT8:            exact int8 -> f32, times 2^-6, then times X (two exact-order products)
//   MXFP6 / MXFP4:     the 6- or 4-bit codes are loaded straight into int32 lanes
//                      (simd/ops_subbyte.hpp), then decoded by bit arithmetic:
//                      normal  = ((e + 127 - bias) << 23) | (m << (23 - mant))
//                      subnormal (e == 0) = m * 2^(1 - bias - mant), exact
//                      with the sign bit ORed back, so -0 stays -0 as in the scalar decoder.
//                      These formats have no Inf / NaN codes.
// A NaN scale (0xFF) multiplies every element into NaN, as the spec says.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "pact/quant/formats/mx_blocks.hpp"
#include "pact/simd/ops_kv.hpp"
#include "pact/simd/ops_subbyte.hpp"
#include "pact/simd/simd.hpp"
#include "pact/types/e8m0.hpp"

PACT_NAMESPACE_BEGIN
namespace quant::mx_detail {

/// Exact value of the sign-magnitude minifloat codes in the low SignBit + 1 bits of c
/// (no Inf / NaN codes: E2M1, E2M3, E3M2).
template <int MantBits, int Bias, int SignBit, class A>
PACT_ALWAYS_INLINE simd::vec<float, A> decode_small_float(const simd::vec<std::int32_t, A>& c) noexcept {
  using VI = simd::vec<std::int32_t, A>;
  const VI mag = c & simd::broadcast<A>(std::int32_t{(1 << SignBit) - 1});
  const VI e = mag >> MantBits;
  const VI m = mag & simd::broadcast<A>(std::int32_t{(1 << MantBits) - 1});
  const auto normal = simd::bitcast<float>(((e + simd::broadcast<A>(std::int32_t{127 - Bias})) << 23) | (m << (23 - MantBits)));
  constexpr float sub_unit = 1.0f / static_cast<float>(1 << (Bias - 1 + MantBits));  // 2^(1 - bias - mant)
  const auto sub = simd::to_float(m) * simd::broadcast<A>(sub_unit);
  const auto value = simd::select(simd::cmp_eq(simd::to_float(e), simd::zero<float, A>()), sub, normal);
  const VI sign = (c >> SignBit) << 31;
  return simd::bitcast<float>(simd::bitcast<std::int32_t>(value) | sign);
}

/// Decoded (unscaled) element lanes [k, k + lanes) of a block.
template <class A, class Block>
struct mx_element_decoder;

template <class A, class Block>
  requires(std::is_same_v<Block, mx_block_fp8_e4m3> || std::is_same_v<Block, mx_block_fp8_e5m2>)
struct mx_element_decoder<A, Block> {
  const std::uint8_t* q;
  explicit mx_element_decoder(const Block& b) noexcept : q(b.q) {}
  PACT_ALWAYS_INLINE simd::vec<float, A> operator()(int k) const noexcept {
    if constexpr (std::is_same_v<Block, mx_block_fp8_e4m3>) return simd::load_fp8_e4m3_f32<A>(q + k);
    else return simd::load_fp8_e5m2_f32<A>(q + k);
  }
};
template <class A>
struct mx_element_decoder<A, mx_block_int8> {
  const std::int8_t* q;
  explicit mx_element_decoder(const mx_block_int8& b) noexcept : q(b.q) {}
  PACT_ALWAYS_INLINE simd::vec<float, A> operator()(int k) const noexcept {
    return simd::load_i8_f32<A>(q + k) * simd::broadcast<A>(0.015625f);
  }
};
/// FP6 / FP4: codes straight from the packed stream, then the bit decode (mantissa bits,
/// exponent bias, sign bit position of each element type).
template <class A, class Block>
  requires(std::is_same_v<Block, mx_block_fp6_e2m3> || std::is_same_v<Block, mx_block_fp6_e3m2> ||
           std::is_same_v<Block, mx_block_fp4>)
struct mx_element_decoder<A, Block> {
  static constexpr bool fp4 = std::is_same_v<Block, mx_block_fp4>;
  static constexpr int mant = fp4 ? 1 : (std::is_same_v<Block, mx_block_fp6_e2m3> ? 3 : 2);
  static constexpr int bias = std::is_same_v<Block, mx_block_fp6_e3m2> ? 3 : 1;
  const std::uint8_t* packed;
  explicit mx_element_decoder(const Block& b) noexcept : packed(b.packed) {}
  PACT_ALWAYS_INLINE simd::vec<float, A> operator()(int k) const noexcept {
    if constexpr (fp4) return decode_small_float<mant, bias, 3, A>(simd::load_u4_to_i32<A>(packed + k / 2));
    else return decode_small_float<mant, bias, 5, A>(simd::load_u6_to_i32<A>(packed + 3 * k / 4));
  }
};

/// y[32 b + j] = element j of block b times its scale, for n_blocks blocks (no checks).
template <class A, class Block>
void dequantize_mx_blocks(const Block* x, float* y, std::size_t n_blocks) noexcept {
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  static_assert(32 % L == 0, "an MX block must be a whole number of float vectors");
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const auto scale = simd::broadcast<A>(e8m0_to_float(x[b].scale));  // NaN for 0xFF
    const mx_element_decoder<A, Block> element(x[b]);
    float* yb = y + 32 * b;
#pragma GCC unroll 4
    for (int k = 0; k < 32; k += L) simd::store(yb + k, element(k) * scale);
  }
}

}  // namespace quant::mx_detail
PACT_NAMESPACE_END
