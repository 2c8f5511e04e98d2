#pragma once
// Arithmetic the kernels need beyond + - * /: fused multiply-add, min/max, horizontal
// reductions, comparisons and select.
//
// NaN rules (documented in docs/simd.md): what min/max/reduce_max return for a NaN
// operand is arch-specific (x86 returns the second operand, NEON returns NaN), so kernels
// must not rely on them to propagate NaN; reduce_add propagates NaN; reduce_max/min are
// exact for NaN-free input.
#include <algorithm>
#include <cmath>
#include <iterator>

#include "pact/simd/ops_memory.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {

template <class T, class A>
PACT_ALWAYS_INLINE auto fma(const vec<T, A>& a, const vec<T, A>& b, const vec<T, A>& c,
                            requires_arch<generic>) noexcept {
  if constexpr (is_scalar_arch<A>) {
    vec<T, A> r;
    for (std::size_t i = 0; i < lanes<T, A>; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i];
    return r;
  } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
    return xsimd::fma(a, b, c);
#endif
  }
}
#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
// xsimd 8.1 has no AVX-512 fma kernel (it computes x*y+z); clang then emits vmulps+vaddps
// at half the throughput and with a different rounding. Use the instruction directly.
template <class T, class A>
PACT_ALWAYS_INLINE auto fma(const vec<T, A>& a, const vec<T, A>& b, const vec<T, A>& c,
                            requires_arch<avx512>) noexcept {
  if constexpr (std::is_same_v<T, float>) {
    return vec<T, A>(_mm512_fmadd_ps(a, b, c));
  } else if constexpr (std::is_same_v<T, double>) {
    return vec<T, A>(_mm512_fmadd_pd(a, b, c));
  } else {
    return vec<T, A>(a * b + c);
  }
}
#endif

template <class T, class A, class V>
PACT_ALWAYS_INLINE T reduce_max(const V& v, requires_arch<generic>) noexcept {
  alignas(64) T buf[lanes<T, A>];
  store_aligned(buf, v);
  T m = buf[0];
  for (std::size_t i = 1; i < lanes<T, A>; ++i) m = buf[i] > m ? buf[i] : m;
  return m;
}
template <class T, class A, class V>
PACT_ALWAYS_INLINE T reduce_min(const V& v, requires_arch<generic>) noexcept {
  alignas(64) T buf[lanes<T, A>];
  store_aligned(buf, v);
  T m = buf[0];
  for (std::size_t i = 1; i < lanes<T, A>; ++i) m = buf[i] < m ? buf[i] : m;
  return m;
}
#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <class T, class A, class V>
PACT_ALWAYS_INLINE T reduce_max(const V& v, requires_arch<avx512>) noexcept {
  if constexpr (std::is_same_v<T, float>) {
    return _mm512_reduce_max_ps(v);
  } else {
    return reduce_max<T, A>(v, generic{});
  }
}
#endif
}  // namespace detail

/// a * b + c per lane, fused (one rounding) on archs with FMA (avx2, avx512, neon64);
/// on sse2, neon (armv7) and scalar the compiler may or may not contract it.
struct fma_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V& a, const V& b, const V& c) const noexcept {
    using A = arch_of<V>;
    return detail::fma<typename V::value_type, A>(a, b, c, A{});
  }
};
inline constexpr fma_fn fma{};

/// Lane-wise minimum / maximum (NaN behaviour arch-specific, see the top of this file).
struct min_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V& a, const V& b) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
      V r;
      for (std::size_t i = 0; i < V::size; ++i) r.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i];
      return r;
    } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
      return xsimd::min(a, b);
#endif
    }
  }
};
inline constexpr min_fn min{};
struct max_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V& a, const V& b) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
      V r;
      for (std::size_t i = 0; i < V::size; ++i) r.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i];
      return r;
    } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
      return xsimd::max(a, b);
#endif
    }
  }
};
inline constexpr max_fn max{};
struct abs_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V& a) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
      V r;
      for (std::size_t i = 0; i < V::size; ++i) r.v[i] = a.v[i] < 0 ? -a.v[i] : a.v[i];
      return r;
    } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
      return xsimd::abs(a);
#endif
    }
  }
};
inline constexpr abs_fn abs{};

/// Sum of all lanes (tree order fixed per arch: deterministic, not bit-equal across archs).
struct reduce_add_fn {
  template <class V>
  PACT_ALWAYS_INLINE typename V::value_type operator()(const V& v) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
      typename V::value_type s = v.v[0];
      for (std::size_t i = 1; i < V::size; ++i) s += v.v[i];
      return s;
    } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
      return xsimd::hadd(v);
#endif
    }
  }
};
inline constexpr reduce_add_fn reduce_add{};

/// Largest / smallest lane (exact for NaN-free input).
struct reduce_max_fn {
  template <class V>
  PACT_ALWAYS_INLINE typename V::value_type operator()(const V& v) const noexcept {
    using A = arch_of<V>;
    return detail::reduce_max<typename V::value_type, A>(v, A{});
  }
};
inline constexpr reduce_max_fn reduce_max{};
struct reduce_min_fn {
  template <class V>
  PACT_ALWAYS_INLINE typename V::value_type operator()(const V& v) const noexcept {
    using A = arch_of<V>;
    return detail::reduce_min<typename V::value_type, A>(v, A{});
  }
};
inline constexpr reduce_min_fn reduce_min{};

// ---- comparisons and select -------------------------------------------------------
#define PACT_SIMD_COMPARE(name, op)                                                    \
  struct name##_fn {                                                                   \
    template <class V>                                                                 \
    PACT_ALWAYS_INLINE auto operator()(const V& a, const V& b) const noexcept {        \
      if constexpr (is_scalar_arch<arch_of<V>>) {                                      \
        scalar_mask<typename V::value_type> m;                                         \
        for (std::size_t i = 0; i < V::size; ++i) m.v[i] = a.v[i] op b.v[i];           \
        return m;                                                                      \
      } else {                                                                         \
        return a op b;                                                                 \
      }                                                                                \
    }                                                                                  \
  };                                                                                   \
  inline constexpr name##_fn name{};
PACT_SIMD_COMPARE(cmp_lt, <)
PACT_SIMD_COMPARE(cmp_le, <=)
PACT_SIMD_COMPARE(cmp_gt, >)
PACT_SIMD_COMPARE(cmp_ge, >=)
PACT_SIMD_COMPARE(cmp_eq, ==)
#undef PACT_SIMD_COMPARE

/// a != b per lane, IEEE style (true when either is NaN). xsimd 8.1's `!=` on float
/// batches uses the *ordered* predicate (NaN != NaN is false), so pact negates `==`.
struct cmp_neq_fn {
  template <class V>
  PACT_ALWAYS_INLINE auto operator()(const V& a, const V& b) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
      scalar_mask<typename V::value_type> m;
      for (std::size_t i = 0; i < V::size; ++i) m.v[i] = a.v[i] != b.v[i];
      return m;
    } else {
      return ~(a == b);
    }
  }
};
inline constexpr cmp_neq_fn cmp_neq{};

/// Lanes where v is NaN.
struct is_nan_fn {
  template <class V>
  PACT_ALWAYS_INLINE auto operator()(const V& v) const noexcept {
    return cmp_neq(v, v);
  }
};
inline constexpr is_nan_fn is_nan{};

/// Per lane: m ? a : b.
struct select_fn {
  template <class M, class V>
  PACT_ALWAYS_INLINE V operator()(const M& m, const V& a, const V& b) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
      V r;
      for (std::size_t i = 0; i < V::size; ++i) r.v[i] = m.v[i] ? a.v[i] : b.v[i];
      return r;
    } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
      return xsimd::select(m, a, b);
#endif
    }
  }
};
inline constexpr select_fn select{};

/// True if any / every lane of the mask is set.
struct any_fn {
  template <class M>
  PACT_ALWAYS_INLINE bool operator()(const M& m) const noexcept {
    if constexpr (is_scalar_arch<arch_of<M>>) {
      return std::any_of(std::begin(m.v), std::end(m.v), [](bool b) { return b; });
    } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
      return xsimd::any(m);
#endif
    }
  }
};
inline constexpr any_fn any{};
struct all_fn {
  template <class M>
  PACT_ALWAYS_INLINE bool operator()(const M& m) const noexcept {
    if constexpr (is_scalar_arch<arch_of<M>>) {
      return std::all_of(std::begin(m.v), std::end(m.v), [](bool b) { return b; });
    } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
      return xsimd::all(m);
#endif
    }
  }
};
inline constexpr all_fn all{};

}  // namespace simd
PACT_NAMESPACE_END
