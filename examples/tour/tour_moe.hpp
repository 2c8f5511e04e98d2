#pragma once
// Tour section: a mixture-of-experts layer (DeepSeek-V3-style routing: sigmoid scores,
// group-limited top-k) run end to end by pact::moe_forward: route -> dispatch -> expert
// FFNs (grouped GEMM) -> combine. Prefill (many tokens) is compute-bound over the routed
// work; decode (one token) only reads the k selected experts, so it is bandwidth-bound.
#include <cmath>
#include <memory>
#include <span>
#include <vector>

#include "pact/moe.hpp"
#include "pact/moe/quantized_expert_weights.hpp"
#include "pact/quant.hpp"
#include "tour_quant.hpp"  // int8_ceiling_scale
#include "tour_report.hpp"

namespace tour {

struct moe_tour_layer {
  pact::index_t experts, k, hidden, ffn, n_group, topk_group;
};

inline std::vector<float> moe_tour_values(std::size_t n, float scale, unsigned seed) {
  std::vector<float> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = scale * (static_cast<float>(seed >> 8) / static_cast<float>(1u << 23) - 1.0f);
  }
  return v;
}

/// Times moe_forward over `tokens` tokens; flops count only routed work (tokens x k expert
/// FFNs), bytes are the weights of the experts that received tokens.
template <class Weights>
inline result& moe_row(report& rep, const std::string& shape, const char* impl, const moe_tour_layer& L, const Weights& w,
                    double bytes_per_expert, pact::index_t tokens, int threads, int reps) {
  const auto router = moe_tour_values(static_cast<std::size_t>(L.hidden * L.experts), 1.0f / std::sqrt(float(L.hidden)), 3);
  // Decode rotates through 16 different tokens so each call selects other experts (their
  // weights are then mostly not in cache, as in a real decode step).
  const pact::index_t variants = tokens == 1 ? 16 : 1;
  const auto x = moe_tour_values(static_cast<std::size_t>(variants * tokens * L.hidden), 1.0f, 5);
  std::vector<float> out(static_cast<std::size_t>(tokens * L.hidden));
  pact::index_t turn = 0;
  std::vector<float> bias(static_cast<std::size_t>(L.experts), 0.0f);
  const pact::sigmoid_grouped_topk policy{L.k, L.n_group, L.topk_group, 2.5f, bias};
  pact::thread_pool pool(threads);
  pact::moe_workspace ws;
  auto run = [&] {
    pact::moe_forward(policy, pact::make_row_major<const float>(router.data(), L.hidden, L.experts), w,
                      pact::make_row_major<const float>(x.data() + (turn++ % variants) * tokens * L.hidden, tokens, L.hidden),
                      pact::make_row_major(out.data(), tokens, L.hidden), ws,
                      {}, pool);
  };
  run();
  pact::index_t used = 0;
  for (pact::index_t e = 0; e < L.experts; ++e) used += ws.plan.rows_of(e) > 0;
  const double flops = 2.0 * 3.0 * static_cast<double>(L.hidden * L.ffn) * static_cast<double>(tokens * L.k);
  return rep.add("moe layer", shape, impl, threads, flops, static_cast<double>(used) * bytes_per_expert, tokens <= 4, run, reps);
}

inline void moe_section(report& rep, const options& opt) {
  const moe_tour_layer L = opt.smoke ? moe_tour_layer{16, 4, 128, 96, 4, 2} : moe_tour_layer{64, 8, 1024, 704, 8, 4};
  const pact::index_t per = L.hidden * L.ffn;
  const float s_in = 1.0f / std::sqrt(float(L.hidden)), s_ffn = 1.0f / std::sqrt(float(L.ffn));
  // Weights: f32 packed for the GEMM microkernel, and ggml Q4_0 blocks.
  pact::packed_expert_weights<> f32w;
  std::vector<pact::quant::block_q4_0> q4(static_cast<std::size_t>(3 * L.experts * per / 32));
  auto q4w = std::make_unique<pact::ggml_expert_weights<pact::quant::block_q4_0>>(L.hidden, L.ffn);
  for (pact::index_t e = 0; e < L.experts; ++e) {
    const auto gate = moe_tour_values(static_cast<std::size_t>(per), s_in, unsigned(3 * e + 1));
    const auto up = moe_tour_values(static_cast<std::size_t>(per), s_in, unsigned(3 * e + 2));
    const auto down = moe_tour_values(static_cast<std::size_t>(per), s_ffn, unsigned(3 * e + 3));
    f32w.add_expert(pact::make_col_major<const float>(gate.data(), L.hidden, L.ffn), pact::make_col_major<const float>(up.data(), L.hidden, L.ffn),
                    pact::make_col_major<const float>(down.data(), L.ffn, L.hidden));
    auto* b = q4.data() + 3 * e * per / 32;
    const auto n = static_cast<std::size_t>(per / 32);
    pact::quant::quantize<pact::quant::block_q4_0>(std::span<const float>(gate), std::span<pact::quant::block_q4_0>(b, n));
    pact::quant::quantize<pact::quant::block_q4_0>(std::span<const float>(up), std::span<pact::quant::block_q4_0>(b + n, n));
    pact::quant::quantize<pact::quant::block_q4_0>(std::span<const float>(down), std::span<pact::quant::block_q4_0>(b + 2 * n, n));
    q4w->add_expert({b, n}, {b + n, n}, {b + 2 * n, n});
  }
  const std::string name = std::to_string(L.experts) + " experts top-" + std::to_string(L.k) + ", hidden " + std::to_string(L.hidden) +
                           ", FFN " + std::to_string(L.ffn);
  const pact::index_t prefill = opt.smoke ? 32 : 512;
  for (int threads : {1, 2}) {
    const std::string shape = name + ", " + std::to_string(prefill) + " tokens";
    moe_row(rep, shape, "pact moe_forward, f32 experts", L, f32w, 3.0 * 4 * per, prefill, threads, opt.reps(3, 7));
    // Q4_0 experts multiply int8 codes (vpdpbusd): their ceiling is the int8 one.
    moe_row(rep, shape, "pact moe_forward, Q4_0 experts", L, *q4w, 3.0 * 18 * per / 32, prefill, threads, opt.reps(3, 7))
        .ceiling_scale = int8_ceiling_scale;
    rep.print_table("moe layer", shape, threads);
  }
  for (int threads : {1, 2}) {
    const std::string shape = name + ", 1 token";
    moe_row(rep, shape, "pact moe_forward, f32 experts", L, f32w, 3.0 * 4 * per, 1, threads, opt.reps(9, 25));
    moe_row(rep, shape, "pact moe_forward, Q4_0 experts", L, *q4w, 3.0 * 18 * per / 32, 1, threads, opt.reps(9, 25));
    rep.print_table("moe layer", shape, threads);
  }
}

}  // namespace tour
