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
//   load_table16<A>(t) / lookup16(table, idx): byte lane i = t[idx[i]] for idx < 16, a
//     16-entry byte table such as a 4-bit code -> value map (MXFP4's E2M1). vpshufb on
//     x86 from AVX2 up, tbl on NEON64; SSE2 (no pshufb) and scalar go through memory.
//   load_u8_spread4<A>(ptrs): int32 lane j = *ptrs[j / 4] (per-block byte scales: E8M0).
//   subblock_scales8<A>(sc8): for a super-block whose 128 quant bytes hold 8 sub-blocks of
//     32 four-bit values the Q4_K way (bytes 32c..32c+31: low nibbles sub-block 2c, high
//     nibbles 2c+1), the lane scales of the dot products of its vector loads, in
//     dot_u8s8_scaled's form (byte value v as the int32 v * 0x10001): result 2t (low
//     nibbles of load t, bytes tS..tS+S-1) lane j = sc8 byte 2*((tL + j) / 8), result
//     2t+1 (high nibbles) the byte after it. avx512: punpcklbw + vpmovzxbw + 4 vpermd;
//     avx2: 8 vpermd; narrower archs through memory.
//   widen_u8x8<A>(b8): int32 lane j = byte j of b8 for j < min(lanes, 8), 0 above.
//   fp16x2_to_float(w): the two fp16 halves of a 32-bit word (low half first) as floats
//     (vcvtph2ps where F16C exists, the exact scalar decoder elsewhere).
// All are exact data movement / conversion; every arch matches the generic loops.
#include <array>
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

template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_table16(const std::uint8_t* t, requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<std::uint8_t, A>;
  alignas(64) std::uint8_t buf[n];
  for (std::size_t i = 0; i < n; ++i) buf[i] = t[i % 16];
  return load_aligned<A>(buf);
}
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> lookup16(const vec<std::uint8_t, A>& table, const vec<std::uint8_t, A>& idx,
                                                 requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<std::uint8_t, A>;
  alignas(64) std::uint8_t t[n], i[n], out[n];
  store_aligned(t, table);
  store_aligned(i, idx);
  for (std::size_t j = 0; j < n; ++j) out[j] = t[i[j] & 15];
  return load_aligned<A>(out);
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_u8_spread4(const std::uint8_t* const* ptrs, requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<std::int32_t, A>;
  alignas(64) std::int32_t out[n];
  for (std::size_t j = 0; j < n; ++j) out[j] = *ptrs[j / 4];
  return load_aligned<A>(out);
}
template <class A>
PACT_ALWAYS_INLINE std::array<vec<std::int32_t, A>, 256 / lanes<std::uint8_t, A>> subblock_scales8(std::uint64_t sc8,
                                                                                                   requires_arch<generic>) noexcept {
  constexpr std::size_t L = lanes<std::int32_t, A>, T = 128 / lanes<std::uint8_t, A>;
  std::array<vec<std::int32_t, A>, 2 * T> out;
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t h = 0; h < 2; ++h) {
      alignas(64) std::int32_t lane[L];
      for (std::size_t j = 0; j < L; ++j)
        lane[j] = static_cast<std::int32_t>(0x10001u * ((sc8 >> (8 * (2 * ((t * L + j) / 8) + h))) & 0xFF));
      out[2 * t + h] = load_aligned<A>(lane);
    }
  return out;
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> widen_u8x8(std::uint64_t b8, requires_arch<generic>) noexcept {
  constexpr std::size_t L = lanes<std::int32_t, A>;
  alignas(64) std::int32_t lane[L];
  for (std::size_t j = 0; j < L; ++j) lane[j] = j < 8 ? static_cast<std::int32_t>((b8 >> (8 * j)) & 0xFF) : 0;
  return load_aligned<A>(lane);
}
PACT_ALWAYS_INLINE std::array<float, 2> fp16x2_to_float(std::uint32_t w, requires_arch<generic>) noexcept {
  return {fp16_bits_to_float(static_cast<std::uint16_t>(w)), fp16_bits_to_float(static_cast<std::uint16_t>(w >> 16))};
}

#if (defined(PACT_TARGET_AVX2) || defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)) && defined(__F16C__)
PACT_ALWAYS_INLINE std::array<float, 2> fp16x2_to_float(std::uint32_t w, requires_arch<avx2>) noexcept {
  const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(w)));
  return {_mm_cvtss_f32(f), _mm_cvtss_f32(_mm_movehdup_ps(f))};
}
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
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_table16(const std::uint8_t* t, requires_arch<avx2>) noexcept {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> lookup16(const vec<std::uint8_t, A>& table, const vec<std::uint8_t, A>& idx,
                                                 requires_arch<avx2>) noexcept {
  return _mm256_shuffle_epi8(table, idx);
}
/// The 4 bytes as the low 4 int32 lanes of an xmm.
PACT_ALWAYS_INLINE __m128i u8x4_to_i32(const std::uint8_t* const* ptrs) noexcept {
  const std::uint32_t w = std::uint32_t{*ptrs[0]} | std::uint32_t{*ptrs[1]} << 8 | std::uint32_t{*ptrs[2]} << 16 |
                          std::uint32_t{*ptrs[3]} << 24;
  return _mm_cvtepu8_epi32(_mm_cvtsi32_si128(static_cast<int>(w)));
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_u8_spread4(const std::uint8_t* const* ptrs, requires_arch<avx2>) noexcept {
  const std::uint32_t w = std::uint32_t{*ptrs[0]} | std::uint32_t{*ptrs[1]} << 8;
  return _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(static_cast<int>(w)))),
                                     _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
}
template <class A>
PACT_ALWAYS_INLINE std::array<vec<std::int32_t, A>, 8> subblock_scales8(std::uint64_t sc8, requires_arch<avx2>) noexcept {
  // 32-byte loads: load t is chunk t, so each vector is one sub-block (2t, 2t + 1).
  const __m128i b = _mm_cvtsi64_si128(static_cast<long long>(sc8));
  const __m256i s = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(b, b));  // int32 lane k = byte k * 0x10001
  std::array<vec<std::int32_t, A>, 8> out;
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) out[static_cast<std::size_t>(k)] = _mm256_permutevar8x32_epi32(s, _mm256_set1_epi32(k));
  return out;
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> widen_u8x8(std::uint64_t b8, requires_arch<avx2>) noexcept {
  return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(b8)));
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
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_table16(const std::uint8_t* t, requires_arch<avx512>) noexcept {
  return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> lookup16(const vec<std::uint8_t, A>& table, const vec<std::uint8_t, A>& idx,
                                                 requires_arch<avx512>) noexcept {
  return _mm512_shuffle_epi8(table, idx);
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_u8_spread4(const std::uint8_t* const* ptrs, requires_arch<avx512>) noexcept {
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                  _mm512_castsi128_si512(u8x4_to_i32(ptrs)));
}
template <class A>
PACT_ALWAYS_INLINE std::array<vec<std::int32_t, A>, 4> subblock_scales8(std::uint64_t sc8, requires_arch<avx512>) noexcept {
  // 64-byte loads: load t covers chunks 2t (lanes 0-7) and 2t + 1 (lanes 8-15).
  const __m128i b = _mm_cvtsi64_si128(static_cast<long long>(sc8));
  const __m512i s = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(b, b)));  // lane k = byte k * 0x10001
  return {_mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2), s),
          _mm512_permutexvar_epi32(_mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3), s),
          _mm512_permutexvar_epi32(_mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6), s),
          _mm512_permutexvar_epi32(_mm512_setr_epi32(5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7), s)};
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> widen_u8x8(std::uint64_t b8, requires_arch<avx512>) noexcept {
  return _mm512_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(b8)));
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
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_table16(const std::uint8_t* t, requires_arch<neon64>) noexcept {
  return vld1q_u8(t);
}
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> lookup16(const vec<std::uint8_t, A>& table, const vec<std::uint8_t, A>& idx,
                                                 requires_arch<neon64>) noexcept {
  return vqtbl1q_u8(table, idx);
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

/// A 16-byte table in every 16-byte lane of a vector (the operand of lookup16).
template <usable_arch A>
struct load_table16_fn {
  PACT_ALWAYS_INLINE vec<std::uint8_t, A> operator()(const std::uint8_t* table) const noexcept {
    return detail::load_table16<A>(table, A{});
  }
};
template <usable_arch A>
inline constexpr load_table16_fn<A> load_table16{};

/// Byte lane i = table[idx[i]] (idx < 16; table from load_table16).
struct lookup16_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V& table, const V& idx) const noexcept {
    using A = arch_of<V>;
    return detail::lookup16<A>(table, idx, A{});
  }
};
inline constexpr lookup16_fn lookup16{};

/// Int32 lane j = the byte at ptrs[j / 4] (lanes / 4 pointers).
template <usable_arch A>
struct load_u8_spread4_fn {
  PACT_ALWAYS_INLINE vec<std::int32_t, A> operator()(const std::uint8_t* const* ptrs) const noexcept {
    return detail::load_u8_spread4<A>(ptrs, A{});
  }
};
template <usable_arch A>
inline constexpr load_u8_spread4_fn<A> load_u8_spread4{};

/// Lane scales of a Q4_K-style super-block's vector loads (see the header comment).
template <usable_arch A>
struct subblock_scales8_fn {
  PACT_ALWAYS_INLINE std::array<vec<std::int32_t, A>, 256 / lanes<std::uint8_t, A>> operator()(std::uint64_t sc8) const noexcept {
    return detail::subblock_scales8<A>(sc8, A{});
  }
};
template <usable_arch A>
inline constexpr subblock_scales8_fn<A> subblock_scales8{};

/// Int32 lane j = byte j of b8 (j < 8), 0 in lanes 8 and up.
template <usable_arch A>
struct widen_u8x8_fn {
  PACT_ALWAYS_INLINE vec<std::int32_t, A> operator()(std::uint64_t b8) const noexcept { return detail::widen_u8x8<A>(b8, A{}); }
};
template <usable_arch A>
inline constexpr widen_u8x8_fn<A> widen_u8x8{};

/// The two fp16 halves of w (low first) as floats, on arch A.
template <usable_arch A>
struct fp16x2_to_float_fn {
  PACT_ALWAYS_INLINE std::array<float, 2> operator()(std::uint32_t w) const noexcept { return detail::fp16x2_to_float(w, A{}); }
};
template <usable_arch A>
inline constexpr fp16x2_to_float_fn<A> fp16x2_to_float{};

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
