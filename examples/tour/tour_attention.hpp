#pragma once
// Tour section: attention. Prefill (one head, Sq = Skv) is compute-bound: pact's flash
// attention against the textbook loops and against sgemm + softmax + sgemm through the
// peer BLAS (which writes the whole Sq x Skv score matrix). Decode (one query token over a
// long, cold KV cache) is bandwidth-bound: a smaller cache element is a faster decode.
#include <cmath>
#include <cstdint>
#include <vector>

#include "pact/attention.hpp"
#include "support/peers.hpp"
#include "tour_report.hpp"

namespace tour {

inline std::vector<float> tour_noise(std::size_t n, unsigned seed) {
  std::vector<float> x(n);
  for (auto& e : x) {
    seed = seed * 1664525u + 1013904223u;
    e = static_cast<float>(seed >> 8) / static_cast<float>(1u << 24) - 0.5f;
  }
  return x;
}

/// Row softmax of a score matrix, rows i masked past column i when causal.
inline void tour_softmax_rows(float* s, int n, bool causal) {
  for (int i = 0; i < n; ++i) {
    float* r = s + static_cast<std::size_t>(i) * n;
    const int len = causal ? i + 1 : n;
    float mx = r[0], sum = 0;
    for (int j = 1; j < len; ++j) mx = std::max(mx, r[j]);
    for (int j = 0; j < len; ++j) sum += (r[j] = std::exp(r[j] - mx));
    for (int j = 0; j < len; ++j) r[j] /= sum;
    for (int j = len; j < n; ++j) r[j] = 0;
  }
}

inline void attention_prefill_table(report& rep, int n, int d, bool causal, int reps, bool with_naive) {
  const auto q = tour_noise(static_cast<std::size_t>(n) * d, 1), k = tour_noise(q.size(), 2), v = tour_noise(q.size(), 3);
  std::vector<float> o(q.size()), s(static_cast<std::size_t>(n) * n);
  const double flops = 4.0 * n * n * d * (causal ? 0.5 : 1.0), bytes = 4.0 * 4.0 * n * d;
  const std::string shape = "seq " + std::to_string(n) + " d " + std::to_string(d) + (causal ? " causal" : "");
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  pact::attention_params p;
  p.causal = causal;
  rep.add("attention prefill", shape, "pact flash attention", 1, flops, bytes, false, [&] {
    pact::attention(pact::tensor_view<const float, 4>(q.data(), {1, n, 1, d}), pact::tensor_view<const float, 4>(k.data(), {1, n, 1, d}),
                    pact::tensor_view<const float, 4>(v.data(), {1, n, 1, d}), pact::tensor_view<float, 4>(o.data(), {1, n, 1, d}), p,
                    pact::serial{});
  }, reps);
  if (with_naive) {
    rep.add("attention prefill", shape, "naive loops", 1, flops, bytes, false, [&] {
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < (causal ? i + 1 : n); ++j) {
          float acc = 0;
          for (int x = 0; x < d; ++x) acc += q[static_cast<std::size_t>(i * d + x)] * k[static_cast<std::size_t>(j * d + x)];
          s[static_cast<std::size_t>(i) * n + j] = acc * scale;
        }
      tour_softmax_rows(s.data(), n, causal);
      for (int i = 0; i < n; ++i)
        for (int x = 0; x < d; ++x) {
          float acc = 0;
          for (int j = 0; j < n; ++j) acc += s[static_cast<std::size_t>(i) * n + j] * v[static_cast<std::size_t>(j * d + x)];
          o[static_cast<std::size_t>(i * d + x)] = acc;
        }
    }, 1);
  }
#if defined(PACT_BENCH_HAVE_OPENBLAS)
  pact_bench::set_peer_threads(1);
  rep.add("attention prefill", shape, "OpenBLAS sgemm+softmax+sgemm", 1, flops, bytes, false, [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, scale, q.data(), d, k.data(), d, 0.0f, s.data(), n);
    tour_softmax_rows(s.data(), n, causal);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, n, 1.0f, s.data(), n, v.data(), d, 0.0f, o.data(), d);
  }, reps);
#endif
  rep.print_table("attention prefill", shape, 1);
}

/// One query token, 32 query heads over 8 KV heads, d = 128, against cold caches.
template <class KvOf>
inline void decode_row(report& rep, const std::string& shape, const char* impl, int threads, int kv_len, double kv_bytes, int copies,
                       const KvOf& kv_of, int reps) {
  constexpr int hq = 32, d = 128;
  const auto q = tour_noise(static_cast<std::size_t>(hq) * d, 1);
  std::vector<float> o(q.size());
  pact::attention_params p;
  p.kv_splits = 2 * threads;
  pact::thread_pool pool(threads);
  int turn = 0;
  rep.add("attention decode", shape, impl, threads, 4.0 * hq * kv_len * d, kv_bytes, true, [&] {
    const auto [k, v] = kv_of(turn++ % copies);
    pact::attention(pact::tensor_view<const float, 4>(q.data(), {1, 1, hq, d}), k, v, pact::tensor_view<float, 4>(o.data(), {1, 1, hq, d}),
                    p, pool);
  }, reps);
}

inline void attention_decode_table(report& rep, int kv_len, int threads, int reps, bool cold) {
  constexpr int hkv = 8, d = 128;
  const std::size_t n = static_cast<std::size_t>(kv_len) * hkv * d;
  const auto src = tour_noise(n, 7);
  const std::string shape = std::to_string(kv_len) + " keys, 32/8 heads" + (cold ? " (cold)" : "");
  const std::array<pact::index_t, 4> ext{1, kv_len, hkv, d};
  auto copies_for = [&](double bytes) { return cold_copies(cold ? 2 : 1, bytes); };
  {
    const double bytes = 2.0 * 4 * n;
    const int copies = copies_for(bytes);
    std::vector<std::vector<float>> kv(static_cast<std::size_t>(2 * copies), src);
    decode_row(rep, shape, "pact, f32 cache", threads, kv_len, bytes, copies, [&](int c) {
      return std::pair{pact::tensor_view<const float, 4>(kv[static_cast<std::size_t>(2 * c)].data(), ext),
                       pact::tensor_view<const float, 4>(kv[static_cast<std::size_t>(2 * c + 1)].data(), ext)};
    }, reps);
  }
  {
    const double bytes = 2.0 * 2 * n;
    const int copies = copies_for(bytes);
    std::vector<pact::bf16> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = pact::bf16(src[i]);
    std::vector<std::vector<pact::bf16>> kv(static_cast<std::size_t>(2 * copies), b);
    decode_row(rep, shape, "pact, bf16 cache", threads, kv_len, bytes, copies, [&](int c) {
      return std::pair{pact::tensor_view<const pact::bf16, 4>(kv[static_cast<std::size_t>(2 * c)].data(), ext),
                       pact::tensor_view<const pact::bf16, 4>(kv[static_cast<std::size_t>(2 * c + 1)].data(), ext)};
    }, reps);
  }
  {
    const double bytes = 2.0 * n;
    const int copies = copies_for(bytes);
    std::vector<std::int8_t> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::int8_t>(std::lround(src[i] * 254.0f));
    std::vector<std::vector<std::int8_t>> kv(static_cast<std::size_t>(2 * copies), b);
    std::vector<float> scales(hkv, 1.0f / 254.0f);
    const pact::tensor_view<const float, 3> sv(scales.data(), {1, hkv, 1});
    decode_row(rep, shape, "pact, int8 cache", threads, kv_len, bytes, copies, [&](int c) {
      return std::pair{pact::quantized_kv<std::int8_t>{pact::tensor_view<const std::int8_t, 4>(kv[static_cast<std::size_t>(2 * c)].data(), ext), sv, 0},
                       pact::quantized_kv<std::int8_t>{pact::tensor_view<const std::int8_t, 4>(kv[static_cast<std::size_t>(2 * c + 1)].data(), ext), sv, 0}};
    }, reps);
  }
  rep.print_table("attention decode", shape, threads);
}

inline void attention_section(report& rep, const options& opt) {
  if (opt.smoke) {
    attention_prefill_table(rep, 128, 64, false, 1, true);
    attention_decode_table(rep, 256, 2, 1, false);
    return;
  }
  attention_prefill_table(rep, 1024, 128, false, opt.reps(3, 9), true);
  attention_prefill_table(rep, 1024, 128, true, opt.reps(3, 9), false);
  attention_decode_table(rep, 16384, 1, opt.reps(5, 15), true);
  attention_decode_table(rep, 16384, 2, opt.reps(5, 15), true);
}

}  // namespace tour
