#pragma once
// Widening loads for quantized KV caches: lanes<float, A> int8 or FP8 E4M3 codes -> f32.
//   load_i8_f32<A>(p)        : exact int8 -> float
//   load_fp8_e4m3_f32<A>(p)  : exact E4M3 (FN) -> float, NaN codes (S.1111.111) -> NaN
//   load_fp8_e4m3_f32_div256<A>(p): E4M3 value / 256 (exact) for the non-NaN codes, the
//     same fp16 route without the multiply and the NaN select: for kernels that fold 256
//     into a scale and test the NaN codes themselves on the bytes (one test per 64 bytes
//     instead of one per 16 elements: quant/kernels/gemv_fp8.hpp)
//   load2_fp8_e4m3_f32_div256<A>(p), load2_fp8_e5m2_f32<A>(p): the same for 2 * lanes codes,
//     as two vectors (lanes [0, L) and [L, 2L)). AVX-512 widens all 32 bytes in one 512-bit
//     step and converts the two halves: 5 instead of 6 port-0/5 operations per 16 codes
//     with the FMA that consumes them (the FP8 GEMV is bound by those ports when hot).
//   load_fp8_e5m2_f32<A>(p)  : exact E5M2 -> float (E5M2 is the top byte of an fp16, so
//     Inf and NaN come out as they are)
// FP8 trick on F16C/AVX-512: E4M3 with its 7 magnitude bits shifted left by 7 is the fp16
// with the same mantissa and an exponent bias of 15 instead of 7, subnormals included;
// the hardware fp16 -> f32 conversion then needs one exact multiply by 2^8.
#include <array>
#include <cstdint>

#include "pact/simd/ops_arith.hpp"
#include "pact/simd/ops_memory.hpp"
#include "pact/types/fp8.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {

template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_i8_f32(const std::int8_t* p, requires_arch<generic>) noexcept {
  alignas(64) float buf[lanes<float, A>];
  for (std::size_t i = 0; i < lanes<float, A>; ++i) buf[i] = static_cast<float>(p[i]);
  return load_aligned<A>(buf);
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp8_e4m3_f32(const std::uint8_t* p, requires_arch<generic>) noexcept {
  alignas(64) float buf[lanes<float, A>];
  for (std::size_t i = 0; i < lanes<float, A>; ++i) buf[i] = fp8_e4m3_bits_to_float(p[i]);
  return load_aligned<A>(buf);
}

template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp8_e4m3_f32_div256(const std::uint8_t* p, requires_arch<generic>) noexcept {
  alignas(64) float buf[lanes<float, A>];
  for (std::size_t i = 0; i < lanes<float, A>; ++i) buf[i] = fp8_e4m3_bits_to_float(p[i]) * (1.0f / 256.0f);
  return load_aligned<A>(buf);
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp8_e5m2_f32(const std::uint8_t* p, requires_arch<generic>) noexcept {
  alignas(64) float buf[lanes<float, A>];
  for (std::size_t i = 0; i < lanes<float, A>; ++i) buf[i] = fp8_e5m2_bits_to_float(p[i]);
  return load_aligned<A>(buf);
}

#if defined(PACT_TARGET_AVX2) || defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_i8_f32(const std::int8_t* p, requires_arch<avx2>) noexcept {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
#if defined(__F16C__)
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp8_e4m3_f32(const std::uint8_t* p, requires_arch<avx2>) noexcept {
  const __m128i w = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  const __m128i mag = _mm_and_si128(w, _mm_set1_epi16(0x7F));
  __m128i h = _mm_or_si128(_mm_slli_epi16(mag, 7), _mm_slli_epi16(_mm_and_si128(w, _mm_set1_epi16(0x80)), 8));
  const __m128i nan = _mm_cmpeq_epi16(mag, _mm_set1_epi16(0x7F));
  h = _mm_or_si128(_mm_andnot_si128(nan, h), _mm_and_si128(nan, _mm_set1_epi16(0x7E00)));
  return _mm256_mul_ps(_mm256_cvtph_ps(h), _mm256_set1_ps(256.0f));
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp8_e4m3_f32_div256(const std::uint8_t* p, requires_arch<avx2>) noexcept {
  // Sign-extended byte << 7: sign in bits 15 and 14, the 7 magnitude bits in 13..7; clear 14.
  const __m128i w = _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm256_cvtph_ps(_mm_and_si128(_mm_slli_epi16(w, 7), _mm_set1_epi16(static_cast<short>(0xBF80))));
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp8_e5m2_f32(const std::uint8_t* p, requires_arch<avx2>) noexcept {
  const __m128i w = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  return _mm256_cvtph_ps(_mm_slli_epi16(w, 8));
}
#endif
#endif
#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_i8_f32(const std::int8_t* p, requires_arch<avx512>) noexcept {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp8_e4m3_f32(const std::uint8_t* p, requires_arch<avx512>) noexcept {
  const __m256i w = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i mag = _mm256_and_si256(w, _mm256_set1_epi16(0x7F));
  __m256i h = _mm256_or_si256(_mm256_slli_epi16(mag, 7), _mm256_slli_epi16(_mm256_and_si256(w, _mm256_set1_epi16(0x80)), 8));
  const __m256i nan = _mm256_cmpeq_epi16(mag, _mm256_set1_epi16(0x7F));
  h = _mm256_blendv_epi8(h, _mm256_set1_epi16(0x7E00), nan);
  return _mm512_mul_ps(_mm512_cvtph_ps(h), _mm512_set1_ps(256.0f));
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp8_e4m3_f32_div256(const std::uint8_t* p, requires_arch<avx512>) noexcept {
  const __m256i w = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm512_cvtph_ps(_mm256_and_si256(_mm256_slli_epi16(w, 7), _mm256_set1_epi16(static_cast<short>(0xBF80))));
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp8_e5m2_f32(const std::uint8_t* p, requires_arch<avx512>) noexcept {
  const __m256i w = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm512_cvtph_ps(_mm256_slli_epi16(w, 8));
}
template <class A>
PACT_ALWAYS_INLINE std::array<vec<float, A>, 2> load2_fp8_e4m3_f32_div256(const std::uint8_t* p, requires_arch<avx512>) noexcept {
  const __m512i w = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  const __m512i h = _mm512_and_si512(_mm512_slli_epi16(w, 7), _mm512_set1_epi16(static_cast<short>(0xBF80)));
  return {_mm512_cvtph_ps(_mm512_castsi512_si256(h)), _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1))};
}
template <class A>
PACT_ALWAYS_INLINE std::array<vec<float, A>, 2> load2_fp8_e5m2_f32(const std::uint8_t* p, requires_arch<avx512>) noexcept {
  const __m512i h = _mm512_slli_epi16(_mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 8);
  return {_mm512_cvtph_ps(_mm512_castsi512_si256(h)), _mm512_cvtph_ps(_mm512_extracti64x4_epi64(h, 1))};
}
#endif

// Two vectors from two single loads: defined after every arch's single load, so the call
// below sees them all and picks the arch's own.
template <class A>
PACT_ALWAYS_INLINE std::array<vec<float, A>, 2> load2_fp8_e4m3_f32_div256(const std::uint8_t* p, requires_arch<generic>) noexcept {
  return {load_fp8_e4m3_f32_div256<A>(p, A{}), load_fp8_e4m3_f32_div256<A>(p + lanes<float, A>, A{})};
}
template <class A>
PACT_ALWAYS_INLINE std::array<vec<float, A>, 2> load2_fp8_e5m2_f32(const std::uint8_t* p, requires_arch<generic>) noexcept {
  return {load_fp8_e5m2_f32<A>(p, A{}), load_fp8_e5m2_f32<A>(p + lanes<float, A>, A{})};
}
}  // namespace detail

/// lanes<float, A> int8 values at p -> f32 lanes (exact).
template <usable_arch A>
struct load_i8_f32_fn {
  PACT_ALWAYS_INLINE vec<float, A> operator()(const std::int8_t* p) const noexcept { return detail::load_i8_f32<A>(p, A{}); }
};
template <usable_arch A>
inline constexpr load_i8_f32_fn<A> load_i8_f32{};

/// lanes<float, A> FP8 E4M3 codes at p -> f32 lanes (exact; NaN codes give NaN).
template <usable_arch A>
struct load_fp8_e4m3_f32_fn {
  PACT_ALWAYS_INLINE vec<float, A> operator()(const std::uint8_t* p) const noexcept {
    return detail::load_fp8_e4m3_f32<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load_fp8_e4m3_f32_fn<A> load_fp8_e4m3_f32{};

/// lanes<float, A> E4M3 codes at p -> value / 256 (exact; NaN codes unspecified).
template <usable_arch A>
struct load_fp8_e4m3_f32_div256_fn {
  PACT_ALWAYS_INLINE vec<float, A> operator()(const std::uint8_t* p) const noexcept {
    return detail::load_fp8_e4m3_f32_div256<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load_fp8_e4m3_f32_div256_fn<A> load_fp8_e4m3_f32_div256{};

/// lanes<float, A> E5M2 codes at p -> f32 lanes (exact, Inf and NaN included).
template <usable_arch A>
struct load_fp8_e5m2_f32_fn {
  PACT_ALWAYS_INLINE vec<float, A> operator()(const std::uint8_t* p) const noexcept {
    return detail::load_fp8_e5m2_f32<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load_fp8_e5m2_f32_fn<A> load_fp8_e5m2_f32{};

/// 2 * lanes<float, A> E4M3 codes at p -> two vectors of value / 256 (exact; NaN codes
/// unspecified, as load_fp8_e4m3_f32_div256).
template <usable_arch A>
struct load2_fp8_e4m3_f32_div256_fn {
  PACT_ALWAYS_INLINE std::array<vec<float, A>, 2> operator()(const std::uint8_t* p) const noexcept {
    return detail::load2_fp8_e4m3_f32_div256<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load2_fp8_e4m3_f32_div256_fn<A> load2_fp8_e4m3_f32_div256{};

/// 2 * lanes<float, A> E5M2 codes at p -> two f32 vectors (exact, Inf and NaN included).
template <usable_arch A>
struct load2_fp8_e5m2_f32_fn {
  PACT_ALWAYS_INLINE std::array<vec<float, A>, 2> operator()(const std::uint8_t* p) const noexcept {
    return detail::load2_fp8_e5m2_f32<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load2_fp8_e5m2_f32_fn<A> load2_fp8_e5m2_f32{};

}  // namespace simd
PACT_NAMESPACE_END
