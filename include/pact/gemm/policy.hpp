#pragma once
// A GEMM policy is plain data: which arch's microkernel, the compute (= accumulator)
// type, the MR x NR register tile and the KC / MC / NC cache blocks (BLIS naming):
//   MR x NR  register tile: MR rows of A broadcast against NR/lanes vectors of B;
//   KC       depth of one rank-KC update: an MR x KC sliver of A and a KC x NR sliver of
//            B are what the microkernel streams (the B sliver stays in L1);
//   MC       rows of A packed per block: MC x KC floats stay in L2;
//   NC       columns of B packed per block: KC x NC floats stay in L3.
// Per-chip defaults live in include/pact/tuning/; tools/ can generate tuned ones.
#include <concepts>
#include <type_traits>

#include "pact/core/matrix_view.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN

/// Which operand's sliver the two innermost loops keep in L1 (an optional policy member
/// `loop_order`; BLIS's b_sliver_in_l1 when absent).
enum class gemm_loop_order {
  b_sliver_in_l1,  ///< for jr { for ir }: B sliver (KC x NR) in L1, A block (MC x KC) in L2
  a_sliver_in_l1,  ///< for ir { for jr }: A sliver (MR x KC) in L1, B block (KC x NC) in L2
  automatic,       ///< a_sliver_in_l1 for blocks of at least 4 MR rows, else b_sliver_in_l1
};

template <class P>
constexpr gemm_loop_order loop_order_of = [] {
  if constexpr (requires { P::loop_order; }) return P::loop_order;
  else return gemm_loop_order::b_sliver_in_l1;
}();

/// Optional policy member `prefetch_b`: k steps of software prefetch ahead in the B
/// sliver (0 = rely on the hardware prefetchers).
template <class P>
constexpr int prefetch_b_of = [] {
  if constexpr (requires { P::prefetch_b; }) return static_cast<int>(P::prefetch_b);
  else return 0;
}();

/// The shape of a GEMM policy: the members must exist with the right kinds.
template <class P>
concept gemm_policy = requires {
  typename P::arch;
  typename P::compute_type;
  { P::mr } -> std::convertible_to<int>;
  { P::nr } -> std::convertible_to<int>;
  { P::kc } -> std::convertible_to<index_t>;
  { P::mc } -> std::convertible_to<index_t>;
  { P::nc } -> std::convertible_to<index_t>;
} && simd::simd_arch<typename P::arch>;

/// A GEMM policy as a struct of constants.
template <simd::simd_arch Arch, class T, int MR, int NR, index_t KC, index_t MC, index_t NC,
          gemm_loop_order Order = gemm_loop_order::b_sliver_in_l1, int PrefetchB = 0>
struct gemm_config {
  using arch = Arch;
  using compute_type = T;
  static constexpr int mr = MR;
  static constexpr int nr = NR;
  static constexpr index_t kc = KC;
  static constexpr index_t mc = MC;
  static constexpr index_t nc = NC;
  static constexpr gemm_loop_order loop_order = Order;
  static constexpr int prefetch_b = PrefetchB;
};

namespace detail {
template <class A>
constexpr int vector_registers() {
  if constexpr (std::is_same_v<A, simd::scalar>) return 32;
  else if constexpr (A::bytes >= 64) return 32;  // zmm0-31
#if defined(__aarch64__)
  else if constexpr (std::is_base_of_v<simd::neon64, A>) return 32;  // v0-v31
#endif
  else return 16;
}

/// Value checks with sentences; instantiated by every GEMM entry point.
template <gemm_policy P>
consteval bool check_gemm_policy() {
  using A = typename P::arch;
  using T = typename P::compute_type;
  static_assert(A::available,
                "GEMM policy: its arch is not enabled by this translation unit's target flags "
                "(e.g. an avx512 policy compiled without -mavx512f); use simd::native_arch or lower");
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "GEMM policy: compute_type must be float or double (bf16/fp16 inputs accumulate in float)");
  if constexpr (A::available && (std::is_same_v<T, float> || std::is_same_v<T, double>)) {
    constexpr int lanes = static_cast<int>(simd::lanes<T, A>);
    static_assert(P::nr > 0 && P::nr % lanes == 0, "GEMM policy: nr must be a positive multiple of the vector lanes");
    static_assert(P::mr >= 1 && P::mr <= 32, "GEMM policy: mr must be in [1, 32]");
    static_assert(P::mr * (P::nr / lanes) + P::nr / lanes + 1 <= vector_registers<A>(),
                  "GEMM policy: the MR x NR accumulator tile plus the B vectors and one broadcast "
                  "need more vector registers than the arch has");
    static_assert(P::kc >= 1, "GEMM policy: kc must be positive");
    static_assert(P::mc >= P::mr && P::mc % P::mr == 0, "GEMM policy: mc must be a positive multiple of mr");
    static_assert(P::nc >= P::nr && P::nc % P::nr == 0, "GEMM policy: nc must be a positive multiple of nr");
    static_assert(prefetch_b_of<P> >= 0, "GEMM policy: prefetch_b must be >= 0 (k steps ahead; 0 disables)");
  }
  return true;
}
}  // namespace detail

PACT_NAMESPACE_END
