#pragma once
// bf16 / fp16 <-> f32 lane conversions. Storage is raw uint16 bits (types/bf16.hpp,
// types/fp16.hpp define the element types and the scalar rules). Every SIMD path here
// is bit-identical to the scalar conversion, NaN payloads included (tested exhaustively
// over all 65536 encodings on every arch):
//   bf16 -> f32: exact (shift left 16).
//   f32 -> bf16: round to nearest even; NaN keeps sign and top payload, quiet bit set.
//   fp16 <-> f32: IEEE binary16 with RNE and subnormals; F16C / AVX-512 / NEON hardware
//                 where present, the scalar rule (which mirrors F16C) elsewhere.
#include <cstdint>

#include "pact/simd/ops_bits.hpp"
#include "pact/types/bf16.hpp"
#include "pact/types/fp16.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {

template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_bf16(const std::uint16_t* p, requires_arch<generic>) noexcept {
  alignas(64) float buf[lanes<float, A>];
  for (std::size_t i = 0; i < lanes<float, A>; ++i) buf[i] = bf16_bits_to_float(p[i]);
  return load_aligned<A>(buf);
}
template <class A, class V>
PACT_ALWAYS_INLINE void store_bf16(std::uint16_t* p, const V& v, requires_arch<generic>) noexcept {
  alignas(64) float buf[lanes<float, A>];
  store_aligned(buf, v);
  for (std::size_t i = 0; i < lanes<float, A>; ++i) p[i] = float_to_bf16_bits(buf[i]);
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp16(const std::uint16_t* p, requires_arch<generic>) noexcept {
  alignas(64) float buf[lanes<float, A>];
  for (std::size_t i = 0; i < lanes<float, A>; ++i) buf[i] = fp16_bits_to_float(p[i]);
  return load_aligned<A>(buf);
}
template <class A, class V>
PACT_ALWAYS_INLINE void store_fp16(std::uint16_t* p, const V& v, requires_arch<generic>) noexcept {
  alignas(64) float buf[lanes<float, A>];
  store_aligned(buf, v);
  for (std::size_t i = 0; i < lanes<float, A>; ++i) p[i] = float_to_fp16_bits(buf[i]);
}

#if defined(PACT_TARGET_AVX2) || defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_bf16(const std::uint16_t* p, requires_arch<avx2>) noexcept {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}
template <class A, class V>
PACT_ALWAYS_INLINE void store_bf16(std::uint16_t* p, const V& v, requires_arch<avx2>) noexcept {
  const __m256 x = v;
  const __m256i u = _mm256_castps_si256(x);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7FFF))), 16);
  const __m256i quiet_nan = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
  const __m256i is_nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  const __m256i r = _mm256_blendv_epi8(rounded, quiet_nan, is_nan);
  // packus works within 128-bit halves: pack, then gather the two useful quadwords.
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(packed));
}
#if defined(__F16C__)
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp16(const std::uint16_t* p, requires_arch<avx2>) noexcept {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
template <class A, class V>
PACT_ALWAYS_INLINE void store_fp16(std::uint16_t* p, const V& v, requires_arch<avx2>) noexcept {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
#endif
#endif

#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_bf16(const std::uint16_t* p, requires_arch<avx512>) noexcept {
  const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
}
template <class A, class V>
PACT_ALWAYS_INLINE void store_bf16(std::uint16_t* p, const V& v, requires_arch<avx512>) noexcept {
  const __m512 x = v;
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
  const __m512i quiet_nan = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
  const __mmask16 is_nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  const __m512i r = _mm512_mask_blend_epi32(is_nan, rounded, quiet_nan);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(r));
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp16(const std::uint16_t* p, requires_arch<avx512>) noexcept {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
template <class A, class V>
PACT_ALWAYS_INLINE void store_fp16(std::uint16_t* p, const V& v, requires_arch<avx512>) noexcept {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
#endif

#if defined(__aarch64__) && defined(PACT_HAS_XSIMD)
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_bf16(const std::uint16_t* p, requires_arch<neon64>) noexcept {
  return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_fp16(const std::uint16_t* p, requires_arch<neon64>) noexcept {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}
template <class A, class V>
PACT_ALWAYS_INLINE void store_fp16(std::uint16_t* p, const V& v, requires_arch<neon64>) noexcept {
  vst1_u16(p, vreinterpret_u16_f16(vcvt_f16_f32(v)));
}
#endif

}  // namespace detail

/// lanes<float, A> bf16 values at p -> f32 lanes.
template <usable_arch A>
struct load_bf16_fn {
  PACT_ALWAYS_INLINE vec<float, A> operator()(const std::uint16_t* p) const noexcept {
    return detail::load_bf16<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load_bf16_fn<A> load_bf16{};
/// f32 lanes -> lanes<float, A> bf16 values at p (round to nearest even).
struct store_bf16_fn {
  template <class V>
  PACT_ALWAYS_INLINE void operator()(std::uint16_t* p, const V& v) const noexcept {
    using A = arch_of<V>;
    detail::store_bf16<A>(p, v, A{});
  }
};
inline constexpr store_bf16_fn store_bf16{};
/// lanes<float, A> IEEE fp16 values at p -> f32 lanes.
template <usable_arch A>
struct load_fp16_fn {
  PACT_ALWAYS_INLINE vec<float, A> operator()(const std::uint16_t* p) const noexcept {
    return detail::load_fp16<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load_fp16_fn<A> load_fp16{};
/// f32 lanes -> lanes<float, A> IEEE fp16 values at p (round to nearest even).
struct store_fp16_fn {
  template <class V>
  PACT_ALWAYS_INLINE void operator()(std::uint16_t* p, const V& v) const noexcept {
    using A = arch_of<V>;
    detail::store_fp16<A>(p, v, A{});
  }
};
inline constexpr store_fp16_fn store_fp16{};

}  // namespace simd
PACT_NAMESPACE_END
