#pragma once
// Vectorized exp(x) for float lanes, written once over pact's vocabulary.
//
// Method (Cody-Waite + minimax polynomial, as in Cephes' expf):
//   n = round(x / ln2),  r = x - n*ln2 (ln2 split in two so n*ln2_hi is exact),
//   exp(r) ~ 1 + r + r^2 * P(r) on |r| <= ln2/2,   exp(x) = exp(r) * 2^n.
// 2^n is applied by detail::scale_pow2 (AVX-512: vscalefps; elsewhere as 2^(n/2) * 2^(n - n/2)
// so both factors stay normal floats for every n in [-150, 128]): that gives correct
// overflow to +Inf above ~88.72, gradual underflow into subnormals, and +0 below ~-103.97.
// Inputs below -87 take no arithmetic on the main path (see exp_fn: underflow is slow on
// x86); only a vector holding a subnormal result takes a second pass.
// Accuracy (tests/simd/test_simd_exp.cpp checks it against float64 on every arch):
//   at most 2 ulp for results >= FLT_MIN (measured max: see docs/simd.md),
//   absolute error < 2^-149 * 2 in the subnormal range; exp(NaN) = NaN, exp(+Inf) = +Inf,
//   exp(-Inf) = +0.
#include "pact/simd/ops_bits.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {

namespace detail {
/// p * 2^n for float lanes n holding integers in [-150, 128], p in [0.5, 2]: the result is
/// a normal float, a gradual-underflow subnormal, +0 or +Inf as p * 2^n rounds, and NaN
/// in p stays NaN. Portable form: 2^n as two normal factors 2^(n/2) * 2^(n - n/2) built in
/// the exponent bits (two integer shifts and adds, two multiplies).
template <class A, class V>
PACT_ALWAYS_INLINE V scale_pow2(const V& p, const V& n, requires_arch<generic>) noexcept {
  const auto ni = to_int32(n);
  const auto n_half = ni >> 1;  // floor(n / 2)
  const auto n_rest = ni - n_half;
  const auto bias = broadcast<A>(std::int32_t{127});
  const V scale_a = bitcast<float>((n_half + bias) << 23);
  const V scale_b = bitcast<float>((n_rest + bias) << 23);
  return (p * scale_a) * scale_b;
}
#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
/// AVX-512: one vscalefps, rounded once (subnormal results are at least as exact).
template <class A, class V>
PACT_ALWAYS_INLINE V scale_pow2(const V& p, const V& n, requires_arch<avx512>) noexcept {
  return V(_mm512_scalef_ps(p, n));
}
#endif
}  // namespace detail

struct exp_fn {
template <class V>
PACT_ALWAYS_INLINE V operator()(const V& x) const noexcept {
  static_assert(std::is_same_v<typename V::value_type, float>, "simd::exp is defined for float lanes");
  using A = arch_of<V>;
  // Results below FLT_MIN are the slow case: on x86 without flush-to-zero every operation
  // whose result underflows takes a microcode assist (exp(-inf) measured 65-92 ns per
  // AVX-512 vector against 4-6 ns, and masked softmax scores are exactly that). So the
  // main path clamps x to [-87, 88.8], where nothing underflows (e^-87 > FLT_MIN), and sets
  // x < -87 to +0; lanes in (-104, -87), whose results are subnormal, are recomputed on
  // the full range only when a vector holds one. Below -104 the result rounds to +0.
  const V lo = broadcast<A>(-87.0f);
  V result = select(cmp_lt(x, lo), zero<float, A>(), reduced(min(max(x, lo), broadcast<A>(88.8f))));
  const auto subnormal = cmp_lt(abs(x + broadcast<A>(95.5f)), broadcast<A>(8.5f));  // -104 < x < -87
  if (any(subnormal)) [[unlikely]]
    result = select(subnormal, reduced(select(subnormal, x, lo)), result);
  return select(is_nan(x), x, result);
}

private:
/// e^x for x in [-104, 88.8]: n in [-150, 128].
template <class V>
static PACT_ALWAYS_INLINE V reduced(const V& xc) noexcept {
  using A = arch_of<V>;
  const V n = round_nearest(xc * broadcast<A>(1.44269504088896341f));
  V r = fma(n, broadcast<A>(-0.693359375f), xc);    // ln2_hi: 9 significant bits, n*ln2_hi exact
  r = fma(n, broadcast<A>(2.12194440e-4f), r);      // ln2_lo = ln2 - ln2_hi
  V p = broadcast<A>(1.9875691500E-4f);
  p = fma(p, r, broadcast<A>(1.3981999507E-3f));
  p = fma(p, r, broadcast<A>(8.3334519073E-3f));
  p = fma(p, r, broadcast<A>(4.1665795894E-2f));
  p = fma(p, r, broadcast<A>(1.6666665459E-1f));
  p = fma(p, r, broadcast<A>(5.0000001201E-1f));
  p = fma(p, r * r, r + broadcast<A>(1.0f));
  return detail::scale_pow2<A>(p, n, A{});
}
};
/// exp(x) per float lane (accuracy above).
inline constexpr exp_fn exp{};

}  // namespace simd
PACT_NAMESPACE_END
