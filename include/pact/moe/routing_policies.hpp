#pragma once
// Routing policies: how one token's router logits become k (expert, weight) pairs.
// A policy is a plain struct (its parameters) with three members, checked by the
// `routing_policy` concept:
//   index_t top_k() const                               k, the experts chosen per token
//   void validate(index_t experts) const                throws pact::error on bad parameters
//   void route_token(const float* logits, index_t experts, std::int32_t* ids, float* weights,
//                    float* probs, float* scratch) const
//        ids/weights: k entries, best first; probs: `experts` router probabilities (what the
//        load statistics average); scratch: routing_scratch_floats(experts) floats.
// Ties always break towards the lower expert (and group) index, so a routing is a pure
// function of the logits. Formulas: docs/moe.md.
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>

#include "pact/core/error.hpp"
#include "pact/core/matrix_view.hpp"

PACT_NAMESPACE_BEGIN

/// Floats of scratch route_token may use for `experts` experts (every policy fits in it).
constexpr index_t routing_scratch_floats(index_t experts) noexcept { return 3 * experts + 8; }

namespace moe_detail {

/// The k largest of s[0, n) among entries with allowed[i] != 0 (allowed may be null), best
/// first; equal values: lower index first. `taken` is n bytes of scratch. O(k * n): n is
/// the expert count (8..256) and k small, so a scan beats a heap here.
inline void select_top_k(const float* s, index_t n, index_t k, const unsigned char* allowed, unsigned char* taken,
                         std::int32_t* out) {
  std::fill(taken, taken + n, static_cast<unsigned char>(0));
  for (index_t j = 0; j < k; ++j) {
    index_t best = -1;
    for (index_t i = 0; i < n; ++i) {
      if (taken[i] || (allowed != nullptr && !allowed[i])) continue;
      if (best < 0 || s[i] > s[best]) best = i;  // strict '>': the first (lowest) index wins ties
    }
    taken[best] = 1;
    out[j] = static_cast<std::int32_t>(best);
  }
}

/// p = softmax(x) over n values (max subtracted; sum in index order).
inline void softmax(const float* x, index_t n, float* p) {
  float m = x[0];
  for (index_t i = 1; i < n; ++i) m = std::max(m, x[i]);
  float sum = 0;
  for (index_t i = 0; i < n; ++i) sum += (p[i] = std::exp(x[i] - m));
  const float inv = 1.0f / sum;
  for (index_t i = 0; i < n; ++i) p[i] *= inv;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

inline void require_k(index_t k, index_t experts, const char* who) {
  if (experts < 1) throw error(errc::invalid_shape, std::string(who) + ": need at least one expert");
  if (k < 1) throw error(errc::invalid_argument, std::string(who) + ": top_k must be >= 1");
  if (k > experts) throw error(errc::invalid_argument, std::string(who) + ": top_k > number of experts");
}

}  // namespace moe_detail

/// Mixtral: p = softmax(logits) over all experts, keep the k largest p; with renormalize
/// the k weights are divided by their sum (Mixtral does), else they are the raw p.
struct softmax_topk {
  index_t k = 2;
  bool renormalize = true;

  index_t top_k() const noexcept { return k; }
  void validate(index_t experts) const { moe_detail::require_k(k, experts, "softmax_topk"); }
  void route_token(const float* logits, index_t experts, std::int32_t* ids, float* weights, float* probs,
                   float* scratch) const {
    moe_detail::softmax(logits, experts, probs);
    moe_detail::select_top_k(probs, experts, k, nullptr, reinterpret_cast<unsigned char*>(scratch), ids);
    float sum = 0;
    for (index_t j = 0; j < k; ++j) sum += (weights[j] = probs[ids[j]]);
    if (renormalize)
      for (index_t j = 0; j < k; ++j) weights[j] /= sum;
  }
};

/// Top-k on the logits, then a softmax over the k chosen logits only. Same selection as
/// softmax_topk (softmax is monotonic), weights computed from k values instead of all.
/// probs (for the statistics) is still the softmax over all experts.
struct topk_softmax {
  index_t k = 2;

  index_t top_k() const noexcept { return k; }
  void validate(index_t experts) const { moe_detail::require_k(k, experts, "topk_softmax"); }
  void route_token(const float* logits, index_t experts, std::int32_t* ids, float* weights, float* probs,
                   float* scratch) const {
    moe_detail::select_top_k(logits, experts, k, nullptr, reinterpret_cast<unsigned char*>(scratch), ids);
    float* chosen = scratch + experts;  // the k chosen logits
    for (index_t j = 0; j < k; ++j) chosen[j] = logits[ids[j]];
    moe_detail::softmax(chosen, k, weights);
    moe_detail::softmax(logits, experts, probs);
  }
};

/// DeepSeek-V3 ("noaux_tc"): s = sigmoid(logits); selection uses s + bias (bias only steers
/// which experts win, see update_expert_bias); experts form n_group equal groups, a group
/// scores the sum of its two best biased scores (its one score if a group has one expert),
/// the topk_group best groups stay, and the k best biased scores inside them are chosen.
/// Weights are the UNBIASED s of the chosen experts, divided by their sum when
/// renormalize, times routed_scaling_factor. probs = s / sum(s) per token (DeepSeek-V3's
/// normalized affinity, used by the balance statistics).
struct sigmoid_grouped_topk {
  index_t k = 8;
  index_t n_group = 1;
  index_t topk_group = 1;
  float routed_scaling_factor = 1.0f;
  std::span<const float> bias = {};  ///< empty, or one value per expert
  bool renormalize = true;

  index_t top_k() const noexcept { return k; }
  void validate(index_t experts) const {
    moe_detail::require_k(k, experts, "sigmoid_grouped_topk");
    if (n_group < 1) throw error(errc::invalid_argument, "sigmoid_grouped_topk: n_group must be >= 1");
    if (experts % n_group != 0)
      throw error(errc::invalid_argument, "sigmoid_grouped_topk: n_group does not divide the number of experts");
    if (topk_group < 1 || topk_group > n_group)
      throw error(errc::invalid_argument, "sigmoid_grouped_topk: topk_group must be in [1, n_group]");
    if (k > topk_group * (experts / n_group))
      throw error(errc::invalid_argument, "sigmoid_grouped_topk: top_k exceeds the experts of the topk_group kept groups");
    if (!bias.empty() && static_cast<index_t>(bias.size()) != experts)
      throw error(errc::invalid_shape, "sigmoid_grouped_topk: bias must hold one value per expert");
    for (float b : bias)
      if (!std::isfinite(b)) throw error(errc::invalid_data, "sigmoid_grouped_topk: non-finite bias");
    if (!std::isfinite(routed_scaling_factor))
      throw error(errc::invalid_argument, "sigmoid_grouped_topk: non-finite routed_scaling_factor");
  }
  void route_token(const float* logits, index_t experts, std::int32_t* ids, float* weights, float* probs,
                   float* scratch) const {
    float* biased = scratch;                                               // experts
    auto* taken = reinterpret_cast<unsigned char*>(scratch + experts);    // experts bytes
    auto* allowed = reinterpret_cast<unsigned char*>(scratch + 2 * experts);  // experts bytes
    float psum = 0;
    for (index_t i = 0; i < experts; ++i) {
      probs[i] = moe_detail::sigmoid(logits[i]);
      biased[i] = bias.empty() ? probs[i] : probs[i] + bias[static_cast<std::size_t>(i)];
    }
    const unsigned char* mask = nullptr;
    if (n_group > 1 && topk_group < n_group) {
      const index_t per = experts / n_group;
      // Group scores are recomputed per pass (n_group * per work, tiny) instead of stored.
      auto group_score = [&](index_t g) {
        const float* s = biased + g * per;
        if (per == 1) return s[0];
        float a = -INFINITY, b = -INFINITY;  // a >= b: the two best
        for (index_t i = 0; i < per; ++i) {
          if (s[i] > a) {
            b = a;
            a = s[i];
          } else if (s[i] > b) {
            b = s[i];
          }
        }
        return a + b;
      };
      std::fill(allowed, allowed + experts, static_cast<unsigned char>(0));
      std::fill(taken, taken + n_group, static_cast<unsigned char>(0));
      for (index_t j = 0; j < topk_group; ++j) {
        index_t best = -1;
        float best_score = 0;
        for (index_t g = 0; g < n_group; ++g) {
          if (taken[g]) continue;
          const float sc = group_score(g);
          if (best < 0 || sc > best_score) {  // strict '>': the lower group index wins ties
            best = g;
            best_score = sc;
          }
        }
        taken[best] = 1;
        std::fill(allowed + best * per, allowed + (best + 1) * per, static_cast<unsigned char>(1));
      }
      mask = allowed;
    }
    moe_detail::select_top_k(biased, experts, k, mask, taken, ids);
    float sum = 0;
    for (index_t j = 0; j < k; ++j) sum += (weights[j] = probs[ids[j]]);
    for (index_t j = 0; j < k; ++j) {
      if (renormalize) weights[j] /= sum;
      weights[j] *= routed_scaling_factor;
    }
    for (index_t i = 0; i < experts; ++i) psum += probs[i];
    for (index_t i = 0; i < experts; ++i) probs[i] /= psum;
  }
};

/// What route() needs from a routing policy.
template <class R>
concept routing_policy = requires(const R& r, const float* logits, index_t n, std::int32_t* ids, float* w, float* p,
                                  float* scratch) {
  { r.top_k() } -> std::convertible_to<index_t>;
  r.validate(n);
  r.route_token(logits, n, ids, w, p, scratch);
};

PACT_NAMESPACE_END
