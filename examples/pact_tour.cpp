// pact's tour: what this machine is, what pact compiled for, whether the SIMD layer is
// sound here, the machine's measured ceilings, and GEMM against a naive loop and every
// peer library found at build time. The README's first command runs it.
//   pact_tour [--quick | --thorough]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "pact/pact.hpp"
#include "support/machine_peak.hpp"
#include "support/peers.hpp"

namespace simd = pact::simd;

namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

/// The SIMD layer's self-check: each op on the native arch against plain scalar code.
int simd_self_check() {
  using A = simd::native_arch;
  constexpr std::size_t L = simd::lanes<float, A>;
  int failures = 0;
  auto check = [&](const char* what, bool ok) {
    std::printf("  %-34s %s\n", what, ok ? "ok" : "FAILED");
    failures += ok ? 0 : 1;
  };
  float x[L], y[L], out[L];
  for (std::size_t i = 0; i < L; ++i) x[i] = 0.25f * static_cast<float>(i) - 1.0f, y[i] = 1.5f - 0.1f * static_cast<float>(i);
  simd::store(out, simd::fma(simd::load<A>(x), simd::load<A>(y), simd::load<A>(x)));
  bool ok = true;
  for (std::size_t i = 0; i < L; ++i) ok &= std::fabs(out[i] - (x[i] * y[i] + x[i])) < 1e-6f;
  check("fma", ok);
  float mx = x[0], sum = 0;
  for (float v : x) mx = std::max(mx, v), sum += v;
  check("reduce_max / reduce_add", simd::reduce_max(simd::load<A>(x)) == mx && std::fabs(simd::reduce_add(simd::load<A>(x)) - sum) < 1e-5f);
  float worst = 0;
  for (float v = -80; v < 80; v += 0.01f) {
    float in[L];
    std::fill(in, in + L, v);
    simd::store(out, simd::exp(simd::load<A>(in)));
    worst = std::max(worst, static_cast<float>(std::fabs(out[0] / std::exp(static_cast<double>(v)) - 1)));
  }
  check("exp (rel. error < 3e-7)", worst < 3e-7f);
  alignas(64) std::int32_t acc[simd::lanes<std::int32_t, A>] = {};
  alignas(64) std::uint8_t ua[simd::lanes<std::uint8_t, A>];
  alignas(64) std::int8_t sb[simd::lanes<std::int8_t, A>];
  std::fill(std::begin(ua), std::end(ua), std::uint8_t{255});
  std::fill(std::begin(sb), std::end(sb), std::int8_t{-128});
  simd::store(acc, simd::dot_u8s8(simd::load<A>(acc), simd::load<A>(ua), simd::load<A>(sb)));
  check("int8 dot u8*s8 -> s32 (exact)", acc[0] == 4 * 255 * -128);
  std::uint16_t h[L];
  simd::store_bf16(h, simd::load<A>(x));
  simd::store(out, simd::load_bf16<A>(h));
  ok = true;
  for (std::size_t i = 0; i < L; ++i) ok &= out[i] == pact::bf16_bits_to_float(pact::float_to_bf16_bits(x[i]));
  check("bf16 <-> f32", ok);
  float part[3] = {1, 2, 3};
  simd::store(out, simd::load_partial<A>(part, 3));
  check("partial load", out[0] == 1 && out[2] == 3 && (L < 4 || out[3] == 0));
  return failures;
}

double seconds_of(const std::function<void()>& f, int reps) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct row {
  std::string impl;
  double gflops;
};

void gemm_table(int n, int threads, int reps, double peak, std::vector<std::string>& json) {
  std::vector<float> a(static_cast<std::size_t>(n) * n), b(a.size()), c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.001f * static_cast<float>(i)), b[i] = std::cos(0.002f * static_cast<float>(i));
  const double flops = 2.0 * n * n * n;
  std::vector<row> rows;
  pact::thread_pool pool(threads);
  pact_bench::set_peer_threads(threads);
  auto add = [&](const std::string& name, const std::function<void()>& f, int r) { rows.push_back({name, flops / seconds_of(f, r) / 1e9}); };
  if (threads == 1 && n <= 512) {
    add("naive i-k-j loop", [&] {
      std::fill(c.begin(), c.end(), 0.0f);
      for (int i = 0; i < n; ++i)
        for (int k = 0; k < n; ++k)
          for (int j = 0; j < n; ++j) c[static_cast<std::size_t>(i * n + j)] += a[static_cast<std::size_t>(i * n + k)] * b[static_cast<std::size_t>(k * n + j)];
    }, 1);
  }
  add("pact", [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(a.data(), n, n), pact::make_row_major<const float>(b.data(), n, n), 0.0f,
               pact::make_row_major(c.data(), n, n), pact::epilogue::none{}, pool);
  }, reps);
#if defined(PACT_BENCH_HAVE_OPENBLAS)
  add("OpenBLAS", [&] { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n); }, reps);
#endif
#if defined(PACT_BENCH_HAVE_BLIS)
  add("BLIS", [&] {
    float one = 1, zero = 0;
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, n, n, n, &one, a.data(), n, 1, b.data(), n, 1, &zero, c.data(), n, 1);
  }, reps);
#endif
#if defined(PACT_BENCH_HAVE_DNNL)
  add("oneDNN", [&] { dnnl_sgemm('N', 'N', n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n); }, reps);
#endif
#if defined(PACT_BENCH_HAVE_EIGEN)
  add("Eigen", [&] {
    using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<Mat>(c.data(), n, n).noalias() = Eigen::Map<const Mat>(a.data(), n, n) * Eigen::Map<const Mat>(b.data(), n, n);
  }, reps);
#endif
  double best_peer = 0, naive = 0, pact_rate = 0;
  for (const auto& r : rows) {
    if (r.impl == "pact") pact_rate = r.gflops;
    else if (r.impl.rfind("naive", 0) == 0) naive = r.gflops;
    else best_peer = std::max(best_peer, r.gflops);
  }
  std::printf("\n  SGEMM %dx%dx%d, %d thread%s                 GFLOP/s   %% peak   vs naive   vs best peer\n", n, n, n,
              threads, threads > 1 ? "s" : " ");
  for (const auto& r : rows) {
    std::printf("    %-34s %8.1f   %5.1f%%", r.impl.c_str(), r.gflops, 100 * r.gflops / peak);
    if (naive > 0) std::printf("   %7.1fx", r.gflops / naive);
    else std::printf("          ");
    if (best_peer > 0 && r.impl == "pact") std::printf("   %6.2fx", r.gflops / best_peer);
    std::printf("\n");
    json.push_back("{\"kernel\":\"sgemm\",\"shape\":\"" + std::to_string(n) + "^3\",\"threads\":" + std::to_string(threads) +
                   ",\"impl\":\"" + r.impl + "\",\"gflops\":" + std::to_string(r.gflops) + "}");
  }
  (void)pact_rate;
}

}  // namespace

int main(int argc, char** argv) {
  bool thorough = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--thorough") == 0) thorough = true;
    else if (std::strcmp(argv[i], "--quick") == 0) thorough = false;
    else {
      std::printf("usage: %s [--quick | --thorough]\n", argv[0]);
      return 2;
    }
  }
  std::printf("pact %s tour\n", PACT_VERSION_STRING);
  std::printf("  CPU:            %s\n", cpu_model().c_str());
  std::printf("  compiled for:   %s (%zu-bit vectors)\n\n", simd::native_arch::name, simd::native_arch::bytes * 8);
  std::printf("[1/3] SIMD layer self-check on %s\n", simd::native_arch::name);
  const int failures = simd_self_check();
  std::printf("\n[2/3] measuring the machine's ceilings...\n");
  std::fflush(stdout);
  const double peak1 = pact_bench::fma_peak_gflops(1), peak2 = pact_bench::fma_peak_gflops(2);
  const double bw1 = pact_bench::dram_read_gbps(1), bw2 = pact_bench::dram_read_gbps(2);
  std::printf("  f32 FMA peak:   %.1f GFLOP/s (1 thread), %.1f GFLOP/s (2 threads)\n", peak1, peak2);
  std::printf("  DRAM read:      %.1f GB/s (1 thread), %.1f GB/s (2 threads)\n", bw1, bw2);
  std::printf("\n[3/3] GEMM against a naive loop and the peers found at build time\n");
  std::fflush(stdout);
  std::vector<std::string> json;
  gemm_table(256, 1, thorough ? 9 : 3, peak1, json);
  gemm_table(1024, 1, thorough ? 7 : 3, peak1, json);
  gemm_table(1024, 2, thorough ? 7 : 3, peak2, json);
  if (thorough) gemm_table(2048, 2, 5, peak2, json);
  std::ofstream out("pact_tour.json");
  out << "{\"cpu\":\"" << cpu_model() << "\",\"arch\":\"" << simd::native_arch::name << "\",\"fma_peak_gflops\":[" << peak1
      << "," << peak2 << "],\"dram_read_gbps\":[" << bw1 << "," << bw2 << "],\"results\":[";
  for (std::size_t i = 0; i < json.size(); ++i) out << (i ? "," : "") << json[i];
  out << "]}\n";
  std::printf("\nresults written to pact_tour.json\n");
  return failures == 0 ? 0 : 1;
}
