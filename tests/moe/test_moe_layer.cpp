// The whole MoE layer (and each stage) against a float64 reference on every compiled
// arch: routing policies, weight layouts, pre-packed weights, shared experts, capacity,
// edge cases, invalid arguments. Threads and bf16: test_moe_layer_threads.cpp.
#include "moe/layer_reference.hpp"

using namespace pact_test::moe_layer;

template <class A>
class MoeLayerArch : public ::testing::Test {};
TYPED_TEST_SUITE(MoeLayerArch, pact_test::float_archs, pact_test::arch_name);

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

