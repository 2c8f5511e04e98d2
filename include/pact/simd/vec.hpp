#pragma once
// vec<T, A>: the register type of arch A holding T. For xsimd-backed archs it *is* the
// xsimd batch (zero cost, all of xsimd's operators work); for `scalar` it is pact's
// emulated 128-bit vector. Kernels name registers only through this alias.
#include <cstddef>
#include <type_traits>

#include "pact/simd/arch.hpp"
#include "pact/simd/scalar_batch.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {
namespace detail {
template <class T, class A>
struct vec_of {
#if defined(PACT_HAS_XSIMD)
  using type = xsimd::batch<T, typename A::xsimd_arch>;
  using mask = xsimd::batch_bool<T, typename A::xsimd_arch>;
#endif
};
template <class T>
struct vec_of<T, scalar> {
  using type = scalar_batch<T>;
  using mask = scalar_mask<T>;
};
}  // namespace detail

template <class T, usable_arch A>
using vec = typename detail::vec_of<T, A>::type;

template <class T, usable_arch A>
using mask = typename detail::vec_of<T, A>::mask;

/// Number of T lanes in one register of arch A.
template <class T, usable_arch A>
inline constexpr std::size_t lanes = A::bytes / sizeof(T);

template <class A>
inline constexpr bool is_scalar_arch = std::is_same_v<A, scalar>;

}  // namespace simd
PACT_NAMESPACE_END
