#pragma once
// Many independent GEMMs in one call:
//   gemm_batched          - spans of views (any shapes, same alpha/beta/epilogue)
//   gemm_strided_batched  - one view per operand plus a fixed element stride between items
//   gemm_grouped          - a ragged list of problems, each with its own shapes and
//                           alpha/beta (the MoE expert case)
// Scheduling: items are spread over the executor's threads, each item computed serially,
// when items are small; large items run one after another with all threads each. Either
// way an item's arithmetic is the same, so results do not depend on the thread count.
#include <span>
#include <vector>

#include "pact/gemm/gemm.hpp"

PACT_NAMESPACE_BEGIN

/// One problem of a grouped GEMM: C = alpha * A * B + beta * C.
template <class TA, class TB, class TC, class LA = row_major, class LB = row_major, class LC = row_major>
struct gemm_problem {
  matrix_view<const TA, LA> a;
  matrix_view<const TB, LB> b;
  matrix_view<TC, LC> c;
  gemm_detail::compute_t<TA, TB> alpha = 1;
  gemm_detail::compute_t<TA, TB> beta = 0;
};

namespace gemm_detail {
/// Runs problems [0, n) through `run_one(i, exec)`, picking the schedule by total work.
template <class RunOne, class Exec>
void run_batch(index_t n, double flops_per_item_max, const RunOne& run_one, const Exec& exec) {
  if (n == 0) return;
  const bool small_items = flops_per_item_max < 2.0 * 128 * 128 * 128;
  if (exec.num_threads() > 1 && small_items && n > 1) {
    const index_t tasks = std::min<index_t>(exec.num_threads(), n);
    exec.parallel_for(tasks, [&](index_t t) {
      for (index_t i = n * t / tasks; i < n * (t + 1) / tasks; ++i) run_one(i, serial{});
    });
  } else {
    for (index_t i = 0; i < n; ++i) run_one(i, exec);
  }
}
}  // namespace gemm_detail

/// Ragged grouped GEMM. All problems are validated before any is computed.
template <class Policy = void, class TA, class TB, class TC, class LA, class LB, class LC, class Ep = epilogue::none,
          executor Exec = serial>
void gemm_grouped(std::span<const gemm_problem<TA, TB, TC, LA, LB, LC>> problems, const Ep& ep = {},
                  const Exec& exec = {}) {
  double max_flops = 0;
  for (const auto& p : problems) {
    gemm_detail::validate_gemm(p.a, p.b, p.c);
    max_flops = std::max(max_flops, 2.0 * p.c.rows() * p.c.cols() * p.a.cols());
  }
  gemm_detail::run_batch(
      static_cast<index_t>(problems.size()), max_flops,
      [&](index_t i, const auto& ex) {
        const auto& p = problems[static_cast<std::size_t>(i)];
        gemm<Policy>(p.alpha, p.a, p.b, p.beta, p.c, ep, ex);
      },
      exec);
}

/// Batched GEMM over spans of views (same length).
template <class Policy = void, class TA, class LA, class TB, class LB, class TC, class LC, class Ep = epilogue::none,
          executor Exec = serial>
void gemm_batched(gemm_detail::compute_t<std::remove_cv_t<TA>, std::remove_cv_t<TB>> alpha,
                  std::span<const matrix_view<TA, LA>> a, std::span<const matrix_view<TB, LB>> b,
                  gemm_detail::compute_t<std::remove_cv_t<TA>, std::remove_cv_t<TB>> beta,
                  std::span<const matrix_view<TC, LC>> c, const Ep& ep = {}, const Exec& exec = {}) {
  if (a.size() != b.size() || a.size() != c.size())
    throw error(errc::invalid_shape, "gemm_batched: a, b and c hold different numbers of matrices");
  double max_flops = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    gemm_detail::validate_gemm(a[i], b[i], c[i]);
    max_flops = std::max(max_flops, 2.0 * c[i].rows() * c[i].cols() * a[i].cols());
  }
  gemm_detail::run_batch(
      static_cast<index_t>(a.size()), max_flops,
      [&](index_t i, const auto& ex) {
        const auto k = static_cast<std::size_t>(i);
        gemm<Policy>(alpha, a[k], b[k], beta, c[k], ep, ex);
      },
      exec);
}

/// Strided batched GEMM: item i uses a.data() + i*stride_a (likewise b, c).
template <class Policy = void, class TA, class LA, class TB, class LB, class TC, class LC, class Ep = epilogue::none,
          executor Exec = serial>
void gemm_strided_batched(gemm_detail::compute_t<std::remove_cv_t<TA>, std::remove_cv_t<TB>> alpha,
                          const matrix_view<TA, LA>& a, index_t stride_a, const matrix_view<TB, LB>& b, index_t stride_b,
                          gemm_detail::compute_t<std::remove_cv_t<TA>, std::remove_cv_t<TB>> beta,
                          const matrix_view<TC, LC>& c, index_t stride_c, index_t batch, const Ep& ep = {},
                          const Exec& exec = {}) {
  if (batch < 0) throw error(errc::invalid_shape, "gemm_strided_batched: negative batch count");
  if (stride_a < 0 || stride_b < 0 || stride_c < 0) throw error(errc::bad_stride, "gemm_strided_batched: negative batch stride");
  std::vector<matrix_view<TA, LA>> av;
  std::vector<matrix_view<TB, LB>> bv;
  std::vector<matrix_view<TC, LC>> cv;
  for (index_t i = 0; i < batch; ++i) {
    av.push_back(a.shifted(i * stride_a));
    bv.push_back(b.shifted(i * stride_b));
    cv.push_back(c.shifted(i * stride_c));
  }
  // Items of C must not overlap each other.
  if (batch > 1 && !c.empty()) {
    const index_t span_c = (c.rows() - 1) * c.row_stride() + (c.cols() - 1) * c.col_stride() + 1;
    if (stride_c < span_c) throw error(errc::aliasing, "gemm_strided_batched: stride_c makes items of C overlap");
  }
  gemm_batched<Policy>(alpha, std::span<const matrix_view<TA, LA>>(av), std::span<const matrix_view<TB, LB>>(bv), beta,
                       std::span<const matrix_view<TC, LC>>(cv), ep, exec);
}

PACT_NAMESPACE_END
