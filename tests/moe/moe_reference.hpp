#pragma once
// Plain float64 references for MoE routing and the whole layer. Nothing here calls the
// code under test: selection is a full stable sort, softmax/sigmoid in double.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace pact_test::moe_ref {

struct token_route {
  std::vector<int> ids;        // k, best first
  std::vector<double> weights; // k
  std::vector<double> probs;   // experts
};

/// Indices of the k largest s among `allowed` (descending; ties: lower index first).
inline std::vector<int> top_k(const std::vector<double>& s, int k, const std::vector<bool>* allowed = nullptr) {
  std::vector<int> idx;
  for (int i = 0; i < static_cast<int>(s.size()); ++i)
    if (allowed == nullptr || (*allowed)[static_cast<std::size_t>(i)]) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return s[static_cast<std::size_t>(a)] > s[static_cast<std::size_t>(b)]; });
  idx.resize(static_cast<std::size_t>(k));
  return idx;
}

inline std::vector<double> softmax(const std::vector<double>& x) {
  const double m = *std::max_element(x.begin(), x.end());
  std::vector<double> p(x.size());
  double sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += (p[i] = std::exp(x[i] - m));
  for (auto& v : p) v /= sum;
  return p;
}

inline token_route softmax_topk(const std::vector<double>& logits, int k, bool renormalize) {
  token_route r;
  r.probs = softmax(logits);
  r.ids = top_k(r.probs, k);
  double sum = 0;
  for (int id : r.ids) sum += r.probs[static_cast<std::size_t>(id)];
  for (int id : r.ids) r.weights.push_back(r.probs[static_cast<std::size_t>(id)] / (renormalize ? sum : 1.0));
  return r;
}

inline token_route topk_softmax(const std::vector<double>& logits, int k) {
  token_route r;
  r.ids = top_k(logits, k);
  std::vector<double> chosen;
  for (int id : r.ids) chosen.push_back(logits[static_cast<std::size_t>(id)]);
  r.weights = softmax(chosen);
  r.probs = softmax(logits);
  return r;
}

inline token_route sigmoid_grouped(const std::vector<double>& logits, int k, int n_group, int topk_group, double scale,
                                   const std::vector<double>& bias, bool renormalize = true) {
  const int E = static_cast<int>(logits.size()), per = E / n_group;
  token_route r;
  std::vector<double> s(logits.size()), biased(logits.size());
  for (int i = 0; i < E; ++i) {
    s[static_cast<std::size_t>(i)] = 1.0 / (1.0 + std::exp(-logits[static_cast<std::size_t>(i)]));
    biased[static_cast<std::size_t>(i)] = s[static_cast<std::size_t>(i)] + (bias.empty() ? 0.0 : bias[static_cast<std::size_t>(i)]);
  }
  std::vector<bool> allowed(logits.size(), true);
  if (n_group > 1 && topk_group < n_group) {
    std::vector<double> gscore(static_cast<std::size_t>(n_group));
    for (int g = 0; g < n_group; ++g) {
      std::vector<double> grp(biased.begin() + g * per, biased.begin() + (g + 1) * per);
      std::sort(grp.begin(), grp.end(), std::greater<>());
      gscore[static_cast<std::size_t>(g)] = per == 1 ? grp[0] : grp[0] + grp[1];
    }
    const auto keep = top_k(gscore, topk_group);
    std::fill(allowed.begin(), allowed.end(), false);
    for (int g : keep)
      for (int i = g * per; i < (g + 1) * per; ++i) allowed[static_cast<std::size_t>(i)] = true;
  }
  r.ids = top_k(biased, k, &allowed);
  double sum = 0;
  for (int id : r.ids) sum += s[static_cast<std::size_t>(id)];
  for (int id : r.ids) r.weights.push_back(s[static_cast<std::size_t>(id)] / (renormalize ? sum : 1.0) * scale);
  const double total = std::accumulate(s.begin(), s.end(), 0.0);
  for (double v : s) r.probs.push_back(v / total);
  return r;
}

/// One SwiGLU expert in double: y = down( silu(x gate) * (x up) ), matrices as B (in x out)
/// accessed through functors w(k, n).
template <class G, class U, class D>
std::vector<double> expert_ffn(const std::vector<double>& x, int H, int F, const G& gate, const U& up, const D& down) {
  std::vector<double> h(static_cast<std::size_t>(F)), y(static_cast<std::size_t>(H), 0.0);
  for (int f = 0; f < F; ++f) {
    double g = 0, u = 0;
    for (int i = 0; i < H; ++i) {
      g += x[static_cast<std::size_t>(i)] * gate(i, f);
      u += x[static_cast<std::size_t>(i)] * up(i, f);
    }
    h[static_cast<std::size_t>(f)] = g / (1.0 + std::exp(-g)) * u;
  }
  for (int j = 0; j < H; ++j)
    for (int f = 0; f < F; ++f) y[static_cast<std::size_t>(j)] += h[static_cast<std::size_t>(f)] * down(f, j);
  return y;
}

}  // namespace pact_test::moe_ref
