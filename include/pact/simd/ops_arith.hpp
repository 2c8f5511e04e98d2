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

template <class A, class V>
PACT_ALWAYS_INLINE V reduce_add_each(const V* rows, requires_arch<generic>) noexcept {
  if constexpr (is_scalar_arch<A>) {
    V r;
    for (std::size_t i = 0; i < V::size; ++i) {
      float s = rows[i].v[0];
      for (std::size_t j = 1; j < V::size; ++j) s += rows[i].v[j];
      r.v[i] = s;
    }
    return r;
  } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
    return xsimd::haddp(rows);
#endif
  }
}
/// Lane i = the largest lane of rows[i] (NaN-free input).
template <class A, class V>
PACT_ALWAYS_INLINE V reduce_max_each(const V* rows, requires_arch<generic>) noexcept {
  alignas(64) float row[64], out[64];
  for (std::size_t i = 0; i < V::size; ++i) {
    store_aligned(row, rows[i]);
    float m = row[0];
    for (std::size_t j = 1; j < V::size; ++j) m = row[j] > m ? row[j] : m;
    out[i] = m;
  }
  return load_aligned<A>(out);
}
#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
/// 16 rows -> 16 results of an associative, commutative op (add or max) in 45 shuffles and
/// ops. Step 1, per group of 4 rows: within each 128-bit block, fold to one partial result
/// per row ([r0, r1, r2, r3] of that block). Step 2: transpose the 4 x 4 grid of 128-bit
/// blocks across the 4 groups and combine.
template <class Op>
PACT_ALWAYS_INLINE __m512 reduce_each_avx512(const __m512* rows, Op op) noexcept {
  __m512 q[4];
  for (int g = 0; g < 4; ++g) {
    const __m512 r0 = rows[4 * g], r1 = rows[4 * g + 1], r2 = rows[4 * g + 2], r3 = rows[4 * g + 3];
    const __m512 s01 = op(_mm512_unpacklo_ps(r0, r1), _mm512_unpackhi_ps(r0, r1));
    const __m512 s23 = op(_mm512_unpacklo_ps(r2, r3), _mm512_unpackhi_ps(r2, r3));
    q[g] = op(_mm512_shuffle_ps(s01, s23, _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_ps(s01, s23, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  const __m512 s01 = op(_mm512_shuffle_f32x4(q[0], q[1], _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_f32x4(q[0], q[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m512 s23 = op(_mm512_shuffle_f32x4(q[2], q[3], _MM_SHUFFLE(1, 0, 1, 0)), _mm512_shuffle_f32x4(q[2], q[3], _MM_SHUFFLE(3, 2, 3, 2)));
  return op(_mm512_shuffle_f32x4(s01, s23, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_f32x4(s01, s23, _MM_SHUFFLE(3, 1, 3, 1)));
}
template <class A, class V>
PACT_ALWAYS_INLINE V reduce_add_each(const V* rows, requires_arch<avx512>) noexcept {
  __m512 r[16];
  for (int i = 0; i < 16; ++i) r[i] = rows[i];
  return V(reduce_each_avx512(r, [](__m512 a, __m512 b) PACT_ALWAYS_INLINE_LAMBDA { return _mm512_add_ps(a, b); }));
}
template <class A, class V>
PACT_ALWAYS_INLINE V reduce_max_each(const V* rows, requires_arch<avx512>) noexcept {
  __m512 r[16];
  for (int i = 0; i < 16; ++i) r[i] = rows[i];
  return V(reduce_each_avx512(r, [](__m512 a, __m512 b) PACT_ALWAYS_INLINE_LAMBDA { return _mm512_max_ps(a, b); }));
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
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    return _mm512_reduce_max_epi32(v);
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

/// Transposing sum: lane i of the result is the sum of the lanes of rows[i], for
/// rows[0..lanes) of float. One call does the work of lanes<float> reduce_add calls at the
/// cost of about three (a shuffle tree instead of a chain per vector), and lands the sums
/// in a register ready to store: the dot products of one query with a block of keys.
/// (xsimd 8.1's AVX-512 haddp returns the sums in a permuted lane order, so AVX-512 has
/// its own tree below; the test checks every lane on every arch.)
struct reduce_add_each_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V* rows) const noexcept {
    static_assert(std::is_same_v<typename V::value_type, float>, "reduce_add_each: float vectors");
    using A = arch_of<V>;
    return detail::reduce_add_each<A>(rows, A{});
  }
};
inline constexpr reduce_add_each_fn reduce_add_each{};

/// Transposing maximum: lane i of the result is the largest lane of rows[i], for
/// rows[0..lanes) of float (NaN-free input): the absolute maxima of lanes<float> blocks in
/// one register (the block quantizers' scales).
struct reduce_max_each_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V* rows) const noexcept {
    static_assert(std::is_same_v<typename V::value_type, float>, "reduce_max_each: float vectors");
    using A = arch_of<V>;
    return detail::reduce_max_each<A>(rows, A{});
  }
};
inline constexpr reduce_max_each_fn reduce_max_each{};

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
