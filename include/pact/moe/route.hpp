#pragma once
// Routing stage: router logits (tokens x experts) -> per token k (expert, weight) pairs.
//   route(policy, logits, routing, exec)                 logits given
//   route_hidden<GemmPolicy>(policy, x, gate, routing, exec)  logits = x * gate with pact::gemm
// `moe_routing` owns its arrays and only grows them, so reusing one object across calls
// allocates nothing after the first call. Tokens are independent: threads split them and
// every token is routed by the same scalar code, so the result does not depend on the
// thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/gemm/gemm.hpp"
#include "pact/moe/routing_policies.hpp"

PACT_NAMESPACE_BEGIN

/// The routing of a batch of tokens.
struct moe_routing {
  index_t tokens = 0;
  index_t experts = 0;
  index_t k = 0;
  std::vector<std::int32_t> expert;  ///< (tokens, k) row-major: chosen expert, best first
  std::vector<float> weight;         ///< (tokens, k): combine weight of that choice
  std::vector<float> probs;          ///< (tokens, experts): router probability (statistics)
  std::vector<float> logits;         ///< (tokens, experts) scratch for route_hidden
  std::vector<float> scratch;        ///< per-task routing scratch

  std::int32_t expert_of(index_t t, index_t slot) const noexcept { return expert[static_cast<std::size_t>(t * k + slot)]; }
  float weight_of(index_t t, index_t slot) const noexcept { return weight[static_cast<std::size_t>(t * k + slot)]; }
};

namespace moe_detail {
/// Tokens per routing task: enough work per task to hide the executor's hand-off.
inline constexpr index_t route_block = 64;

template <class T>
void grow(std::vector<T>& v, index_t n) {
  if (static_cast<index_t>(v.size()) < n) v.resize(static_cast<std::size_t>(n));
}

/// Routes rows of `logits` (row stride ld, unit column stride) into r.
template <routing_policy R, class Exec>
void route_rows(const R& policy, const float* logits, index_t ld, index_t tokens, index_t experts, moe_routing& r,
                const Exec& exec) {
  const index_t k = policy.top_k();
  r.tokens = tokens;
  r.experts = experts;
  r.k = k;
  grow(r.expert, tokens * k);
  grow(r.weight, tokens * k);
  grow(r.probs, tokens * experts);
  const index_t blocks = (tokens + route_block - 1) / route_block;
  const index_t tasks = std::min<index_t>(blocks, std::max(1, exec.num_threads()));
  const index_t per_task_scratch = routing_scratch_floats(experts);
  grow(r.scratch, std::max<index_t>(tasks, 1) * per_task_scratch);
  auto task = [&](index_t t) {
    float* scratch = r.scratch.data() + t * per_task_scratch;
    for (index_t b = blocks * t / tasks; b < blocks * (t + 1) / tasks; ++b)
      for (index_t i = b * route_block; i < std::min(tokens, (b + 1) * route_block); ++i)
        policy.route_token(logits + i * ld, experts, r.expert.data() + i * k, r.weight.data() + i * k,
                           r.probs.data() + i * experts, scratch);
  };
  if (tasks <= 1) {
    if (tokens > 0) task(0);
  } else {
    exec.parallel_for(tasks, task);
  }
}

inline void require_finite_logits(const float* p, index_t ld, index_t tokens, index_t experts, const char* who) {
  for (index_t i = 0; i < tokens; ++i)
    for (index_t j = 0; j < experts; ++j)
      if (!std::isfinite(p[i * ld + j])) throw error(errc::invalid_data, std::string(who) + ": non-finite router logit");
}
}  // namespace moe_detail

/// Routes `logits` (tokens x experts, unit column stride). Throws pact::error for invalid
/// policy parameters (k > experts, n_group not dividing experts, topk_group > n_group ...)
/// and for NaN/Inf logits (errc::invalid_data).
template <routing_policy R, class L, executor Exec = serial>
void route(const R& policy, const matrix_view<const float, L>& logits, moe_routing& r, const Exec& exec = {}) {
  validate(logits, "route: logits");
  if (logits.col_stride() != 1 && logits.cols() > 1)
    throw error(errc::bad_stride, "route: logits rows must be contiguous (unit column stride)");
  policy.validate(logits.cols());
  moe_detail::require_finite_logits(logits.data(), logits.row_stride(), logits.rows(), logits.cols(), "route");
  moe_detail::route_rows(policy, logits.data(), logits.row_stride(), logits.rows(), logits.cols(), r, exec);
}

/// logits = x (tokens x hidden) * gate (hidden x experts, any layout) with pact::gemm
/// (GemmPolicy: void = pact's default), then route(). The logits stay in r.logits.
template <class GemmPolicy = void, routing_policy R, class LX, class TG, class LG, executor Exec = serial>
void route_hidden(const R& policy, const matrix_view<const float, LX>& x, const matrix_view<TG, LG>& gate,
                  moe_routing& r, const Exec& exec = {}) {
  validate(x, "route_hidden: x");
  validate(gate, "route_hidden: gate");
  if (x.cols() != gate.rows()) throw error(errc::invalid_shape, "route_hidden: x.cols() != gate.rows() (hidden size)");
  const index_t tokens = x.rows(), experts = gate.cols();
  policy.validate(experts);
  moe_detail::grow(r.logits, tokens * experts);
  const auto logits = make_row_major(r.logits.data(), tokens, experts);
  gemm<GemmPolicy>(1.0f, x, gate, 0.0f, logits, epilogue::none{}, exec);
  moe_detail::require_finite_logits(logits.data(), experts, tokens, experts, "route_hidden");
  moe_detail::route_rows(policy, logits.data(), experts, tokens, experts, r, exec);
}

PACT_NAMESPACE_END
