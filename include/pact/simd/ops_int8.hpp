#pragma once
// int8 multiply-accumulate into int32 lanes, the core of every quantized kernel.
//
//   dot_u8s8(acc, a, b):  acc[i] += sum_{j<4} u8(a[4i+j]) * s8(b[4i+j])   (VNNI vpdpbusd)
//   dot_s8s8(acc, a, b):  acc[i] += sum_{j<4} s8(a[4i+j]) * s8(b[4i+j])   (Arm sdot)
//   dot_u8s8_scaled(acc, a, b, s):  acc[i] += s16(i) * sum_{j<4} u8(a[4i+j]) * s8(b[4i+j])
//     for a < 128 and int32 scale lanes holding one int16 s16 in both halves (s16 * 0x10001,
//     as simd::subblock_scales8 makes them): the per-sub-block scale of Q4_K-style formats
//     applied inside the dot. x86: pmaddubsw (exact: |2 * 127 * 128| < 2^15) then vpdpwssd
//     (VNNI) or pmaddwd + add; elsewhere dot_u8s8 and a multiply by the low half.
//
// Both are exact (no saturation: |4 * 255 * 128| < 2^31) and wrap only if acc overflows
// int32, on every arch. Implementations:
//   avx512_vnni: vpdpbusd through inline asm (g++ 12 spills every accumulator around the
//                intrinsic, see ../shared/PLATFORM.md);
//   x86 without VNNI: split each 16-bit pair into its even and odd byte, widen to int16
//                (zero- or sign-extend) and use pmaddwd, which is exact; this avoids
//                pmaddubsw, whose int16 saturation would make u8*s8 inexact;
//   neon64 with dotprod: sdot for s8*s8; otherwise widening multiplies;
//   scalar: plain loops.
#include <cstdint>

#include "pact/simd/ops_bits.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {

template <bool ASigned, class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot4_reference(VI acc, const VA& a, const VB& b) noexcept {
  constexpr std::size_t n32 = lanes<std::int32_t, A>;
  alignas(64) std::int32_t c[n32];
  alignas(64) std::uint8_t ab[n32 * 4];
  alignas(64) std::int8_t bb[n32 * 4];
  store_aligned(c, acc);
  store_aligned(reinterpret_cast<typename VA::value_type*>(ab), a);
  store_aligned(bb, b);
  for (std::size_t i = 0; i < n32; ++i) {
    std::int32_t s = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const std::int32_t av = ASigned ? static_cast<std::int32_t>(static_cast<std::int8_t>(ab[4 * i + j]))
                                      : static_cast<std::int32_t>(ab[4 * i + j]);
      s += av * static_cast<std::int32_t>(bb[4 * i + j]);
    }
    c[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(c[i]) + static_cast<std::uint32_t>(s));
  }
  return load_aligned<A>(c);
}

template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8(VI acc, const VA& a, const VB& b, requires_arch<generic>) noexcept {
  return dot4_reference<false, A>(acc, a, b);
}
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_s8s8(VI acc, const VA& a, const VB& b, requires_arch<generic>) noexcept {
  return dot4_reference<true, A>(acc, a, b);
}

#if defined(__SSE2__) && defined(PACT_HAS_XSIMD)
// Exact pmaddwd formulation, one body for the three x86 register widths.
template <class Ops, bool ASigned>
PACT_ALWAYS_INLINE typename Ops::reg dot4_madd(typename Ops::reg acc, typename Ops::reg a,
                                               typename Ops::reg b) noexcept {
  const auto a_even = ASigned ? Ops::srai16(Ops::slli16(a, 8), 8) : Ops::and_(a, Ops::set1_16(0x00FF));
  const auto a_odd = ASigned ? Ops::srai16(a, 8) : Ops::srli16(a, 8);
  const auto b_even = Ops::srai16(Ops::slli16(b, 8), 8);
  const auto b_odd = Ops::srai16(b, 8);
  return Ops::add32(acc, Ops::add32(Ops::madd16(a_even, b_even), Ops::madd16(a_odd, b_odd)));
}
struct x86_ops128 {
  using reg = __m128i;
  static reg slli16(reg x, int n) { return _mm_slli_epi16(x, n); }
  static reg srai16(reg x, int n) { return _mm_srai_epi16(x, n); }
  static reg srli16(reg x, int n) { return _mm_srli_epi16(x, n); }
  static reg and_(reg x, reg y) { return _mm_and_si128(x, y); }
  static reg set1_16(short v) { return _mm_set1_epi16(v); }
  static reg madd16(reg x, reg y) { return _mm_madd_epi16(x, y); }
  static reg add32(reg x, reg y) { return _mm_add_epi32(x, y); }
};
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8(VI acc, const VA& a, const VB& b, requires_arch<sse2>) noexcept {
  return dot4_madd<x86_ops128, false>(acc, a, b);
}
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_s8s8(VI acc, const VA& a, const VB& b, requires_arch<sse2>) noexcept {
  return dot4_madd<x86_ops128, true>(acc, a, b);
}
#endif

#if defined(PACT_TARGET_AVX2) || defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
struct x86_ops256 {
  using reg = __m256i;
  static reg slli16(reg x, int n) { return _mm256_slli_epi16(x, n); }
  static reg srai16(reg x, int n) { return _mm256_srai_epi16(x, n); }
  static reg srli16(reg x, int n) { return _mm256_srli_epi16(x, n); }
  static reg and_(reg x, reg y) { return _mm256_and_si256(x, y); }
  static reg set1_16(short v) { return _mm256_set1_epi16(v); }
  static reg madd16(reg x, reg y) { return _mm256_madd_epi16(x, y); }
  static reg add32(reg x, reg y) { return _mm256_add_epi32(x, y); }
};
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8(VI acc, const VA& a, const VB& b, requires_arch<avx2>) noexcept {
  return dot4_madd<x86_ops256, false>(acc, a, b);
}
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_s8s8(VI acc, const VA& a, const VB& b, requires_arch<avx2>) noexcept {
  return dot4_madd<x86_ops256, true>(acc, a, b);
}
#endif

#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
struct x86_ops512 {
  using reg = __m512i;
  static reg slli16(reg x, int n) { return _mm512_slli_epi16(x, static_cast<unsigned>(n)); }
  static reg srai16(reg x, int n) { return _mm512_srai_epi16(x, static_cast<unsigned>(n)); }
  static reg srli16(reg x, int n) { return _mm512_srli_epi16(x, static_cast<unsigned>(n)); }
  static reg and_(reg x, reg y) { return _mm512_and_si512(x, y); }
  static reg set1_16(short v) { return _mm512_set1_epi16(v); }
  static reg madd16(reg x, reg y) { return _mm512_madd_epi16(x, y); }
  static reg add32(reg x, reg y) { return _mm512_add_epi32(x, y); }
};
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8(VI acc, const VA& a, const VB& b, requires_arch<avx512>) noexcept {
  return dot4_madd<x86_ops512, false>(acc, a, b);
}
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_s8s8(VI acc, const VA& a, const VB& b, requires_arch<avx512>) noexcept {
  return dot4_madd<x86_ops512, true>(acc, a, b);
}
#endif

#if defined(PACT_TARGET_AVX512_VNNI)
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8(VI acc, const VA& a, const VB& b, requires_arch<avx512_vnni>) noexcept {
  __m512i c = acc;
  const __m512i av = a;
  const __m512i bv = b;
  asm("vpdpbusd %2, %1, %0" : "+v"(c) : "v"(av), "v"(bv));
  return c;
}
#endif

#if defined(__aarch64__) && defined(PACT_HAS_XSIMD)
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_s8s8(VI acc, const VA& a, const VB& b, requires_arch<neon64>) noexcept {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, a, b);
#else
  const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
  const int16x8_t hi = vmull_high_s8(a, b);
  // pairwise widen-add gives int32 sums of (2i, 2i+1); a second pairwise add of
  // neighbouring int32s folds 4 bytes per lane.
  const int32x4_t plo = vpaddlq_s16(lo);
  const int32x4_t phi = vpaddlq_s16(hi);
  return vaddq_s32(acc, vpaddq_s32(plo, phi));
#endif
}
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8(VI acc, const VA& a, const VB& b, requires_arch<neon64>) noexcept {
  const uint8x16_t au = a;
  const int8x16_t bs = b;
  const int16x8_t alo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(au)));
  const int16x8_t ahi = vreinterpretq_s16_u16(vmovl_high_u8(au));
  const int16x8_t blo = vmovl_s8(vget_low_s8(bs));
  const int16x8_t bhi = vmovl_high_s8(bs);
  // |255 * 128| fits int16 products only after widening to int32: use widening mul.
  const int32x4_t p0 = vmull_s16(vget_low_s16(alo), vget_low_s16(blo));
  const int32x4_t p1 = vmull_high_s16(alo, blo);
  const int32x4_t p2 = vmull_s16(vget_low_s16(ahi), vget_low_s16(bhi));
  const int32x4_t p3 = vmull_high_s16(ahi, bhi);
  return vaddq_s32(acc, vpaddq_s32(vpaddq_s32(p0, p1), vpaddq_s32(p2, p3)));
}
#endif

template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8_scaled(VI acc, const VA& a, const VB& b, const VI& s, requires_arch<generic>) noexcept {
  const VI s16 = (s << 16) >> 16;  // the low half, sign-extended (>> is arithmetic on int32)
  return acc + dot_u8s8<A>(simd::zero<std::int32_t, A>(), a, b, A{}) * s16;
}
#if defined(PACT_TARGET_AVX2) || defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8_scaled(VI acc, const VA& a, const VB& b, const VI& s, requires_arch<avx2>) noexcept {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), s));
}
#endif
#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8_scaled(VI acc, const VA& a, const VB& b, const VI& s, requires_arch<avx512>) noexcept {
  return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(a, b), s));
}
#endif
#if defined(PACT_TARGET_AVX512_VNNI)
template <class A, class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI dot_u8s8_scaled(VI acc, const VA& a, const VB& b, const VI& s, requires_arch<avx512_vnni>) noexcept {
  __m512i c = acc;
  const __m512i p = _mm512_maddubs_epi16(a, b);
  const __m512i sv = s;
  asm("vpdpwssd %2, %1, %0" : "+v"(c) : "v"(p), "v"(sv));
  return c;
}
#endif

}  // namespace detail

/// acc[i] += s16(i) * sum_{j<4} a[4i+j] * b[4i+j]: a uint8 lanes < 128, b int8, s int32
/// lanes of the form s16 * 0x10001 (exact).
struct dot_u8s8_scaled_fn {
template <class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI operator()(const VI& acc, const VA& a, const VB& b, const VI& s) const noexcept {
  using A = arch_of<VI>;
  static_assert(std::is_same_v<VI, vec<std::int32_t, A>> && std::is_same_v<VA, vec<std::uint8_t, A>> &&
                    std::is_same_v<VB, vec<std::int8_t, A>>,
                "dot_u8s8_scaled takes (int32 accumulators, uint8 lanes, int8 lanes, int32 scales) of one arch");
  return detail::dot_u8s8_scaled<A>(acc, a, b, s, A{});
}
};
inline constexpr dot_u8s8_scaled_fn dot_u8s8_scaled{};

/// acc[i] += sum_{j<4} a[4i+j] * b[4i+j] with a as uint8 and b as int8 (exact).
struct dot_u8s8_fn {
template <class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI operator()(const VI& acc, const VA& a, const VB& b) const noexcept {
  using A = arch_of<VI>;
  static_assert(std::is_same_v<VI, vec<std::int32_t, A>> && std::is_same_v<VA, vec<std::uint8_t, A>> &&
                    std::is_same_v<VB, vec<std::int8_t, A>>,
                "dot_u8s8 takes (int32 accumulators, uint8 lanes, int8 lanes) of one arch");
  return detail::dot_u8s8<A>(acc, a, b, A{});
}
};
inline constexpr dot_u8s8_fn dot_u8s8{};

/// acc[i] += sum_{j<4} a[4i+j] * b[4i+j] with both as int8 (exact).
struct dot_s8s8_fn {
template <class VI, class VA, class VB>
PACT_ALWAYS_INLINE VI operator()(const VI& acc, const VA& a, const VB& b) const noexcept {
  using A = arch_of<VI>;
  static_assert(std::is_same_v<VI, vec<std::int32_t, A>> && std::is_same_v<VA, vec<std::int8_t, A>> &&
                    std::is_same_v<VB, vec<std::int8_t, A>>,
                "dot_s8s8 takes (int32 accumulators, int8 lanes, int8 lanes) of one arch");
  return detail::dot_s8s8<A>(acc, a, b, A{});
}
};
inline constexpr dot_s8s8_fn dot_s8s8{};

}  // namespace simd
PACT_NAMESPACE_END
