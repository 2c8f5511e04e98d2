#pragma once
// Loads, stores and broadcasts. Partial forms move n < lanes elements and never touch
// memory past p + n: AVX-512 and AVX2 use masked moves (masked-off lanes cannot fault),
// other archs go through a small stack buffer.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pact/simd/arch_of.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {

// Every public op is a function object (a "niebloid"): an unqualified call then never
// picks up xsimd's functions of the same name through argument-dependent lookup.

/// Unaligned load of lanes<T, A> elements.
template <usable_arch A>
struct load_fn {
  template <class T>
  PACT_ALWAYS_INLINE vec<T, A> operator()(const T* p) const noexcept {
    if constexpr (is_scalar_arch<A>) {
      vec<T, A> r;
      std::memcpy(r.v, p, sizeof(r.v));
      return r;
    } else {
      return vec<T, A>::load_unaligned(p);
    }
  }
};
template <usable_arch A>
inline constexpr load_fn<A> load{};

/// Load from an address aligned to A::bytes.
template <usable_arch A>
struct load_aligned_fn {
  template <class T>
  PACT_ALWAYS_INLINE vec<T, A> operator()(const T* p) const noexcept {
    if constexpr (is_scalar_arch<A>) {
      return load<A>(p);
    } else {
      return vec<T, A>::load_aligned(p);
    }
  }
};
template <usable_arch A>
inline constexpr load_aligned_fn<A> load_aligned{};

/// Unaligned store of all lanes.
struct store_fn {
  template <class T, class V>
  PACT_ALWAYS_INLINE void operator()(T* p, const V& v) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
      std::memcpy(p, v.v, sizeof(v.v));
    } else {
      v.store_unaligned(p);
    }
  }
};
inline constexpr store_fn store{};

/// Store to an address aligned to the register width.
struct store_aligned_fn {
  template <class T, class V>
  PACT_ALWAYS_INLINE void operator()(T* p, const V& v) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
      std::memcpy(p, v.v, sizeof(v.v));
    } else {
      v.store_aligned(p);
    }
  }
};
inline constexpr store_aligned_fn store_aligned{};

/// Every lane set to x.
template <usable_arch A>
struct broadcast_fn {
  template <class T>
  PACT_ALWAYS_INLINE vec<T, A> operator()(T x) const noexcept {
    if constexpr (is_scalar_arch<A>) {
      vec<T, A> r;
      for (auto& e : r.v) e = x;
      return r;
    } else {
      return vec<T, A>(x);
    }
  }
};
template <usable_arch A>
inline constexpr broadcast_fn<A> broadcast{};

/// All lanes zero.
template <class T, usable_arch A>
struct zero_fn {
  PACT_ALWAYS_INLINE vec<T, A> operator()() const noexcept { return broadcast<A>(T(0)); }
};
template <class T, usable_arch A>
inline constexpr zero_fn<T, A> zero{};

namespace detail {
template <class A, class T>
PACT_ALWAYS_INLINE vec<T, A> load_partial(const T* p, std::size_t n, requires_arch<generic>) noexcept {
  alignas(64) T buf[lanes<T, A>] = {};
  std::memcpy(buf, p, n * sizeof(T));
  return load_aligned<A>(buf);
}
template <class A, class T, class V>
PACT_ALWAYS_INLINE void store_partial(T* p, const V& v, std::size_t n, requires_arch<generic>) noexcept {
  alignas(64) T buf[lanes<T, A>];
  store_aligned(buf, v);
  std::memcpy(p, buf, n * sizeof(T));
}

#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
inline __mmask16 mask16_first(std::size_t n) noexcept { return static_cast<__mmask16>((1u << n) - 1u); }
inline __mmask8 mask8_first(std::size_t n) noexcept { return static_cast<__mmask8>((1u << n) - 1u); }
inline __mmask64 mask64_first(std::size_t n) noexcept {
  return n >= 64 ? ~__mmask64(0) : ((__mmask64(1) << n) - 1u);
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_partial(const float* p, std::size_t n, requires_arch<avx512>) noexcept {
  return _mm512_maskz_loadu_ps(mask16_first(n), p);
}
template <class A>
PACT_ALWAYS_INLINE vec<double, A> load_partial(const double* p, std::size_t n, requires_arch<avx512>) noexcept {
  return _mm512_maskz_loadu_pd(mask8_first(n), p);
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int32_t, A> load_partial(const std::int32_t* p, std::size_t n,
                                                     requires_arch<avx512>) noexcept {
  return _mm512_maskz_loadu_epi32(mask16_first(n), p);
}
template <class A>
PACT_ALWAYS_INLINE vec<std::uint8_t, A> load_partial(const std::uint8_t* p, std::size_t n,
                                                     requires_arch<avx512>) noexcept {
  return _mm512_maskz_loadu_epi8(mask64_first(n), p);
}
template <class A>
PACT_ALWAYS_INLINE vec<std::int8_t, A> load_partial(const std::int8_t* p, std::size_t n,
                                                    requires_arch<avx512>) noexcept {
  return _mm512_maskz_loadu_epi8(mask64_first(n), p);
}
template <class A>
PACT_ALWAYS_INLINE void store_partial(float* p, const vec<float, A>& v, std::size_t n,
                                      requires_arch<avx512>) noexcept {
  _mm512_mask_storeu_ps(p, mask16_first(n), v);
}
template <class A>
PACT_ALWAYS_INLINE void store_partial(double* p, const vec<double, A>& v, std::size_t n,
                                      requires_arch<avx512>) noexcept {
  _mm512_mask_storeu_pd(p, mask8_first(n), v);
}
template <class A>
PACT_ALWAYS_INLINE void store_partial(std::int32_t* p, const vec<std::int32_t, A>& v, std::size_t n,
                                      requires_arch<avx512>) noexcept {
  _mm512_mask_storeu_epi32(p, mask16_first(n), v);
}
#endif

#if defined(PACT_TARGET_AVX2) || defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
inline __m256i mask8x32_first(std::size_t n) noexcept {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
template <class A>
PACT_ALWAYS_INLINE vec<float, A> load_partial(const float* p, std::size_t n, requires_arch<avx2>) noexcept {
  return _mm256_maskload_ps(p, mask8x32_first(n));
}
template <class A>
PACT_ALWAYS_INLINE void store_partial(float* p, const vec<float, A>& v, std::size_t n,
                                      requires_arch<avx2>) noexcept {
  _mm256_maskstore_ps(p, mask8x32_first(n), v);
}
#endif
}  // namespace detail

/// Load the first n (0 <= n <= lanes) elements at p; lanes >= n are zero. Reads nothing
/// past p + n.
template <usable_arch A>
struct load_partial_fn {
  template <class T>
  PACT_ALWAYS_INLINE vec<T, A> operator()(const T* p, std::size_t n) const noexcept {
    return detail::load_partial<A>(p, n, A{});
  }
};
template <usable_arch A>
inline constexpr load_partial_fn<A> load_partial{};

/// Store the first n (0 <= n <= lanes) lanes of v to p. Writes nothing past p + n.
struct store_partial_fn {
  template <class T, class V>
  PACT_ALWAYS_INLINE void operator()(T* p, const V& v, std::size_t n) const noexcept {
    using A = arch_of<V>;
    detail::store_partial<A>(p, v, n, A{});
  }
};
inline constexpr store_partial_fn store_partial{};

/// Hint that the cache line holding p will be read soon (no-op where unsupported).
PACT_ALWAYS_INLINE void prefetch_l1(const void* p) noexcept {
#if defined(__GNUC__)
  __builtin_prefetch(p, 0, 3);
#else
  (void)p;
#endif
}
/// Hint that the cache line holding p will be written soon.
PACT_ALWAYS_INLINE void prefetch_l1_write(void* p) noexcept {
#if defined(__GNUC__)
  __builtin_prefetch(p, 1, 3);
#else
  (void)p;
#endif
}
PACT_ALWAYS_INLINE void prefetch_l2(const void* p) noexcept {
#if defined(__GNUC__)
  __builtin_prefetch(p, 0, 2);
#else
  (void)p;
#endif
}

/// Prefetches a region the caller will read next into L2, in equal parts over `steps`
/// calls of step() while the caller works on something else: a blocked loop that reuses
/// one block of data from L2 would otherwise wait on memory whenever it starts the next
/// block. The region is `chunks` runs of `chunk_bytes` bytes, `stride` bytes apart (one
/// contiguous run: chunks = 1).
class prefetch_stream {
 public:
  prefetch_stream() = default;
  prefetch_stream(const void* first, std::ptrdiff_t chunks, std::ptrdiff_t chunk_bytes, std::ptrdiff_t stride,
                  std::ptrdiff_t steps) noexcept
      : base_(static_cast<const char*>(first)),
        chunk_lines_((chunk_bytes + 63) / 64),
        stride_(stride),
        total_(chunks > 0 ? chunks * chunk_lines_ : 0),
        per_step_(steps > 0 ? (total_ + steps - 1) / steps : total_) {}
  /// Cache lines asked for so far, and in all.
  std::ptrdiff_t issued() const noexcept { return done_; }
  std::ptrdiff_t total() const noexcept { return total_; }
  /// The next part of the region: per_step lines, walking each run in order.
  PACT_ALWAYS_INLINE void step() noexcept {
    for (std::ptrdiff_t c = 0; c < per_step_ && done_ < total_; ++c, ++done_) {
      prefetch_l2(base_ + chunk_ * stride_ + line_ * 64);
      if (++line_ == chunk_lines_) line_ = 0, ++chunk_;
    }
  }

 private:
  const char* base_ = nullptr;
  std::ptrdiff_t chunk_lines_ = 0, stride_ = 0, total_ = 0, per_step_ = 0;
  std::ptrdiff_t done_ = 0, chunk_ = 0, line_ = 0;
};

}  // namespace simd
PACT_NAMESPACE_END
