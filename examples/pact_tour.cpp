// pact's tour: what this machine is, what pact compiled for, whether the SIMD layer is
// sound here, the machine's measured ceilings, and each kernel family (GEMM, quantized
// GEMV/GEMM, attention, MoE) against a naive loop and every peer library found at build time. The README's first command runs it.
//   pact_tour [--quick | --thorough | --smoke]   (--smoke: tiny sizes, for CI)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "pact/pact.hpp"
#include "support/machine_peak.hpp"
#include "support/peers.hpp"
#include "tour/tour_attention.hpp"
#include "tour/tour_gemm.hpp"
#include "tour/tour_moe.hpp"
#include "tour/tour_quant.hpp"
#include "tour/tour_report.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  tour::options opt;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--thorough") == 0) opt.thorough = true;
    else if (std::strcmp(argv[i], "--quick") == 0) opt.thorough = false;
    else if (std::strcmp(argv[i], "--smoke") == 0) opt.smoke = true;
    else {
      std::printf("usage: %s [--quick | --thorough | --smoke]\n", argv[0]);
      return 2;
    }
  }
  constexpr int steps = 6;
  std::printf("pact %s tour (%s)\n", PACT_VERSION_STRING, opt.thorough ? "thorough" : "quick; --thorough for more shapes and repetitions");
  std::printf("  CPU:            %s\n", cpu_model().c_str());
  std::printf("  compiled for:   %s (%zu-bit vectors)\n", simd::native_arch::name, simd::native_arch::bytes * 8);
  tour::step(1, steps, "SIMD layer self-check");
  const int failures = simd_self_check();
  tour::step(2, steps, "measuring the machine's ceilings...");
  const tour::ceilings ceil{{pact_bench::fma_peak_gflops(1), pact_bench::fma_peak_gflops(2)},
                            {pact_bench::dram_read_gbps(1), pact_bench::dram_read_gbps(2)}};
  std::printf("  f32 FMA peak:   %.1f GFLOP/s (1 thread), %.1f GFLOP/s (2 threads)\n", ceil.peak_gflops[0], ceil.peak_gflops[1]);
  std::printf("  DRAM read:      %.1f GB/s (1 thread), %.1f GB/s (2 threads)\n", ceil.dram_gbps[0], ceil.dram_gbps[1]);
  tour::report rep(ceil);
  tour::step(3, steps, "GEMM and GEMV against a naive loop and the peers found at build time");
  tour::gemm_section(rep, opt);
  tour::step(4, steps, "quantized GEMV (decode) against f32, and int8 GEMM");
  tour::quant_section(rep, opt);
  tour::step(5, steps, "attention: flash-attention prefill and decode over f32/bf16/int8 KV caches");
  tour::attention_section(rep, opt);
  tour::step(6, steps, "a mixture-of-experts layer end to end (route, dispatch, experts, combine)");
  tour::moe_section(rep, opt);
  rep.write_json("pact_tour.json", cpu_model(), simd::native_arch::name);
  std::printf("\nresults written to pact_tour.json (chart: python3 tools/roofline.py pact_tour.json)\n");
  return failures == 0 ? 0 : 1;
}
