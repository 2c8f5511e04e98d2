#pragma once
// Dispatch: group the (token, slot) pairs of a routing by expert, then gather the token
// activations into expert-contiguous rows, so each expert's work is one dense GEMM.
//
//   plan_dispatch(routing, plan, capacity)   stable counting sort by expert:
//       offsets[e] .. offsets[e+1]  rows of expert e, in increasing (token, slot) order
//       row_token[r], row_slot[r], row_weight[r]  where row r came from
//       pair_row[t*k + s]           the row of (t, s), or -1 if capacity dropped it
//   gather_rows(plan, x, xs)        xs[r, :] = x[row_token[r], :]
//
// Capacity (Switch Transformer / GShard token dropping), off by default (dropless):
//   capacity = ceil(capacity_factor * tokens * k / experts). When an expert is asked for
//   more rows than that, pairs are admitted by PRIORITY: slot rank first (every token's
//   first choice before any second choice, as in GShard's top-2 gating), then token order.
//   Pairs beyond capacity are dropped: they get no expert compute and contribute nothing
//   to the output (the caller's residual connection carries the token), and are listed in
//   `dropped` in that priority order.
// The plan's arrays only grow: a reused plan allocates nothing once warm.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "pact/core/threading.hpp"
#include "pact/moe/route.hpp"

PACT_NAMESPACE_BEGIN

struct capacity_options {
  /// 0 = dropless (every pair is computed); > 0: per-expert capacity as above.
  double capacity_factor = 0;
};

struct dropped_pair {
  index_t token;
  index_t slot;
  friend bool operator==(const dropped_pair&, const dropped_pair&) = default;
};

struct moe_dispatch_plan {
  index_t tokens = 0, experts = 0, k = 0;
  index_t capacity = 0;                 ///< rows per expert allowed (tokens * k when dropless)
  std::vector<index_t> offsets;         ///< experts + 1
  std::vector<index_t> routed;          ///< experts: pairs routed to e before capacity (the load)
  std::vector<std::int32_t> row_token;  ///< rows
  std::vector<std::int32_t> row_slot;   ///< rows
  std::vector<float> row_weight;        ///< rows: routing weight of the row's pair
  std::vector<index_t> pair_row;        ///< tokens * k: row of (t, s) or -1 (dropped)
  std::vector<dropped_pair> dropped;    ///< dropped pairs in priority order
  std::vector<index_t> cursor;          ///< experts: scratch of the counting sort

  index_t rows() const noexcept { return offsets.empty() ? 0 : offsets[static_cast<std::size_t>(experts)]; }
  index_t rows_of(index_t e) const noexcept {
    return offsets[static_cast<std::size_t>(e + 1)] - offsets[static_cast<std::size_t>(e)];
  }
};

/// Builds the dispatch plan of a routing (see the file comment for capacity and order).
inline void plan_dispatch(const moe_routing& r, moe_dispatch_plan& p, const capacity_options& cap = {}) {
  if (!(cap.capacity_factor >= 0) || !std::isfinite(cap.capacity_factor))
    throw error(errc::invalid_argument, "plan_dispatch: capacity_factor must be finite and >= 0");
  const index_t T = r.tokens, E = r.experts, k = r.k;
  p.tokens = T;
  p.experts = E;
  p.k = k;
  const auto ue = static_cast<std::size_t>(E);
  p.offsets.assign(ue + 1, 0);
  p.routed.assign(ue, 0);
  p.cursor.assign(ue, 0);
  moe_detail::grow(p.pair_row, T * k);
  p.dropped.clear();
  for (index_t i = 0; i < T * k; ++i) {
    const std::int32_t e = r.expert[static_cast<std::size_t>(i)];
    if (e < 0 || e >= E) throw error(errc::invalid_data, "plan_dispatch: routing holds an expert index out of range");
    ++p.routed[static_cast<std::size_t>(e)];
  }
  if (cap.capacity_factor == 0) {
    p.capacity = T * k;
    for (index_t i = 0; i < T * k; ++i) p.pair_row[static_cast<std::size_t>(i)] = 0;  // kept
  } else {
    p.capacity = static_cast<index_t>(std::ceil(cap.capacity_factor * static_cast<double>(T * k) / static_cast<double>(E)));
    // Admission in priority order (slot rank, then token); cursor counts admitted rows.
    for (index_t s = 0; s < k; ++s)
      for (index_t t = 0; t < T; ++t) {
        const auto i = static_cast<std::size_t>(t * k + s);
        index_t& used = p.cursor[static_cast<std::size_t>(r.expert[i])];
        if (used < p.capacity) {
          ++used;
          p.pair_row[i] = 0;
        } else {
          p.pair_row[i] = -1;
          p.dropped.push_back({t, s});
        }
      }
  }
  // Counting sort: kept pairs per expert, prefix sums, then placement in (token, slot)
  // order, which makes the sort stable.
  std::fill(p.cursor.begin(), p.cursor.end(), 0);
  for (index_t i = 0; i < T * k; ++i)
    if (p.pair_row[static_cast<std::size_t>(i)] >= 0) ++p.cursor[static_cast<std::size_t>(r.expert[static_cast<std::size_t>(i)])];
  for (index_t e = 0; e < E; ++e) {
    const auto ie = static_cast<std::size_t>(e);
    p.offsets[ie + 1] = p.offsets[ie] + p.cursor[ie];
    p.cursor[ie] = p.offsets[ie];
  }
  const index_t rows = p.offsets[ue];
  moe_detail::grow(p.row_token, rows);
  moe_detail::grow(p.row_slot, rows);
  moe_detail::grow(p.row_weight, rows);
  for (index_t t = 0; t < T; ++t)
    for (index_t s = 0; s < k; ++s) {
      const auto i = static_cast<std::size_t>(t * k + s);
      if (p.pair_row[i] < 0) continue;
      const index_t row = p.cursor[static_cast<std::size_t>(r.expert[i])]++;
      p.pair_row[i] = row;
      p.row_token[static_cast<std::size_t>(row)] = static_cast<std::int32_t>(t);
      p.row_slot[static_cast<std::size_t>(row)] = static_cast<std::int32_t>(s);
      p.row_weight[static_cast<std::size_t>(row)] = r.weight[i];
    }
}

/// xs[r, :] = x[row_token[r], :] for every row of the plan. xs: (plan.rows() x hidden).
template <class LX, class LS, executor Exec = serial>
void gather_rows(const moe_dispatch_plan& p, const matrix_view<const float, LX>& x, const matrix_view<float, LS>& xs,
                 const Exec& exec = {}) {
  validate(x, "gather_rows: x");
  validate(xs, "gather_rows: xs");
  if (x.rows() != p.tokens) throw error(errc::invalid_shape, "gather_rows: x.rows() != the plan's tokens");
  if (xs.rows() != p.rows() || xs.cols() != x.cols()) throw error(errc::invalid_shape, "gather_rows: xs must be plan.rows() x x.cols()");
  if (overlaps(xs, x)) throw error(errc::aliasing, "gather_rows: xs overlaps x");
  const index_t rows = p.rows(), H = x.cols();
  if (rows == 0 || H == 0) return;
  const bool contiguous = x.col_stride() == 1 && xs.col_stride() == 1;
  auto copy_rows = [&](index_t r0, index_t r1) {
    for (index_t r = r0; r < r1; ++r) {
      const float* src = &x(p.row_token[static_cast<std::size_t>(r)], 0);
      float* dst = &xs(r, 0);
      if (contiguous) {
        std::memcpy(dst, src, static_cast<std::size_t>(H) * sizeof(float));
      } else {
        for (index_t j = 0; j < H; ++j) dst[j * xs.col_stride()] = src[j * x.col_stride()];
      }
    }
  };
  // A copy is bandwidth-bound: split only when there is real volume to share.
  const index_t tasks = rows * H < (1 << 16) ? 1 : std::min<index_t>(std::max(1, exec.num_threads()), rows);
  if (tasks <= 1) copy_rows(0, rows);
  else exec.parallel_for(tasks, [&](index_t t) { copy_rows(rows * t / tasks, rows * (t + 1) / tasks); });
}

PACT_NAMESPACE_END
