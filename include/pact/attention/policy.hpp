#pragma once
// Attention policies: the tile sizes Br x Bc and the head dimension as data, checked by a
// concept plus static_assert sentences (see docs/attention.md).
//   block_q  (Br): query rows (or head x token rows in decode) that share one pass over K/V.
//   block_kv (Bc): keys per K/V tile; the score tile S^T is Bc x Br floats.
//   head_dim     : 0 = pick a compiled head dim (64, 80, 96, 128, 256) at run time, falling
//                  back to a runtime loop bound for any other size; a positive value pins it
//                  (calls with another head dim are rejected); any_head_dim (-1) compiles only
//                  the runtime-bound kernel: a sixth of the code and compile time of 0.
//   arch         : the SIMD arch of the microkernels (default: the widest this TU allows).
#include <concepts>
#include <cstddef>

#include "pact/core/matrix_view.hpp"
#include "pact/simd/arch.hpp"

PACT_NAMESPACE_BEGIN

/// head_dim of a policy that compiles one kernel, with a runtime loop bound, for every head
/// dim: the smallest binary and the fastest build (tests, code-size-bound embedders); the
/// common head dims run slower than with 0 (docs/attention.md has the measured cost).
inline constexpr index_t any_head_dim = -1;

template <index_t BlockQ = 64, index_t BlockKV = 64, index_t HeadDim = 0, class Arch = simd::native_arch>
struct attention_config {
  using arch = Arch;
  static constexpr index_t block_q = BlockQ;
  static constexpr index_t block_kv = BlockKV;
  static constexpr index_t head_dim = HeadDim;
};

/// The shape every attention policy has.
template <class P>
concept attention_policy = requires {
  typename P::arch;
  { P::block_q } -> std::convertible_to<index_t>;
  { P::block_kv } -> std::convertible_to<index_t>;
  { P::head_dim } -> std::convertible_to<index_t>;
};

namespace attention_detail {
/// Rows of the widest score microkernel on any arch (AVX-512: 2 x 16 query lanes).
inline constexpr index_t query_lane_multiple = 32;
/// K/V rows per microkernel step (broadcast side of both microkernels).
inline constexpr index_t kv_row_multiple = 8;

template <attention_policy P>
consteval bool check_attention_policy() {
  static_assert(P::block_q > 0 && P::block_q % query_lane_multiple == 0,
                "attention policy: block_q must be a positive multiple of 32 (the widest microkernel's query lanes)");
  static_assert(P::block_kv > 0 && P::block_kv % kv_row_multiple == 0,
                "attention policy: block_kv must be a positive multiple of 8 (the microkernels' K/V rows)");
  static_assert(P::block_q <= 512 && P::block_kv <= 512,
                "attention policy: block_q and block_kv above 512 would not keep a tile in L2");
  static_assert(simd::usable_arch<typename P::arch>,
                "attention policy: its arch is not enabled by this translation unit's target flags; use simd::native_arch or lower");
  static_assert(P::head_dim >= any_head_dim && P::head_dim <= 1024,
                "attention policy: head_dim must be 0 (compiled dims + runtime fallback), any_head_dim (-1, runtime only) or in 1..1024");
  return true;
}
}  // namespace attention_detail

PACT_NAMESPACE_END
