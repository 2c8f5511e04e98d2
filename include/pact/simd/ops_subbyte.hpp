#pragma once
// Sub-byte code streams -> int32 lanes, for formats that pack 4- or 6-bit codes (MXFP4,
// MXFP6):
//   load_u4_to_i32<A>(p)  lanes<int32, A> 4-bit codes; code j is the low nibble of p[j / 2]
//                         for even j, the high nibble for odd j; reads lanes / 2 bytes
//   load_u6_to_i32<A>(p)  lanes<int32, A> 6-bit codes of a little-endian bit stream: code j
//                         is bits [6j, 6j + 6) where bit b is (p[b / 8] >> (b % 8)) & 1;
//                         reads 6 lanes / 8 bytes (lanes is a multiple of 4)
// Neither reads past the bytes it names, so a kernel can decode the last block of a buffer.
// Per arch: AVX-512 and AVX2 duplicate / shuffle the bytes into 16- or 32-bit lanes and shift
// each lane by its own count (vpsrlvd); other targets go through a stack buffer.
#include <cstdint>
#include <cstring>

#include "pact/simd/ops_arith.hpp"
#include "pact/simd/ops_bits.hpp"
#include "pact/simd/ops_memory.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {

template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_u4_to_i32(const std::uint8_t* p, requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<std::int32_t, A>;
  alignas(64) std::int32_t t[n];
  for (std::size_t j = 0; j < n; ++j) t[j] = (p[j / 2] >> (4 * (j % 2))) & 0xF;
  return load_aligned<A>(t);
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_u6_to_i32(const std::uint8_t* p, requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<std::int32_t, A>;
  static_assert(n % 4 == 0, "6-bit codes come in groups of 4 per 3 bytes");
  alignas(64) std::int32_t t[n];
  for (std::size_t g = 0; g < n / 4; ++g) {
    const std::uint32_t w = static_cast<std::uint32_t>(p[3 * g]) | static_cast<std::uint32_t>(p[3 * g + 1]) << 8 |
                            static_cast<std::uint32_t>(p[3 * g + 2]) << 16;
    for (std::size_t i = 0; i < 4; ++i) t[4 * g + i] = static_cast<std::int32_t>((w >> (6 * i)) & 0x3Fu);
  }
  return load_aligned<A>(t);
}

#if defined(PACT_HAS_XSIMD) && defined(__AVX2__) && defined(__FMA__)
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_u4_to_i32(const std::uint8_t* p, requires_arch<avx2>) noexcept {
  std::int32_t word;
  std::memcpy(&word, p, 4);
  const __m128i b = _mm_cvtsi32_si128(word);
  const __m256i w = _mm256_cvtepu8_epi32(_mm_unpacklo_epi8(b, b));  // byte j / 2 in lane j
  return _mm256_and_si256(_mm256_srlv_epi32(w, _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4)), _mm256_set1_epi32(0xF));
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_u6_to_i32(const std::uint8_t* p, requires_arch<avx2>) noexcept {
  std::uint32_t lo = 0;
  std::uint16_t hi = 0;
  std::memcpy(&lo, p, 4);
  std::memcpy(&hi, p + 4, 2);
  const __m128i b = _mm_cvtsi64_si128(static_cast<long long>(lo | static_cast<std::uint64_t>(hi) << 32));
  // Lane j takes the 16 bits starting at byte 6j / 8 and shifts right by 6j % 8.
  const __m128i pairs = _mm_shuffle_epi8(b, _mm_setr_epi8(0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6));
  const __m256i w = _mm256_cvtepu16_epi32(pairs);
  return _mm256_and_si256(_mm256_srlv_epi32(w, _mm256_setr_epi32(0, 6, 4, 2, 0, 6, 4, 2)), _mm256_set1_epi32(0x3F));
}
#endif

#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_u4_to_i32(const std::uint8_t* p, requires_arch<avx512>) noexcept {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  const __m512i w = _mm512_maskz_cvtepu8_epi32(__mmask16(0xFFFF), _mm_unpacklo_epi8(b, b));
  const __m512i shift = _mm512_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4);
  return _mm512_and_si512(_mm512_srlv_epi32(w, shift), _mm512_set1_epi32(0xF));
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_u6_to_i32(const std::uint8_t* p, requires_arch<avx512>) noexcept {
  std::uint64_t lo;
  std::int32_t hi;
  std::memcpy(&lo, p, 8);
  std::memcpy(&hi, p + 8, 4);
  const __m128i b = _mm_insert_epi32(_mm_cvtsi64_si128(static_cast<long long>(lo)), hi, 2);  // bytes 12..15 = 0
  // Lane j takes the 16 bits starting at byte 6j / 8 (lanes 8..15 from the upper copy).
  const __m256i idx = _mm256_setr_epi8(0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6,  //
                                       6, 7, 6, 7, 7, 8, 8, 9, 9, 10, 9, 10, 10, 11, 11, 12);
  const __m256i pairs = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(b), idx);
  const __m512i w = _mm512_maskz_cvtepu16_epi32(__mmask16(0xFFFF), pairs);
  const __m512i shift = _mm512_setr_epi32(0, 6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2, 0, 6, 4, 2);
  return _mm512_and_si512(_mm512_srlv_epi32(w, shift), _mm512_set1_epi32(0x3F));
}
#endif

}  // namespace detail

/// lanes<int32, A> 4-bit codes from the nibble stream at p (low nibble first).
template <usable_arch A>
struct load_u4_to_i32_fn {
  PACT_ALWAYS_INLINE vec<std::int32_t, A> operator()(const std::uint8_t* p) const noexcept {
    return detail::load_u4_to_i32<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load_u4_to_i32_fn<A> load_u4_to_i32{};

/// lanes<int32, A> 6-bit codes from the little-endian bit stream at p.
template <usable_arch A>
struct load_u6_to_i32_fn {
  PACT_ALWAYS_INLINE vec<std::int32_t, A> operator()(const std::uint8_t* p) const noexcept {
    return detail::load_u6_to_i32<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load_u6_to_i32_fn<A> load_u6_to_i32{};

}  // namespace simd
PACT_NAMESPACE_END
