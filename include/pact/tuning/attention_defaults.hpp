#pragma once
// The attention policy pact::attention uses when the caller names none: the library's
// attention_config<> (64 x 64 tiles, runtime head dim), unless a generated `pact_tuned.hpp`
// (tools/pact_tune) specialises tuned_attention_policy for the arch, exactly as
// tuned_gemm_policy works for GEMM (tuning/gemm_defaults.hpp).
#include "pact/attention/policy.hpp"

PACT_NAMESPACE_BEGIN
namespace tuning {

/// Users (or tools/pact_tune) specialise this to replace the default for an arch.
template <class A>
struct tuned_attention_policy : attention_config<64, 64, 0, A> {};

}  // namespace tuning

/// The policy pact::attention uses when the caller names none.
template <class A = simd::native_arch>
using default_attention_policy_t = tuning::tuned_attention_policy<A>;

PACT_NAMESPACE_END

// A generated policy header, named by the build for every translation unit (see
// tuning/gemm_defaults.hpp): -DPACT_TUNED_HEADER='"pact_tuned.hpp"'.
#if defined(PACT_TUNED_HEADER)
#include PACT_TUNED_HEADER
#endif
