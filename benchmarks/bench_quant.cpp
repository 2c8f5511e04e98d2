// Quantized formats: quantize / dequantize throughput (this section), then quantized
// GEMV / GEMM (section "Kernels", added by the kernel work).
//   names:    quant/pact/<format>/quantize/<N>/threads:<T>
//             quant/pact/<format>/dequantize/<N>/threads:<T>
//   counters: GBps      bytes read + bytes written per second (float32 side + packed side)
//             pct_peak  GBps as a percentage of the measured DRAM read bandwidth
//                       (support/machine_peak.hpp, same thread count)
// N = 128 Mi floats (512 MB of float32, beyond the last-level cache: this VM reports a
// 300 MB L3) measures the memory-speed goal for dynamic activation quantization;
// N = 1 Mi (4 MB) shows the in-cache rate.
// Activation formats are quantized as (N / 4096) tokens x 4096 channels.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pact/quant.hpp"
#include "support/machine_peak.hpp"
#include <cmath>
#include <cstdint>
#include "pact/core/threading.hpp"
#include "pact/gemm.hpp"
#include "pact/quant/gemm_dequant.hpp"
#include "pact/quant/gemm_fp8.hpp"
#include "pact/quant/gemm_q.hpp"
#include "pact/quant/gemv_q.hpp"
#include "pact/quant/gemv_fp8.hpp"
#include "pact/quant/int8_gemm.hpp"
#include "support/int8_peak.hpp"
#include "support/peers.hpp"
#if defined(PACT_BENCH_HAVE_DNNL)
#include <dnnl.h>
#endif

namespace {

// ===================================================================== shared support

/// Deterministic non-zero inputs (a cheap LCG: filling 256 MB with mt19937 takes seconds).
void fill_random(float* x, std::size_t n, std::uint32_t seed) {
  std::uint32_t state = seed;
  for (std::size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    x[i] = static_cast<float>(static_cast<std::int32_t>(state >> 8) - (1 << 23)) * (1.0f / (1 << 21));
  }
}

/// One float buffer shared by every benchmark of a size (allocation and first touch are
/// not timed).
float* shared_input(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<pact::aligned_buffer<float>>> cache;
  auto& slot = cache[n];
  if (!slot) {
    slot = std::make_unique<pact::aligned_buffer<float>>(n);
    fill_random(slot->data(), n, 12345u);
  }
  return slot->data();
}

void set_counters(benchmark::State& state, double bytes, int threads) {
  const double peak = pact_bench::dram_read_gbps(threads);
  state.counters["GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(bytes * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
}

/// Runs `body(executor_ref)` on `threads` threads (a pool kept for the whole benchmark).
template <class Body>
void with_executor(int threads, Body&& body) {
  if (threads == 1) {
    body(pact::serial{});
  } else {
    pact::thread_pool pool(threads);
    body(pool);
  }
}

// ===================================================================== quantize / dequantize

namespace q = pact::quant;

template <class Block>
void bench_ggml(benchmark::State& state, std::size_t n, int threads, bool quantize) {
  const float* x = shared_input(n);
  std::vector<Block> blocks(n / Block::elems);
  pact::aligned_buffer<float> y(n);
  std::memset(y.data(), 0, n * sizeof(float));
  q::quantize<Block>(std::span<const float>(x, n), blocks);
  with_executor(threads, [&](const auto& exec) {
    for (auto _ : state) {
      if (quantize) q::quantize<Block>(std::span<const float>(x, n), blocks, exec);
      else q::dequantize<Block>(std::span<const Block>(blocks), std::span<float>(y.data(), n), exec);
      benchmark::DoNotOptimize(blocks.data());
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
  });
  set_counters(state, 4.0 * static_cast<double>(n) + static_cast<double>(blocks.size() * sizeof(Block)), threads);
}

template <class Block>
void bench_mx(benchmark::State& state, std::size_t n, int threads, bool quantize) {
  const float* x = shared_input(n);
  std::vector<Block> blocks(n / 32);
  pact::aligned_buffer<float> y(n);
  std::memset(y.data(), 0, n * sizeof(float));
  q::quantize_mx<Block>(std::span<const float>(x, n), blocks);
  with_executor(threads, [&](const auto& exec) {
    for (auto _ : state) {
      if (quantize) q::quantize_mx<Block>(std::span<const float>(x, n), blocks, exec);
      else q::dequantize_mx<Block>(std::span<const Block>(blocks), std::span<float>(y.data(), n), exec);
      benchmark::DoNotOptimize(blocks.data());
      benchmark::DoNotOptimize(y.data());
      benchmark::ClobberMemory();
    }
  });
  set_counters(state, 4.0 * static_cast<double>(n) + static_cast<double>(blocks.size() * sizeof(Block)), threads);
}

constexpr std::size_t channels = 4096;

template <class Fp8>
void bench_fp8_1x128(benchmark::State& state, std::size_t n, int threads) {
  const float* x = shared_input(n);
  const std::size_t rows = n / channels;
  q::fp8_activations_1x128<Fp8> out;
  q::quantize_fp8_1x128<Fp8>(x, rows, channels, channels, out);
  with_executor(threads, [&](const auto& exec) {
    for (auto _ : state) {
      q::quantize_fp8_1x128<Fp8>(x, rows, channels, channels, out, exec);
      benchmark::DoNotOptimize(out.data.data());
      benchmark::ClobberMemory();
    }
  });
  set_counters(state, 5.0 * static_cast<double>(n) + 4.0 * static_cast<double>(rows * out.groups_per_row()), threads);
}

void bench_int8_rows(benchmark::State& state, std::size_t n, int threads, q::int8_layout layout) {
  const float* x = shared_input(n);
  const std::size_t rows = n / channels;
  q::int8_matrix<std::int8_t> out;
  q::quantize_int8(x, rows, channels, channels, layout, out);
  with_executor(threads, [&](const auto& exec) {
    for (auto _ : state) {
      q::quantize_int8(x, rows, channels, channels, layout, out, exec);
      benchmark::DoNotOptimize(out.data.data());
      benchmark::ClobberMemory();
    }
  });
  set_counters(state, 5.0 * static_cast<double>(n) + 4.0 * static_cast<double>(out.scale_count()), threads);
}

void register_format_benchmarks() {
  const std::size_t sizes[] = {std::size_t{1} << 20, std::size_t{128} << 20};
  auto add = [](const std::string& format, const char* op, std::size_t n, int threads,
                std::function<void(benchmark::State&)> f) {
    const std::string name = "quant/pact/" + format + "/" + op + "/" + std::to_string(n) + "/threads:" + std::to_string(threads);
    benchmark::RegisterBenchmark(name.c_str(), [f](benchmark::State& st) { f(st); })->UseRealTime()->Unit(benchmark::kMillisecond);
  };
  for (std::size_t n : sizes) {
    for (int t : {1, 2}) {
      for (bool quantize : {true, false}) {
        const char* op = quantize ? "quantize" : "dequantize";
        // Weight formats (quantized offline by ggml's search-based reference algorithms,
        // ~50-150 ns per element) are quantized only at the small size: a 512 MB run takes
        // minutes.
        const bool weight_quantize = quantize && n > (std::size_t{1} << 20);
        add("q8_0", op, n, t, [=](benchmark::State& s) { bench_ggml<q::block_q8_0>(s, n, t, quantize); });
        add("q4_0", op, n, t, [=](benchmark::State& s) { bench_ggml<q::block_q4_0>(s, n, t, quantize); });
        add("q8_K", op, n, t, [=](benchmark::State& s) { bench_ggml<q::block_q8_K>(s, n, t, quantize); });
        if (!weight_quantize) {
          add("q4_1", op, n, t, [=](benchmark::State& s) { bench_ggml<q::block_q4_1>(s, n, t, quantize); });
          add("q4_K", op, n, t, [=](benchmark::State& s) { bench_ggml<q::block_q4_K>(s, n, t, quantize); });
          add("q6_K", op, n, t, [=](benchmark::State& s) { bench_ggml<q::block_q6_K>(s, n, t, quantize); });
          add("mxfp4_ggml", op, n, t, [=](benchmark::State& s) { bench_ggml<q::block_mxfp4>(s, n, t, quantize); });
        }
        add("mxfp8_e4m3", op, n, t, [=](benchmark::State& s) { bench_mx<q::mx_block_fp8_e4m3>(s, n, t, quantize); });
        add("mxfp6_e2m3", op, n, t, [=](benchmark::State& s) { bench_mx<q::mx_block_fp6_e2m3>(s, n, t, quantize); });
        add("mxfp4", op, n, t, [=](benchmark::State& s) { bench_mx<q::mx_block_fp4>(s, n, t, quantize); });
        add("mxint8", op, n, t, [=](benchmark::State& s) { bench_mx<q::mx_block_int8>(s, n, t, quantize); });
      }
      add("fp8_e4m3_1x128", "quantize", n, t, [=](benchmark::State& s) { bench_fp8_1x128<pact::fp8_e4m3>(s, n, t); });
      add("int8_per_row", "quantize", n, t, [=](benchmark::State& s) {
        bench_int8_rows(s, n, t, {q::int8_granularity::per_row, 0, q::int8_scheme::symmetric});
      });
      add("int8_per_group32", "quantize", n, t, [=](benchmark::State& s) {
        bench_int8_rows(s, n, t, {q::int8_granularity::per_group, 32, q::int8_scheme::symmetric});
      });
    }
  }
}

// ===================================================================== Kernels
// int8 GEMM vs oneDNN, Q8_0/Q4_0/Q4_K/MXFP4/int8/FP8 GEMV with cold weights, batched Q4_0/Q8_0 GEMM.
// Kernels: pact against oneDNN (when found) in one binary, same inputs.
//   name: quant/<impl>/<format>/<M>x<N>x<K>/threads:<T>
//   int8 GEMM counters: GOPS (2*M*N*K / s) and pct_peak of the measured vpdpbusd peak
//   (support/int8_peak.hpp) for the thread count.
// Inputs are random bytes. Every impl's int32 result is compared exactly with pact's
// before timing. Shapes whose B exceeds 16 MB with few rows rotate B copies (> 512 MB)
// so weights come from DRAM.
namespace kernels {


struct shape {
  int m, n, k;
};

struct int8_problem {
  int m, n, k, copies;
  std::vector<std::uint8_t> a;
  std::vector<std::vector<std::int8_t>> b;
  std::vector<std::int32_t> c;
  explicit int8_problem(shape s) : m(s.m), n(s.n), k(s.k) {
    const double b_bytes = 1.0 * s.n * s.k;
    copies = (s.m <= 128 && b_bytes > 16e6) ? static_cast<int>(std::ceil(512e6 / b_bytes)) : 1;
    std::uint32_t state = 12345;
    auto next = [&state] {
      state = state * 1664525u + 1013904223u;
      return static_cast<std::uint8_t>(state >> 24);
    };
    a.resize(static_cast<std::size_t>(m) * k);
    for (auto& x : a) x = next();
    b.resize(static_cast<std::size_t>(copies));
    for (auto& bb : b) {
      bb.resize(static_cast<std::size_t>(k) * n);
      for (auto& x : bb) x = static_cast<std::int8_t>(next());
    }
    c.assign(static_cast<std::size_t>(m) * n, 0);
  }
};

using runner = std::function<void(int copy)>;
using factory = std::function<runner(int8_problem&, const pact::thread_pool&)>;

runner make_pact(int8_problem& p, const pact::thread_pool& pool) {
  return [&p, &pool](int copy) {
    pact::int8_gemm(pact::make_row_major<const std::uint8_t>(p.a.data(), p.m, p.k),
                    pact::make_row_major<const std::int8_t>(p.b[static_cast<std::size_t>(copy)].data(), p.k, p.n),
                    pact::make_row_major(p.c.data(), p.m, p.n), pact::int8_requantize{}, pool);
  };
}

runner make_pact_packed(int8_problem& p, const pact::thread_pool& pool) {
  auto packed = std::make_shared<std::vector<pact::int8_packed_b<>>>();
  for (auto& bb : p.b) packed->emplace_back(pact::make_row_major<const std::int8_t>(bb.data(), p.k, p.n), pool);
  return [&p, &pool, packed](int copy) {
    pact::int8_gemm(pact::make_row_major<const std::uint8_t>(p.a.data(), p.m, p.k),
                    (*packed)[static_cast<std::size_t>(copy)], pact::make_row_major(p.c.data(), p.m, p.n),
                    pact::int8_requantize{}, pool);
  };
}

#if defined(PACT_BENCH_HAVE_DNNL)
runner make_dnnl(int8_problem& p, const pact::thread_pool&) {
  return [&p](int copy) {
    const std::int32_t co = 0;
    dnnl_gemm_u8s8s32('N', 'N', 'F', p.m, p.n, p.k, 1.0f, p.a.data(), p.k, 0,
                      p.b[static_cast<std::size_t>(copy)].data(), p.n, 0, 0.0f, p.c.data(), p.n, &co);
  };
}
#endif

/// Each impl's int32 C must equal pact's exactly (small copy of the shape's problem).
bool agrees(shape s, const factory& make) {
  pact::thread_pool pool(1);
  int8_problem p(shape{s.m, std::min(s.n, 512), std::min(s.k, 512)});
  p.copies = 1;
  p.b.resize(1);
  make(p, pool)(0);
  int8_problem q(shape{s.m, std::min(s.n, 512), std::min(s.k, 512)});
  q.copies = 1;
  q.b.resize(1);
  make_pact(q, pool)(0);
  return p.c == q.c;
}

void run_int8(benchmark::State& state, shape s, int threads, const factory& make) {
  if (!agrees(s, make)) {
    state.SkipWithError("int32 result disagrees with pact's; not timed");
    return;
  }
  int8_problem p(s);
  pact_bench::set_peer_threads(threads);
  pact::thread_pool pool(threads);
  runner run = make(p, pool);
  int copy = 0;
  run(0);
  for (auto _ : state) {
    run(copy);
    copy = (copy + 1) % p.copies;
    benchmark::ClobberMemory();
  }
  const double ops = 2.0 * p.m * p.n * p.k;
  const double peak = pact_bench::int8_peak_gops(threads);
  state.counters["GOPS"] = benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(ops * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(p.copies) + " B copies, peak " + std::to_string(static_cast<int>(peak)) + " GOP/s");
}

// ---- GEMV (M = 1), cold weights ------------------------------------------------------
// Weight copies rotate through > 512 MB so every call streams W from DRAM. GBps counts
// the weight bytes read per call (activations are a few KB and stay in cache).

template <class Block>
void run_gemv_q(benchmark::State& state, int N, int K, int threads) {
  using XBlock = pact::quant::gemv_activation_t<Block>;
  const std::size_t nblk = static_cast<std::size_t>(N) * (static_cast<std::size_t>(K) / Block::elems);
  const double bytes = static_cast<double>(nblk * sizeof(Block));
  const int copies = static_cast<int>(std::ceil(512e6 / bytes)) + 1;
  std::vector<std::vector<Block>> W(static_cast<std::size_t>(copies), std::vector<Block>(nblk));
  std::uint32_t st = 7;
  for (auto& w : W)
    for (auto& b : w) {
      auto* p = reinterpret_cast<std::uint8_t*>(&b);
      for (std::size_t i = 0; i < sizeof(Block); ++i) p[i] = static_cast<std::uint8_t>((st = st * 1664525u + 1013904223u) >> 24);
      if constexpr (std::is_same_v<Block, pact::quant::block_mxfp4>) {
        b.e = pact::e8m0::from_bits(120);
      } else {
        b.d = pact::fp16(0.01f);
        if constexpr (std::is_same_v<Block, pact::quant::block_q4_K>) b.dmin = pact::fp16(0.01f);
      }
    }
  std::vector<float> x(static_cast<std::size_t>(K)), y(static_cast<std::size_t>(N));
  for (int k = 0; k < K; ++k) x[static_cast<std::size_t>(k)] = std::sin(0.1f * static_cast<float>(k));
  std::vector<XBlock> xq(static_cast<std::size_t>(K) / XBlock::elems);
  pact::quant::quantize<XBlock>(std::span<const float>(x), std::span<XBlock>(xq));
  pact::thread_pool pool(threads);
  int copy = 0;
  for (auto _ : state) {
    pact::quant::gemv<Block>(std::span<const Block>(W[static_cast<std::size_t>(copy)]), N, K,
                             std::span<const XBlock>(xq), std::span<float>(y), pool);
    copy = (copy + 1) % copies;
    benchmark::ClobberMemory();
  }
  const double peak = pact_bench::dram_read_gbps(threads);
  state.counters["GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(bytes * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(copies) + " W copies, DRAM " + std::to_string(peak).substr(0, 5) + " GB/s");
}

/// int8 per-channel weights (pre-packed, K x N) x one int8 activation row (u8 + zero point).
void run_gemv_int8(benchmark::State& state, int N, int K, int threads) {
  const double bytes = static_cast<double>(N) * K;
  const int copies = static_cast<int>(std::ceil(512e6 / bytes)) + 1;
  std::vector<std::int8_t> w(static_cast<std::size_t>(K) * N);
  std::uint32_t st = 9;
  for (auto& v : w) v = static_cast<std::int8_t>((st = st * 1664525u + 1013904223u) >> 24);
  pact::thread_pool pool(threads);
  std::vector<pact::int8_packed_b<>> packed;
  for (int c = 0; c < copies; ++c) packed.emplace_back(pact::make_row_major<const std::int8_t>(w.data(), K, N), pool);
  std::vector<std::uint8_t> a(static_cast<std::size_t>(K), 100);
  std::vector<float> scales(static_cast<std::size_t>(N), 0.01f), y(static_cast<std::size_t>(N));
  pact::int8_requantize rq;
  rq.a_zero_point = 128;
  rq.a_scale = 0.02f;
  rq.b_col_scales = scales.data();
  int copy = 0;
  for (auto _ : state) {
    pact::int8_gemm(pact::make_row_major<const std::uint8_t>(a.data(), 1, K), packed[static_cast<std::size_t>(copy)],
                    pact::make_row_major(y.data(), 1, N), rq, pool);
    copy = (copy + 1) % copies;
    benchmark::ClobberMemory();
  }
  const double peak = pact_bench::dram_read_gbps(threads);
  state.counters["GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(bytes * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(copies) + " W copies");
}

/// pact's f32 GEMV (pact::gemm with M = 1, weights K x N row-major) as the f32 reference.
void run_gemv_f32(benchmark::State& state, int N, int K, int threads) {
  const double bytes = 4.0 * N * K;
  const int copies = static_cast<int>(std::ceil(512e6 / bytes)) + 1;
  std::vector<std::vector<float>> W(static_cast<std::size_t>(copies), std::vector<float>(static_cast<std::size_t>(K) * N, 0.5f));
  std::vector<float> x(static_cast<std::size_t>(K), 1.0f), y(static_cast<std::size_t>(N));
  pact::thread_pool pool(threads);
  int copy = 0;
  for (auto _ : state) {
    pact::gemm(1.0f, pact::make_row_major<const float>(x.data(), 1, K),
               pact::make_row_major<const float>(W[static_cast<std::size_t>(copy)].data(), K, N), 0.0f,
               pact::make_row_major(y.data(), 1, N), pact::epilogue::none{}, pool);
    copy = (copy + 1) % copies;
    benchmark::ClobberMemory();
  }
  const double peak = pact_bench::dram_read_gbps(threads);
  state.counters["GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(bytes * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(copies) + " W copies");
}

/// FP8 weights with 128x128 block scales (DeepSeek-V3 layout) x f32 activations. The
/// copies share one quantized matrix's codes and scales (quantizing 512 MB would dominate).
template <class Fp8>
void run_gemv_fp8(benchmark::State& state, int N, int K, int threads) {
  const std::size_t nk = static_cast<std::size_t>(N) * static_cast<std::size_t>(K);
  std::vector<float> w(nk);
  for (std::size_t i = 0; i < nk; ++i) w[i] = std::sin(0.37f * static_cast<float>(i % 100003));
  const auto W0 = pact::quant::quantize_fp8_128x128<Fp8>(w.data(), static_cast<std::size_t>(N), static_cast<std::size_t>(K),
                                                          static_cast<std::size_t>(K));
  const double bytes = static_cast<double>(nk);
  const int copies = static_cast<int>(std::ceil(512e6 / bytes)) + 1;
  std::vector<pact::quant::fp8_weights_128x128<Fp8>> W(static_cast<std::size_t>(copies));
  for (auto& c : W) {
    c.rows = W0.rows;
    c.cols = W0.cols;
    c.data.resize(W0.data.size());
    c.scales.resize(W0.scales.size());
    std::memcpy(c.data.data(), W0.data.data(), W0.data.size());
    std::memcpy(c.scales.data(), W0.scales.data(), sizeof(float) * W0.scales.size());
  }
  std::vector<float> x(static_cast<std::size_t>(K)), y(static_cast<std::size_t>(N));
  for (int k = 0; k < K; ++k) x[static_cast<std::size_t>(k)] = std::sin(0.1f * static_cast<float>(k));
  pact::thread_pool pool(threads);
  int copy = 0;
  for (auto _ : state) {
    pact::quant::gemv(W[static_cast<std::size_t>(copy)], std::span<const float>(x), std::span<float>(y), pool);
    copy = (copy + 1) % copies;
    benchmark::ClobberMemory();
  }
  const double peak = pact_bench::dram_read_gbps(threads);
  state.counters["GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(bytes * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(copies) + " W copies");
}

/// Batched Q4_0 / Q8_0 GEMM (weights repacked once), GOPS = 2 M N K / s.
template <class Block, class XBlock = pact::quant::block_q8_0>
void run_gemm_q(benchmark::State& state, int M, int N, int K, int threads) {
  const std::size_t nb = static_cast<std::size_t>(K / 32);
  std::vector<Block> W(static_cast<std::size_t>(N) * K / Block::elems);
  std::vector<XBlock> X(static_cast<std::size_t>(M) * nb);
  std::uint32_t st = 11;
  auto fill = [&st](auto& v) {
    for (auto& b : v) {
      auto* p = reinterpret_cast<std::uint8_t*>(&b);
      for (std::size_t i = 0; i < sizeof(b); ++i) p[i] = static_cast<std::uint8_t>((st = st * 1664525u + 1013904223u) >> 24);
      using B = std::remove_reference_t<decltype(b)>;
      if constexpr (std::is_same_v<B, pact::quant::block_q4_K>) {
        b.d = pact::fp16(0.001f);
        b.dmin = pact::fp16(0.002f);
      } else if constexpr (std::is_same_v<B, pact::quant::block_mxfp4>) b.e = pact::e8m0::from_bits(120);
      else if constexpr (std::is_same_v<B, pact::quant::mx_block_fp4> || std::is_same_v<B, pact::quant::mx_block_int8>)
        b.scale = pact::e8m0::from_bits(120);
      else b.d = pact::fp16(0.01f);
    }
  };
  fill(W);
  fill(X);
  const pact::quant::packed_q_weights<Block> P(std::span<const Block>(W), N, K);
  std::vector<float> y(static_cast<std::size_t>(M) * N);
  pact::thread_pool pool(threads);
  for (auto _ : state) {
    pact::quant::gemm(std::span<const XBlock>(X), M, P, pact::make_row_major(y.data(), M, N), pool);
    benchmark::ClobberMemory();
  }
  const double ops = 2.0 * M * N * K;
  const double peak = pact_bench::int8_peak_gops(threads);
  state.counters["GOPS"] = benchmark::Counter(ops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(ops * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("peak " + std::to_string(static_cast<int>(peak)) + " GOP/s");
}

/// W4A32 GEMM: f32 activations against ggml-block weights dequantized panel by panel (no
/// activation quantization). GFLOPS = 2 M N K / s, pct_peak of the measured f32 FMA peak.
template <class Block>
std::vector<Block> quantize_blocks_of(const std::vector<float>& x) {
  std::vector<Block> b(x.size() / Block::elems);
  if constexpr (pact::quant::mx_block<Block>) pact::quant::quantize_mx<Block>(std::span<const float>(x), std::span<Block>(b));
  else pact::quant::quantize<Block>(std::span<const float>(x), std::span<Block>(b));
  return b;
}

void set_flop_counters(benchmark::State& state, int M, int N, int K, int threads) {
  const double flops = 2.0 * M * N * K;
  const double peak = pact_bench::fma_peak_gflops(threads);
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(flops * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
}

template <class Block>
void run_gemm_dequant(benchmark::State& state, int M, int N, int K, int threads) {
  std::vector<float> wf(static_cast<std::size_t>(N) * K), x(static_cast<std::size_t>(M) * K);
  fill_random(wf.data(), wf.size(), 5);
  fill_random(x.data(), x.size(), 6);
  const auto W = quantize_blocks_of<Block>(wf);
  std::vector<float> y(static_cast<std::size_t>(M) * N);
  pact::thread_pool pool(threads);
  for (auto _ : state) {
    pact::quant::gemm_dequant<Block>(pact::make_row_major(static_cast<const float*>(x.data()), M, K), std::span<const Block>(W), N,
                                     pact::make_row_major(y.data(), M, N), pool);
    benchmark::ClobberMemory();
  }
  set_flop_counters(state, M, N, K, threads);
}

/// The MX GEMM: block-quantized activations (XBlock) against block weights, both widened.
template <class XBlock, class WBlock>
void run_gemm_dequant_blocks(benchmark::State& state, int M, int N, int K, int threads) {
  std::vector<float> wf(static_cast<std::size_t>(N) * K), x(static_cast<std::size_t>(M) * K);
  fill_random(wf.data(), wf.size(), 5);
  fill_random(x.data(), x.size(), 6);
  const auto W = quantize_blocks_of<WBlock>(wf);
  const auto X = quantize_blocks_of<XBlock>(x);
  std::vector<float> y(static_cast<std::size_t>(M) * N);
  pact::thread_pool pool(threads);
  for (auto _ : state) {
    pact::quant::gemm_dequant(std::span<const XBlock>(X), M, std::span<const WBlock>(W), N, pact::make_row_major(y.data(), M, N), pool);
    benchmark::ClobberMemory();
  }
  set_flop_counters(state, M, N, K, threads);
}

/// FP8 128x128-block weights against f32 activations, or (fp8_x) 1x128 FP8 activations.
template <class Fp8, bool fp8_x>
void run_gemm_fp8(benchmark::State& state, int M, int N, int K, int threads) {
  std::vector<float> wf(static_cast<std::size_t>(N) * K), x(static_cast<std::size_t>(M) * K);
  fill_random(wf.data(), wf.size(), 5);
  fill_random(x.data(), x.size(), 6);
  const auto W = pact::quant::quantize_fp8_128x128<Fp8>(wf.data(), N, K, K);
  const auto Xq = pact::quant::quantize_fp8_1x128<Fp8>(x.data(), M, K, K);
  std::vector<float> y(static_cast<std::size_t>(M) * N);
  pact::thread_pool pool(threads);
  for (auto _ : state) {
    if constexpr (fp8_x) pact::quant::gemm(Xq, W, pact::make_row_major(y.data(), M, N), pool);
    else pact::quant::gemm(pact::make_row_major(static_cast<const float*>(x.data()), M, K), W, pact::make_row_major(y.data(), M, N), pool);
    benchmark::ClobberMemory();
  }
  set_flop_counters(state, M, N, K, threads);
}

void register_all() {
  for (int threads : {1, 2})
    for (int M : {8, 32, 128, 512}) {
      // Names built with append: g++ 12 warns falsely (-Wrestrict) on "literal" + string here.
      std::string tail = "/";
      tail.append(std::to_string(M)).append("x4096x4096/threads:").append(std::to_string(threads));
      std::string q4 = "quant/pact/q4_0", q8 = "quant/pact/q8_0";
      q4.append(tail);
      q8.append(tail);
      benchmark::RegisterBenchmark(q4.c_str(),
                                   [=](benchmark::State& st) { run_gemm_q<pact::quant::block_q4_0>(st, M, 4096, 4096, threads); })
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(q8.c_str(),
                                   [=](benchmark::State& st) { run_gemm_q<pact::quant::block_q8_0>(st, M, 4096, 4096, threads); })
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      std::string qk = "quant/pact/q4_K";
      qk.append(tail);
      benchmark::RegisterBenchmark(qk.c_str(),
                                   [=](benchmark::State& st) { run_gemm_q<pact::quant::block_q4_K>(st, M, 4096, 4096, threads); })
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      std::string mx4 = "quant/pact/mxfp4", mx8 = "quant/pact/mxfp4xmxint8";
      mx4.append(tail);
      mx8.append(tail);
      benchmark::RegisterBenchmark(mx4.c_str(),
                                   [=](benchmark::State& st) { run_gemm_q<pact::quant::mx_block_fp4>(st, M, 4096, 4096, threads); })
          ->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(mx8.c_str(), [=](benchmark::State& st) {
        run_gemm_q<pact::quant::mx_block_fp4, pact::quant::mx_block_int8>(st, M, 4096, 4096, threads);
      })->UseRealTime()->Unit(benchmark::kMillisecond);
      if (M <= 128) {
        std::string d4 = "quant/pact_dequant/q4_0", dk = "quant/pact_dequant/q4_K";
        d4.append(tail);
        dk.append(tail);
        benchmark::RegisterBenchmark(d4.c_str(),
                                     [=](benchmark::State& st) { run_gemm_dequant<pact::quant::block_q4_0>(st, M, 4096, 4096, threads); })
            ->UseRealTime()->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(dk.c_str(),
                                     [=](benchmark::State& st) { run_gemm_dequant<pact::quant::block_q4_K>(st, M, 4096, 4096, threads); })
            ->UseRealTime()->Unit(benchmark::kMillisecond);
      }
      // FP8 (DeepSeek-V3 scales) and MX GEMMs, widened panel by panel into the f32 GEMM.
      auto reg_f32_path = [&](const char* format, void (*fn)(benchmark::State&, int, int, int, int)) {
        std::string name = "quant/pact_dequant/";
        name.append(format).append(tail);
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) { fn(st, M, 4096, 4096, threads); })
            ->UseRealTime()->Unit(benchmark::kMillisecond);
      };
      reg_f32_path("fp8_e4m3", run_gemm_fp8<pact::fp8_e4m3, false>);
      reg_f32_path("fp8_e4m3xfp8_e4m3", run_gemm_fp8<pact::fp8_e4m3, true>);
      reg_f32_path("mxfp4", run_gemm_dequant<pact::quant::mx_block_fp4>);
      reg_f32_path("mxfp8_e4m3xmxfp4", run_gemm_dequant_blocks<pact::quant::mx_block_fp8_e4m3, pact::quant::mx_block_fp4>);
      reg_f32_path("mxint8xmxint8", run_gemm_dequant_blocks<pact::quant::mx_block_int8, pact::quant::mx_block_int8>);
    }
  for (int threads : {1, 2})
    for (auto [N, K] : {std::pair<int, int>{4096, 4096}, {14336, 4096}}) {
      const std::string tail = "/1x" + std::to_string(N) + "x" + std::to_string(K) + "/threads:" + std::to_string(threads);
      auto reg = [&](const std::string& name, auto fn) {
        benchmark::RegisterBenchmark(("quant/" + name + tail).c_str(), [=](benchmark::State& st) { fn(st, N, K, threads); })
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      };
      reg("pact/q4_0", run_gemv_q<pact::quant::block_q4_0>);
      reg("pact/q8_0", run_gemv_q<pact::quant::block_q8_0>);
      reg("pact/q4_K", run_gemv_q<pact::quant::block_q4_K>);
      reg("pact/mxfp4", run_gemv_q<pact::quant::block_mxfp4>);
      reg("pact/fp8_e4m3", run_gemv_fp8<pact::fp8_e4m3>);
      reg("pact/fp8_e5m2", run_gemv_fp8<pact::fp8_e5m2>);
      reg("pact/int8", run_gemv_int8);
      reg("pact_f32_gemm/f32", run_gemv_f32);
    }
  std::vector<std::pair<std::string, factory>> impls;
  impls.emplace_back("pact", make_pact);
  impls.emplace_back("pact_packed", make_pact_packed);
#if defined(PACT_BENCH_HAVE_DNNL)
  impls.emplace_back("dnnl", make_dnnl);
#endif
  const shape shapes[] = {{1024, 1024, 1024}, {512, 4096, 4096}, {128, 4096, 4096}, {32, 4096, 4096},
                          {8, 4096, 4096},    {256, 256, 256},   {2048, 2048, 2048}};
  for (int threads : {1, 2})
    for (const auto& s : shapes)
      for (const auto& [name, make] : impls) {
        const std::string id = "quant/" + name + "/u8s8s32/" + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                               std::to_string(s.k) + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(id.c_str(), [s, threads, make = make](benchmark::State& st) {
          run_int8(st, s, threads, make);
        })->UseRealTime()->Unit(benchmark::kMillisecond);
      }
}

}  // namespace kernels

void register_kernel_benchmarks() { kernels::register_all(); }

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::printf("machine: DRAM read %.1f GB/s (1 thread), %.1f GB/s (2 threads)\n", pact_bench::dram_read_gbps(1),
              pact_bench::dram_read_gbps(2));
  register_format_benchmarks();
  register_kernel_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
