// README.md's "other kernel families" snippet: a Q4_0 GEMV, a GQA attention call and an
// MoE layer, each checked against plain loops.
// [snippet families]
#include <pact/quant.hpp>      // formats (ggml Q8_0/Q4_0/Q4_1/Q4_K/Q6_K/MXFP4, int8, FP8 block scales, OCP MX), GEMV/GEMM
#include <pact/attention.hpp>  // flash attention (prefill, decode, GQA, masks, paged/quantized KV), RoPE
#include <pact/moe.hpp>        // routing policies, dispatch, grouped expert FFN, combine, moe_forward
// [/snippet families]
#include <cstdio>

#include "snippet_attention_ref.hpp"
#include "snippet_check.hpp"
#include "snippet_moe_ref.hpp"

int main() {
  // 4-bit weights (N x K), quantized from floats; x and y as float vectors.
  const pact::index_t N = 96, K = 256;
  const auto wf = snippet::values(std::size_t(N * K), 1);
  std::vector<pact::quant::block_q4_0> W(static_cast<std::size_t>(N * K / 32));
  pact::quant::quantize<pact::quant::block_q4_0>(std::span<const float>(wf), std::span<pact::quant::block_q4_0>(W));
  const auto x = snippet::values(std::size_t(K), 2);
  std::vector<float> y(static_cast<std::size_t>(N));
  // Attention: [1, 40, 4, 64] queries over 2 KV heads.
  const int S = 40, hq = 4, hkv = 2, d = 64;
  const auto qv = snippet::values(std::size_t(S * hq * d), 3), kv = snippet::values(std::size_t(S * hkv * d), 4),
             vv = snippet::values(std::size_t(S * hkv * d), 5);
  std::vector<float> ov(qv.size());
  const pact::tensor_view<const float, 4> q(qv.data(), {1, S, hq, d}), k(kv.data(), {1, S, hkv, d}), v(vv.data(), {1, S, hkv, d});
  const pact::tensor_view<float, 4> o(ov.data(), {1, S, hq, d});
  const pact::attention_params params;
  // MoE: 8 experts, top-2 softmax routing.
  const pact::index_t tokens_n = 12, hidden = 32, ffn = 24, E = 8;
  const auto gate = snippet::values(std::size_t(E * ffn * hidden), 6), up = snippet::values(std::size_t(E * ffn * hidden), 7),
             down = snippet::values(std::size_t(E * hidden * ffn), 8), rw = snippet::values(std::size_t(hidden * E), 9),
             xt = snippet::values(std::size_t(tokens_n * hidden), 10);
  std::vector<float> outv(xt.size());
  const pact::packed_expert_weights<> experts(pact::stacked_expert_views<float>(gate.data(), up.data(), down.data(), E, hidden, ffn));
  const auto router = pact::make_row_major<const float>(rw.data(), hidden, E);
  const auto tokens = pact::make_row_major<const float>(xt.data(), tokens_n, hidden);
  const auto out = pact::make_row_major(outv.data(), tokens_n, hidden);
  pact::moe_workspace ws;
  pact::thread_pool pool(2);

  // [snippet families]
  pact::quant::gemv<pact::quant::block_q4_0>(W, N, K, x, y, pool);          // decode with 4-bit weights
  pact::attention(q, k, v, o, params, pool);                                // [batch, seq, heads, dim] views
  pact::moe_forward(pact::softmax_topk{2, true}, router, experts, tokens, out, ws, {}, pool);
  // [/snippet families]

  // GEMV: against the dequantized weights times x quantized to Q8_0 (what the kernel multiplies).
  std::vector<float> wd(wf.size()), xd(x.size());
  std::vector<pact::quant::block_q8_0> xq(static_cast<std::size_t>(K / 32));
  pact::quant::dequantize<pact::quant::block_q4_0>(std::span<const pact::quant::block_q4_0>(W), std::span<float>(wd));
  pact::quant::quantize<pact::quant::block_q8_0>(std::span<const float>(x), std::span<pact::quant::block_q8_0>(xq));
  pact::quant::dequantize<pact::quant::block_q8_0>(std::span<const pact::quant::block_q8_0>(xq), std::span<float>(xd));
  std::vector<double> want(static_cast<std::size_t>(N));
  for (pact::index_t n = 0; n < N; ++n)
    for (pact::index_t kk = 0; kk < K; ++kk) want[std::size_t(n)] += double(wd[std::size_t(n * K + kk)]) * xd[std::size_t(kk)];
  snippet::require(snippet::max_rel_err(y.data(), want) < 1e-5, "Q4_0 GEMV vs dequantized product");
  double worst = 0;
  for (int i : {0, 39})
    for (int h = 0; h < hq; ++h)
      worst = std::fmax(worst, std::fabs(ov[std::size_t((i * hq + h) * d + 5)] - snippet::plain_attention(qv, kv, vv, S, S, hq, hkv, d, false, i, h, 5)));
  snippet::require(worst < 1e-5, "attention vs plain loops");
  snippet::require(snippet::moe_max_err(ws, gate, up, down, xt, outv, tokens_n, hidden, ffn, 2) < 1e-3, "moe_forward vs plain loops");
  std::puts("families snippet: ok");
  return 0;
}
