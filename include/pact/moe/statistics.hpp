#pragma once
// Load statistics of a routing, and the two balancing rules built on them.
//   tokens_per_expert[i]  pairs routed to expert i (before capacity): the load
//   f_i = tokens_per_expert[i] / (tokens * k)      fraction of the routed pairs
//   P_i = mean over tokens of probs[t, i]          mean router probability
//   switch_aux_loss = experts * sum_i f_i * P_i    (Switch Transformer, eq. 4; 1 when balanced)
//   update_expert_bias: bias_i += gamma * sign(mean_load - load_i)
//        DeepSeek-V3's auxiliary-loss-free balancing: overloaded experts lose selection
//        bias, underloaded ones gain it (sign(0) = 0). The bias only affects selection
//        (sigmoid_grouped_topk::bias), never the weights.
// Sums run in double, in index order, so statistics are exact for counts and
// reproducible for probabilities.
#include <cmath>
#include <span>
#include <vector>

#include "pact/moe/dispatch.hpp"

PACT_NAMESPACE_BEGIN

struct moe_load_stats {
  std::vector<index_t> tokens_per_expert;
  std::vector<double> mean_probability;
  double aux_loss = 0;   ///< switch_aux_loss of the two vectors above
  index_t dropped = 0;   ///< pairs dropped by capacity (0 without a plan)
};

/// experts * sum_i (count_i / assignments) * mean_prob_i.
inline double switch_aux_loss(std::span<const index_t> tokens_per_expert, std::span<const double> mean_probability) {
  if (tokens_per_expert.size() != mean_probability.size())
    throw error(errc::invalid_shape, "switch_aux_loss: counts and probabilities differ in length");
  double total = 0, dot = 0;
  for (std::size_t i = 0; i < tokens_per_expert.size(); ++i) {
    total += static_cast<double>(tokens_per_expert[i]);
    dot += static_cast<double>(tokens_per_expert[i]) * mean_probability[i];
  }
  if (total == 0) return 0;
  return static_cast<double>(tokens_per_expert.size()) * dot / total;
}

/// Statistics of `r` (and of the dropping in `plan`, if given).
inline void compute_load_stats(const moe_routing& r, moe_load_stats& s, const moe_dispatch_plan* plan = nullptr) {
  const auto E = static_cast<std::size_t>(r.experts);
  s.tokens_per_expert.assign(E, 0);
  s.mean_probability.assign(E, 0.0);
  for (index_t i = 0; i < r.tokens * r.k; ++i) {
    const std::int32_t e = r.expert[static_cast<std::size_t>(i)];
    if (e < 0 || e >= r.experts) throw error(errc::invalid_data, "compute_load_stats: expert index out of range");
    ++s.tokens_per_expert[static_cast<std::size_t>(e)];
  }
  for (index_t t = 0; t < r.tokens; ++t)
    for (std::size_t e = 0; e < E; ++e) s.mean_probability[e] += r.probs[static_cast<std::size_t>(t) * E + e];
  if (r.tokens > 0)
    for (auto& p : s.mean_probability) p /= static_cast<double>(r.tokens);
  s.aux_loss = switch_aux_loss(s.tokens_per_expert, s.mean_probability);
  s.dropped = plan == nullptr ? 0 : static_cast<index_t>(plan->dropped.size());
}

/// bias_i += gamma * sign(mean(load) - load_i).
inline void update_expert_bias(std::span<float> bias, std::span<const index_t> load, float gamma) {
  if (bias.size() != load.size()) throw error(errc::invalid_shape, "update_expert_bias: bias and load differ in length");
  if (!std::isfinite(gamma)) throw error(errc::invalid_argument, "update_expert_bias: non-finite gamma");
  if (load.empty()) return;
  double total = 0;
  for (index_t l : load) total += static_cast<double>(l);
  const double mean = total / static_cast<double>(load.size());
  for (std::size_t i = 0; i < bias.size(); ++i) {
    const double d = mean - static_cast<double>(load[i]);
    bias[i] += gamma * static_cast<float>((d > 0) - (d < 0));
  }
}

PACT_NAMESPACE_END
