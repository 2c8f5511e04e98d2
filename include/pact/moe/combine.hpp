#pragma once
// Combine: back from expert-contiguous rows to token order.
//   out[t, :] = sum_{s = 0..k-1, pair (t, s) kept} ys[pair_row[t*k + s], :]
//             + sum_{j = 0..shared-1} shared_out[j * tokens + t, :]
// ys rows already carry their routing weight (fused into the down projection's
// epilogue), so combine is a gather-sum. The summation order is fixed (slots in order,
// then shared experts in order) and each token is summed by one task, so the result is
// deterministic and independent of the thread count. A token whose pairs were all dropped
// and with no shared expert gets zeros.
#include <algorithm>
#include <cstring>

#include "pact/core/threading.hpp"
#include "pact/moe/dispatch.hpp"

PACT_NAMESPACE_BEGIN

/// out (tokens x hidden) from ys (plan.rows() x hidden) and optional shared expert rows
/// (shared_experts * tokens x hidden; pass an empty view when there are none).
template <class LY, class LS, class LO, executor Exec = serial>
void combine(const moe_dispatch_plan& p, const matrix_view<const float, LY>& ys, const matrix_view<const float, LS>& shared_out,
             const matrix_view<float, LO>& out, const Exec& exec = {}) {
  validate(ys, "combine: ys");
  validate(shared_out, "combine: shared_out");
  validate(out, "combine: out");
  const index_t T = p.tokens, H = out.cols(), k = p.k;
  if (out.rows() != T) throw error(errc::invalid_shape, "combine: out.rows() != the plan's tokens");
  if (ys.rows() != p.rows() || (ys.rows() > 0 && ys.cols() != H)) throw error(errc::invalid_shape, "combine: ys must be plan.rows() x out.cols()");
  const index_t S = (shared_out.rows() == 0) ? 0 : shared_out.rows() / std::max<index_t>(T, 1);
  if (shared_out.rows() != S * T || (S > 0 && shared_out.cols() != H))
    throw error(errc::invalid_shape, "combine: shared_out must be (shared experts * tokens) x out.cols()");
  if ((ys.col_stride() != 1 && H > 1) || (shared_out.col_stride() != 1 && H > 1 && S > 0) || (out.col_stride() != 1 && H > 1))
    throw error(errc::bad_stride, "combine: rows must be contiguous");
  if (overlaps(out, ys) || overlaps(out, shared_out)) throw error(errc::aliasing, "combine: out overlaps an input");
  if (T == 0 || H == 0) return;
  auto tokens = [&](index_t t0, index_t t1) {
    for (index_t t = t0; t < t1; ++t) {
      float* o = &out(t, 0);
      bool first = true;
      auto add = [&](const float* src) {
        if (first) std::memcpy(o, src, static_cast<std::size_t>(H) * sizeof(float));
        else
          for (index_t j = 0; j < H; ++j) o[j] += src[j];
        first = false;
      };
      for (index_t s = 0; s < k; ++s) {
        const index_t row = p.pair_row[static_cast<std::size_t>(t * k + s)];
        if (row >= 0) add(&ys(row, 0));
      }
      for (index_t j = 0; j < S; ++j) add(&shared_out(j * T + t, 0));
      if (first) std::fill(o, o + H, 0.0f);
    }
  };
  const index_t tasks = T * H * (k + S) < (1 << 16) ? 1 : std::min<index_t>(std::max(1, exec.num_threads()), T);
  if (tasks <= 1) tokens(0, T);
  else exec.parallel_for(tasks, [&](index_t t) { tokens(T * t / tasks, T * (t + 1) / tasks); });
}

PACT_NAMESPACE_END
