// Quantized kernels: pact against oneDNN (when found) in one binary, same inputs.
//   name: quant/<impl>/<format>/<M>x<N>x<K>/threads:<T>
//   int8 GEMM counters: GOPS (2*M*N*K / s) and pct_peak of the measured vpdpbusd peak
//   (support/int8_peak.hpp) for the thread count.
// Inputs are random bytes. Every impl's int32 result is compared exactly with pact's
// before timing. Shapes whose B exceeds 16 MB with few rows rotate B copies (> 512 MB)
// so weights come from DRAM.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/gemm.hpp"
#include "pact/quant/gemv_q.hpp"
#include "pact/quant/int8_gemm.hpp"
#include "support/int8_peak.hpp"
#include "support/machine_peak.hpp"
#include "support/peers.hpp"
#if defined(PACT_BENCH_HAVE_DNNL)
#include <dnnl.h>
#endif

namespace {

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
  const std::size_t nblk = static_cast<std::size_t>(N) * (K / 32);
  const double bytes = static_cast<double>(nblk * sizeof(Block));
  const int copies = static_cast<int>(std::ceil(512e6 / bytes)) + 1;
  std::vector<std::vector<Block>> W(static_cast<std::size_t>(copies), std::vector<Block>(nblk));
  std::uint32_t st = 7;
  for (auto& w : W)
    for (auto& b : w) {
      auto* p = reinterpret_cast<std::uint8_t*>(&b);
      for (std::size_t i = 0; i < sizeof(Block); ++i) p[i] = static_cast<std::uint8_t>((st = st * 1664525u + 1013904223u) >> 24);
      b.d = pact::fp16(0.01f);
    }
  std::vector<float> x(static_cast<std::size_t>(K)), y(static_cast<std::size_t>(N));
  for (int k = 0; k < K; ++k) x[static_cast<std::size_t>(k)] = std::sin(0.1f * static_cast<float>(k));
  std::vector<pact::quant::block_q8_0> xq(static_cast<std::size_t>(K / 32));
  pact::quant::quantize<pact::quant::block_q8_0>(std::span<const float>(x), std::span<pact::quant::block_q8_0>(xq));
  pact::thread_pool pool(threads);
  int copy = 0;
  for (auto _ : state) {
    pact::quant::gemv<Block>(std::span<const Block>(W[static_cast<std::size_t>(copy)]), N, K,
                             std::span<const pact::quant::block_q8_0>(xq), std::span<float>(y), pool);
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

void register_all() {
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

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
