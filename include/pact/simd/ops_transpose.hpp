#pragma once
// transpose_tile<A>(src, lds, dst, ldd): the L x L float tile at src (row stride lds) written
// transposed at dst (row stride ldd), L = lanes<float, A>: dst[i * ldd + j] = src[j * lds + i].
// Loads and stores are unaligned full vectors; src and dst must not overlap.
// Per arch: AVX-512 16x16 (unpack, shuffle within 128-bit lanes, then two rounds of 128-bit
// lane shuffles: 64 shuffles for 256 floats), AVX2 8x8 (unpack, shuffle, lane permute),
// SSE2 4x4 (_MM_TRANSPOSE4_PS); other targets element by element.
#include <cstddef>

#include "pact/simd/ops_memory.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {

template <class A>
PACT_ALWAYS_INLINE void transpose_tile(const float* src, std::ptrdiff_t lds, float* dst, std::ptrdiff_t ldd, requires_arch<generic>) noexcept {
  constexpr std::ptrdiff_t L = static_cast<std::ptrdiff_t>(lanes<float, A>);
  for (std::ptrdiff_t i = 0; i < L; ++i)
    for (std::ptrdiff_t j = 0; j < L; ++j) dst[i * ldd + j] = src[j * lds + i];
}

#if defined(PACT_HAS_XSIMD) && defined(__SSE2__)
template <class A>
PACT_ALWAYS_INLINE void transpose_tile(const float* src, std::ptrdiff_t lds, float* dst, std::ptrdiff_t ldd, requires_arch<sse2>) noexcept {
  __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + lds), r2 = _mm_loadu_ps(src + 2 * lds), r3 = _mm_loadu_ps(src + 3 * lds);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(dst, r0);
  _mm_storeu_ps(dst + ldd, r1);
  _mm_storeu_ps(dst + 2 * ldd, r2);
  _mm_storeu_ps(dst + 3 * ldd, r3);
}
#endif

#if defined(PACT_HAS_XSIMD) && defined(__AVX2__) && defined(__FMA__)
template <class A>
PACT_ALWAYS_INLINE void transpose_tile(const float* src, std::ptrdiff_t lds, float* dst, std::ptrdiff_t ldd, requires_arch<avx2>) noexcept {
  __m256 t[8], u[8];
  for (int r = 0; r < 8; r += 2) {
    const __m256 a = _mm256_loadu_ps(src + r * lds), b = _mm256_loadu_ps(src + (r + 1) * lds);
    t[r] = _mm256_unpacklo_ps(a, b);  // per 128-bit lane l: a[4l], b[4l], a[4l+1], b[4l+1]
    t[r + 1] = _mm256_unpackhi_ps(a, b);
  }
  for (int q = 0; q < 8; q += 4) {  // u[q + c]: column 4l + c of rows q .. q + 3, in lane l
    u[q] = _mm256_shuffle_ps(t[q], t[q + 2], 0x44);
    u[q + 1] = _mm256_shuffle_ps(t[q], t[q + 2], 0xEE);
    u[q + 2] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0x44);
    u[q + 3] = _mm256_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    _mm256_storeu_ps(dst + c * ldd, _mm256_permute2f128_ps(u[c], u[4 + c], 0x20));
    _mm256_storeu_ps(dst + (4 + c) * ldd, _mm256_permute2f128_ps(u[c], u[4 + c], 0x31));
  }
}
#endif

#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A>
PACT_ALWAYS_INLINE void transpose_tile(const float* src, std::ptrdiff_t lds, float* dst, std::ptrdiff_t ldd, requires_arch<avx512>) noexcept {
  __m512 t[16], u[16];
  for (int r = 0; r < 16; r += 2) {
    const __m512 a = _mm512_loadu_ps(src + r * lds), b = _mm512_loadu_ps(src + (r + 1) * lds);
    t[r] = _mm512_unpacklo_ps(a, b);
    t[r + 1] = _mm512_unpackhi_ps(a, b);
  }
  for (int q = 0; q < 16; q += 4) {  // u[q + c]: column 4l + c of rows q .. q + 3, in lane l
    u[q] = _mm512_shuffle_ps(t[q], t[q + 2], 0x44);
    u[q + 1] = _mm512_shuffle_ps(t[q], t[q + 2], 0xEE);
    u[q + 2] = _mm512_shuffle_ps(t[q + 1], t[q + 3], 0x44);
    u[q + 3] = _mm512_shuffle_ps(t[q + 1], t[q + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    // 0x88 picks 128-bit lanes 0, 2 of each operand, 0xDD lanes 1, 3.
    const __m512 lo_even = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);      // cols c, 8+c of rows 0-7
    const __m512 lo_odd = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);       // cols 4+c, 12+c
    const __m512 hi_even = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);  // the same, rows 8-15
    const __m512 hi_odd = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    _mm512_storeu_ps(dst + c * ldd, _mm512_shuffle_f32x4(lo_even, hi_even, 0x88));
    _mm512_storeu_ps(dst + (8 + c) * ldd, _mm512_shuffle_f32x4(lo_even, hi_even, 0xDD));
    _mm512_storeu_ps(dst + (4 + c) * ldd, _mm512_shuffle_f32x4(lo_odd, hi_odd, 0x88));
    _mm512_storeu_ps(dst + (12 + c) * ldd, _mm512_shuffle_f32x4(lo_odd, hi_odd, 0xDD));
  }
}
#endif

}  // namespace detail

/// dst[i * ldd + j] = src[j * lds + i] for the lanes<float, A> x lanes<float, A> tile.
template <usable_arch A>
struct transpose_tile_fn {
  PACT_ALWAYS_INLINE void operator()(const float* src, std::ptrdiff_t lds, float* dst, std::ptrdiff_t ldd) const noexcept {
    detail::transpose_tile<A>(src, lds, dst, ldd, A{});
  }
};
template <usable_arch A>
inline constexpr transpose_tile_fn<A> transpose_tile{};

}  // namespace simd
PACT_NAMESPACE_END
