// docs/attention.md's snippets: the checked entry point with a causal mask, a policy with
// compile-time tiles and head dimension, and a packed varlen batch. All checked against
// plain attention.
// [snippet attention_call]
#include "pact/attention.hpp"
// [/snippet attention_call]
#include <cstdio>

#include "snippet_attention_ref.hpp"
#include "snippet_check.hpp"

int main() {
  const int S = 150, hq = 4, hkv = 2, d = 128;
  const auto qv = snippet::values(std::size_t(S) * hq * d, 1), kv = snippet::values(std::size_t(S) * hkv * d, 2),
             vv = snippet::values(std::size_t(S) * hkv * d, 3);
  std::vector<float> ov(qv.size(), -1.0f), o2v(qv.size(), -1.0f);
  const pact::tensor_view<const float, 4> q(qv.data(), {1, S, hq, d}), k(kv.data(), {1, S, hkv, d}), v(vv.data(), {1, S, hkv, d});
  const pact::tensor_view<float, 4> o(ov.data(), {1, S, hq, d});
  {
    // [snippet attention_call]
    // q [batch, Sq, q_heads, dim], k/v [batch, Skv, kv_heads, dim], o like q; any strides.
    pact::attention_params p;
    p.causal = true;
    pact::thread_pool pool(2);
    pact::attention(q, k, v, o, p, pool);
    // [/snippet attention_call]
  }
  double worst = 0;
  for (int i : {0, 1, 63, 64, 149})
    for (int h = 0; h < hq; ++h)
      for (int c : {0, 77, 127})
        worst = std::fmax(worst, std::fabs(ov[std::size_t((i * hq + h) * d + c)] -
                                           snippet::plain_attention(qv, kv, vv, S, S, hq, hkv, d, true, i, h, c)));
  snippet::require(worst < 1e-5, "causal GQA attention vs plain loops");
  {
    const pact::tensor_view<float, 4> o(o2v.data(), {1, S, hq, d});
    // [snippet attention_policy]
    pact::attention<pact::attention_config<128, 64, 128>>(q, k, v, o);
    // [/snippet attention_policy]
  }
  worst = 0;
  for (int i : {0, 100, 149})
    for (int h = 0; h < hq; ++h)
      for (int c : {0, 127})
        worst = std::fmax(worst, std::fabs(o2v[std::size_t((i * hq + h) * d + c)] -
                                           snippet::plain_attention(qv, kv, vv, S, S, hq, hkv, d, false, i, h, c)));
  snippet::require(worst < 1e-5, "attention_config<128, 64, 128> vs plain loops");
  std::vector<float> o3v(qv.size(), -1.0f);
  {
    const pact::tensor_view<const float, 3> q_packed(qv.data(), {S, hq, d}), k_packed(kv.data(), {S, hkv, d}),
        v_packed(vv.data(), {S, hkv, d});
    const pact::tensor_view<float, 3> o_packed(o3v.data(), {S, hq, d});
    // [snippet attention_varlen]
    // Two sequences packed back to back: tokens 0..99 and 100..149 (of q, k and v alike).
    const std::vector<pact::index_t> cu_seqlens{0, 100, 150};
    pact::attention_params p;
    p.causal = true;  // per sequence: its queries align to the end of its own keys
    pact::attention_varlen(q_packed, k_packed, v_packed, o_packed, cu_seqlens, cu_seqlens, p);
    // [/snippet attention_varlen]
  }
  worst = 0;
  const auto tail = [&](const std::vector<float>& x, int heads) {
    return std::vector<float>(x.begin() + std::ptrdiff_t(100) * heads * d, x.end());
  };
  const auto q2 = tail(qv, hq), k2 = tail(kv, hkv), v2 = tail(vv, hkv);
  for (int i : {0, 99, 100, 149})
    for (int h = 0; h < hq; ++h)
      for (int c : {0, 127}) {
        const double want = i < 100 ? snippet::plain_attention(qv, kv, vv, 100, 100, hq, hkv, d, true, i, h, c)
                                    : snippet::plain_attention(q2, k2, v2, 50, 50, hq, hkv, d, true, i - 100, h, c);
        worst = std::fmax(worst, std::fabs(o3v[std::size_t((i * hq + h) * d + c)] - want));
      }
  snippet::require(worst < 1e-5, "attention_varlen with two packed sequences vs plain loops");
  {
    // A paged int8 cache filled one decode step at a time, then one decode query over it.
    const int steps = 40;
    std::vector<float> o4v(std::size_t(hq) * d, -1.0f);
    // [snippet attention_paged_int8]
    pact::paged_kv_cache<std::int8_t> cache(/*num_blocks=*/8, /*block_size=*/16, hkv, d);
    const pact::index_t seq = cache.add_sequence();
    for (int t = 0; t < steps; ++t) {  // each new token's K and V rows, quantized on append
      const pact::tensor_view<const float, 3> k_t(kv.data() + std::size_t(t) * hkv * d, {1, hkv, d});
      const pact::tensor_view<const float, 3> v_t(vv.data() + std::size_t(t) * hkv * d, {1, hkv, d});
      cache.append(seq, k_t, v_t);
    }
    const std::vector<pact::index_t> ids{seq};
    const auto batch = cache.make_batch(ids);  // block table + K / V views of the pools
    const pact::tensor_view<const float, 4> q_t(qv.data() + std::size_t(steps - 1) * hq * d, {1, 1, hq, d});
    pact::attention(q_t, batch.keys(), batch.values(), pact::tensor_view<float, 4>(o4v.data(), {1, 1, hq, d}));
    // [/snippet attention_paged_int8]
    // The last query over the first 40 keys: plain attention of query row 39, causal.
    const auto worst_vs_plain = [&](const std::vector<float>& o) {
      float w = 0;
      for (int h = 0; h < hq; ++h)
        for (int c = 0; c < d; ++c)
          w = std::fmax(w, std::fabs(o[std::size_t(h * d + c)] -
                                     snippet::plain_attention(qv, kv, vv, steps, steps, hq, hkv, d, true, steps - 1, h, c)));
      return w;
    };
    snippet::require(worst_vs_plain(o4v) < 2e-2, "decode over a paged int8 cache vs plain loops");
    std::vector<float> o5v(std::size_t(hq) * d, -1.0f);
    // [snippet attention_int8_query]
    pact::attention_params fast;
    fast.int8_query = true;  // decode: q rows quantized to int8, integer q.k over the K codes
    pact::attention(q_t, batch.keys(), batch.values(), pact::tensor_view<float, 4>(o5v.data(), {1, 1, hq, d}), fast);
    // [/snippet attention_int8_query]
    snippet::require(worst_vs_plain(o5v) < 3e-2, "int8_query decode over a paged int8 cache vs plain loops");
    // [snippet attention_int8_probs]
    fast.int8_probs = true;  // and integer P.V: softmax weights as uint8, dot products over the V codes
    pact::attention(q_t, batch.keys(), batch.values(), pact::tensor_view<float, 4>(o5v.data(), {1, 1, hq, d}), fast);
    // [/snippet attention_int8_probs]
    snippet::require(worst_vs_plain(o5v) < 3e-2, "int8_query + int8_probs decode over a paged int8 cache vs plain loops");
  }
  std::puts("attention snippets: ok");
  return 0;
}
