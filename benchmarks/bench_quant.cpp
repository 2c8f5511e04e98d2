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
// Quantized GEMV / GEMM benchmarks go here (register_kernel_benchmarks() below, called
// from main).

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::printf("machine: DRAM read %.1f GB/s (1 thread), %.1f GB/s (2 threads)\n", pact_bench::dram_read_gbps(1),
              pact_bench::dram_read_gbps(2));
  register_format_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
