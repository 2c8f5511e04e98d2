#pragma once
// Ops for quantization kernels: byte <-> int32 lane conversions and a contraction barrier.
//
//   load_i8_to_i32<A>(p)   lanes<int32, A> int8 values at p, sign-extended to int32 lanes
//   load_u8_to_i32<A>(p)   lanes<int32, A> uint8 values at p, zero-extended
//   store_i32_to_i8(p, v)  int32 lanes -> int8, saturating to [-128, 127]; writes exactly
//                          lanes<int32, A> bytes
//   store_i32_to_u8(p, v)  int32 lanes -> uint8, saturating to [0, 255]
//   store4_i32_to_u8(p, a, b, c, d)
//                          four int32 vectors -> 4 x lanes uint8 (a's first), saturating;
//                          on AVX-512 two packs, a lane permute and one 64-byte store
//                          instead of four narrowing stores (two uops each)
//   opaque(v)              returns v unchanged, but the optimizer cannot look through it:
//                          a product passed through opaque() is rounded before any later
//                          add, so g++'s -ffp-contract=fast cannot fuse it into an FMA (the
//                          quantizers' rounding is specified without fusion, and SIMD must
//                          equal the scalar path bit for bit). No instruction is emitted.
//
// Per arch: AVX-512 vpmovsx/vpmovzx + vpmovs(us)db, AVX2 vpmovsx/zx + pack, SSE2 unpack +
// pack, NEON vmovl / vqmovn; the generic version goes through a stack buffer.
#include <cstdint>
#include <cstring>

#include "pact/simd/ops_arith.hpp"
#include "pact/simd/ops_bits.hpp"
#include "pact/simd/ops_memory.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {

// ---- generic (any arch, through memory) ----
template <class A, class Byte>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_bytes_to_i32(const Byte* p, requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<std::int32_t, A>;
  alignas(64) std::int32_t t[n];
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<std::int32_t>(p[i]);
  return load_aligned<A>(t);
}
template <class A, class Byte>
PACT_ALWAYS_INLINE void store_i32_to_bytes(Byte* p, const vec<std::int32_t, A>& v, requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<std::int32_t, A>;
  constexpr std::int32_t lo = std::is_signed_v<Byte> ? -128 : 0;
  constexpr std::int32_t hi = std::is_signed_v<Byte> ? 127 : 255;
  alignas(64) std::int32_t t[n];
  store_aligned(t, v);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<Byte>(t[i] < lo ? lo : (t[i] > hi ? hi : t[i]));
}

// Four vectors: one narrowing store each on archs without a better form.
template <class A>
PACT_ALWAYS_INLINE void store4_i32_to_u8(std::uint8_t* p, const vec<std::int32_t, A>& a, const vec<std::int32_t, A>& b,
                                         const vec<std::int32_t, A>& c, const vec<std::int32_t, A>& d,
                                         requires_arch<generic>) noexcept {
  constexpr std::size_t n = lanes<std::int32_t, A>;
  store_i32_to_bytes<A>(p, a, A{});
  store_i32_to_bytes<A>(p + n, b, A{});
  store_i32_to_bytes<A>(p + 2 * n, c, A{});
  store_i32_to_bytes<A>(p + 3 * n, d, A{});
}

#if defined(PACT_HAS_XSIMD) && defined(__SSE2__)
template <class A, class Byte>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_bytes_to_i32(const Byte* p, requires_arch<sse2>) noexcept {
  std::int32_t word;
  std::memcpy(&word, p, 4);
  const __m128i b = _mm_cvtsi32_si128(word);
  if constexpr (std::is_signed_v<Byte>) {
    const __m128i w = _mm_unpacklo_epi8(b, b);  // each byte twice: sign lands in the top
    return _mm_srai_epi32(_mm_unpacklo_epi16(w, w), 24);
  } else {
    const __m128i z = _mm_setzero_si128();
    return _mm_unpacklo_epi16(_mm_unpacklo_epi8(b, z), z);
  }
}
template <class A, class Byte>
PACT_ALWAYS_INLINE void store_i32_to_bytes(Byte* p, const vec<std::int32_t, A>& v, requires_arch<sse2>) noexcept {
  const __m128i w = _mm_packs_epi32(v, v);  // int16, saturating (exact for |v| <= 32767)
  const __m128i b = std::is_signed_v<Byte> ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
  const std::int32_t word = _mm_cvtsi128_si32(b);
  std::memcpy(p, &word, 4);
}
#endif

#if defined(PACT_HAS_XSIMD) && defined(__AVX2__) && defined(__FMA__)
template <class A, class Byte>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_bytes_to_i32(const Byte* p, requires_arch<avx2>) noexcept {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  if constexpr (std::is_signed_v<Byte>) return _mm256_cvtepi8_epi32(b);
  else return _mm256_cvtepu8_epi32(b);
}
template <class A, class Byte>
PACT_ALWAYS_INLINE void store_i32_to_bytes(Byte* p, const vec<std::int32_t, A>& v, requires_arch<avx2>) noexcept {
  const __m256i x = v;
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
  const __m128i b = std::is_signed_v<Byte> ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), b);
}
#endif

#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class A, class Byte>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_bytes_to_i32(const Byte* p, requires_arch<avx512>) noexcept {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  // maskz forms: the unmasked intrinsics trip g++ 12's -Wuninitialized (GCC PR105593).
  if constexpr (std::is_signed_v<Byte>) return _mm512_maskz_cvtepi8_epi32(__mmask16(0xFFFF), b);
  else return _mm512_maskz_cvtepu8_epi32(__mmask16(0xFFFF), b);
}
template <class A, class Byte>
PACT_ALWAYS_INLINE void store_i32_to_bytes(Byte* p, const vec<std::int32_t, A>& v, requires_arch<avx512>) noexcept {
  const __m512i x = v;
  if constexpr (std::is_signed_v<Byte>) {
    _mm512_mask_cvtsepi32_storeu_epi8(p, __mmask16(0xFFFF), x);
  } else {
    _mm512_mask_cvtusepi32_storeu_epi8(p, __mmask16(0xFFFF), _mm512_max_epi32(x, _mm512_setzero_si512()));
  }
}
template <class A>
PACT_ALWAYS_INLINE void store4_i32_to_u8(std::uint8_t* p, const vec<std::int32_t, A>& a, const vec<std::int32_t, A>& b,
                                         const vec<std::int32_t, A>& c, const vec<std::int32_t, A>& d,
                                         requires_arch<avx512>) noexcept {
  // Signed saturation to int16 first (|v| > 32767 stays out of range, so the unsigned
  // byte saturation below still clamps it), then to uint8. Both packs work per 128-bit
  // lane: lane l holds a, b, c, d's dwords 4l .. 4l + 3 as four 4-byte groups, which the
  // permute puts back in order.
  const __m512i ab = _mm512_packs_epi32(a, b), cd = _mm512_packs_epi32(c, d);
  const __m512i bytes = _mm512_packus_epi16(ab, cd);
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  _mm512_storeu_si512(p, _mm512_permutexvar_epi32(order, bytes));
}
#endif

#if defined(__aarch64__) && defined(PACT_HAS_XSIMD)
template <class A, class Byte>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_bytes_to_i32(const Byte* p, requires_arch<neon64>) noexcept {
  std::uint32_t word;
  std::memcpy(&word, p, 4);
  const uint8x8_t b = vreinterpret_u8_u32(vdup_n_u32(word));
  if constexpr (std::is_signed_v<Byte>) {
    return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u8(b))));
  } else {
    return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(b))));
  }
}
template <class A, class Byte>
PACT_ALWAYS_INLINE void store_i32_to_bytes(Byte* p, const vec<std::int32_t, A>& v, requires_arch<neon64>) noexcept {
  const int32x4_t x = v;
  std::uint32_t word;
  if constexpr (std::is_signed_v<Byte>) {
    const int16x4_t w = vqmovn_s32(x);
    word = vget_lane_u32(vreinterpret_u32_s8(vqmovn_s16(vcombine_s16(w, w))), 0);
  } else {
    const uint16x4_t w = vqmovun_s32(x);
    word = vget_lane_u32(vreinterpret_u32_u8(vqmovn_u16(vcombine_u16(w, w))), 0);
  }
  std::memcpy(p, &word, 4);
}
#endif

}  // namespace detail

/// lanes<int32, A> int8 values at p -> int32 lanes (sign-extended).
template <usable_arch A>
struct load_i8_to_i32_fn {
  PACT_ALWAYS_INLINE vec<std::int32_t, A> operator()(const std::int8_t* p) const noexcept {
    return detail::load_bytes_to_i32<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load_i8_to_i32_fn<A> load_i8_to_i32{};

/// lanes<int32, A> uint8 values at p -> int32 lanes (zero-extended).
template <usable_arch A>
struct load_u8_to_i32_fn {
  PACT_ALWAYS_INLINE vec<std::int32_t, A> operator()(const std::uint8_t* p) const noexcept {
    return detail::load_bytes_to_i32<A>(p, A{});
  }
};
template <usable_arch A>
inline constexpr load_u8_to_i32_fn<A> load_u8_to_i32{};

/// int32 lanes -> lanes<int32, A> int8 values at p, saturating.
struct store_i32_to_i8_fn {
  template <class V>
  PACT_ALWAYS_INLINE void operator()(std::int8_t* p, const V& v) const noexcept {
    using A = arch_of<V>;
    static_assert(std::is_same_v<V, vec<std::int32_t, A>>, "store_i32_to_i8 takes int32 lanes");
    detail::store_i32_to_bytes<A>(p, v, A{});
  }
};
inline constexpr store_i32_to_i8_fn store_i32_to_i8{};

/// int32 lanes -> lanes<int32, A> uint8 values at p, saturating.
struct store_i32_to_u8_fn {
  template <class V>
  PACT_ALWAYS_INLINE void operator()(std::uint8_t* p, const V& v) const noexcept {
    using A = arch_of<V>;
    static_assert(std::is_same_v<V, vec<std::int32_t, A>>, "store_i32_to_u8 takes int32 lanes");
    detail::store_i32_to_bytes<A>(p, v, A{});
  }
};
inline constexpr store_i32_to_u8_fn store_i32_to_u8{};

/// Four int32 vectors -> 4 x lanes<int32, A> uint8 values at p (a's lanes first), saturating.
struct store4_i32_to_u8_fn {
  template <class V>
  PACT_ALWAYS_INLINE void operator()(std::uint8_t* p, const V& a, const V& b, const V& c, const V& d) const noexcept {
    using A = arch_of<V>;
    static_assert(std::is_same_v<V, vec<std::int32_t, A>>, "store4_i32_to_u8 takes int32 lanes");
    detail::store4_i32_to_u8<A>(p, a, b, c, d, A{});
  }
};
inline constexpr store4_i32_to_u8_fn store4_i32_to_u8{};

/// v, hidden from the optimizer (see the top of the file).
struct opaque_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V v) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
#if defined(__GNUC__)
      __asm__("" : "+m"(v));
#else
      volatile V barrier = v;
      v = barrier;
#endif
      return v;
    } else {
#if defined(PACT_HAS_XSIMD)
      auto r = v.data;
#if defined(__AVX512F__)
      __asm__("" : "+v"(r));
#elif defined(__SSE2__)
      __asm__("" : "+x"(r));
#elif defined(__aarch64__) || defined(__ARM_NEON)
      __asm__("" : "+w"(r));
#endif
      return V(r);
#endif
    }
  }
};
inline constexpr opaque_fn opaque{};

}  // namespace simd
PACT_NAMESPACE_END
