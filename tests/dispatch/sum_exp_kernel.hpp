#pragma once
// The kernel body, written once over pact's vocabulary and compiled once per ISA: each
// kernel_<isa>.cpp includes this header with its own -march, so pact::simd::native_arch
// (and pact's inline target namespace) differ per translation unit.
//
// The helper has internal linkage (anonymous namespace): if it were an ordinary inline
// function, the linker would keep one of the per-ISA copies for all callers, and an AVX-512
// copy could end up running on an AVX2 machine. pact's own code is protected by its
// inline target namespace (pact::target_avx2::..., see include/pact/simd/target.hpp).
#include <cstddef>

#include "pact/simd/simd.hpp"

namespace {

float sum_exp_native(const float* x, std::size_t n, const char** arch_name) {
  namespace ps = pact::simd;
  using A = ps::native_arch;
  constexpr std::size_t L = ps::lanes<float, A>;
  if (arch_name != nullptr) *arch_name = A::name;

  // Two accumulators hide the add latency; the order is fixed, so results are deterministic
  // per ISA (not bit-equal across ISAs: lane count changes the summation tree).
  auto acc0 = ps::broadcast<A>(0.0f);
  auto acc1 = ps::broadcast<A>(0.0f);
  std::size_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    acc0 = acc0 + ps::exp(ps::load<A>(x + i));
    acc1 = acc1 + ps::exp(ps::load<A>(x + i + L));
  }
  for (; i + L <= n; i += L) acc0 = acc0 + ps::exp(ps::load<A>(x + i));
  float sum = ps::reduce_add(acc0 + acc1);

  // Tail: load_partial reads only the n - i valid elements (zero-filled lanes would add
  // exp(0) = 1 each), so sum just those lanes.
  if (i < n) {
    const std::size_t rest = n - i;
    float tail[L];
    ps::store(tail, ps::exp(ps::load_partial<A>(x + i, rest)));
    for (std::size_t j = 0; j < rest; ++j) sum += tail[j];
  }
  return sum;
}

}  // namespace
