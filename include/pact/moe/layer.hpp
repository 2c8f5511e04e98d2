#pragma once
// The whole MoE layer in one call:
//   router -> dispatch (plan + gather) -> routed experts (+ shared experts) -> combine
//
//   pact::moe_workspace ws;                                  // reuse across calls
//   pact::moe_forward(pact::softmax_topk{2}, gate_w, experts, x, out, ws, {}, pool);
//   pact::moe_forward(pact::sigmoid_grouped_topk{8, 8, 4, 2.5f, bias}, gate_w, experts,
//                     x, out, ws, {.shared = &shared_experts}, pool);
//
// Each stage is public on its own (route / route_hidden, plan_dispatch, gather_rows,
// run_experts, run_shared_experts, combine); moe_forward only chains them with the
// workspace's buffers and records each stage's wall time in ws.times.
#include <chrono>

#include "pact/moe/combine.hpp"
#include "pact/moe/dispatch.hpp"
#include "pact/moe/expert_ffn.hpp"
#include "pact/moe/route.hpp"

PACT_NAMESPACE_BEGIN

/// Wall time of each stage of the last moe_forward call, in seconds.
struct moe_stage_times {
  double route = 0, dispatch = 0, experts = 0, combine = 0;
  double total() const noexcept { return route + dispatch + experts + combine; }
};

/// Everything moe_forward needs between calls; it only grows.
struct moe_workspace {
  moe_routing routing;
  moe_dispatch_plan plan;
  aligned_buffer<float> xs, ys, shared_out;
  moe_stage_times times;
};

/// No shared experts (the default of moe_options::shared).
struct no_shared_experts {
  index_t num_experts() const noexcept { return 0; }
  index_t hidden() const noexcept { return 0; }
  index_t ffn() const noexcept { return 0; }
  std::size_t expert_bytes() const noexcept { return 0; }
  template <class LA, class LC, class Ep, class Exec>
  void multiply(expert_proj, index_t, const matrix_view<const float, LA>&, const matrix_view<float, LC>&, const Ep&,
                const Exec&) const {}
};

template <class Shared = no_shared_experts>
struct moe_options {
  capacity_options capacity = {};
  index_t row_block = 128;          ///< max rows per expert task (intermediates: 2 x row_block x ffn per thread)
  const Shared* shared = nullptr;   ///< shared (always active) experts, or none
};

namespace moe_detail {
using clock = std::chrono::steady_clock;
inline double seconds_since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

/// Stages after routing (shared by both entry points).
template <expert_weights W, class Shared, class LX, class LO, class Exec>
void forward_after_routing(const W& experts, const matrix_view<const float, LX>& x, const matrix_view<float, LO>& out,
                           moe_workspace& ws, const moe_options<Shared>& opt, const Exec& exec) {
  const index_t T = x.rows(), H = x.cols();
  auto t0 = clock::now();
  plan_dispatch(ws.routing, ws.plan, opt.capacity);
  const index_t rows = ws.plan.rows();
  ws.xs.reserve_discard(static_cast<std::size_t>(std::max<index_t>(rows * H, 1)));
  ws.ys.reserve_discard(static_cast<std::size_t>(std::max<index_t>(rows * H, 1)));
  const auto xs = make_row_major(ws.xs.data(), rows, H);
  const auto ys = make_row_major(ws.ys.data(), rows, H);
  gather_rows(ws.plan, x, xs, exec);
  ws.times.dispatch = seconds_since(t0);

  t0 = clock::now();
  run_experts(experts, ws.plan, matrix_view<const float, row_major>(xs), ys, opt.row_block, exec);
  index_t S = 0;
  if (opt.shared != nullptr && opt.shared->num_experts() > 0) {
    if (opt.shared->hidden() != H) throw error(errc::invalid_shape, "moe_forward: shared experts' hidden size differs from x");
    S = opt.shared->num_experts();
    ws.shared_out.reserve_discard(static_cast<std::size_t>(std::max<index_t>(S * T * H, 1)));
    run_shared_experts(*opt.shared, x, make_row_major(ws.shared_out.data(), S * T, H), opt.row_block, exec);
  }
  ws.times.experts = seconds_since(t0);

  t0 = clock::now();
  combine(ws.plan, matrix_view<const float, row_major>(ys),
          make_row_major<const float>(S > 0 ? ws.shared_out.data() : nullptr, S * T, H), out, exec);
  ws.times.combine = seconds_since(t0);
}

template <expert_weights W, class LX, class LO>
void require_layer_views(const W& experts, const matrix_view<const float, LX>& x, const matrix_view<float, LO>& out) {
  validate(x, "moe_forward: x");
  validate(out, "moe_forward: out");
  if (x.cols() != experts.hidden()) throw error(errc::invalid_shape, "moe_forward: x.cols() != the experts' hidden size");
  if (out.rows() != x.rows() || out.cols() != x.cols()) throw error(errc::invalid_shape, "moe_forward: out must have x's shape");
  if (x.col_stride() != 1 && x.cols() > 1) throw error(errc::bad_stride, "moe_forward: x rows must be contiguous");
  if (overlaps(out, x)) throw error(errc::aliasing, "moe_forward: out overlaps x");
}
}  // namespace moe_detail

/// out = MoE(x): router logits = x * gate_weight (hidden x experts, any layout, pact::gemm
/// with GemmPolicy), routed by `policy`, experts from `experts`, optional shared experts
/// and capacity in `opt`. x, out: tokens x hidden f32.
template <class GemmPolicy = void, routing_policy R, class TG, class LG, expert_weights W, class LX, class LO,
          class Shared = no_shared_experts, executor Exec = serial>
void moe_forward(const R& policy, const matrix_view<TG, LG>& gate_weight, const W& experts,
                 const matrix_view<const float, LX>& x, const matrix_view<float, LO>& out, moe_workspace& ws,
                 const moe_options<Shared>& opt = {}, const Exec& exec = {}) {
  static_assert(expert_weights<Shared>, "moe_forward: moe_options::shared must point to an expert_weights type");
  moe_detail::require_layer_views(experts, x, out);
  if (gate_weight.cols() != experts.num_experts())
    throw error(errc::invalid_shape, "moe_forward: gate_weight.cols() != number of experts");
  const auto t0 = moe_detail::clock::now();
  route_hidden<GemmPolicy>(policy, x, gate_weight, ws.routing, exec);
  ws.times.route = moe_detail::seconds_since(t0);
  moe_detail::forward_after_routing(experts, x, out, ws, opt, exec);
}

/// The same layer from router logits the caller computed (tokens x experts).
template <routing_policy R, class LL, expert_weights W, class LX, class LO, class Shared = no_shared_experts,
          executor Exec = serial>
void moe_forward_logits(const R& policy, const matrix_view<const float, LL>& logits, const W& experts,
                        const matrix_view<const float, LX>& x, const matrix_view<float, LO>& out, moe_workspace& ws,
                        const moe_options<Shared>& opt = {}, const Exec& exec = {}) {
  static_assert(expert_weights<Shared>, "moe_forward_logits: moe_options::shared must point to an expert_weights type");
  moe_detail::require_layer_views(experts, x, out);
  if (logits.rows() != x.rows() || logits.cols() != experts.num_experts())
    throw error(errc::invalid_shape, "moe_forward_logits: logits must be tokens x experts");
  const auto t0 = moe_detail::clock::now();
  route(policy, logits, ws.routing, exec);
  ws.times.route = moe_detail::seconds_since(t0);
  moe_detail::forward_after_routing(experts, x, out, ws, opt, exec);
}

PACT_NAMESPACE_END
