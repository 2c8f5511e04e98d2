// MoE layer: pact's whole layer (router GEMM -> route -> dispatch -> experts -> combine)
// and a dense reference, on two layer shapes.
//   name: moe/<impl>/<case>/threads:<T>
//     impl  pact         moe_forward: f32 experts pre-packed (packed_expert_weights), int8
//                        experts (int8_expert_weights, W8A8) or Q4_0 experts
//                        (ggml_expert_weights: GEMV on the raw blocks for <= 4 rows, repacked
//                        Q4_0 x Q8_0 GEMM above)
//           pact_views   moe_forward, experts read from the caller's matrices
//                        (f32: GEMV for decode; bf16: converted while packing)
//           dense        pact::gemm on the same per-expert shapes (rows per expert taken from
//                        pact's routing of the same tokens), pre-packed f32, one GEMM per
//                        projection with all threads: the bar for the grouped expert GEMM
//     case  <layer>_<dtype>_t<tokens>, layer = ds (64 experts, top-8, hidden 2048, FFN 1408,
//           DeepSeek-V3 sigmoid routing with 8 groups / 4 kept) or mixtral (8 experts, top-2,
//           hidden 4096, FFN 14336, softmax -> top-2, renormalized)
//   counters  route_ms dispatch_ms experts_ms combine_ms (per call), overhead_pct
//             (route + dispatch + combine over the layer), GFLOPS (routed expert work over
//             the whole call), expert_GFLOPS (the same work over the experts stage only),
//             and for decode (tokens <= 4) GBps of the selected experts' weight bytes read
//             and pct_peak of the DRAM read bandwidth measured at start.
// Weights: random, scaled 1/sqrt(fan-in). The selected experts' weights at decode exceed
// the last-level cache (ds f32: 8 x 34.6 MB; mixtral f32: 2 x 705 MB), so they are read
// cold without rotation. Only one weight set is alive at a time (mixtral f32 is 5.6 GB).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pact/moe.hpp"
#include "pact/moe/quantized_expert_weights.hpp"
#include "pact/types/bf16.hpp"
#include "support/machine_peak.hpp"

namespace {

using pact::index_t;

struct layer_shape {
  const char* name;
  index_t experts, k, hidden, ffn;
};
constexpr layer_shape ds{"ds", 64, 8, 2048, 1408};
constexpr layer_shape mixtral{"mixtral", 8, 2, 4096, 14336};

/// Cheap LCG in [-scale, scale): filling gigabytes with mt19937 takes too long.
struct lcg {
  std::uint32_t state;
  float next(float scale) {
    state = state * 1664525u + 1013904223u;
    return static_cast<float>(static_cast<std::int32_t>(state >> 8) - (1 << 23)) * (scale / (1 << 23));
  }
};

/// The one weight set alive (rebuilt when a benchmark needs another).
struct weight_set {
  std::string key;
  std::vector<float> f32;              // views: gate | up | down stacked, torch layout
  std::vector<pact::bf16> b16;
  std::unique_ptr<pact::packed_expert_weights<>> packed;
  std::unique_ptr<pact::expert_weight_views<float, pact::col_major>> views32;
  std::unique_ptr<pact::expert_weight_views<pact::bf16, pact::col_major>> views16;
  std::unique_ptr<pact::int8_expert_weights> int8;
  std::vector<pact::quant::block_q4_0> q4;  // raw blocks (the ggml weights keep spans into them)
  std::unique_ptr<pact::ggml_expert_weights<pact::quant::block_q4_0>> q4w;
  std::vector<float> gate_w;           // router: hidden x experts
};
weight_set& current() {
  static weight_set w;
  return w;
}

/// kind: "packed" (f32 packed), "f32" (f32 views), "bf16" (bf16 views), "int8" (W8A8),
/// "q4_0" (ggml Q4_0 blocks, repacked for prefill).
weight_set& weights_for(const layer_shape& L, const std::string& kind) {
  weight_set& w = current();
  const std::string key = std::string(L.name) + "/" + kind;
  if (w.key == key) return w;
  w = weight_set{};
  w.key = key;
  const index_t E = L.experts, H = L.hidden, F = L.ffn, per = H * F;
  lcg g{static_cast<std::uint32_t>(E * 7 + H)};
  const float s_in = 1.0f / std::sqrt(static_cast<float>(H)), s_ffn = 1.0f / std::sqrt(static_cast<float>(F));
  w.gate_w.resize(static_cast<std::size_t>(H * E));
  for (auto& v : w.gate_w) v = g.next(s_in);
  if (kind == "packed") {
    // One expert at a time: no second full copy of the weights.
    std::vector<float> gate(static_cast<std::size_t>(per)), up(gate.size()), down(gate.size());
    w.packed = std::make_unique<pact::packed_expert_weights<>>();
    for (index_t e = 0; e < E; ++e) {
      for (auto& v : gate) v = g.next(s_in);
      for (auto& v : up) v = g.next(s_in);
      for (auto& v : down) v = g.next(s_ffn);
      w.packed->add_expert(pact::make_col_major<const float>(gate.data(), H, F), pact::make_col_major<const float>(up.data(), H, F),
                           pact::make_col_major<const float>(down.data(), F, H));
    }
  } else if (kind == "int8" || kind == "q4_0") {
    std::vector<float> gate(static_cast<std::size_t>(per)), up(gate.size()), down(gate.size());
    if (kind == "int8") w.int8 = std::make_unique<pact::int8_expert_weights>();
    else w.q4.resize(static_cast<std::size_t>(3 * E * per / 32));
    for (index_t e = 0; e < E; ++e) {
      for (auto& v : gate) v = g.next(s_in);
      for (auto& v : up) v = g.next(s_in);
      for (auto& v : down) v = g.next(s_ffn);
      if (kind == "int8") {
        w.int8->add_expert(pact::make_col_major<const float>(gate.data(), H, F), pact::make_col_major<const float>(up.data(), H, F),
                           pact::make_col_major<const float>(down.data(), F, H));
      } else {
        auto* b = w.q4.data() + 3 * e * per / 32;
        const auto n = static_cast<std::size_t>(per / 32);
        pact::quant::quantize<pact::quant::block_q4_0>(gate, std::span<pact::quant::block_q4_0>(b, n));
        pact::quant::quantize<pact::quant::block_q4_0>(up, std::span<pact::quant::block_q4_0>(b + n, n));
        pact::quant::quantize<pact::quant::block_q4_0>(down, std::span<pact::quant::block_q4_0>(b + 2 * n, n));
      }
    }
    if (kind == "q4_0") {
      w.q4w = std::make_unique<pact::ggml_expert_weights<pact::quant::block_q4_0>>(H, F);
      const auto n = static_cast<std::size_t>(per / 32);
      for (index_t e = 0; e < E; ++e) {
        const auto* b = w.q4.data() + 3 * e * per / 32;
        w.q4w->add_expert({b, n}, {b + n, n}, {b + 2 * n, n});
      }
    }
  } else if (kind == "f32") {
    w.f32.resize(static_cast<std::size_t>(3 * E * per));
    for (std::size_t i = 0; i < w.f32.size(); ++i) w.f32[i] = g.next(i < static_cast<std::size_t>(2 * E * per) ? s_in : s_ffn);
    const float* p = w.f32.data();
    w.views32 = std::make_unique<pact::expert_weight_views<float, pact::col_major>>(
        pact::stacked_expert_views<float>(p, p + E * per, p + 2 * E * per, E, H, F));
  } else {
    w.b16.resize(static_cast<std::size_t>(3 * E * per));
    for (std::size_t i = 0; i < w.b16.size(); ++i) w.b16[i] = pact::bf16(g.next(i < static_cast<std::size_t>(2 * E * per) ? s_in : s_ffn));
    const pact::bf16* p = w.b16.data();
    w.views16 = std::make_unique<pact::expert_weight_views<pact::bf16, pact::col_major>>(
        pact::stacked_expert_views<pact::bf16>(p, p + E * per, p + 2 * E * per, E, H, F));
  }
  return w;
}

std::vector<float> tokens_x(index_t T, index_t H) {
  std::vector<float> x(static_cast<std::size_t>(T * H));
  lcg g{777u + static_cast<std::uint32_t>(T)};
  for (auto& v : x) v = g.next(1.0f);
  return x;
}

/// The routing policy of each layer shape.
template <class F>
void with_policy(const layer_shape& L, F&& f) {
  if (L.experts == 64) f(pact::sigmoid_grouped_topk{L.k, 8, 4, 2.5f});
  else f(pact::softmax_topk{L.k, true});
}

void set_counters(benchmark::State& state, const pact::moe_stage_times& sum, double flops, double weight_bytes, int threads,
                  index_t tokens) {
  const double n = static_cast<double>(state.iterations());
  state.counters["route_ms"] = sum.route / n * 1e3;
  state.counters["dispatch_ms"] = sum.dispatch / n * 1e3;
  state.counters["experts_ms"] = sum.experts / n * 1e3;
  state.counters["combine_ms"] = sum.combine / n * 1e3;
  state.counters["overhead_pct"] = 100.0 * (sum.route + sum.dispatch + sum.combine) / sum.total();
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["expert_GFLOPS"] = flops * 1e-9 * n / sum.experts;
  if (tokens <= 4) {
    state.counters["GBps"] = benchmark::Counter(weight_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["pct_peak"] =
        benchmark::Counter(weight_bytes * 1e-9 * 100.0 / pact_bench::dram_read_gbps(threads), benchmark::Counter::kIsIterationInvariantRate);
  }
}

template <class W>
void run_layer(benchmark::State& state, const layer_shape& L, const W& experts, const std::vector<float>& gate_w, index_t T,
               int threads) {
  pact::thread_pool pool(threads);
  const auto x = tokens_x(T, L.hidden);
  std::vector<float> out(x.size());
  pact::moe_workspace ws;
  const auto gv = pact::make_row_major<const float>(gate_w.data(), L.hidden, L.experts);
  const auto xv = pact::make_row_major<const float>(x.data(), T, L.hidden);
  const auto ov = pact::make_row_major(out.data(), T, L.hidden);
  with_policy(L, [&](const auto& policy) {
    pact::moe_forward(policy, gv, experts, xv, ov, ws, {}, pool);  // warm-up: buffers, thread-local scratch
    pact::moe_stage_times sum;
    for (auto _ : state) {
      pact::moe_forward(policy, gv, experts, xv, ov, ws, {}, pool);
      sum.route += ws.times.route;
      sum.dispatch += ws.times.dispatch;
      sum.experts += ws.times.experts;
      sum.combine += ws.times.combine;
      benchmark::DoNotOptimize(out.data());
    }
    index_t used = 0;
    for (index_t e = 0; e < L.experts; ++e) used += ws.plan.rows_of(e) > 0;
    const double flops = 2.0 * 3.0 * static_cast<double>(L.hidden * L.ffn) * static_cast<double>(ws.plan.rows());
    set_counters(state, sum, flops, static_cast<double>(used) * static_cast<double>(experts.expert_bytes()), threads, T);
  });
}

/// Dense reference: the same per-expert GEMM shapes, one pact::gemm per projection.
void run_dense(benchmark::State& state, const layer_shape& L, index_t T, int threads) {
  weight_set& w = weights_for(L, "packed");
  pact::thread_pool pool(threads);
  const auto x = tokens_x(T, L.hidden);
  std::vector<float> out(x.size());
  pact::moe_workspace ws;
  with_policy(L, [&](const auto& policy) {
    pact::moe_forward(policy, pact::make_row_major<const float>(w.gate_w.data(), L.hidden, L.experts), *w.packed,
                      pact::make_row_major<const float>(x.data(), T, L.hidden), pact::make_row_major(out.data(), T, L.hidden), ws);
  });
  const auto& plan = ws.plan;
  const index_t rows = plan.rows(), H = L.hidden, F = L.ffn;
  std::vector<float> a(static_cast<std::size_t>(rows * H), 0.5f), g(static_cast<std::size_t>(rows * F)), u(g.size()),
      y(static_cast<std::size_t>(rows * H));
  auto once = [&] {
    for (index_t e = 0; e < L.experts; ++e) {
      const index_t r0 = plan.offsets[static_cast<std::size_t>(e)], n = plan.rows_of(e);
      if (n == 0) continue;
      const auto av = pact::make_row_major<const float>(a.data() + r0 * H, n, H);
      w.packed->multiply(pact::expert_proj::gate, e, av, pact::make_row_major(g.data() + r0 * F, n, F), pact::epilogue::none{}, pool);
      w.packed->multiply(pact::expert_proj::up, e, av, pact::make_row_major(u.data() + r0 * F, n, F), pact::epilogue::none{}, pool);
      w.packed->multiply(pact::expert_proj::down, e, pact::make_row_major<const float>(u.data() + r0 * F, n, F),
                         pact::make_row_major(y.data() + r0 * H, n, H), pact::epilogue::none{}, pool);
    }
  };
  once();
  for (auto _ : state) {
    once();
    benchmark::DoNotOptimize(y.data());
  }
  const double flops = 2.0 * 3.0 * static_cast<double>(H * F) * static_cast<double>(rows);
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void bench(benchmark::State& state, const layer_shape& L, std::string impl, std::string dtype, index_t T, int threads) {
  if (impl == "dense") return run_dense(state, L, T, threads);
  if (impl == "pact" && dtype == "f32") {
    weight_set& w = weights_for(L, "packed");
    return run_layer(state, L, *w.packed, w.gate_w, T, threads);
  }
  weight_set& w = weights_for(L, dtype);
  if (dtype == "int8") return run_layer(state, L, *w.int8, w.gate_w, T, threads);
  if (dtype == "q4_0") return run_layer(state, L, *w.q4w, w.gate_w, T, threads);
  if (dtype == "f32") run_layer(state, L, *w.views32, w.gate_w, T, threads);
  else run_layer(state, L, *w.views16, w.gate_w, T, threads);
}

/// Iterations so a case runs ~1-2 s (4096 tokens: a single call is already seconds).
int iterations_for(const layer_shape& L, index_t T) {
  const double flops = 2.0 * 3.0 * static_cast<double>(L.hidden * L.ffn) * static_cast<double>(T * L.k);
  const double bytes = 4.0 * 3.0 * static_cast<double>(L.hidden * L.ffn) * static_cast<double>(std::min(L.experts, T * L.k));
  const double secs = std::max(flops / 120e9, bytes / 8e9);
  return static_cast<int>(std::clamp(1.5 / secs, 1.0, 200.0));
}

void register_all() {
  struct item {
    const layer_shape* L;
    const char* impl;
    const char* dtype;
  };
  // Grouped by weight set so each set is built once.
  const item items[] = {{&ds, "pact", "f32"},        {&ds, "dense", "f32"},        {&ds, "pact_views", "f32"},
                        {&ds, "pact_views", "bf16"}, {&ds, "pact", "int8"},       {&ds, "pact", "q4_0"},
                        {&mixtral, "pact", "f32"},    {&mixtral, "dense", "f32"},   {&mixtral, "pact_views", "bf16"},
                        {&mixtral, "pact", "int8"},   {&mixtral, "pact", "q4_0"}};
  for (const item& it : items)
    for (index_t T : {1, 32, 512, 4096}) {
      if (it.L == &mixtral && T == 4096) continue;  // ~6 TFLOP per call: too slow for this 2-core VM
      for (int threads : {1, 2}) {
        const std::string name = std::string("moe/") + it.impl + "/" + it.L->name + "_" + it.dtype + "_t" + std::to_string(T) +
                                 "/threads:" + std::to_string(threads);
        const layer_shape* L = it.L;
        const std::string impl = it.impl, dtype = it.dtype;
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { bench(s, *L, impl, dtype, T, threads); })
            ->Iterations(iterations_for(*L, T))
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
    }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  std::printf("machine: FMA peak %.1f / %.1f GFLOP/s (1 / 2 threads), DRAM read %.1f / %.1f GB/s\n", pact_bench::fma_peak_gflops(1),
              pact_bench::fma_peak_gflops(2), pact_bench::dram_read_gbps(1), pact_bench::dram_read_gbps(2));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
