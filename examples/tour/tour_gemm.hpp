#pragma once
// Tour section: SGEMM on squares (compute-bound) and M = 1 (a GEMV, bandwidth-bound) against
// a naive loop and every peer library found at build time.
#include <cmath>
#include <vector>

#include "pact/gemm.hpp"
#include "support/peers.hpp"
#include "tour_report.hpp"

namespace tour {

inline void gemm_squares(report& rep, int n, int threads, int reps) {
  std::vector<float> a(static_cast<std::size_t>(n) * n), b(a.size()), c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.001f * static_cast<float>(i)), b[i] = std::cos(0.002f * static_cast<float>(i));
  const double flops = 2.0 * n * n * n, bytes = 3.0 * sizeof(float) * n * n;
  const std::string shape = std::to_string(n) + "x" + std::to_string(n) + "x" + std::to_string(n);
  pact::thread_pool pool(threads);
  pact_bench::set_peer_threads(threads);
  auto add = [&](const char* impl, const std::function<void()>& f, int r) { rep.add("sgemm", shape, impl, threads, flops, bytes, false, f, r); };
  add("pact", [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(a.data(), n, n), pact::make_row_major<const float>(b.data(), n, n), 0.0f,
               pact::make_row_major(c.data(), n, n), pact::epilogue::none{}, pool);
  }, reps);
  if (threads == 1 && n <= 512) {
    add("naive i-k-j loop", [&] {
      std::fill(c.begin(), c.end(), 0.0f);
      for (int i = 0; i < n; ++i)
        for (int k = 0; k < n; ++k)
          for (int j = 0; j < n; ++j) c[static_cast<std::size_t>(i * n + j)] += a[static_cast<std::size_t>(i * n + k)] * b[static_cast<std::size_t>(k * n + j)];
    }, 1);
  }
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
  rep.print_table("sgemm", shape, threads);
}

/// y = x W for one token over a 4096x4096 f32 weight: every weight byte is read once per
/// call, so the rate is bounded by DRAM bandwidth. Several weight copies are rotated so
/// each call finds its weights cold (they exceed the last-level cache together, see
/// cold_copies); min_copies = 1 reads one warm copy.
inline void gemv_cold(report& rep, int threads, int reps, int n = 4096, int min_copies = 2) {
  const int copies = cold_copies(min_copies, 4.0 * n * n);
  std::vector<std::vector<float>> w(copies, std::vector<float>(static_cast<std::size_t>(n) * n));
  for (auto& m : w)
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = std::sin(0.0003f * static_cast<float>(i));
  std::vector<float> x(n, 0.5f), y(n);
  const double flops = 2.0 * n * n, bytes = sizeof(float) * (double(n) * n + 2.0 * n);
  const std::string shape = "1x" + std::to_string(n) + "x" + std::to_string(n) + (copies > 1 ? " (cold)" : "");
  pact::thread_pool pool(threads);
  pact_bench::set_peer_threads(threads);
  int turn = 0;
  auto next = [&]() -> const float* { return w[static_cast<std::size_t>(turn++ % copies)].data(); };
  rep.add("sgemv", shape, "pact", threads, flops, bytes, true, [&] {
    pact::gemm(1.0f, pact::make_row_major<const float>(x.data(), 1, n), pact::make_row_major<const float>(next(), n, n), 0.0f,
               pact::make_row_major(y.data(), 1, n), pact::epilogue::none{}, pool);
  }, reps);
#if defined(PACT_BENCH_HAVE_OPENBLAS)
  rep.add("sgemv", shape, "OpenBLAS sgemv", threads, flops, bytes, true, [&] {
    cblas_sgemv(CblasRowMajor, CblasTrans, n, n, 1.0f, next(), n, x.data(), 1, 0.0f, y.data(), 1);
  }, reps);
#endif
#if defined(PACT_BENCH_HAVE_DNNL)
  rep.add("sgemv", shape, "oneDNN", threads, flops, bytes, true, [&] {
    dnnl_sgemm('N', 'N', 1, n, n, 1.0f, x.data(), n, next(), n, 0.0f, y.data(), n);
  }, reps);
#endif
  rep.print_table("sgemv", shape, threads);
}

inline void gemm_section(report& rep, const options& opt) {
  if (opt.smoke) {
    gemm_squares(rep, 64, 1, 1);
    gemm_squares(rep, 96, 2, 1);
    gemv_cold(rep, 2, 1, 256, 1);
    return;
  }
  gemm_squares(rep, 256, 1, opt.reps(3, 9));
  gemm_squares(rep, 1024, 1, opt.reps(3, 7));
  gemm_squares(rep, 1024, 2, opt.reps(3, 7));
  if (opt.thorough) gemm_squares(rep, 2048, 2, 5);
  gemv_cold(rep, 1, opt.reps(5, 15));
  gemv_cold(rep, 2, opt.reps(5, 15));
}

}  // namespace tour
