// The MoE layer with thread pools on every compiled arch: bitwise identical results for
// 1, 2, 3 threads (both expert schedules), decode touching only the selected experts;
// bf16 expert weights (native arch: the bf16 conversion itself is tested per arch by the
// GEMM tests).
#include <atomic>
#include <set>

#include "moe/layer_reference.hpp"

using namespace pact_test::moe_layer;

template <class A>
class MoeLayerThreadsArch : public ::testing::Test {};
TYPED_TEST_SUITE(MoeLayerThreadsArch, pact_test::float_archs, pact_test::arch_name);

TYPED_TEST(MoeLayerThreadsArch, IdenticalForEveryThreadCount) {
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

TYPED_TEST(MoeLayerThreadsArch, DecodeTouchesOnlySelectedExperts) {
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

TEST(MoeLayer, Bf16ExpertWeights) {
  using P = void;
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
