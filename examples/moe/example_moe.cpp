// A small DeepSeek-V3-style MoE layer with pact: 16 routed experts in 4 groups (2 kept),
// top-4 sigmoid routing with a selection bias, one shared expert, two threads.
// Checks the layer against plain loops, prints the load statistics, and applies one
// auxiliary-loss-free bias update. Exit code 0 = the check passed.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "pact/moe.hpp"

int main() {
  constexpr pact::index_t tokens = 48, hidden = 64, ffn = 96, experts = 16, k = 4;
  std::mt19937 gen(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  auto random = [&](std::size_t n, float scale) {
    std::vector<float> v(n);
    for (auto& x : v) x = scale * dist(gen);
    return v;
  };
  // Weights as PyTorch stores them: W[out][in] row-major, experts stacked.
  const float s_in = 1.0f / std::sqrt(float(hidden)), s_ffn = 1.0f / std::sqrt(float(ffn));
  const auto gate = random(experts * ffn * hidden, s_in), up = random(experts * ffn * hidden, s_in),
             down = random(experts * hidden * ffn, s_ffn);
  const auto sgate = random(ffn * hidden, s_in), sup = random(ffn * hidden, s_in), sdown = random(hidden * ffn, s_ffn);
  const auto router = random(hidden * experts, s_in);  // hidden x experts
  const auto x = random(tokens * hidden, 1.0f);
  std::vector<float> bias(experts, 0.0f), out(tokens * hidden);

  // Routed experts pre-packed once; the shared expert read in place.
  const pact::packed_expert_weights<> routed(pact::stacked_expert_views<float>(gate.data(), up.data(), down.data(), experts, hidden, ffn));
  const auto shared = pact::stacked_expert_views<float>(sgate.data(), sup.data(), sdown.data(), 1, hidden, ffn);

  pact::thread_pool pool(2);
  pact::moe_workspace ws;
  pact::moe_options<decltype(shared)> opt;
  opt.shared = &shared;
  const pact::sigmoid_grouped_topk policy{k, /*n_group=*/4, /*topk_group=*/2, /*routed_scaling_factor=*/2.5f, bias};
  pact::moe_forward(policy, pact::make_row_major<const float>(router.data(), hidden, experts), routed,
                    pact::make_row_major<const float>(x.data(), tokens, hidden), pact::make_row_major(out.data(), tokens, hidden),
                    ws, opt, pool);

  // Plain loops: out[t] = sum_s w * FFN_e(x_t) + FFN_shared(x_t), with pact's routing.
  auto ffn_of = [&](const float* g, const float* u, const float* d, const float* xt, double* y) {
    std::vector<double> h(ffn);
    for (pact::index_t f = 0; f < ffn; ++f) {
      double a = 0, b = 0;
      for (pact::index_t i = 0; i < hidden; ++i) a += double(g[f * hidden + i]) * xt[i], b += double(u[f * hidden + i]) * xt[i];
      h[f] = a / (1 + std::exp(-a)) * b;
    }
    for (pact::index_t j = 0; j < hidden; ++j) {
      double s = 0;
      for (pact::index_t f = 0; f < ffn; ++f) s += double(d[j * ffn + f]) * h[f];
      y[j] = s;
    }
  };
  double max_err = 0;
  std::vector<double> y(hidden);
  for (pact::index_t t = 0; t < tokens; ++t) {
    std::vector<double> want(hidden, 0.0);
    for (pact::index_t s = 0; s < k; ++s) {
      const pact::index_t e = ws.routing.expert_of(t, s);
      ffn_of(&gate[e * ffn * hidden], &up[e * ffn * hidden], &down[e * hidden * ffn], &x[t * hidden], y.data());
      for (pact::index_t j = 0; j < hidden; ++j) want[j] += ws.routing.weight_of(t, s) * y[j];
    }
    ffn_of(sgate.data(), sup.data(), sdown.data(), &x[t * hidden], y.data());
    for (pact::index_t j = 0; j < hidden; ++j) max_err = std::max(max_err, std::fabs(want[j] + y[j] - out[t * hidden + j]));
  }

  pact::moe_load_stats stats;
  pact::compute_load_stats(ws.routing, stats, &ws.plan);
  std::printf("tokens per expert:");
  for (auto n : stats.tokens_per_expert) std::printf(" %td", n);
  std::printf("\nSwitch aux loss %.4f (1 = balanced), max |error| vs plain loops %.2e\n", stats.aux_loss, max_err);
  pact::update_expert_bias(bias, stats.tokens_per_expert, 0.001f);  // DeepSeek-V3 aux-loss-free step
  std::printf("bias after one update: expert 0 %+.3f, expert 1 %+.3f\n", bias[0], bias[1]);
  std::printf("stage times (ms): route %.3f dispatch %.3f experts %.3f combine %.3f\n", ws.times.route * 1e3,
              ws.times.dispatch * 1e3, ws.times.experts * 1e3, ws.times.combine * 1e3);
  return max_err < 1e-4 ? 0 : 1;
}
