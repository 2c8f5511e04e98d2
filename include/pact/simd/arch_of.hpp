#pragma once
// arch_of<V>: the pact arch tag a register type belongs to, so ops that consume a vec
// can pick the per-arch overload without the caller repeating the arch.
#include "pact/simd/vec.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {
template <class V>
struct arch_of_impl;
template <class T>
struct arch_of_impl<scalar_batch<T>> {
  using type = scalar;
};
template <class T>
struct arch_of_impl<scalar_mask<T>> {
  using type = scalar;
};
#if defined(PACT_HAS_XSIMD)
template <class XA>
struct xsimd_to_pact;
#if defined(__SSE2__)
template <>
struct xsimd_to_pact<xsimd::sse2> {
  using type = sse2;
};
#endif
#if defined(PACT_TARGET_AVX2) || defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
template <>
struct xsimd_to_pact<xsimd::fma3<xsimd::avx2>> {
  using type = avx2;
};
#endif
#if defined(PACT_TARGET_AVX512_VNNI)
template <>
struct xsimd_to_pact<xsimd::avx512bw> {
  using type = avx512_vnni;
};
#elif defined(PACT_TARGET_AVX512)
template <>
struct xsimd_to_pact<xsimd::avx512bw> {
  using type = avx512;
};
#endif
#if defined(__aarch64__)
template <>
struct xsimd_to_pact<xsimd::neon64> {
  using type = neon64;
};
#elif defined(__arm__)
template <>
struct xsimd_to_pact<xsimd::neon> {
  using type = neon;
};
#endif
template <class T, class XA>
struct arch_of_impl<xsimd::batch<T, XA>> {
  using type = typename xsimd_to_pact<XA>::type;
};
template <class T, class XA>
struct arch_of_impl<xsimd::batch_bool<T, XA>> {
  using type = typename xsimd_to_pact<XA>::type;
};
#endif
}  // namespace detail

template <class V>
using arch_of = typename detail::arch_of_impl<V>::type;

}  // namespace simd
PACT_NAMESPACE_END
