// A grouped-query causal prefill followed by a decode step over an int8 KV cache, each
// checked against a few lines of plain attention. Exits non-zero on a mismatch.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "pact/attention.hpp"

namespace {
// o[h][c] for query row i of head h, plainly: softmax over keys 0..last of scale * q.k.
double plain_attention(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v, int i,
                       int h, int c, int last, int hq, int hkv, int d) {
  const int kh = h / (hq / hkv);
  std::vector<double> s(static_cast<std::size_t>(last + 1));
  double mx = -1e300, sum = 0, out = 0;
  for (int j = 0; j <= last; ++j) {
    double dot = 0;
    for (int x = 0; x < d; ++x) dot += double(q[std::size_t((i * hq + h) * d + x)]) * k[std::size_t((j * hkv + kh) * d + x)];
    s[std::size_t(j)] = dot / std::sqrt(double(d));
    mx = std::max(mx, s[std::size_t(j)]);
  }
  for (int j = 0; j <= last; ++j) sum += std::exp(s[std::size_t(j)] - mx);
  for (int j = 0; j <= last; ++j) out += std::exp(s[std::size_t(j)] - mx) / sum * v[std::size_t((j * hkv + kh) * d + c)];
  return out;
}
std::vector<float> noise(std::size_t n, unsigned seed) {
  std::vector<float> x(n);
  for (auto& e : x) {
    seed = seed * 1664525u + 1013904223u;
    e = float(seed >> 8) / float(1u << 24) - 0.5f;
  }
  return x;
}
}  // namespace

int main() {
  constexpr int seq = 200, hq = 8, hkv = 2, d = 64;  // 4 query heads per KV head
  const auto q = noise(seq * hq * d, 1), k = noise(seq * hkv * d, 2), v = noise(seq * hkv * d, 3);
  std::vector<float> o(q.size());
  pact::attention_params causal;
  causal.causal = true;
  pact::thread_pool pool(2);
  pact::attention(pact::tensor_view<const float, 4>(q.data(), {1, seq, hq, d}),
                  pact::tensor_view<const float, 4>(k.data(), {1, seq, hkv, d}),
                  pact::tensor_view<const float, 4>(v.data(), {1, seq, hkv, d}),
                  pact::tensor_view<float, 4>(o.data(), {1, seq, hq, d}), causal, pool);
  double worst = 0;
  for (int i : {0, 1, 77, seq - 1})
    for (int h : {0, 5})
      for (int c : {0, 31, 63})
        worst = std::max(worst, std::abs(o[std::size_t((i * hq + h) * d + c)] - plain_attention(q, k, v, i, h, c, i, hq, hkv, d)));
  std::printf("GQA causal prefill  (seq %d, %d q heads / %d kv heads, d %d): max |error| %.2e\n", seq, hq, hkv, d, worst);

  // Decode: the last query token against an int8 cache with one scale per (batch, kv head).
  std::vector<std::int8_t> k8(k.size()), v8(v.size());
  std::vector<float> ks(hkv), vs(hkv), kd(k.size()), vd(v.size());
  for (int h = 0; h < hkv; ++h) {
    float km = 0, vm = 0;
    for (int j = 0; j < seq; ++j)
      for (int c = 0; c < d; ++c) {
        km = std::max(km, std::abs(k[std::size_t((j * hkv + h) * d + c)]));
        vm = std::max(vm, std::abs(v[std::size_t((j * hkv + h) * d + c)]));
      }
    ks[std::size_t(h)] = km / 127;
    vs[std::size_t(h)] = vm / 127;
    for (int j = 0; j < seq; ++j)
      for (int c = 0; c < d; ++c) {
        const std::size_t at = std::size_t((j * hkv + h) * d + c);
        k8[at] = static_cast<std::int8_t>(std::lround(k[at] / ks[std::size_t(h)]));
        v8[at] = static_cast<std::int8_t>(std::lround(v[at] / vs[std::size_t(h)]));
        kd[at] = ks[std::size_t(h)] * k8[at];
        vd[at] = vs[std::size_t(h)] * v8[at];
      }
  }
  const pact::quantized_kv<std::int8_t> kc{{k8.data(), {1, seq, hkv, d}}, {ks.data(), {1, hkv, 1}}, 0};
  const pact::quantized_kv<std::int8_t> vc{{v8.data(), {1, seq, hkv, d}}, {vs.data(), {1, hkv, 1}}, 0};
  std::vector<float> od(hq * d);
  pact::attention_params decode;
  decode.kv_splits = 4;  // flash-decoding: 4 chunks of the cache, merged with log-sum-exp
  const float* q_last = q.data() + (seq - 1) * hq * d;
  pact::attention(pact::tensor_view<const float, 4>(q_last, {1, 1, hq, d}), kc, vc,
                  pact::tensor_view<float, 4>(od.data(), {1, 1, hq, d}), decode, pool);
  double worst_dec = 0;
  for (int h = 0; h < hq; ++h)
    for (int c = 0; c < d; ++c)
      worst_dec = std::max(worst_dec, std::abs(od[std::size_t(h * d + c)] -
                                               plain_attention(q, kd, vd, seq - 1, h, c, seq - 1, hq, hkv, d)));
  std::printf("int8-cache decode   (1 token, %d keys, 4 splits):            max |error| %.2e\n", seq, worst_dec);
  const bool ok = worst < 1e-5 && worst_dec < 1e-5;
  std::puts(ok ? "OK" : "MISMATCH");
  return ok ? 0 : 1;
}
