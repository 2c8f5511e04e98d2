#pragma once
// Expert compute: the SwiGLU FFN of every expert over its expert-contiguous rows.
//
//   for each (expert e, block of rows r0..r1 of e):                  one task
//     (an expert's n rows split into ceil(n / row_block) blocks of equal size +-1, so a
//      130-row expert becomes 65 + 65 rows, not 128 + 2: each block re-reads the expert's
//      weights, and equal blocks keep the GEMM tiles full)
//     G = Xs[r0:r1] * gate[e]                         (rb x ffn)  per-thread buffer
//     H = (Xs[r0:r1] * up[e]) * silu(G)               (rb x ffn)  SwiGLU fused in up's epilogue
//     Ys[r0:r1] = (H * down[e]) * row_weight[r]       (rb x hidden) routing weight fused in
//                                                                  down's epilogue
// so no intermediate is larger than row_block x ffn per thread, whatever the token count.
// Scheduling (a grouped GEMM over the ragged per-expert batches): with at least two tasks
// per thread, threads take whole tasks (each GEMM serial); with fewer (decode: 1..few
// tokens, a few experts) the tasks run in turn and each GEMM uses all threads. Every output
// row is produced by one task in a fixed order and pact::gemm is bitwise identical for any
// thread count, so the result never depends on the executor. Only experts with rows are
// touched: decode reads exactly the selected experts' weights.
#include <algorithm>
#include <vector>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/threading.hpp"
#include "pact/moe/dispatch.hpp"
#include "pact/moe/expert_weights.hpp"

PACT_NAMESPACE_BEGIN

namespace moe_detail {

/// up * silu(gate), gate read from the G buffer at the same (row, col): the SwiGLU of the
/// two projections without another pass over memory.
struct swiglu_with_gate {
  const float* g;
  index_t ldg;
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V up, index_t row, index_t col, int n) const noexcept {
    using A = simd::arch_of<V>;
    const V gv = simd::load_partial<A>(g + row * ldg + col, static_cast<std::size_t>(n));
    return epilogue::silu{}(gv, row, col, n) * up;
  }
};

/// x * w[row]: the routing weight of each row, applied as the down projection is stored.
struct scale_rows {
  const float* w;
  template <class V>
  PACT_ALWAYS_INLINE V operator()(V x, index_t row, index_t, int) const noexcept {
    return x * simd::broadcast<simd::arch_of<V>>(w[row]);
  }
};

/// Per-thread G and H buffers (reused across calls: no allocation once warm).
inline aligned_buffer<float>& thread_ffn_buffer() {
  thread_local aligned_buffer<float> buf;
  return buf;
}

/// ys = FFN_e(xs) (row weights applied when w != nullptr) for rb rows. `g`, `h`: rb x F.
template <expert_weights W, class Exec>
void expert_ffn_block(const W& w, index_t e, const float* xs, index_t ldx, float* ys, index_t ldy, index_t rb,
                      const float* row_w, float* g, float* h, const Exec& exec) {
  const index_t H = w.hidden(), F = w.ffn();
  const auto a = make_row_major<const float>(xs, rb, H, ldx);
  const auto gv = make_row_major(g, rb, F);
  const auto hv = make_row_major(h, rb, F);
  w.multiply(expert_proj::gate, e, a, gv, epilogue::none{}, exec);
  w.multiply(expert_proj::up, e, a, hv, swiglu_with_gate{g, F}, exec);
  const auto y = make_row_major(ys, rb, H, ldy);
  const auto hc = make_row_major<const float>(h, rb, F);
  if (row_w != nullptr) w.multiply(expert_proj::down, e, hc, y, scale_rows{row_w}, exec);
  else w.multiply(expert_proj::down, e, hc, y, epilogue::none{}, exec);
}

struct ffn_task {
  index_t expert, row0, rows;
};

/// Appends the row blocks of rows [r0, r0 + n) of expert e (equal sizes, <= row_block).
inline void add_row_blocks(std::vector<ffn_task>& tasks, index_t e, index_t r0, index_t n, index_t row_block) {
  const index_t blocks = (n + row_block - 1) / row_block;
  for (index_t b = 0; b < blocks; ++b) tasks.push_back({e, r0 + n * b / blocks, n * (b + 1) / blocks - n * b / blocks});
}

/// Runs tasks (expert, rows) with the schedule described in the file comment.
template <expert_weights W, class Exec>
void run_ffn_tasks(const W& w, const std::vector<ffn_task>& tasks, const float* xs, index_t ldx, float* ys, index_t ldy,
                   const float* row_w, index_t row_block, const Exec& exec) {
  const index_t F = w.ffn();
  const auto n = static_cast<index_t>(tasks.size());
  auto run = [&](index_t i, const auto& ex) {
    const ffn_task& t = tasks[static_cast<std::size_t>(i)];
    aligned_buffer<float>& buf = thread_ffn_buffer();
    buf.reserve_discard(static_cast<std::size_t>(2 * row_block * std::max<index_t>(F, 1)));
    expert_ffn_block(w, t.expert, xs + t.row0 * ldx, ldx, ys + t.row0 * ldy, ldy, t.rows,
                     row_w == nullptr ? nullptr : row_w + t.row0, buf.data(), buf.data() + row_block * F, ex);
  };
  // Many tasks: whole tasks per thread (no synchronisation inside a GEMM, dynamic
  // hand-out balances ragged experts). Few tasks (decode, or a few big experts): one task
  // at a time, each GEMM split over all threads, so no thread idles behind a long task.
  const int threads = std::max(1, exec.num_threads());
  if (threads > 1 && n >= 4 * threads) {
    exec.parallel_for(n, [&](index_t i) { run(i, serial{}); });
  } else {
    for (index_t i = 0; i < n; ++i) run(i, exec);
  }
}

inline void require_row_block(index_t row_block, const char* who) {
  if (row_block < 1) throw error(errc::invalid_argument, std::string(who) + ": row_block must be >= 1");
}

template <expert_weights W, class LX, class LY>
void require_ffn_views(const W& w, const matrix_view<const float, LX>& xs, const matrix_view<float, LY>& ys, index_t rows,
                       const char* who) {
  const std::string s(who);
  validate(xs, (s + ": xs").c_str());
  validate(ys, (s + ": ys").c_str());
  if (xs.rows() != rows || ys.rows() != rows) throw error(errc::invalid_shape, s + ": xs and ys must have one row per dispatched pair");
  if (xs.cols() != w.hidden() || ys.cols() != w.hidden()) throw error(errc::invalid_shape, s + ": xs and ys must have hidden columns");
  if (xs.col_stride() != 1 || ys.col_stride() != 1) throw error(errc::bad_stride, s + ": xs and ys rows must be contiguous");
  if (overlaps(xs, ys)) throw error(errc::aliasing, s + ": ys overlaps xs");
}
}  // namespace moe_detail

/// ys[r] = row_weight[r] * FFN_{expert of r}(xs[r]) for every dispatched row of `plan`.
/// xs, ys: plan.rows() x hidden, row-major. row_block: rows per task and the height of the
/// per-thread intermediates (row_block x ffn floats, twice).
template <expert_weights W, class LX, class LY, executor Exec = serial>
void run_experts(const W& weights, const moe_dispatch_plan& plan, const matrix_view<const float, LX>& xs,
                 const matrix_view<float, LY>& ys, index_t row_block = 128, const Exec& exec = {}) {
  moe_detail::require_row_block(row_block, "run_experts");
  if (weights.num_experts() != plan.experts)
    throw error(errc::invalid_shape, "run_experts: the weights' expert count differs from the plan's");
  moe_detail::require_ffn_views(weights, xs, ys, plan.rows(), "run_experts");
  thread_local std::vector<moe_detail::ffn_task> tasks;  // capacity reused: no allocation once warm
  tasks.clear();
  for (index_t e = 0; e < plan.experts; ++e) moe_detail::add_row_blocks(tasks, e, plan.offsets[static_cast<std::size_t>(e)], plan.rows_of(e), row_block);
  if (tasks.empty() || weights.hidden() == 0) return;
  moe_detail::run_ffn_tasks(weights, tasks, xs.data(), xs.row_stride(), ys.data(), ys.row_stride(), plan.row_weight.data(),
                            row_block, exec);
}

/// Shared (always active) experts: out_j = FFN_j(x) for every token and shared expert j,
/// written to shared_out rows [j * tokens, (j + 1) * tokens) (weight 1, not summed here:
/// combine adds them in a fixed order). shared_out: (num_experts * tokens) x hidden.
template <expert_weights W, class LX, class LY, executor Exec = serial>
void run_shared_experts(const W& weights, const matrix_view<const float, LX>& x, const matrix_view<float, LY>& shared_out,
                        index_t row_block = 128, const Exec& exec = {}) {
  moe_detail::require_row_block(row_block, "run_shared_experts");
  const index_t T = x.rows(), S = weights.num_experts();
  validate(x, "run_shared_experts: x");
  if (x.cols() != weights.hidden()) throw error(errc::invalid_shape, "run_shared_experts: x must have hidden columns");
  if (x.col_stride() != 1 && x.cols() > 1) throw error(errc::bad_stride, "run_shared_experts: x rows must be contiguous");
  validate(shared_out, "run_shared_experts: shared_out");
  if (shared_out.rows() != S * T || shared_out.cols() != weights.hidden())
    throw error(errc::invalid_shape, "run_shared_experts: shared_out must be (shared experts * tokens) x hidden");
  if (shared_out.col_stride() != 1 && shared_out.cols() > 1) throw error(errc::bad_stride, "run_shared_experts: shared_out rows must be contiguous");
  if (overlaps(shared_out, x)) throw error(errc::aliasing, "run_shared_experts: shared_out overlaps x");
  if (T == 0 || S == 0 || weights.hidden() == 0) return;
  // Tasks address x through row offsets: pretend each shared expert has its own copy of x
  // by running one task list per expert (the xs pointer differs only by the expert).
  thread_local std::vector<moe_detail::ffn_task> tasks;
  for (index_t j = 0; j < S; ++j) {
    tasks.clear();
    moe_detail::add_row_blocks(tasks, j, 0, T, row_block);
    moe_detail::run_ffn_tasks(weights, tasks, x.data(), x.row_stride(), shared_out.data() + j * T * shared_out.row_stride(),
                              shared_out.row_stride(), nullptr, row_block, exec);
  }
}

PACT_NAMESPACE_END
