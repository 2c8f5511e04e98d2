// docs/moe.md's snippet: DeepSeek-V3-style grouped sigmoid routing over pre-packed experts,
// checked against plain SwiGLU loops with pact's routing decisions.
// [snippet moe_forward]
#include <pact/moe.hpp>
// [/snippet moe_forward]
#include <cstdio>

#include "snippet_check.hpp"
#include "snippet_moe_ref.hpp"

int main() {
  constexpr pact::index_t tokens = 20, hidden = 48, ffn = 40, num_experts = 16;
  const auto gate = snippet::values(std::size_t(num_experts * ffn * hidden), 1),
             up = snippet::values(std::size_t(num_experts * ffn * hidden), 2),
             down = snippet::values(std::size_t(num_experts * hidden * ffn), 3);
  const auto router = snippet::values(std::size_t(hidden * num_experts), 4), xv = snippet::values(std::size_t(tokens * hidden), 5);
  std::vector<float> bias(num_experts, 0.0f), outv(std::size_t(tokens * hidden));
  const auto router_w = pact::make_row_major<const float>(router.data(), hidden, num_experts);
  const auto x = pact::make_row_major<const float>(xv.data(), tokens, hidden);
  const auto out = pact::make_row_major(outv.data(), tokens, hidden);
  // [snippet moe_forward]
  // Expert weights as PyTorch stores them (W[out][in], experts stacked), packed once:
  pact::packed_expert_weights<> experts(
      pact::stacked_expert_views<float>(gate.data(), up.data(), down.data(), num_experts, hidden, ffn));
  pact::moe_workspace ws;                       // reuse across calls: no allocation once warm
  pact::thread_pool pool(2);
  pact::moe_forward(pact::sigmoid_grouped_topk{8, 8, 4, 2.5f, bias},  // k, n_group, topk_group, scale, bias
                    router_w /* hidden x experts view */, experts, x, out, ws, {}, pool);
  // [/snippet moe_forward]
  const double err = snippet::moe_max_err(ws, gate, up, down, xv, outv, tokens, hidden, ffn, 8);
  std::printf("moe snippet: max |error| vs plain loops %.2e\n", err);
  snippet::require(err < 1e-3, "moe_forward vs plain loops");
  return 0;
}
