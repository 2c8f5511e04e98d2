// GEMM: pact against every peer found at configure time, in one binary, same inputs.
//   name: gemm/<impl>/<dtype>/<M>x<N>x<K>/threads:<T>    counters: GFLOPS, pct_peak
// Inputs are random (not zero). Shapes whose B exceeds the last-level cache rotate two
// copies of B so weights are cold, as in LLM decode. Every impl's result is checked
// against pact's once before timing (a wrong peer result would make the ratio meaningless).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "pact/gemm.hpp"
#include "support/machine_peak.hpp"
#include "support/peers.hpp"

namespace {

struct shape {
  int m, n, k;
};

struct problem {
  int m, n, k, copies;
  std::vector<float> a;
  std::vector<std::vector<float>> b;  // rotated copies when B is larger than the LLC
  std::vector<float> c;
  problem(shape s) : m(s.m), n(s.n), k(s.k) {
    // Bandwidth-bound shapes (few rows against weights bigger than 16 MB, the LLM case)
    // rotate B through >= 512 MB so each call reads the weights from DRAM (the VM's
    // last-level cache size is not reliably reported). Compute-bound shapes keep one B.
    const double b_bytes = 4.0 * s.n * s.k;
    copies = (s.m <= 128 && b_bytes > 16e6) ? static_cast<int>(std::ceil(512e6 / b_bytes)) : 1;
    std::uint32_t state = 12345;
    auto next = [&state] {  // cheap LCG: filling 512 MB with mt19937 takes seconds
      state = state * 1664525u + 1013904223u;
      return static_cast<float>(static_cast<std::int32_t>(state >> 8) - (1 << 23)) * (1.0f / (1 << 23));
    };
    a.resize(static_cast<std::size_t>(m) * k);
    for (auto& x : a) x = next();
    b.resize(static_cast<std::size_t>(copies));
    for (auto& bb : b) {
      bb.resize(static_cast<std::size_t>(k) * n);
      for (auto& x : bb) x = next();
    }
    c.assign(static_cast<std::size_t>(m) * n, 0.0f);
  }
};

using runner = std::function<void(int copy)>;
using factory = std::function<runner(problem&, int threads)>;

bool agrees(shape s, int threads, const factory& make);

void run_bench(benchmark::State& state, shape s, int threads, const factory& make) {
  if (!agrees(s, threads, make)) {
    state.SkipWithError("result disagrees with pact's; not timed");
    return;
  }
  problem p(s);
  pact_bench::set_peer_threads(threads);
  runner run = make(p, threads);
  int copy = 0;
  run(0);  // warm-up (and packing caches)
  for (auto _ : state) {
    run(copy);
    copy = (copy + 1) % p.copies;
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * p.m * p.n * p.k;
  const double peak = pact_bench::fma_peak_gflops(threads);
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["pct_peak"] = benchmark::Counter(flops * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(p.copies) + " B copies");
}

// ---- implementations ------------------------------------------------------------------

runner make_pact(problem& p, int threads) {
  auto pool = std::make_shared<pact::thread_pool>(threads);
  return [&p, pool](int copy) {
    pact::gemm(1.0f, pact::make_row_major<const float>(p.a.data(), p.m, p.k),
               pact::make_row_major<const float>(p.b[static_cast<std::size_t>(copy)].data(), p.k, p.n), 0.0f,
               pact::make_row_major(p.c.data(), p.m, p.n), pact::epilogue::none{}, *pool);
  };
}

runner make_pact_packed(problem& p, int threads) {
  auto pool = std::make_shared<pact::thread_pool>(threads);
  auto packed = std::make_shared<std::vector<pact::packed_b<float>>>();
  for (auto& b : p.b) packed->emplace_back(pact::make_row_major<const float>(b.data(), p.k, p.n));
  return [&p, pool, packed](int copy) {
    pact::gemm(1.0f, pact::make_row_major<const float>(p.a.data(), p.m, p.k), (*packed)[static_cast<std::size_t>(copy)],
               0.0f, pact::make_row_major(p.c.data(), p.m, p.n), pact::epilogue::none{}, *pool);
  };
}

template <int S>
runner make_pact_fixed(problem& p, int) {
  return [&p](int copy) {
    pact::gemm_fixed<S, S, S>(1.0f, p.a.data(), S, p.b[static_cast<std::size_t>(copy)].data(), S, 0.0f, p.c.data(), S);
  };
}

#if defined(PACT_BENCH_HAVE_OPENBLAS)
runner make_openblas(problem& p, int) {
  return [&p](int copy) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p.m, p.n, p.k, 1.0f, p.a.data(), p.k,
                p.b[static_cast<std::size_t>(copy)].data(), p.n, 0.0f, p.c.data(), p.n);
  };
}
#endif
#if defined(PACT_BENCH_HAVE_BLIS)
runner make_blis(problem& p, int) {
  return [&p](int copy) {
    float one = 1.0f, zero = 0.0f;
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, p.m, p.n, p.k, &one, p.a.data(), p.k, 1,
              p.b[static_cast<std::size_t>(copy)].data(), p.n, 1, &zero, p.c.data(), p.n, 1);
  };
}
#endif
#if defined(PACT_BENCH_HAVE_DNNL)
runner make_dnnl_sgemm(problem& p, int) {
  return [&p](int copy) {
    dnnl_sgemm('N', 'N', p.m, p.n, p.k, 1.0f, p.a.data(), p.k, p.b[static_cast<std::size_t>(copy)].data(), p.n, 0.0f,
               p.c.data(), p.n);
  };
}
/// oneDNN's matmul primitive with the weights reordered once into its preferred layout.
runner make_dnnl_packed(problem& p, int) {
  using namespace dnnl;
  auto eng = std::make_shared<engine>(engine::kind::cpu, 0);
  auto strm = std::make_shared<stream>(*eng);
  const memory::dims a_dims{p.m, p.k}, b_dims{p.k, p.n}, c_dims{p.m, p.n};
  const memory::desc a_md(a_dims, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc b_any(b_dims, memory::data_type::f32, memory::format_tag::any);
  const memory::desc b_plain(b_dims, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc c_md(c_dims, memory::data_type::f32, memory::format_tag::ab);
  auto pd = matmul::primitive_desc(matmul::desc(a_md, b_any, c_md), *eng);
  auto prim = std::make_shared<matmul>(pd);
  auto packed = std::make_shared<std::vector<memory>>();
  for (auto& b : p.b) {
    memory src(b_plain, *eng, b.data());
    memory dst(pd.weights_desc(), *eng);
    reorder(src, dst).execute(*strm, src, dst);
    packed->push_back(dst);
  }
  strm->wait();
  auto a_mem = std::make_shared<memory>(a_md, *eng, p.a.data());
  auto c_mem = std::make_shared<memory>(c_md, *eng, p.c.data());
  return [=](int copy) {
    prim->execute(*strm, {{DNNL_ARG_SRC, *a_mem}, {DNNL_ARG_WEIGHTS, (*packed)[static_cast<std::size_t>(copy)]}, {DNNL_ARG_DST, *c_mem}});
    strm->wait();
  };
}
#endif
#if defined(PACT_BENCH_HAVE_EIGEN)
runner make_eigen(problem& p, int) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return [&p](int copy) {
    Eigen::Map<const Mat> a(p.a.data(), p.m, p.k), b(p.b[static_cast<std::size_t>(copy)].data(), p.k, p.n);
    Eigen::Map<Mat> c(p.c.data(), p.m, p.n);
    c.noalias() = a * b;
  };
}
#endif

/// Checks an implementation against pact's result on the same inputs.
bool agrees(shape s, int threads, const factory& make) {
  if (static_cast<double>(s.m) * s.n * s.k > 3e9) return true;  // skip the check for the biggest shapes
  problem p(s), q(s);
  pact_bench::set_peer_threads(threads);
  make(p, threads)(0);
  make_pact(q, threads)(0);
  double err = 0, mag = 0;
  for (std::size_t i = 0; i < p.c.size(); ++i) {
    err = std::max(err, static_cast<double>(std::fabs(p.c[i] - q.c[i])));
    mag = std::max(mag, static_cast<double>(std::fabs(q.c[i])));
  }
  return err <= 1e-4 * (1 + mag) * std::sqrt(static_cast<double>(s.k));
}

void register_all() {
  const std::vector<shape> squares{{16, 16, 16}, {32, 32, 32}, {64, 64, 64}, {128, 128, 128}, {256, 256, 256},
                                   {512, 512, 512}, {1024, 1024, 1024}, {2048, 2048, 2048}};
  const std::vector<shape> llm{{1, 4096, 4096}, {8, 4096, 4096}, {32, 4096, 4096}, {128, 4096, 4096},
                               {512, 4096, 11008}, {4096, 4096, 128}};
  std::vector<std::pair<std::string, factory>> impls{{"pact", make_pact}, {"pact_packed", make_pact_packed}};
#if defined(PACT_BENCH_HAVE_OPENBLAS)
  impls.emplace_back("openblas", make_openblas);
#endif
#if defined(PACT_BENCH_HAVE_BLIS)
  impls.emplace_back("blis", make_blis);
#endif
#if defined(PACT_BENCH_HAVE_DNNL)
  impls.emplace_back("onednn", make_dnnl_sgemm);
  impls.emplace_back("onednn_packed", make_dnnl_packed);
#endif
#if defined(PACT_BENCH_HAVE_EIGEN)
  impls.emplace_back("eigen", make_eigen);
#endif
  auto add = [](const std::string& impl, shape s, int threads, factory f) {
    const std::string name = "gemm/" + impl + "/f32/" + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
                             std::to_string(s.k) + "/threads:" + std::to_string(threads);
    benchmark::RegisterBenchmark(name.c_str(), [s, threads, f](benchmark::State& st) { run_bench(st, s, threads, f); })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  };
  std::vector<shape> shapes = squares;
  shapes.insert(shapes.end(), llm.begin(), llm.end());
  for (int threads : {1, 2})
    for (const auto& s : shapes) {
      for (const auto& [name, f] : impls) add(name, s, threads, f);
      if (threads == 1 && s.m == s.n && s.n == s.k) {
        if (s.m == 16) add("pact_fixed", s, 1, make_pact_fixed<16>);
        if (s.m == 32) add("pact_fixed", s, 1, make_pact_fixed<32>);
        if (s.m == 64) add("pact_fixed", s, 1, make_pact_fixed<64>);
      }
    }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::printf("machine: f32 FMA peak %.1f GFLOP/s (1 thread), %.1f (2 threads); DRAM read %.1f GB/s (1 thread)\n",
              pact_bench::fma_peak_gflops(1), pact_bench::fma_peak_gflops(2), pact_bench::dram_read_gbps(1));
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
