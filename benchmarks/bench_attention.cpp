// Attention benchmarks: attention/<impl>/<case>/threads:<T>.
//   impl: pact; naive (plain loops, small cases only); composed (OpenBLAS sgemm + softmax +
//   sgemm per head, when PACT_BENCH_HAVE_OPENBLAS).
//   counters: GFLOPS = 4 * Sq * Skv * d per query head (halved for causal) and pct_peak of the
//   measured FMA peak; decode cases add GBps (K/V bytes read) and pct_bw of measured DRAM read.
// Decode caches are rotated across enough copies to exceed the L3, so every call reads cold KV
// (except decode_hot_*, which reuse one 1k-token cache, 4-16 MiB, to time the compute alone).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <type_traits>
#include <string>
#include <vector>

#include "pact/attention.hpp"
#include "pact/quant/ggml.hpp"
#include "support/machine_peak.hpp"
#include "support/peers.hpp"

namespace {
using pact::index_t;

// The default policy pinned to head dim D: the kernel its run-time dispatch calls for D (same
// tiles, same arch, same code), compiled alone. Every pact::attention call site with the
// default policy instantiates all six head-dim kernels; the benchmark runs d = 64 and 128
// only, and this keeps its translation unit (once the build's slowest, 200 s) small.
template <index_t D, class Default = pact::default_attention_policy_t<>>
using default_at = std::conditional_t<Default::head_dim == 0,
                                      pact::attention_config<Default::block_q, Default::block_kv, D, typename Default::arch>,
                                      Default>;

struct prefill_case {
  index_t seq, d, hq, hkv;
  bool causal;
  std::string name() const {
    return "prefill_s" + std::to_string(seq) + "_d" + std::to_string(d) + "_h" + std::to_string(hq) + "kv" +
           std::to_string(hkv) + (causal ? "_causal" : "");
  }
  double flops() const {
    const double f = 4.0 * static_cast<double>(seq) * static_cast<double>(seq) * static_cast<double>(d) * static_cast<double>(hq);
    return causal ? f / 2 : f;
  }
};

std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
  std::vector<float> v(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& e : v) {
    x = x * 1664525u + 1013904223u;
    e = static_cast<float>(x >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  return v;
}

template <class Exec>
void set_counters(benchmark::State& state, double flops, int threads) {
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(flops * 1e-9 * 100.0 / pact_bench::fma_peak_gflops(threads),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

template <class Policy>
void bench_prefill_pact(benchmark::State& state, prefill_case c, int threads) {
  const auto q = random_floats(static_cast<std::size_t>(c.seq * c.hq * c.d), 1);
  const auto k = random_floats(static_cast<std::size_t>(c.seq * c.hkv * c.d), 2);
  const auto v = random_floats(static_cast<std::size_t>(c.seq * c.hkv * c.d), 3);
  std::vector<float> o(q.size());
  pact::tensor_view<const float, 4> qv(q.data(), {1, c.seq, c.hq, c.d}), kv(k.data(), {1, c.seq, c.hkv, c.d}),
      vv(v.data(), {1, c.seq, c.hkv, c.d});
  pact::tensor_view<float, 4> ov(o.data(), {1, c.seq, c.hq, c.d});
  pact::attention_params p;
  p.causal = c.causal;
  pact::thread_pool pool(threads);
  for (auto _ : state) {
    pact::attention<Policy>(qv, kv, vv, ov, p, pool);
    benchmark::DoNotOptimize(o.data());
  }
  set_counters<pact::thread_pool>(state, c.flops(), threads);
}

/// Row-wise softmax of s (rows x cols, ld) with causal masking at bottom-right alignment.
void softmax_rows(float* s, index_t rows, index_t cols, bool causal) {
  for (index_t i = 0; i < rows; ++i) {
    float* r = s + i * cols;
    const index_t n = causal ? i + 1 : cols;
    float mx = -std::numeric_limits<float>::infinity();
    for (index_t j = 0; j < n; ++j) mx = std::max(mx, r[j]);
    float sum = 0;
    for (index_t j = 0; j < n; ++j) {
      r[j] = std::exp(r[j] - mx);
      sum += r[j];
    }
    const float inv = 1.0f / sum;
    for (index_t j = 0; j < n; ++j) r[j] *= inv;
    for (index_t j = n; j < cols; ++j) r[j] = 0.0f;
  }
}

void bench_prefill_naive(benchmark::State& state, prefill_case c) {
  const auto q = random_floats(static_cast<std::size_t>(c.seq * c.d), 1);
  const auto k = random_floats(static_cast<std::size_t>(c.seq * c.d), 2);
  const auto v = random_floats(static_cast<std::size_t>(c.seq * c.d), 3);
  std::vector<float> o(q.size()), s(static_cast<std::size_t>(c.seq * c.seq));
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.d));
  for (auto _ : state) {
    for (index_t i = 0; i < c.seq; ++i)
      for (index_t j = 0; j < c.seq; ++j) {
        float acc = 0;
        for (index_t x = 0; x < c.d; ++x) acc += q[static_cast<std::size_t>(i * c.d + x)] * k[static_cast<std::size_t>(j * c.d + x)];
        s[static_cast<std::size_t>(i * c.seq + j)] = acc * scale;
      }
    softmax_rows(s.data(), c.seq, c.seq, c.causal);
    for (index_t i = 0; i < c.seq; ++i)
      for (index_t x = 0; x < c.d; ++x) {
        float acc = 0;
        for (index_t j = 0; j < c.seq; ++j) acc += s[static_cast<std::size_t>(i * c.seq + j)] * v[static_cast<std::size_t>(j * c.d + x)];
        o[static_cast<std::size_t>(i * c.d + x)] = acc;
      }
    benchmark::DoNotOptimize(o.data());
  }
  set_counters<pact::serial>(state, c.flops(), 1);
}

#if defined(PACT_BENCH_HAVE_OPENBLAS)
void bench_prefill_composed(benchmark::State& state, prefill_case c, int threads) {
  pact_bench::set_peer_threads(threads);
  const auto q = random_floats(static_cast<std::size_t>(c.seq * c.d), 1);
  const auto k = random_floats(static_cast<std::size_t>(c.seq * c.d), 2);
  const auto v = random_floats(static_cast<std::size_t>(c.seq * c.d), 3);
  std::vector<float> o(q.size()), s(static_cast<std::size_t>(c.seq * c.seq));
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.d));
  const int n = static_cast<int>(c.seq), d = static_cast<int>(c.d);
  for (auto _ : state) {
    for (index_t h = 0; h < c.hq; ++h) {  // one head's data reused: the peer's best case
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, scale, q.data(), d, k.data(), d, 0.0f, s.data(), n);
      softmax_rows(s.data(), c.seq, c.seq, c.causal);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, n, 1.0f, s.data(), n, v.data(), d, 0.0f, o.data(), d);
    }
    benchmark::DoNotOptimize(o.data());
  }
  set_counters<pact::serial>(state, c.flops(), threads);
}
#endif

// ---- decode ----------------------------------------------------------------------------
enum class kv_dtype { f32, bf16, int8, int8_per_token, fp8, q8_0 };
const char* dtype_name(kv_dtype t) {
  switch (t) {
    case kv_dtype::f32: return "f32";
    case kv_dtype::bf16: return "bf16";
    case kv_dtype::int8: return "int8";
    case kv_dtype::int8_per_token: return "int8_per_token";
    case kv_dtype::fp8: return "fp8";
    case kv_dtype::q8_0: return "q8_0";
  }
  return "?";
}

struct decode_case {
  index_t kv_len, d = 128, hq = 32, hkv = 8;
  kv_dtype dtype;
  bool int8_query = false;  ///< attention_params::int8_query (int8 caches)
  bool int8_probs = false;  ///< attention_params::int8_probs (int8 caches)
  bool hot = false;         ///< one cache reused (L3-resident at 1k tokens): the compute alone
  std::string name() const {
    return std::string(hot ? "decode_hot_kv" : "decode_kv") + std::to_string(kv_len) + "_" + dtype_name(dtype) +
           (int8_query ? "_int8_query" : "") + (int8_probs ? "_int8_probs" : "");
  }
};

/// Copies of a cache of kv_bytes to rotate through so that every call reads it cold: more
/// than twice the L3 in all (and > 96 MiB), as this project's Intel VMs reported 35 MiB and
/// 260 MiB of L3.
inline std::size_t cold_copies(double kv_bytes) {
  const double rotate_bytes = std::max(96.0 * (1 << 20), 2.0 * static_cast<double>(pact_bench::llc_bytes()));
  return std::max<std::size_t>(2, static_cast<std::size_t>(rotate_bytes / kv_bytes) + 1);
}

template <class T>
struct kv_copies {
  std::vector<std::vector<T>> k, v;
};

template <class Policy = default_at<128>>
void bench_decode_pact(benchmark::State& state, decode_case c, int threads) {
  const std::size_t n = static_cast<std::size_t>(c.kv_len * c.hkv * c.d);
  double bytes_per = 1;
  switch (c.dtype) {
    case kv_dtype::f32: bytes_per = 4; break;
    case kv_dtype::bf16: bytes_per = 2; break;
    case kv_dtype::q8_0: bytes_per = 34.0 / 32.0; break;
    default: bytes_per = 1; break;
  }
  const double kv_bytes = 2.0 * static_cast<double>(n) * bytes_per;
  const std::size_t copies = c.hot ? 1 : cold_copies(kv_bytes);
  const auto src = random_floats(n, 7);
  const auto q = random_floats(static_cast<std::size_t>(c.hq * c.d), 1);
  std::vector<float> o(q.size());
  pact::tensor_view<const float, 4> qv(q.data(), {1, 1, c.hq, c.d});
  pact::tensor_view<float, 4> ov(o.data(), {1, 1, c.hq, c.d});
  pact::attention_params p;
  p.kv_splits = c.hot ? threads : 2 * threads;
  p.int8_query = c.int8_query;
  p.int8_probs = c.int8_probs;
  pact::thread_pool pool(threads);
  const std::array<index_t, 4> ext{1, c.kv_len, c.hkv, c.d};
  std::vector<float> scales(static_cast<std::size_t>(c.hkv), 1.0f / 127.0f);
  std::size_t it = 0;
  auto loop = [&](auto make_k, auto make_v) {
    for (auto _ : state) {
      pact::attention<Policy>(qv, make_k(it % copies), make_v(it % copies), ov, p, pool);
      ++it;
      benchmark::DoNotOptimize(o.data());
    }
  };
  if (c.dtype == kv_dtype::f32) {
    std::vector<std::vector<float>> ks(copies, src), vs(copies, src);
    loop([&](std::size_t i) { return pact::tensor_view<const float, 4>(ks[i].data(), ext); },
         [&](std::size_t i) { return pact::tensor_view<const float, 4>(vs[i].data(), ext); });
  } else if (c.dtype == kv_dtype::bf16) {
    std::vector<pact::bf16> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = pact::bf16(src[i]);
    std::vector<std::vector<pact::bf16>> ks(copies, b), vs(copies, b);
    loop([&](std::size_t i) { return pact::tensor_view<const pact::bf16, 4>(ks[i].data(), ext); },
         [&](std::size_t i) { return pact::tensor_view<const pact::bf16, 4>(vs[i].data(), ext); });
  } else if (c.dtype == kv_dtype::int8 || c.dtype == kv_dtype::int8_per_token) {
    // One scale per head, or one per (token, head) as a paged_kv_cache<int8_t> writes.
    std::vector<std::int8_t> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::int8_t>(std::lround(src[i] * 127.0f));
    std::vector<std::vector<std::int8_t>> ks(copies, b), vs(copies, b);
    const bool per_token = c.dtype == kv_dtype::int8_per_token;
    if (per_token) scales.assign(static_cast<std::size_t>(c.hkv * c.kv_len), 1.0f / 127.0f);
    const pact::tensor_view<const float, 3> sv(scales.data(), {1, c.hkv, per_token ? c.kv_len : 1});
    auto mk = [&](std::vector<std::vector<std::int8_t>>& x) {
      return [&](std::size_t i) {
        return pact::quantized_kv<std::int8_t>{pact::tensor_view<const std::int8_t, 4>(x[i].data(), ext), sv, per_token ? 1 : 0};
      };
    };
    loop(mk(ks), mk(vs));
  } else if (c.dtype == kv_dtype::q8_0) {
    std::vector<pact::quant::block_q8_0> b(n / 32);
    pact::quant::quantize<pact::quant::block_q8_0>(std::span<const float>(src), std::span<pact::quant::block_q8_0>(b));
    std::vector<std::vector<pact::quant::block_q8_0>> ks(copies, b), vs(copies, b);
    const std::array<index_t, 4> bext{1, c.kv_len, c.hkv, c.d / 32};
    loop([&](std::size_t i) { return pact::q8_0_kv{pact::tensor_view<const pact::quant::block_q8_0, 4>(ks[i].data(), bext)}; },
         [&](std::size_t i) { return pact::q8_0_kv{pact::tensor_view<const pact::quant::block_q8_0, 4>(vs[i].data(), bext)}; });
  } else {
    std::vector<pact::fp8_e4m3> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = pact::fp8_e4m3(src[i] * 127.0f);
    std::vector<std::vector<pact::fp8_e4m3>> ks(copies, b), vs(copies, b);
    const pact::tensor_view<const float, 3> sv(scales.data(), {1, c.hkv, 1});
    auto mk = [&](std::vector<std::vector<pact::fp8_e4m3>>& x) {
      return [&](std::size_t i) {
        return pact::quantized_kv<pact::fp8_e4m3>{pact::tensor_view<const pact::fp8_e4m3, 4>(x[i].data(), ext), sv, 0};
      };
    };
    loop(mk(ks), mk(vs));
  }
  const double flops = 4.0 * static_cast<double>(c.kv_len * c.d * c.hq);
  set_counters<pact::thread_pool>(state, flops, threads);
  state.counters["GBps"] = benchmark::Counter(kv_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (!c.hot)  // a hot cache is not read from DRAM
    state.counters["pct_bw"] = benchmark::Counter(kv_bytes * 1e-9 * 100.0 / pact_bench::dram_read_gbps(threads),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

// ---- decode over a paged cache (block size 16, blocks shuffled through the pool) ----------
// GBps counts the bytes a decode step reads: codes or values, plus the per-(token, head)
// fp32 scales of an int8 / FP8 pool. Compare with the dense decode_kv entries of equal type.
template <class T>
void bench_decode_paged(benchmark::State& state, index_t kv_len, int threads, bool int8_query = false) {
  const index_t d = 128, hq = 32, hkv = 8, bs = 16;
  const std::size_t n = static_cast<std::size_t>(kv_len * hkv * d);
  const double row_bytes = std::is_same_v<T, pact::quant::block_q8_0> ? d / 32 * 34.0
                           : pact::paged_kv_cache<T>::has_scales   ? d * sizeof(T) + 4.0
                                                                    : d * sizeof(T);
  const double kv_bytes = 2.0 * static_cast<double>(kv_len * hkv) * row_bytes;
  const std::size_t copies = cold_copies(kv_bytes);
  const auto src = random_floats(n, 7);
  std::vector<std::unique_ptr<pact::paged_kv_cache<T>>> caches;
  std::vector<typename pact::paged_kv_cache<T>::batch> batches;
  std::mt19937 rng(1);
  for (std::size_t i = 0; i < copies; ++i) {
    caches.push_back(std::make_unique<pact::paged_kv_cache<T>>((kv_len + bs - 1) / bs, bs, hkv, d));
    caches.back()->shuffle_free_blocks(rng);
    const index_t id = caches.back()->add_sequence();
    const pact::tensor_view<const float, 3> rows(src.data(), {kv_len, hkv, d});
    caches.back()->append(id, rows, rows);
    const std::vector<index_t> ids{id};
    batches.push_back(caches.back()->make_batch(ids));
  }
  const auto q = random_floats(static_cast<std::size_t>(hq * d), 1);
  std::vector<float> o(q.size());
  pact::tensor_view<const float, 4> qv(q.data(), {1, 1, hq, d});
  pact::tensor_view<float, 4> ov(o.data(), {1, 1, hq, d});
  pact::attention_params p;
  p.kv_splits = 2 * threads;
  p.int8_query = int8_query;
  pact::thread_pool pool(threads);
  std::size_t it = 0;
  for (auto _ : state) {
    const auto& b = batches[it++ % copies];
    pact::attention<default_at<128>>(qv, b.keys(), b.values(), ov, p, pool);
    benchmark::DoNotOptimize(o.data());
  }
  set_counters<pact::thread_pool>(state, 4.0 * static_cast<double>(kv_len * d * hq), threads);
  state.counters["GBps"] = benchmark::Counter(kv_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_bw"] = benchmark::Counter(kv_bytes * 1e-9 * 100.0 / pact_bench::dram_read_gbps(threads),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// ---- varlen: 8 prefill sequences of different lengths, packed, vs the same batch padded ----
// GFLOPS counts the useful work only (sum over sequences, causal halved), so the padded
// entry shows what padding to the longest sequence costs.
const std::vector<index_t> varlen_lengths{1024, 512, 256, 128, 64, 700, 300, 1000};
double varlen_useful_flops(index_t d, index_t hq) {
  double f = 0;
  for (index_t s : varlen_lengths) f += 2.0 * static_cast<double>(s) * static_cast<double>(s) * static_cast<double>(d * hq);
  return f;
}

void bench_varlen_pact(benchmark::State& state, index_t d, index_t hq, index_t hkv, int threads) {
  std::vector<index_t> cu{0};
  for (index_t s : varlen_lengths) cu.push_back(cu.back() + s);
  const index_t total = cu.back();
  const auto q = random_floats(static_cast<std::size_t>(total * hq * d), 1);
  const auto k = random_floats(static_cast<std::size_t>(total * hkv * d), 2);
  const auto v = random_floats(static_cast<std::size_t>(total * hkv * d), 3);
  std::vector<float> o(q.size());
  pact::attention_params p;
  p.causal = true;
  pact::thread_pool pool(threads);
  for (auto _ : state) {
    pact::attention_varlen<default_at<128>>(pact::tensor_view<const float, 3>(q.data(), {total, hq, d}),
                           pact::tensor_view<const float, 3>(k.data(), {total, hkv, d}),
                           pact::tensor_view<const float, 3>(v.data(), {total, hkv, d}),
                           pact::tensor_view<float, 3>(o.data(), {total, hq, d}), cu, cu, p, pool);
    benchmark::DoNotOptimize(o.data());
  }
  set_counters<pact::thread_pool>(state, varlen_useful_flops(d, hq), threads);
}

void bench_varlen_padded(benchmark::State& state, index_t d, index_t hq, index_t hkv, int threads) {
  const index_t B = static_cast<index_t>(varlen_lengths.size()), S = 1024;
  const auto q = random_floats(static_cast<std::size_t>(B * S * hq * d), 1);
  const auto k = random_floats(static_cast<std::size_t>(B * S * hkv * d), 2);
  const auto v = random_floats(static_cast<std::size_t>(B * S * hkv * d), 3);
  std::vector<float> o(q.size());
  pact::attention_params p;
  p.causal = true;
  pact::thread_pool pool(threads);
  for (auto _ : state) {
    pact::attention<default_at<128>>(pact::tensor_view<const float, 4>(q.data(), {B, S, hq, d}),
                    pact::tensor_view<const float, 4>(k.data(), {B, S, hkv, d}),
                    pact::tensor_view<const float, 4>(v.data(), {B, S, hkv, d}),
                    pact::tensor_view<float, 4>(o.data(), {B, S, hq, d}), p, pool);
    benchmark::DoNotOptimize(o.data());
  }
  set_counters<pact::thread_pool>(state, varlen_useful_flops(d, hq), threads);
}

// ---- MLA decode (DeepSeek-V3: 128 heads, latent rank 512 + 64 RoPE dims) -----------------
// Compute-bound (all heads share the cache): GFLOPS = 2 H Sq Skv (Dl + Dr) + 2 H Sq Skv Dl.
/// MLA decode over a latent cache of T (float, bf16, or int8 with one scale per token).
template <class T = float>
void bench_mla_decode(benchmark::State& state, index_t heads, index_t kv_len, index_t sq, int threads) {
  const index_t Dl = 512, Dr = 64;
  std::vector<float> ql(static_cast<std::size_t>(sq * heads * Dl)), qr(static_cast<std::size_t>(sq * heads * Dr)),
      ckv(static_cast<std::size_t>(kv_len * Dl)), kr(static_cast<std::size_t>(kv_len * Dr)), out(ql.size());
  auto fill = [](std::vector<float>& v, float f) {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(f * static_cast<float>(i % 9973));
  };
  fill(ql, 0.37f);
  fill(qr, 0.11f);
  fill(ckv, 0.23f);
  fill(kr, 0.29f);
  pact::mla_params p;
  p.scale = 1.0f / std::sqrt(192.0f);
  pact::thread_pool pool(threads);
  // The cache in T: f32 as is, bf16 rounded, int8 with one absmax scale per token.
  std::vector<T> ckv_t(ckv.size()), kr_t(kr.size());
  std::vector<float> c_scales(static_cast<std::size_t>(kv_len)), r_scales(static_cast<std::size_t>(kv_len));
  auto convert = [kv_len](const std::vector<float>& x, index_t D, std::vector<T>& y, std::vector<float>& scales) {
    for (index_t t = 0; t < kv_len; ++t) {
      float amax = 0;
      for (index_t c = 0; c < D; ++c) amax = std::max(amax, std::fabs(x[static_cast<std::size_t>(t * D + c)]));
      const float s = amax > 0 ? amax / 127.0f : 1.0f;
      scales[static_cast<std::size_t>(t)] = s;
      for (index_t c = 0; c < D; ++c) {
        const float v = x[static_cast<std::size_t>(t * D + c)];
        if constexpr (std::is_same_v<T, std::int8_t>) y[static_cast<std::size_t>(t * D + c)] = static_cast<std::int8_t>(std::lrint(v / s));
        else y[static_cast<std::size_t>(t * D + c)] = T(v);
      }
    }
  };
  convert(ckv, Dl, ckv_t, c_scales);
  convert(kr, Dr, kr_t, r_scales);
  auto cache = [&](const std::vector<T>& y, const std::vector<float>& scales, index_t D) {
    if constexpr (std::is_same_v<T, std::int8_t>)
      return pact::quantized_kv<std::int8_t>{{y.data(), {1, kv_len, 1, D}}, {scales.data(), {1, 1, kv_len}}, 1};
    else
      return pact::tensor_view<const T, 3>(y.data(), {1, kv_len, D});
  };
  const auto c_cache = cache(ckv_t, c_scales, Dl);
  const auto r_cache = cache(kr_t, r_scales, Dr);
  for (auto _ : state) {
    pact::mla_decode(pact::tensor_view<const float, 4>(ql.data(), {1, sq, heads, Dl}),
                     pact::tensor_view<const float, 4>(qr.data(), {1, sq, heads, Dr}), c_cache, r_cache,
                     pact::tensor_view<float, 4>(out.data(), {1, sq, heads, Dl}), p, pool);
    benchmark::DoNotOptimize(out.data());
  }
  const double flops = 2.0 * static_cast<double>(heads * sq * kv_len) * static_cast<double>(2 * Dl + Dr);
  set_counters<pact::thread_pool>(state, flops, threads);
  const double bytes = static_cast<double>(sizeof(T)) * static_cast<double>(kv_len * (Dl + Dr));
  state.counters["GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  auto reg = [](const std::string& name, auto fn) {
    return benchmark::RegisterBenchmark(name.c_str(), fn)->Unit(benchmark::kMillisecond)->UseRealTime();
  };
  for (int threads : {1, 2}) {
    for (index_t seq : {512, 1024, 4096, 8192})
      for (index_t d : {64, 128})
        for (auto [hq, hkv] : {std::pair<index_t, index_t>{1, 1}, {32, 8}})
          for (bool causal : {false, true}) {
            const prefill_case c{seq, d, hq, hkv, causal};
            // The largest cases take seconds per call: a few iterations are enough.
            const bool big = c.flops() > 2e11;
            auto* b = reg("attention/pact/" + c.name() + "/threads:" + std::to_string(threads),
                          [c, threads](benchmark::State& st) {
                            if (c.d == 64) bench_prefill_pact<default_at<64>>(st, c, threads);
                            else bench_prefill_pact<default_at<128>>(st, c, threads);
                          });
            if (big) b->Iterations(2);
            // The cost of the one-kernel policy (any_head_dim: runtime loop bounds) at the
            // dims the default policy compiles.
            if (seq == 1024 && hq == 32 && !causal)
              reg("attention/pact_any_head_dim/" + c.name() + "/threads:" + std::to_string(threads),
                  [c, threads](benchmark::State& st) {
                    bench_prefill_pact<pact::attention_config<64, 64, pact::any_head_dim>>(st, c, threads);
                  });
#if defined(PACT_BENCH_HAVE_OPENBLAS)
            if (hq == 1) {
              reg("attention/composed/" + c.name() + "/threads:" + std::to_string(threads),
                  [c, threads](benchmark::State& st) { bench_prefill_composed(st, c, threads); });
            }
#endif
          }
    for (index_t kv : {1024, 4096, 16384, 32768})
      for (kv_dtype t : {kv_dtype::f32, kv_dtype::bf16, kv_dtype::int8, kv_dtype::fp8, kv_dtype::q8_0}) {
        const decode_case c{kv, 128, 32, 8, t};
        reg("attention/pact/" + c.name() + "/threads:" + std::to_string(threads),
            [c, threads](benchmark::State& st) { bench_decode_pact(st, c, threads); });
        if (kv == 16384 && t == kv_dtype::int8) {
          const decode_case pt{kv, 128, 32, 8, kv_dtype::int8_per_token};
          reg("attention/pact/" + pt.name() + "/threads:" + std::to_string(threads),
              [pt, threads](benchmark::State& st) { bench_decode_pact(st, pt, threads); });
        }
        if (t == kv_dtype::int8)  // integer q.k (attention_params::int8_query), per-head and per-token scales
          for (kv_dtype it : {kv_dtype::int8, kv_dtype::int8_per_token}) {
            if (it == kv_dtype::int8_per_token && kv != 16384) continue;
            const decode_case iq{kv, 128, 32, 8, it, true};
            reg("attention/pact/" + iq.name() + "/threads:" + std::to_string(threads),
                [iq, threads](benchmark::State& st) { bench_decode_pact(st, iq, threads); });
          }
        if (t == kv_dtype::int8)  // integer P.V (attention_params::int8_probs), alone and all-integer
          for (bool iq : {false, true}) {
            const decode_case ip{kv, 128, 32, 8, t, iq, true};
            reg("attention/pact/" + ip.name() + "/threads:" + std::to_string(threads),
                [ip, threads](benchmark::State& st) { bench_decode_pact(st, ip, threads); });
          }
        if (kv == 16384 && (t == kv_dtype::f32 || t == kv_dtype::int8))
          reg("attention/pact_any_head_dim/" + c.name() + "/threads:" + std::to_string(threads),
              [c, threads](benchmark::State& st) {
                bench_decode_pact<pact::attention_config<64, 64, pact::any_head_dim>>(st, c, threads);
              });
      }
    const std::string t = "/threads:" + std::to_string(threads);
    // Hot caches: the decode kernel's compute, without the memory walk (docs/attention.md).
    for (const decode_case& hc : {decode_case{1024, 128, 32, 8, kv_dtype::f32, false, false, true},
                                  decode_case{1024, 128, 32, 8, kv_dtype::bf16, false, false, true},
                                  decode_case{1024, 128, 32, 8, kv_dtype::int8, true, true, true}})
      reg("attention/pact/" + hc.name() + t, [hc, threads](benchmark::State& st) { bench_decode_pact(st, hc, threads); });
    reg("attention/pact/decode_paged_kv16384_f32" + t, [threads](benchmark::State& st) { bench_decode_paged<float>(st, 16384, threads); });
    reg("attention/pact/decode_paged_kv16384_bf16" + t, [threads](benchmark::State& st) { bench_decode_paged<pact::bf16>(st, 16384, threads); });
    reg("attention/pact/decode_paged_kv16384_int8" + t, [threads](benchmark::State& st) { bench_decode_paged<std::int8_t>(st, 16384, threads); });
    reg("attention/pact/decode_paged_kv16384_int8_int8_query" + t,
        [threads](benchmark::State& st) { bench_decode_paged<std::int8_t>(st, 16384, threads, true); });
    reg("attention/pact/decode_paged_kv16384_fp8" + t, [threads](benchmark::State& st) { bench_decode_paged<pact::fp8_e4m3>(st, 16384, threads); });
    reg("attention/pact/decode_paged_kv16384_q8_0" + t,
        [threads](benchmark::State& st) { bench_decode_paged<pact::quant::block_q8_0>(st, 16384, threads); });
    reg("attention/pact/varlen8_total3984_d128_h32kv8_causal" + t,
        [threads](benchmark::State& st) { bench_varlen_pact(st, 128, 32, 8, threads); });
    reg("attention/pact/padded8_s1024_d128_h32kv8_causal" + t,
        [threads](benchmark::State& st) { bench_varlen_padded(st, 128, 32, 8, threads); });
    for (index_t kv : {1024, 4096, 16384})
      reg("attention/pact/mla_decode_h128_kv" + std::to_string(kv) + "/threads:" + std::to_string(threads),
          [kv, threads](benchmark::State& st) { bench_mla_decode(st, 128, kv, 1, threads); });
    reg("attention/pact/mla_decode_bf16_h128_kv4096/threads:" + std::to_string(threads),
        [threads](benchmark::State& st) { bench_mla_decode<pact::bf16>(st, 128, 4096, 1, threads); });
    reg("attention/pact/mla_decode_int8_h128_kv4096/threads:" + std::to_string(threads),
        [threads](benchmark::State& st) { bench_mla_decode<std::int8_t>(st, 128, 4096, 1, threads); });
  }
  const prefill_case small{1024, 128, 1, 1, false};
  reg("attention/naive/" + small.name() + "/threads:1", [small](benchmark::State& st) { bench_prefill_naive(st, small); })
      ->Iterations(1);
  const prefill_case small_causal{1024, 128, 1, 1, true};
  reg("attention/naive/" + small_causal.name() + "/threads:1",
      [small_causal](benchmark::State& st) { bench_prefill_naive(st, small_causal); })
      ->Iterations(1);
}
}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
