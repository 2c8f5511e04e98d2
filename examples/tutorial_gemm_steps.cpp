// "GEMM from a triple loop to the machine's peak" (docs/tutorials/gemm_steps.md).
// Seven versions of C = A * B (row-major, n x n, f32), each one removing the bottleneck of
// the previous one, each checked against step 1 and timed on this machine.
//   tutorial_gemm_steps [n]        (default 512; CI runs it with 192)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

#include "pact/gemm.hpp"
#include "support/machine_peak.hpp"

namespace simd = pact::simd;
using Arch = simd::native_arch;
using V = simd::vec<float, Arch>;
constexpr int L = static_cast<int>(simd::lanes<float, Arch>);

// Step 1 - naive i-j-k: the inner loop walks B down a column, one cache line per element.
void step1_naive(int n, const float* a, const float* b, float* c) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      float s = 0;
      for (int k = 0; k < n; ++k) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
}

// Step 2 - loop order i-k-j: the inner loop now streams rows of B and C contiguously, so
// every cache line is used fully and the compiler can vectorize it.
void step2_loop_order(int n, const float* a, const float* b, float* c) {
  std::fill(c, c + n * n, 0.0f);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k) {
      const float aik = a[i * n + k];
      for (int j = 0; j < n; ++j) c[i * n + j] += aik * b[k * n + j];
    }
}

// Step 3 - register blocking: a 4 x 16 block of C stays in registers across the whole k
// loop, so C is loaded/stored once instead of n times (step 2 was load/store bound: every
// FMA needed a load and a store of C). Plain C++: the compiler vectorizes the 16-wide loop
// and keeps the four short rows in registers.
void step3_register_block(int n, const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c) {
  for (int i = 0; i < n; i += 4)
    for (int j = 0; j < n; j += 16) {
      float c0[16] = {}, c1[16] = {}, c2[16] = {}, c3[16] = {};
      for (int k = 0; k < n; ++k) {
        const float* bk = b + k * n + j;
        const float a0 = a[i * n + k], a1 = a[(i + 1) * n + k], a2 = a[(i + 2) * n + k], a3 = a[(i + 3) * n + k];
        for (int q = 0; q < 16; ++q) {
          c0[q] += a0 * bk[q];
          c1[q] += a1 * bk[q];
          c2[q] += a2 * bk[q];
          c3[q] += a3 * bk[q];
        }
      }
      for (int q = 0; q < 16; ++q) {
        c[i * n + j + q] = c0[q];
        c[(i + 1) * n + j + q] = c1[q];
        c[(i + 2) * n + j + q] = c2[q];
        c[(i + 3) * n + j + q] = c3[q];
      }
    }
}

// Step 4 - an explicit SIMD microkernel through pact's SIMD layer: MR rows x 2 vectors of
// accumulators, one broadcast of A reused across the vectors of B, fused multiply-adds.
constexpr int MR = 6;
void step4_simd_microkernel(int n, const float* a, const float* b, float* c) {
  for (int i = 0; i < n; i += MR)
    for (int j = 0; j < n; j += 2 * L) {
      V acc[MR][2];
      for (auto& row : acc) row[0] = row[1] = simd::zero<float, Arch>();
      for (int k = 0; k < n; ++k) {
        const V b0 = simd::load<Arch>(b + k * n + j), b1 = simd::load<Arch>(b + k * n + j + L);
        for (int r = 0; r < MR; ++r) {
          const V ar = simd::broadcast<Arch>(a[(i + r) * n + k]);
          acc[r][0] = simd::fma(ar, b0, acc[r][0]);
          acc[r][1] = simd::fma(ar, b1, acc[r][1]);
        }
      }
      for (int r = 0; r < MR; ++r) {
        simd::store(c + (i + r) * n + j, acc[r][0]);
        simd::store(c + (i + r) * n + j + L, acc[r][1]);
      }
    }
}

// The microkernel of steps 5-6: an MR x 2L tile over kc steps of packed slivers
// (A sliver: kc x MR, B sliver: kc x 2L, both contiguous in the order they are read).
void packed_tile(int kc, const float* ap, const float* bp, float* c, int ldc, bool first) {
  V acc[MR][2];
  for (auto& row : acc) row[0] = row[1] = simd::zero<float, Arch>();
  for (int k = 0; k < kc; ++k) {
    const V b0 = simd::load<Arch>(bp + k * 2 * L), b1 = simd::load<Arch>(bp + k * 2 * L + L);
    for (int r = 0; r < MR; ++r) {
      const V ar = simd::broadcast<Arch>(ap[k * MR + r]);
      acc[r][0] = simd::fma(ar, b0, acc[r][0]);
      acc[r][1] = simd::fma(ar, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int v = 0; v < 2; ++v) {
      float* cp = c + r * ldc + v * L;
      simd::store(cp, first ? acc[r][v] : acc[r][v] + simd::load<Arch>(cp));
    }
}
// Packs rows [i0, i0+MR) x k [k0, k0+kc) of A into a sliver, and k [k0, k0+kc) of all
// columns of B into n / 2L slivers.
void pack_a(int n, int i0, int k0, int kc, const float* a, float* ap) {
  for (int k = 0; k < kc; ++k)
    for (int r = 0; r < MR; ++r) ap[k * MR + r] = a[(i0 + r) * n + k0 + k];
}
void pack_b(int n, int k0, int kc, const float* b, float* bp) {
  for (int j = 0; j < n; j += 2 * L)
    for (int k = 0; k < kc; ++k)
      for (int q = 0; q < 2 * L; ++q) bp[j * kc + k * 2 * L + q] = b[(k0 + k) * n + j + q];
}

// Step 5 - packing: copy B once into contiguous kc x 2L slivers and each MR-row block of A
// into a sliver, so the microkernel reads both with unit stride, in order (no TLB misses,
// prefetcher-friendly), and each packed B value is reused by all n / MR row blocks.
void step5_packing(int n, const float* a, const float* b, float* c) {
  std::vector<float> ap(static_cast<std::size_t>(MR) * n), bp(static_cast<std::size_t>(n) * n);
  pack_b(n, 0, n, b, bp.data());
  for (int i = 0; i < n; i += MR) {
    pack_a(n, i, 0, n, a, ap.data());
    for (int j = 0; j < n; j += 2 * L) packed_tile(n, ap.data(), bp.data() + j * n, c + i * n + j, n, true);
  }
}

// Step 6 - cache blocking: split K into KC-deep blocks. One A sliver (MR x KC) now stays in
// L1 while the B block (KC x n) it meets is reused from L2 by every row block, instead of
// streaming n-deep slivers from memory.
void step6_cache_blocking(int n, const float* a, const float* b, float* c) {
  constexpr int KC = 256;
  std::vector<float> ap(static_cast<std::size_t>(MR) * KC), bp(static_cast<std::size_t>(KC) * n);
  for (int k0 = 0; k0 < n; k0 += KC) {
    const int kc = std::min(KC, n - k0);
    pack_b(n, k0, kc, b, bp.data());
    for (int i = 0; i < n; i += MR) {
      pack_a(n, i, k0, kc, a, ap.data());
      for (int j = 0; j < n; j += 2 * L) packed_tile(kc, ap.data(), bp.data() + j * kc, c + i * n + j, n, k0 == 0);
    }
  }
}

// Step 7 - the real thing on all cores: pact::gemm adds what the steps leave out (the full
// BLIS loop nest with MC/NC blocks, 14x32 tiles on AVX-512, k-unrolling, prefetching,
// tails, tuned policies) and splits the rows between threads.
void step7_pact_threads(int n, const float* a, const float* b, float* c) {
  static pact::thread_pool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  pact::gemm(1.0f, pact::make_row_major<const float>(a, n, n), pact::make_row_major<const float>(b, n, n), 0.0f,
             pact::make_row_major(c, n, n), pact::epilogue::none{}, pool);
}

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 512;
  const int unit = MR * 2 * L;  // every step's tiles divide n
  n = std::max(unit, n / unit * unit);
  std::vector<float> a(static_cast<std::size_t>(n) * n), b(a.size()), ref(a.size()), c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.01f * static_cast<float>(i)), b[i] = std::cos(0.013f * static_cast<float>(i));
  const double peak = pact_bench::fma_peak_gflops(1);
  const double peak_all = pact_bench::fma_peak_gflops(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  std::printf("GEMM %d x %d x %d, f32, %s; measured FMA peak %.1f GFLOP/s per core\n\n", n, n, n, Arch::name, peak);
  std::printf("%-34s %10s %9s %8s\n", "step", "GFLOP/s", "% peak", "speed-up");
  struct step { const char* name; void (*fn)(int, const float*, const float*, float*); bool all_cores; };
  const step steps[] = {{"1 naive i-j-k", step1_naive, false},
                        {"2 loop order i-k-j", step2_loop_order, false},
                        {"3 register blocking 4x16", step3_register_block, false},
                        {"4 SIMD microkernel", step4_simd_microkernel, false},
                        {"5 packing", step5_packing, false},
                        {"6 cache blocking (KC)", step6_cache_blocking, false},
                        {"7 pact::gemm, all cores", step7_pact_threads, true}};
  double first = 0;
  int failures = 0;
  for (const auto& s : steps) {
    float* out = s.fn == step1_naive ? ref.data() : c.data();
    std::vector<double> t;
    for (int r = 0; r < 3; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      s.fn(n, a.data(), b.data(), out);
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    const double gflops = 2.0 * n * n * n / t[1] / 1e9;
    if (first == 0) first = gflops;
    double err = 0;
    for (std::size_t i = 0; i < c.size() && out != ref.data(); ++i) err = std::max(err, static_cast<double>(std::fabs(c[i] - ref[i])));
    const bool ok = err <= 1e-3 * std::sqrt(static_cast<double>(n));
    failures += ok ? 0 : 1;
    std::printf("%-34s %10.1f %8.1f%% %7.1fx%s\n", s.name, gflops, 100 * gflops / (s.all_cores ? peak_all : peak), gflops / first,
                ok ? "" : "  WRONG RESULT");
  }
  return failures == 0 ? 0 : 1;
}
