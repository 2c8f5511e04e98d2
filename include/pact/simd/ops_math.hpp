#pragma once
// Transcendentals used by epilogues (GELU, SiLU): erf and tanh per float lane. xsimd's
// own implementations on its archs, the C library's elsewhere.
#include <cmath>

#include "pact/simd/ops_exp.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {

struct erf_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V& x) const noexcept {
    if constexpr (is_scalar_arch<arch_of<V>>) {
      V r;
      for (std::size_t i = 0; i < V::size; ++i) r.v[i] = std::erf(x.v[i]);
      return r;
    } else {
#if defined(PACT_HAS_XSIMD)  // xsimd declares nothing on the scalar-only targets
      return xsimd::erf(x);
#endif
    }
  }
};
/// erf(x) per lane.
inline constexpr erf_fn erf{};

struct tanh_fn {
  template <class V>
  PACT_ALWAYS_INLINE V operator()(const V& x) const noexcept {
    // tanh(x) = 1 - 2 / (exp(2x) + 1): saturates cleanly to +-1 (exp -> Inf or 0).
    using A = arch_of<V>;
    const V one = broadcast<A>(typename V::value_type(1));
    const V two = broadcast<A>(typename V::value_type(2));
    return one - two / (exp(x + x) + one);
  }
};
/// tanh(x) per lane, through simd::exp (absolute error below 1e-6).
inline constexpr tanh_fn tanh{};

}  // namespace simd
PACT_NAMESPACE_END
