#pragma once
// Byte interleave for int8 GEMM packing: the VNNI / sdot layout wants the 4 k-values of one
// column next to each other (one int32 lane = b(k..k+3, j)), while a row-major B stores the
// 4 k-values 'ld' bytes apart. interleave4_bytes16 transposes a 4 x 16 byte block:
//
//   out[4*j + t] = rows[t][j]      for j < 16, t < 4
//
// x86 (any width, the kernel is SSE2): two rounds of unpack (bytes, then 16-bit pairs);
// neon64: two rounds of zip; elsewhere plain loops. All paths are byte-exact copies.
//
// interleave4_bytes64 does the same for 4 x 64 bytes. On AVX-512 it is one 512-bit pass:
// the two unpack rounds work inside 128-bit lanes, then a 4 x 4 transpose of the lanes
// (8 shuffles) puts the columns in order; 4 loads and 4 stores instead of 16 and 16.
#include <cstdint>
#include <cstring>

#include "pact/simd/ops_bits.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {

template <class A>
PACT_ALWAYS_INLINE void interleave4_bytes16(const std::int8_t* const* rows, std::int8_t* out,
                                            requires_arch<generic>) noexcept {
  for (int j = 0; j < 16; ++j)
    for (int t = 0; t < 4; ++t) out[4 * j + t] = rows[t][j];
}

#if defined(__SSE2__) && defined(PACT_HAS_XSIMD)
template <class A>
PACT_ALWAYS_INLINE void interleave4_bytes16(const std::int8_t* const* rows, std::int8_t* out,
                                            requires_arch<sse2>) noexcept {
  const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[0]));
  const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[1]));
  const __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[2]));
  const __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[3]));
  const __m128i p01lo = _mm_unpacklo_epi8(r0, r1);  // (k0,k1) pairs of columns 0..7
  const __m128i p01hi = _mm_unpackhi_epi8(r0, r1);  // columns 8..15
  const __m128i p23lo = _mm_unpacklo_epi8(r2, r3);
  const __m128i p23hi = _mm_unpackhi_epi8(r2, r3);
  __m128i* o = reinterpret_cast<__m128i*>(out);
  _mm_storeu_si128(o + 0, _mm_unpacklo_epi16(p01lo, p23lo));  // columns 0..3
  _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(p01lo, p23lo));  // columns 4..7
  _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(p01hi, p23hi));
  _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(p01hi, p23hi));
}
#endif

#if defined(__aarch64__) && defined(PACT_HAS_XSIMD)
template <class A>
PACT_ALWAYS_INLINE void interleave4_bytes16(const std::int8_t* const* rows, std::int8_t* out,
                                            requires_arch<neon64>) noexcept {
  const int8x16_t r0 = vld1q_s8(rows[0]), r1 = vld1q_s8(rows[1]);
  const int8x16_t r2 = vld1q_s8(rows[2]), r3 = vld1q_s8(rows[3]);
  const int16x8_t p01lo = vreinterpretq_s16_s8(vzip1q_s8(r0, r1));
  const int16x8_t p01hi = vreinterpretq_s16_s8(vzip2q_s8(r0, r1));
  const int16x8_t p23lo = vreinterpretq_s16_s8(vzip1q_s8(r2, r3));
  const int16x8_t p23hi = vreinterpretq_s16_s8(vzip2q_s8(r2, r3));
  vst1q_s8(out + 0, vreinterpretq_s8_s16(vzip1q_s16(p01lo, p23lo)));
  vst1q_s8(out + 16, vreinterpretq_s8_s16(vzip2q_s16(p01lo, p23lo)));
  vst1q_s8(out + 32, vreinterpretq_s8_s16(vzip1q_s16(p01hi, p23hi)));
  vst1q_s8(out + 48, vreinterpretq_s8_s16(vzip2q_s16(p01hi, p23hi)));
}
#endif

template <class A>
PACT_ALWAYS_INLINE void interleave4_bytes64(const std::int8_t* const* rows, std::int8_t* out,
                                            requires_arch<generic>) noexcept {
  for (int c = 0; c < 64; c += 16) {
    const std::int8_t* cols[4] = {rows[0] + c, rows[1] + c, rows[2] + c, rows[3] + c};
    interleave4_bytes16<A>(cols, out + 4 * c, A{});
  }
}

#if (defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)) && defined(__AVX512BW__)
template <class A>
PACT_ALWAYS_INLINE void interleave4_bytes64(const std::int8_t* const* rows, std::int8_t* out,
                                            requires_arch<avx512>) noexcept {
  const __m512i r0 = _mm512_loadu_si512(rows[0]), r1 = _mm512_loadu_si512(rows[1]);
  const __m512i r2 = _mm512_loadu_si512(rows[2]), r3 = _mm512_loadu_si512(rows[3]);
  const __m512i p01lo = _mm512_unpacklo_epi8(r0, r1), p01hi = _mm512_unpackhi_epi8(r0, r1);
  const __m512i p23lo = _mm512_unpacklo_epi8(r2, r3), p23hi = _mm512_unpackhi_epi8(r2, r3);
  // Lane k of u_m holds columns 16k + 4m .. 16k + 4m + 3.
  const __m512i u0 = _mm512_unpacklo_epi16(p01lo, p23lo), u1 = _mm512_unpackhi_epi16(p01lo, p23lo);
  const __m512i u2 = _mm512_unpacklo_epi16(p01hi, p23hi), u3 = _mm512_unpackhi_epi16(p01hi, p23hi);
  // Output vector k = lanes k of u0..u3.
  const __m512i a0 = _mm512_shuffle_i64x2(u0, u1, 0x44), a1 = _mm512_shuffle_i64x2(u0, u1, 0xEE);
  const __m512i a2 = _mm512_shuffle_i64x2(u2, u3, 0x44), a3 = _mm512_shuffle_i64x2(u2, u3, 0xEE);
  _mm512_storeu_si512(out + 0, _mm512_shuffle_i64x2(a0, a2, 0x88));
  _mm512_storeu_si512(out + 64, _mm512_shuffle_i64x2(a0, a2, 0xDD));
  _mm512_storeu_si512(out + 128, _mm512_shuffle_i64x2(a1, a3, 0x88));
  _mm512_storeu_si512(out + 192, _mm512_shuffle_i64x2(a1, a3, 0xDD));
}
#endif

}  // namespace detail

/// out[4j + t] = rows[t][j] for j < 16, t < 4 (reads 16 bytes of each row, writes 64).
template <usable_arch A>
struct interleave4_bytes16_fn {
  PACT_ALWAYS_INLINE void operator()(const std::int8_t* const* rows, std::int8_t* out) const noexcept {
    detail::interleave4_bytes16<A>(rows, out, A{});
  }
};
template <usable_arch A>
inline constexpr interleave4_bytes16_fn<A> interleave4_bytes16{};

/// out[4j + t] = rows[t][j] for j < 64, t < 4 (reads 64 bytes of each row, writes 256).
template <usable_arch A>
struct interleave4_bytes64_fn {
  PACT_ALWAYS_INLINE void operator()(const std::int8_t* const* rows, std::int8_t* out) const noexcept {
    detail::interleave4_bytes64<A>(rows, out, A{});
  }
};
template <usable_arch A>
inline constexpr interleave4_bytes64_fn<A> interleave4_bytes64{};

}  // namespace simd
PACT_NAMESPACE_END
