// "From float to 4 bits" (docs/tutorials/quant_steps.md).
// One decode-style matrix-vector product y = W x (W: n x n, GGUF row layout: row r holds the
// n weights of output r) with the weights stored in ever fewer bits. For each format the
// example measures, on this machine:
//   bits/w     storage bits per weight (scales included)
//   W err      RMS relative weight error  sqrt(sum (w_q - w)^2 / sum w^2)
//   y err      relative product error     ||y_q - y|| / ||y||   (y: float64 product of the f32 W, x)
//   time, GB/s of weight bytes, % of the measured DRAM read bandwidth, speed-up over f32
// with cold weights (copies rotate through more than the last-level cache, as in decoding
// a model far larger than the caches).
// It checks two things and exits non-zero if either fails:
//   * every GEMV kernel agrees with a float64 product of the operands it actually consumed
//     (dequantized weights and activations) within a rounding bound stated next to it;
//   * every format's y err stays below the bound documented in the tutorial (max_y_err).
//   tutorial_quant_steps [n [threads]]     (default 4096 1; CI runs it with 256)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pact/gemm.hpp"
#include "pact/quant.hpp"
#include "pact/quant/gemv_q.hpp"
#include "pact/quant/int8_gemm.hpp"
#include "support/machine_peak.hpp"

namespace q = pact::quant;

// ---- shared plumbing -------------------------------------------------------------------

// Weights rotate through this many bytes of copies so that every timed call streams W from
// DRAM (the last-level cache of the development VM is ~35 MiB).
constexpr double cold_bytes = 128.0 * (1 << 20);

/// Gaussian numbers from a fixed LCG + Box-Muller: the same W and x on every platform.
struct gaussian {
  std::uint64_t s;
  double uniform() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return (static_cast<double>(s >> 11) + 0.5) / 9007199254740992.0;
  }
  float operator()() { return static_cast<float>(std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform())); }
};

/// y = W x in float64 (W row-major n x k), plus sum_k |w x| per row for rounding bounds.
void product64(const float* w, const float* x, int n, int k, std::vector<double>& y, std::vector<double>& abs_sum) {
  y.assign(static_cast<std::size_t>(n), 0.0);
  abs_sum.assign(static_cast<std::size_t>(n), 0.0);
  for (int r = 0; r < n; ++r) {
    double s = 0, a = 0;
    const float* row = w + static_cast<std::size_t>(r) * k;
    for (int c = 0; c < k; ++c) {
      const double p = static_cast<double>(row[c]) * x[c];
      s += p;
      a += std::fabs(p);
    }
    y[static_cast<std::size_t>(r)] = s;
    abs_sum[static_cast<std::size_t>(r)] = a;
  }
}

double rel_rms(const float* approx, const float* exact, std::size_t n) {
  double e = 0, s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(approx[i]) - exact[i];
    e += d * d;
    s += static_cast<double>(exact[i]) * exact[i];
  }
  return std::sqrt(e / s);
}
template <class Y>
double rel_norm(const Y& approx, const std::vector<double>& exact) {
  double e = 0, s = 0;
  for (std::size_t i = 0; i < exact.size(); ++i) {
    const double d = static_cast<double>(approx[i]) - exact[i];
    e += d * d;
    s += exact[i] * exact[i];
  }
  return std::sqrt(e / s);
}

/// Median seconds of `reps` calls of run(copy), cycling through `copies` weight copies.
double time_gemv(int copies, const std::function<void(int)>& run) {
  run(0);  // warm-up: first-touch, thread start, scratch allocation
  const int reps = 15;
  std::vector<double> t;
  for (int r = 0, copy = 1 % copies; r < reps; ++r, copy = (copy + 1) % copies) {
    const auto t0 = std::chrono::steady_clock::now();
    run(copy);
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct row {
  std::string name;
  double bits = 0, w_err = 0, y_err = 0, max_y_err = 0;
  double secs = -1;        // < 0: pact has no GEMV for this format yet
  bool kernel_ok = true;   // kernel vs float64 product of its dequantized operands
  std::string note;
  row(std::string name_, double bits_, double max_y_err_) : name(std::move(name_)), bits(bits_), max_y_err(max_y_err_) {}
};

struct context {
  int n = 0, threads = 1;
  bool cold = true;
  std::vector<float> w, x;              // f32 weights (n x n, row r = output r) and input
  std::vector<double> y, y_abs;         // float64 reference y = W x
  std::vector<float> wd;                // scratch: dequantized weights
  pact::thread_pool pool;
  explicit context(int threads_) : threads(threads_), pool(threads_) {}

  /// How many weight copies to rotate through for a format of `bytes` weight bytes.
  int copies_for(double bytes) const { return cold ? static_cast<int>(std::ceil(cold_bytes / bytes)) + 1 : 1; }
  std::size_t nn() const { return static_cast<std::size_t>(n) * static_cast<std::size_t>(n); }
};

/// Checks y (from a kernel) against the float64 product of its dequantized operands wd, xd:
/// |y - ref| <= tol_rel * sum |wd xd| per output.
bool kernel_agrees(const context& c, const float* y, const std::vector<float>& xd, double tol_rel, const char* what) {
  std::vector<double> ref, abs_sum;
  product64(c.wd.data(), xd.data(), c.n, c.n, ref, abs_sum);
  for (int r = 0; r < c.n; ++r) {
    const auto i = static_cast<std::size_t>(r);
    const double tol = tol_rel * abs_sum[i] + 1e-30;
    if (!(std::fabs(static_cast<double>(y[i]) - ref[i]) <= tol)) {
      std::printf("  %s: output %d = %.9g, float64 product of the dequantized operands = %.9g (tolerance %.3g)\n", what, r,
                  static_cast<double>(y[i]), ref[i], tol);
      return false;
    }
  }
  return true;
}

// ---- step 1: f32 ---------------------------------------------------------------------------
// pact::gemm with M = 1 takes its GEMV path: W streams once, 4 bytes per weight. B is W^T,
// i.e. W viewed as a column-major K x N matrix (the same bytes, no copy).
row step_f32(context& c) {
  row r("1 f32 (pact::gemm, M=1)", 32, 1e-6);
  const int n = c.n;
  std::vector<std::vector<float>> copies(static_cast<std::size_t>(c.copies_for(4.0 * static_cast<double>(c.nn()))), c.w);
  std::vector<float> y(static_cast<std::size_t>(n));
  auto run = [&](int k) {
    pact::gemm(1.0f, pact::make_row_major<const float>(c.x.data(), 1, n),
               pact::make_col_major<const float>(copies[static_cast<std::size_t>(k)].data(), n, n), 0.0f,
               pact::make_row_major(y.data(), 1, n), pact::epilogue::none{}, c.pool);
  };
  r.secs = time_gemv(static_cast<int>(copies.size()), run);
  r.y_err = rel_norm(y, c.y);
  // f32 sums of n products: |error| <= n * 2^-24 * sum |w x| (Higham's gamma_n), any order.
  c.wd = c.w;
  r.kernel_ok = kernel_agrees(c, y.data(), c.x, n * 0x1p-24, "f32 gemm");
  return r;
}

// ---- step 2: bf16 weights -------------------------------------------------------------------
// pact::gemm accepts bf16 operands: they are widened to f32 while packing B. Half the bytes,
// but the GEMV fast path is f32-only, so the product goes through the packed GEMM.
row step_bf16(context& c) {
  row r("2 bf16 W (pact::gemm, M=1)", 16, 5e-3);
  const int n = c.n;
  std::vector<pact::bf16> wb(c.nn());
  c.wd.resize(c.nn());
  for (std::size_t i = 0; i < wb.size(); ++i) wb[i] = pact::bf16(c.w[i]), c.wd[i] = static_cast<float>(wb[i]);
  r.w_err = rel_rms(c.wd.data(), c.w.data(), c.nn());
  std::vector<std::vector<pact::bf16>> copies(static_cast<std::size_t>(c.copies_for(2.0 * static_cast<double>(c.nn()))), wb);
  std::vector<float> y(static_cast<std::size_t>(n));
  auto run = [&](int k) {
    pact::gemm(1.0f, pact::make_row_major<const float>(c.x.data(), 1, n),
               pact::make_col_major<const pact::bf16>(copies[static_cast<std::size_t>(k)].data(), n, n), 0.0f,
               pact::make_row_major(y.data(), 1, n), pact::epilogue::none{}, c.pool);
  };
  r.secs = time_gemv(static_cast<int>(copies.size()), run);
  r.y_err = rel_norm(y, c.y);
  r.kernel_ok = kernel_agrees(c, y.data(), c.x, n * 0x1p-24, "bf16 gemm");
  r.note = "no bf16 GEMV path: B is packed to f32 on every call";
  return r;
}

// ---- step 3: int8, one scale per output channel ------------------------------------------------
// W8A8: weights int8 with a scale per row of W; x int8 with one scale. pact::int8_gemm sums
// the int8 products exactly in int32 (vpdpbusd on VNNI) and applies both scales at the end.
row step_int8(context& c) {
  row r("3 int8 per-channel (int8_gemm)", 8.0 + 32.0 / c.n, 2.5e-2);
  const int n = c.n;
  const auto nn = static_cast<std::size_t>(n);
  const auto wq = q::quantize_int8(c.w.data(), nn, nn, nn, {q::int8_granularity::per_row, 0, q::int8_scheme::symmetric}, c.pool);
  const auto xq = q::quantize_int8(c.x.data(), 1, nn, nn, {q::int8_granularity::per_tensor, 0, q::int8_scheme::symmetric});
  c.wd.resize(c.nn());
  q::dequantize_int8(wq, c.wd.data(), nn);
  std::vector<float> xd(nn);
  q::dequantize_int8(xq, xd.data(), nn);
  r.w_err = rel_rms(c.wd.data(), c.w.data(), c.nn());
  // B = W^T: int8 data viewed column-major (K x N), packed once for the VNNI kernel.
  std::vector<pact::int8_packed_b<>> copies;
  const int count = c.copies_for(static_cast<double>(c.nn()));
  for (int k = 0; k < count; ++k) copies.emplace_back(pact::make_col_major<const std::int8_t>(wq.data.data(), n, n), c.pool);
  pact::int8_requantize rq;
  rq.a_scale = xq.scales[0];
  rq.b_col_scales = wq.scales.data();
  std::vector<float> y(nn);
  auto run = [&](int k) {
    pact::int8_gemm(pact::make_row_major<const std::int8_t>(xq.data.data(), 1, n), copies[static_cast<std::size_t>(k)],
                    pact::make_row_major(y.data(), 1, n), rq, c.pool);
  };
  r.secs = time_gemv(count, run);
  r.y_err = rel_norm(y, c.y);
  // Exact int32 sum, then float(acc) * a_scale * b_scale: three f32 roundings of the value;
  // the reference's dequantized operands are rounded too (q * scale in f32, one rounding per
  // factor): in all at most 6 roundings of terms bounded by sum |w x|.
  r.kernel_ok = kernel_agrees(c, y.data(), xd, 6 * 0x1p-24, "int8_gemm");
  return r;
}

// ---- steps 4-5: ggml Q8_0 and Q4_0 weights x Q8_0 activations ------------------------------------
// Blocks of 32 weights with one fp16 scale; x quantized to Q8_0 (ggml's rule) once per call
// in decode (here outside the timed loop: a K-vector, microseconds).
template <class Block>
row step_ggml_gemv(context& c, const char* name, double max_y_err) {
  row r(name, 8.0 * sizeof(Block) / Block::elems, max_y_err);
  const int n = c.n;
  const std::size_t nb = c.nn() / Block::elems;
  std::vector<Block> wq(nb);
  q::quantize<Block>(std::span<const float>(c.w), std::span<Block>(wq), c.pool);
  c.wd.resize(c.nn());
  q::dequantize<Block>(std::span<const Block>(wq), std::span<float>(c.wd));
  r.w_err = rel_rms(c.wd.data(), c.w.data(), c.nn());
  std::vector<q::block_q8_0> xq(static_cast<std::size_t>(n) / 32);
  q::quantize<q::block_q8_0>(std::span<const float>(c.x), std::span<q::block_q8_0>(xq));
  std::vector<float> xd(static_cast<std::size_t>(n));
  q::dequantize<q::block_q8_0>(std::span<const q::block_q8_0>(xq), std::span<float>(xd));
  std::vector<std::vector<Block>> copies(static_cast<std::size_t>(c.copies_for(static_cast<double>(nb * sizeof(Block)))), wq);
  std::vector<float> y(static_cast<std::size_t>(n));
  auto run = [&](int k) {
    q::gemv<Block>(std::span<const Block>(copies[static_cast<std::size_t>(k)]), n, n, std::span<const q::block_q8_0>(xq),
                   std::span<float>(y), c.pool);
  };
  r.secs = time_gemv(static_cast<int>(copies.size()), run);
  r.y_err = rel_norm(y, c.y);
  // Exact integer block sums; per block two f32 products (scales, block sum) and one f32
  // add: at most (n / 32 + 4) roundings of terms bounded by sum |w x|.
  r.kernel_ok = kernel_agrees(c, y.data(), xd, (n / 32 + 4) * 0x1p-24, "quant::gemv");
  return r;
}

// ---- step 6: formats pact can store but not yet multiply ------------------------------------------
// Weight-only error: y_q is the float64 product of the dequantized W with the f32 x (what a
// dequantize-on-the-fly W4A32 kernel would compute).
row error_only(context& c, const char* name, double bits, double max_y_err) {
  row r(name, bits, max_y_err);
  r.w_err = rel_rms(c.wd.data(), c.w.data(), c.nn());
  std::vector<double> yq, abs_sum;
  product64(c.wd.data(), c.x.data(), c.n, c.n, yq, abs_sum);
  r.y_err = rel_norm(yq, c.y);
  r.note = "quantize/dequantize only: no GEMV kernel in pact yet";
  return r;
}
template <class Block>
row step_ggml_error(context& c, const char* name, double max_y_err) {
  std::vector<Block> wq(c.nn() / Block::elems);
  q::quantize<Block>(std::span<const float>(c.w), std::span<Block>(wq), c.pool);
  c.wd.resize(c.nn());
  q::dequantize<Block>(std::span<const Block>(wq), std::span<float>(c.wd));
  return error_only(c, name, 8.0 * sizeof(Block) / Block::elems, max_y_err);
}
row step_fp8_error(context& c, double max_y_err) {
  const auto nn = static_cast<std::size_t>(c.n);
  const auto wq = q::quantize_fp8_128x128<pact::fp8_e4m3>(c.w.data(), nn, nn, nn, c.pool);
  c.wd.resize(c.nn());
  q::dequantize_fp8(wq, c.wd.data(), nn);
  return error_only(c, "6 FP8 E4M3, 128x128 scales", 8.0 + 32.0 * static_cast<double>(wq.scales.size()) / static_cast<double>(c.nn()),
                    max_y_err);
}

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 4096;
  const int threads = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  n = std::max(256, n / 256 * 256);  // Q4_K / Q6_K super-blocks hold 256 weights
  context c(threads);
  c.n = n;
  c.cold = n >= 1024;  // small sizes (CI): weights stay in cache, no rotation
  gaussian g{12345};
  c.w.resize(c.nn());
  c.x.resize(static_cast<std::size_t>(n));
  for (auto& v : c.w) v = 0.02f * g();  // the scale of trained LLM weights (std ~0.02)
  for (auto& v : c.x) v = g();
  product64(c.w.data(), c.x.data(), n, n, c.y, c.y_abs);

  // The DRAM ceiling streams 256 MiB: measured only when the weights are cold (CI's small run
  // under qemu skips it; its GB/s are cache numbers anyway).
  const double dram = c.cold ? pact_bench::dram_read_gbps(threads) : 0.0;
  std::printf("GEMV y = W x, W %d x %d, %d thread(s), %s\n", n, n, threads, pact::simd::native_arch::name);
  if (c.cold)
    std::printf("measured DRAM read bandwidth %.1f GB/s; weights cold: copies rotate through > %.0f MiB per format\n\n", dram,
                cold_bytes / (1 << 20));
  else
    std::printf("small n: weights stay in cache (no rotation, DRAM not measured): GB/s are cache numbers\n\n");
  std::printf("%-33s %6s %9s %9s %9s %7s %7s %8s\n", "step / format", "bits/w", "W err", "y err", "time us", "GB/s", "% DRAM",
              "speed-up");
  int failures = 0;
  double f32_secs = 0;
  auto report = [&](const row& r) {
    const bool err_ok = r.y_err <= r.max_y_err;
    failures += (err_ok ? 0 : 1) + (r.kernel_ok ? 0 : 1);
    std::printf("%-33s %6.2f %8.3f%% %8.3f%%", r.name.c_str(), r.bits, 100 * r.w_err, 100 * r.y_err);
    if (r.secs > 0) {
      if (f32_secs == 0) f32_secs = r.secs;
      const double gbps = r.bits / 8 * static_cast<double>(c.nn()) / r.secs / 1e9;
      std::printf(" %9.0f %7.1f", r.secs * 1e6, gbps);
      if (dram > 0) std::printf(" %6.1f%%", 100 * gbps / dram);
      else std::printf(" %7s", "-");
      std::printf(" %7.2fx", f32_secs / r.secs);
    } else {
      std::printf(" %9s %7s %7s %8s", "-", "-", "-", "-");
    }
    if (!err_ok) std::printf("  ERROR ABOVE BOUND %.2f%%", 100 * r.max_y_err);
    if (!r.kernel_ok) std::printf("  KERNEL DISAGREES WITH FLOAT64");
    std::printf("\n");
    if (!r.note.empty()) std::printf("%33s   (%s)\n", "", r.note.c_str());
    std::fflush(stdout);
  };
  report(step_f32(c));
  report(step_bf16(c));
  report(step_int8(c));
  report(step_ggml_gemv<q::block_q8_0>(c, "4 ggml Q8_0 (quant::gemv)", 1.5e-2));
  report(step_ggml_gemv<q::block_q4_0>(c, "5 ggml Q4_0 (quant::gemv)", 1.2e-1));
  report(step_ggml_error<q::block_q6_K>(c, "6 ggml Q6_K", 2.5e-2));
  report(step_ggml_error<q::block_q4_K>(c, "6 ggml Q4_K", 9e-2));
  report(step_ggml_error<q::block_mxfp4>(c, "6 ggml MXFP4 (E2M1, E8M0 scale)", 1.5e-1));
  report(step_fp8_error(c, 5e-2));
  std::printf("\n%s\n", failures == 0 ? "all checks passed" : "CHECKS FAILED");
  return failures == 0 ? 0 : 1;
}
