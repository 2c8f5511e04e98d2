#pragma once
// Ops for quantized GEMV over ggml-style blocks, whose 16/32 quant bytes sit between
// per-block scales (not contiguous across blocks):
//   load_segments16<A>(ptrs): one vec<uint8_t, A> made of lanes/16 segments of 16 bytes,
//     segment i read from ptrs[i] (unaligned). avx512: 4 xmm loads + inserts; avx2: 2;
//     128-bit archs: a plain load of ptrs[0].
//   spread4(v): float lanes j = v[j / 4] (one value per 16-byte segment: a segment's 4
//     int32 lanes share the block's scale).
//   load_fp16_spread4<A>(ptrs): float lanes j = fp16 value at ptrs[j / 4] (per-block
//     scales of ggml blocks straight into the lanes of their segments). Built in a register
//     (insert + vcvtph2ps + permute): assembling the values in memory first and loading a
//     wider vector stalls on store forwarding (measured 2x slower GEMV).
// All are exact data movement / conversion; every arch matches the generic loops.
#include <cstdint>
#include <cstring>

#include "pact/simd/ops_bits.hpp"
#include "pact/types/fp16.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {

template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_segments16(const std::uint8_t* const* ptrs, requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<std::uint8_t, A>;
  alignas(64) std::uint8_t buf[n];
  for (std::size_t s = 0; s < n / 16; ++s) std::memcpy(buf + 16 * s, ptrs[s], 16);
  return load_aligned<A>(buf);
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> spread4(const vec<float, A>& v, requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<float, A>;
  alignas(64) float in[n], out[n];
  store_aligned(in, v);
  for (std::size_t j = 0; j < n; ++j) out[j] = in[j / 4];
  return load_aligned<A>(out);
}

template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp16_spread4(const std::uint16_t* const* ptrs, requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<float, A>;
  alignas(64) float out[n];
  for (std::size_t j = 0; j < n; ++j) out[j] = fp16_bits_to_float(*ptrs[j / 4]);
  return load_aligned<A>(out);
}

#if (defined(PACT_TARGET_AVX2) || defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)) && defined(__F16C__)
/// Up to 4 fp16 values -> the low 4 float lanes of an xmm (register-only assembly).
PACT_ALWAYS_INLINE __m128 fp16x4_to_f32(const std::uint16_t* const* ptrs, int count) noexcept {
  __m128i h = _mm_cvtsi32_si128(*ptrs[0]);
  if (count > 1) h = _mm_insert_epi16(h, *ptrs[1], 1);
  if (count > 2) h = _mm_insert_epi16(h, *ptrs[2], 2);
  if (count > 3) h = _mm_insert_epi16(h, *ptrs[3], 3);
  return _mm_cvtph_ps(h);
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp16_spread4(const std::uint16_t* const* ptrs, requires_arch<avx2>) noexcept {
  return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(fp16x4_to_f32(ptrs, 2)), _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}
#endif
#if (defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI))
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp16_spread4(const std::uint16_t* const* ptrs, requires_arch<avx512>) noexcept {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                               _mm512_castps128_ps512(fp16x4_to_f32(ptrs, 4)));
}
#endif

#if defined(PACT_TARGET_AVX2) || defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_segments16(const std::uint8_t* const* ptrs, requires_arch<avx2>) noexcept {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ptrs[0]));
  const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ptrs[1]));
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> spread4(const vec<float, A>& v, requires_arch<avx2>) noexcept {
  return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}
#endif

#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_segments16(const std::uint8_t* const* ptrs, requires_arch<avx512>) noexcept {
  const __m128i s0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ptrs[0]));
  const __m128i s1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ptrs[1]));
  const __m128i s2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ptrs[2]));
  const __m128i s3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ptrs[3]));
  const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(s0), s1, 1);
  const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(s2), s3, 1);
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> spread4(const vec<float, A>& v, requires_arch<avx512>) noexcept {
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), v);
}
#endif

#if defined(__SSE2__) && defined(PACT_HAS_XSIMD)
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_segments16(const std::uint8_t* const* ptrs, requires_arch<sse2>) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(ptrs[0]));
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> spread4(const vec<float, A>& v, requires_arch<sse2>) noexcept {
  return _mm_shuffle_ps(v, v, 0);
}
#endif

#if defined(__aarch64__) && defined(PACT_HAS_XSIMD)
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_segments16(const std::uint8_t* const* ptrs, requires_arch<neon64>) noexcept {
  return vld1q_u8(ptrs[0]);
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> spread4(const vec<float, A>& v, requires_arch<neon64>) noexcept {
  return vdupq_laneq_f32(v, 0);
}
#endif

}  // namespace detail

/// lanes/16 segments of 16 bytes, segment i from ptrs[i].
template <usable_arch A>
struct load_segments16_fn {
  PACT_ALWAYS_INLINE vec<std::uint8_t, A> operator()(const std::uint8_t* const* ptrs) const noexcept {
    return detail::load_segments16<A>(ptrs, A{});
  }
};
template <usable_arch A>
inline constexpr load_segments16_fn<A> load_segments16{};

/// Float lane j = the fp16 value at ptrs[j / 4] (lanes / 4 pointers).
template <usable_arch A>
struct load_fp16_spread4_fn {
  PACT_ALWAYS_INLINE vec<float, A> operator()(const std::uint16_t* const* ptrs) const noexcept {
    return detail::load_fp16_spread4<A>(ptrs, A{});
  }
};
template <usable_arch A>
inline constexpr load_fp16_spread4_fn<A> load_fp16_spread4{};

/// Float lane j takes lane j / 4 of v.
struct spread4_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V& v) const noexcept {
    using A = arch_of<V>;
    return detail::spread4<A>(v, A{});
  }
};
inline constexpr spread4_fn spread4{};

}  // namespace simd
PACT_NAMESPACE_END
