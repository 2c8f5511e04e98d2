#pragma once
// int4 nibble unpack: each byte holds two 4-bit values, element 2i in the low nibble and
// element 2i+1 in the high nibble (the layout of types/int4.hpp and of ggml's Q4 blocks
// after their own reordering). Shifting 16-bit lanes and masking is exact because the
// mask clears the bits that crossed from the neighbouring byte.
#include <cstdint>

#include "pact/simd/ops_bits.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {

/// Low nibbles of every byte, as values 0..15.
struct unpack_low_nibbles_fn {
template <class V>
PACT_ALWAYS_INLINE V operator()(const V& packed) const noexcept {
  static_assert(std::is_same_v<typename V::value_type, std::uint8_t>);
  return packed & broadcast<arch_of<V>>(std::uint8_t{0x0F});
}
};
inline constexpr unpack_low_nibbles_fn unpack_low_nibbles{};

/// High nibbles of every byte, as values 0..15.
struct unpack_high_nibbles_fn {
template <class V>
PACT_ALWAYS_INLINE V operator()(const V& packed) const noexcept {
  static_assert(std::is_same_v<typename V::value_type, std::uint8_t>);
  using A = arch_of<V>;
  const auto shifted = bitcast<std::uint8_t>(bitcast<std::uint16_t>(packed) >> 4);
  return shifted & broadcast<A>(std::uint8_t{0x0F});
}
};
inline constexpr unpack_high_nibbles_fn unpack_high_nibbles{};

/// Signed view of a nibble pair's values: 0..15 -> -8..7 (two's complement nibble).
struct sign_extend_nibbles_fn {
template <class V>
PACT_ALWAYS_INLINE vec<std::int8_t, arch_of<V>> operator()(const V& nibbles) const noexcept {
  using A = arch_of<V>;
  // (x ^ 8) - 8 maps 0..7 -> 0..7 and 8..15 -> -8..-1.
  const auto x = bitcast<std::int8_t>(nibbles ^ broadcast<A>(std::uint8_t{8}));
  return x - broadcast<A>(std::int8_t{8});
}
};
inline constexpr sign_extend_nibbles_fn sign_extend_nibbles{};

}  // namespace simd
PACT_NAMESPACE_END
