// The whole MoE layer (and the expert stage) against a float64 reference on every
// compiled arch: routing policies, weight formats and layouts, shared experts, capacity,
// edge cases, thread-count determinism, invalid arguments.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <set>

#include "moe/moe_reference.hpp"
#include "pact/moe.hpp"
#include "pact/types/bf16.hpp"
#include "support/arch_list.hpp"
#include "support/reference.hpp"

namespace ref = pact_test::moe_ref;
using pact::index_t;

namespace {
template <class F>
void expect_error(pact::errc code, F&& f) {
  try {
    f();
    ADD_FAILURE() << "expected pact::error " << pact::to_string(code);
  } catch (const pact::error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
  }
}

/// Random expert weights stored (in x out) row-major, plus the transposed (out x in)
/// PyTorch copies, and bf16-rounded copies of both.
struct expert_set {
  index_t E, H, F;
  std::vector<float> gate, up, down;           // E x H x F, E x H x F, E x F x H
  std::vector<float> gate_t, up_t, down_t;     // E x F x H, E x F x H, E x H x F
  expert_set(index_t e, index_t h, index_t f, std::uint32_t seed, bool bf16_exact = false) : E(e), H(h), F(f) {
    const double s = 1.0 / std::sqrt(static_cast<double>(std::max(h, f)));
    gate = pact_test::random_values<float>(static_cast<std::size_t>(E * H * F), seed, -2 * s, 2 * s);
    up = pact_test::random_values<float>(static_cast<std::size_t>(E * H * F), seed + 1, -2 * s, 2 * s);
    down = pact_test::random_values<float>(static_cast<std::size_t>(E * F * H), seed + 2, -2 * s, 2 * s);
    if (bf16_exact)
      for (auto* v : {&gate, &up, &down})
        for (auto& x : *v) x = static_cast<float>(pact::bf16(x));
    gate_t = transpose(gate, H, F);
    up_t = transpose(up, H, F);
    down_t = transpose(down, F, H);
  }
  std::vector<float> transpose(const std::vector<float>& m, index_t r, index_t c) const {
    std::vector<float> t(m.size());
    for (index_t e = 0; e < E; ++e)
      for (index_t i = 0; i < r; ++i)
        for (index_t j = 0; j < c; ++j) t[static_cast<std::size_t>(e * r * c + j * r + i)] = m[static_cast<std::size_t>(e * r * c + i * c + j)];
    return t;
  }
  std::vector<double> ffn(index_t e, const float* x) const {
    std::vector<double> xd(x, x + H);
    const auto at = [&](const std::vector<float>& m, index_t cols) {
      return [&m, cols, e, this](int i, int j) { return static_cast<double>(m[static_cast<std::size_t>(e * H * F + i * cols + j)]); };
    };
    return ref::expert_ffn(xd, static_cast<int>(H), static_cast<int>(F), at(gate, F), at(up, F), at(down, H));
  }
  template <class P>
  pact::expert_weight_views<float, pact::row_major, P> views() const {
    return pact::stacked_expert_views<float, pact::row_major, P>(gate.data(), up.data(), down.data(), E, H, F);
  }
  template <class P>
  pact::expert_weight_views<float, pact::col_major, P> torch_views() const {
    return pact::stacked_expert_views<float, pact::col_major, P>(gate_t.data(), up_t.data(), down_t.data(), E, H, F);
  }
};

/// out_ref[t] = sum over kept pairs (t, s) of weight * FFN_e(x_t) + sum_j shared_j(x_t).
std::vector<double> reference_layer(const pact::moe_routing& r, const std::vector<bool>& kept, const expert_set& ex,
                                    const expert_set* shared, const std::vector<float>& x) {
  const index_t T = r.tokens, H = ex.H;
  std::vector<double> out(static_cast<std::size_t>(T * H), 0.0);
  for (index_t t = 0; t < T; ++t) {
    for (index_t s = 0; s < r.k; ++s) {
      if (!kept[static_cast<std::size_t>(t * r.k + s)]) continue;
      const auto y = ex.ffn(r.expert_of(t, s), x.data() + t * H);
      for (index_t j = 0; j < H; ++j) out[static_cast<std::size_t>(t * H + j)] += r.weight_of(t, s) * y[static_cast<std::size_t>(j)];
    }
    if (shared != nullptr)
      for (index_t e = 0; e < shared->E; ++e) {
        const auto y = shared->ffn(e, x.data() + t * H);
        for (index_t j = 0; j < H; ++j) out[static_cast<std::size_t>(t * H + j)] += y[static_cast<std::size_t>(j)];
      }
  }
  return out;
}

void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  double scale = 1;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * scale) << what << " element " << i;
}

std::vector<bool> all_kept(const pact::moe_routing& r) { return std::vector<bool>(static_cast<std::size_t>(r.tokens * r.k), true); }
}  // namespace

template <class A>
class MoeLayerArch : public ::testing::Test {};
TYPED_TEST_SUITE(MoeLayerArch, pact_test::compiled_archs, pact_test::arch_name);

/// Every routing policy x weight format/layout x token count, against the reference.
TYPED_TEST(MoeLayerArch, MatchesReference) {
  using P = pact::tuning::default_gemm_policy<TypeParam, float>;
  const index_t H = 24, F = 40;  // not multiples of any vector width
  const expert_set ex16(16, H, F, 11);
  const expert_set shared(1, H, 2 * F, 21);
  const auto bias = pact_test::random_values<float>(16, 31, -0.2, 0.2);
  const auto gate_w = pact_test::random_values<float>(static_cast<std::size_t>(H * 16), 41);
  const auto views = ex16.views<P>();
  const auto torch = ex16.torch_views<P>();
  const pact::packed_expert_weights<P> packed(views);
  const auto shared_views = shared.views<P>();
  for (index_t T : {1, 3, 17, 70}) {
    const auto x = pact_test::random_values<float>(static_cast<std::size_t>(T * H), static_cast<std::uint32_t>(T));
    const auto xv = pact::make_row_major<const float>(x.data(), T, H);
    const auto gv = pact::make_row_major<const float>(gate_w.data(), H, 16);
    auto run = [&](const auto& policy, const auto& weights, bool with_shared, const std::string& what) {
      pact::moe_workspace ws;
      std::vector<float> out(static_cast<std::size_t>(T * H), std::numeric_limits<float>::quiet_NaN());
      pact::moe_options<pact::expert_weight_views<float, pact::row_major, P>> opt;
      opt.row_block = 16;
      if (with_shared) opt.shared = &shared_views;
      pact::moe_forward<P>(policy, gv, weights, xv, pact::make_row_major(out.data(), T, H), ws, opt);
      expect_close(out, reference_layer(ws.routing, all_kept(ws.routing), ex16, with_shared ? &shared : nullptr, x), 2e-5,
                   what + " T=" + std::to_string(T));
    };
    run(pact::softmax_topk{2}, views, false, "softmax_topk views");
    run(pact::softmax_topk{4, false}, torch, true, "softmax_topk torch layout + shared");
    run(pact::topk_softmax{3}, packed, false, "topk_softmax packed");
    run(pact::sigmoid_grouped_topk{4, 4, 2, 2.5f, bias}, packed, true, "sigmoid grouped packed + shared");
    run(pact::sigmoid_grouped_topk{1, 1, 1, 1.0f}, views, false, "k = 1");
    run(pact::softmax_topk{16}, torch, false, "k = experts");
  }
}

TYPED_TEST(MoeLayerArch, Bf16ExpertWeights) {
  using P = pact::tuning::default_gemm_policy<TypeParam, float>;
  const index_t T = 13, H = 20, F = 36, E = 8;
  const expert_set ex(E, H, F, 51, /*bf16_exact=*/true);
  std::vector<pact::bf16> g, u, d;
  for (float v : ex.gate_t) g.emplace_back(v);
  for (float v : ex.up_t) u.emplace_back(v);
  for (float v : ex.down_t) d.emplace_back(v);
  const auto w = pact::stacked_expert_views<pact::bf16, pact::col_major, P>(g.data(), u.data(), d.data(), E, H, F);
  EXPECT_EQ(w.expert_bytes(), static_cast<std::size_t>(3 * H * F * 2));
  const pact::packed_expert_weights<P> packed(w);
  const auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), 52, -2, 2);
  const auto x = pact_test::random_values<float>(static_cast<std::size_t>(T * H), 53);
  for (int variant = 0; variant < 2; ++variant) {
    pact::moe_workspace ws;
    std::vector<float> out(static_cast<std::size_t>(T * H));
    const auto lv = pact::make_row_major<const float>(logits.data(), T, E);
    const auto xv = pact::make_row_major<const float>(x.data(), T, H);
    if (variant == 0) pact::moe_forward_logits(pact::softmax_topk{2}, lv, w, xv, pact::make_row_major(out.data(), T, H), ws);
    else pact::moe_forward_logits(pact::softmax_topk{2}, lv, packed, xv, pact::make_row_major(out.data(), T, H), ws);
    expect_close(out, reference_layer(ws.routing, all_kept(ws.routing), ex, nullptr, x), 2e-5, variant ? "bf16 packed" : "bf16 views");
  }
}

TYPED_TEST(MoeLayerArch, AllTokensToOneExpertAndCapacityDropping) {
  using P = pact::tuning::default_gemm_policy<TypeParam, float>;
  const index_t T = 21, H = 17, F = 33, E = 8, k = 2;
  const expert_set ex(E, H, F, 61);
  const auto views = ex.views<P>();
  auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), 62, -1, 1);
  for (index_t t = 0; t < T; ++t) logits[static_cast<std::size_t>(t * E + 3)] = 8;  // expert 3 is everyone's first choice
  const auto x = pact_test::random_values<float>(static_cast<std::size_t>(T * H), 63);
  const auto lv = pact::make_row_major<const float>(logits.data(), T, E);
  const auto xv = pact::make_row_major<const float>(x.data(), T, H);
  for (double factor : {0.0, 0.5, 1.0, 2.0}) {
    pact::moe_workspace ws;
    pact::moe_options<> opt;
    opt.capacity.capacity_factor = factor;
    opt.row_block = 8;
    std::vector<float> out(static_cast<std::size_t>(T * H), std::numeric_limits<float>::quiet_NaN());
    pact::moe_forward_logits(pact::softmax_topk{k}, lv, views, xv, pact::make_row_major(out.data(), T, H), ws, opt);
    std::vector<bool> kept(static_cast<std::size_t>(T * k), true);
    for (const auto& d : ws.plan.dropped) kept[static_cast<std::size_t>(d.token * k + d.slot)] = false;
    if (factor > 0 && factor < 2) {
      EXPECT_FALSE(ws.plan.dropped.empty()) << factor;
    }
    if (factor == 0) {
      EXPECT_EQ(ws.plan.rows_of(3), T);
    }
    expect_close(out, reference_layer(ws.routing, kept, ex, nullptr, x), 2e-5, "capacity " + std::to_string(factor));
  }
}

TYPED_TEST(MoeLayerArch, IdenticalForEveryThreadCount) {
  using P = pact::tuning::default_gemm_policy<TypeParam, float>;
  const index_t H = 40, F = 72, E = 16;
  const expert_set ex(E, H, F, 71), shared(2, H, F, 72);
  const auto views = ex.torch_views<P>();
  const pact::packed_expert_weights<P> packed(views);
  const auto shared_views = shared.views<P>();
  const auto gate_w = pact_test::random_values<float>(static_cast<std::size_t>(H * E), 73);
  for (index_t T : {1, 2, 5, 150}) {  // sequential-expert schedule (few tasks) and task-parallel schedule
    const auto x = pact_test::random_values<float>(static_cast<std::size_t>(T * H), static_cast<std::uint32_t>(74 + T));
    std::vector<float> base;
    for (int threads : {1, 2, 3}) {
      pact::thread_pool pool(threads);
      for (int w = 0; w < 2; ++w) {
        pact::moe_workspace ws;
        pact::moe_options<pact::expert_weight_views<float, pact::row_major, P>> opt;
        opt.shared = &shared_views;
        opt.row_block = 24;
        std::vector<float> out(static_cast<std::size_t>(T * H));
        const auto gv = pact::make_row_major<const float>(gate_w.data(), H, E);
        const auto xv = pact::make_row_major<const float>(x.data(), T, H);
        if (w == 0) pact::moe_forward<P>(pact::sigmoid_grouped_topk{4, 4, 2, 2.5f}, gv, views, xv, pact::make_row_major(out.data(), T, H), ws, opt, pool);
        else pact::moe_forward<P>(pact::sigmoid_grouped_topk{4, 4, 2, 2.5f}, gv, packed, xv, pact::make_row_major(out.data(), T, H), ws, opt, pool);
        if (w == 0 && threads == 1) {
          base = out;
          expect_close(out, reference_layer(ws.routing, all_kept(ws.routing), ex, &shared, x), 2e-5, "threads");
        } else if (w == 0) {
          EXPECT_EQ(out, base) << "T=" << T << " threads=" << threads;
        } else {
          expect_close(out, reference_layer(ws.routing, all_kept(ws.routing), ex, &shared, x), 2e-5, "packed threads");
        }
      }
    }
  }
}

namespace {
/// An expert_weights model that records which experts were multiplied: a user-defined
/// weight format plugs into the layer, and decode touches only the selected experts.
template <class Inner>
struct recording_weights {
  const Inner* inner;
  mutable std::vector<std::atomic<int>>* calls;
  index_t num_experts() const { return inner->num_experts(); }
  index_t hidden() const { return inner->hidden(); }
  index_t ffn() const { return inner->ffn(); }
  std::size_t expert_bytes() const { return inner->expert_bytes(); }
  template <class LA, class LC, class Ep, class Exec>
  void multiply(pact::expert_proj p, index_t e, const pact::matrix_view<const float, LA>& a, const pact::matrix_view<float, LC>& c,
                const Ep& ep, const Exec& exec) const {
    ++(*calls)[static_cast<std::size_t>(e)];
    inner->multiply(p, e, a, c, ep, exec);
  }
};
}  // namespace

TYPED_TEST(MoeLayerArch, DecodeTouchesOnlySelectedExperts) {
  using P = pact::tuning::default_gemm_policy<TypeParam, float>;
  const index_t H = 24, F = 40, E = 16, k = 4;
  const expert_set ex(E, H, F, 81);
  const auto views = ex.views<P>();
  std::vector<std::atomic<int>> calls(E);
  const recording_weights<decltype(views)> rec{&views, &calls};
  static_assert(pact::expert_weights<decltype(rec)>);
  const auto logits = pact_test::random_values<float>(E, 82, -2, 2);
  const auto x = pact_test::random_values<float>(H, 83);
  pact::moe_workspace ws;
  std::vector<float> out(H);
  pact::thread_pool pool(2);
  pact::moe_forward_logits(pact::softmax_topk{k}, pact::make_row_major<const float>(logits.data(), 1, E), rec,
                           pact::make_row_major<const float>(x.data(), 1, H), pact::make_row_major(out.data(), 1, H), ws, {}, pool);
  std::set<int> chosen;
  for (index_t s = 0; s < k; ++s) chosen.insert(ws.routing.expert_of(0, s));
  for (index_t e = 0; e < E; ++e) EXPECT_EQ(calls[static_cast<std::size_t>(e)].load(), chosen.count(static_cast<int>(e)) ? 3 : 0) << e;
  expect_close(out, reference_layer(ws.routing, all_kept(ws.routing), ex, nullptr, x), 2e-5, "decode");
}

TYPED_TEST(MoeLayerArch, StagesComposeToTheLayer) {
  using P = pact::tuning::default_gemm_policy<TypeParam, float>;
  const index_t T = 33, H = 24, F = 40, E = 8;
  const expert_set ex(E, H, F, 91);
  const auto views = ex.views<P>();
  const auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), 92, -2, 2);
  const auto x = pact_test::random_values<float>(static_cast<std::size_t>(T * H), 93);
  const auto lv = pact::make_row_major<const float>(logits.data(), T, E);
  const auto xv = pact::make_row_major<const float>(x.data(), T, H);
  pact::moe_workspace ws;
  std::vector<float> layer(static_cast<std::size_t>(T * H));
  pact::moe_forward_logits(pact::topk_softmax{2}, lv, views, xv, pact::make_row_major(layer.data(), T, H), ws);
  // The same by hand, stage by stage.
  pact::moe_routing r;
  pact::route(pact::topk_softmax{2}, lv, r);
  pact::moe_dispatch_plan plan;
  pact::plan_dispatch(r, plan);
  std::vector<float> xs(static_cast<std::size_t>(plan.rows() * H)), ys(xs.size(), std::numeric_limits<float>::quiet_NaN()),
      out(static_cast<std::size_t>(T * H));
  pact::gather_rows(plan, xv, pact::make_row_major(xs.data(), plan.rows(), H));
  pact::run_experts(views, plan, pact::make_row_major<const float>(xs.data(), plan.rows(), H), pact::make_row_major(ys.data(), plan.rows(), H));
  for (index_t row = 0; row < plan.rows(); ++row) {  // ys rows: weight * FFN of the row's expert
    const index_t t = plan.row_token[static_cast<std::size_t>(row)];
    index_t e = 0;
    while (plan.offsets[static_cast<std::size_t>(e + 1)] <= row) ++e;
    const auto y = ex.ffn(e, x.data() + t * H);
    for (index_t j = 0; j < H; ++j)
      ASSERT_NEAR(ys[static_cast<std::size_t>(row * H + j)], plan.row_weight[static_cast<std::size_t>(row)] * y[static_cast<std::size_t>(j)], 1e-5);
  }
  pact::combine(plan, pact::make_row_major<const float>(ys.data(), plan.rows(), H), pact::make_row_major<const float>(nullptr, 0, H),
                pact::make_row_major(out.data(), T, H));
  EXPECT_EQ(out, layer);
  EXPECT_GE(ws.times.route, 0.0);
  EXPECT_GT(ws.times.total(), 0.0);
}

TEST(MoeLayer, ZeroTokens) {
  const expert_set ex(4, 8, 8, 101);
  const auto views = ex.views<void>();
  pact::moe_workspace ws;
  std::vector<float> gate(8 * 4, 0.5f);
  pact::moe_forward(pact::softmax_topk{2}, pact::make_row_major<const float>(gate.data(), 8, 4), views,
                    pact::make_row_major<const float>(nullptr, 0, 8), pact::make_row_major<float>(nullptr, 0, 8), ws);
  EXPECT_EQ(ws.plan.rows(), 0);
}

TEST(MoeLayer, InvalidArguments) {
  const index_t T = 4, H = 8, F = 8, E = 4;
  const expert_set ex(E, H, F, 111), other(E, H + 1, F, 112), wrong_count(E + 1, H, F, 113);
  const auto views = ex.views<void>();
  const auto other_views = other.views<void>();
  std::vector<float> x(T * H, 0.5f), out(T * H), gate(H * E, 0.1f), logits(T * E, 0.1f);
  const auto xv = pact::make_row_major<const float>(x.data(), T, H);
  const auto ov = pact::make_row_major(out.data(), T, H);
  const auto gv = pact::make_row_major<const float>(gate.data(), H, E);
  pact::moe_workspace ws;
  expect_error(pact::errc::invalid_shape, [&] { pact::moe_forward(pact::softmax_topk{2}, gv, other_views, xv, ov, ws); });
  expect_error(pact::errc::invalid_shape, [&] {
    pact::moe_forward(pact::softmax_topk{2}, gv, views, xv, pact::make_row_major(out.data(), T - 1, H), ws);
  });
  expect_error(pact::errc::aliasing, [&] {
    pact::moe_forward(pact::softmax_topk{2}, gv, views, xv, pact::make_row_major(x.data(), T, H), ws);
  });
  expect_error(pact::errc::invalid_shape, [&] {
    pact::moe_forward(pact::softmax_topk{2}, pact::make_row_major<const float>(gate.data(), H, E - 1), views, xv, ov, ws);
  });
  expect_error(pact::errc::invalid_argument, [&] { pact::moe_forward(pact::softmax_topk{E + 1}, gv, views, xv, ov, ws); });
  expect_error(pact::errc::invalid_shape, [&] {
    pact::moe_forward_logits(pact::softmax_topk{2}, pact::make_row_major<const float>(logits.data(), T - 1, E), views, xv, ov, ws);
  });
  pact::moe_options<> bad_block;
  bad_block.row_block = 0;
  expect_error(pact::errc::invalid_argument, [&] { pact::moe_forward(pact::softmax_topk{2}, gv, views, xv, ov, ws, bad_block); });
  pact::moe_options<pact::expert_weight_views<float>> bad_shared;
  bad_shared.shared = &other_views;
  expect_error(pact::errc::invalid_shape, [&] { pact::moe_forward(pact::softmax_topk{2}, gv, views, xv, ov, ws, bad_shared); });
  // The expert stage on its own: a plan for another expert count, wrong xs/ys shapes.
  pact::moe_forward(pact::softmax_topk{2}, gv, views, xv, ov, ws);
  const auto wc = wrong_count.views<void>();
  std::vector<float> xs(static_cast<std::size_t>(ws.plan.rows() * H)), ys(xs.size());
  const auto xsv = pact::make_row_major<const float>(xs.data(), ws.plan.rows(), H);
  const auto ysv = pact::make_row_major(ys.data(), ws.plan.rows(), H);
  expect_error(pact::errc::invalid_shape, [&] { pact::run_experts(wc, ws.plan, xsv, ysv); });
  expect_error(pact::errc::invalid_shape, [&] {
    pact::run_experts(views, ws.plan, pact::make_row_major<const float>(xs.data(), ws.plan.rows() - 1, H), ysv);
  });
  expect_error(pact::errc::aliasing, [&] { pact::run_experts(views, ws.plan, xsv, pact::make_row_major(xs.data(), ws.plan.rows(), H)); });
  // Expert matrices of inconsistent shapes.
  std::vector<pact::matrix_view<const float>> g{pact::make_row_major<const float>(ex.gate.data(), H, F)},
      u{pact::make_row_major<const float>(ex.up.data(), H, F + 1)}, d{pact::make_row_major<const float>(ex.down.data(), F, H)};
  expect_error(pact::errc::invalid_shape, [&] { pact::expert_weight_views<float> w(g, u, d); });
  expect_error(pact::errc::invalid_shape, [&] { pact::expert_weight_views<float> w(g, {}, d); });
  pact::packed_expert_weights<> packed;
  packed.add_expert(g[0], g[0], d[0]);
  EXPECT_EQ(packed.num_experts(), 1);
  expect_error(pact::errc::invalid_shape, [&] { packed.add_expert(g[0], u[0], d[0]); });
  expect_error(pact::errc::invalid_shape, [&] { packed.add_expert(g[0], g[0], u[0]); });
}
