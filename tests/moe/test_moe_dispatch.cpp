// Dispatch plan (stable counting sort, capacity dropping), gather, combine, statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "pact/moe.hpp"
#include "support/reference.hpp"
#include "support/expect_error.hpp"

using pact::index_t;

namespace {
using pact_test::expect_error;
/// A routing with given expert ids (tokens x k) and weights 1 + t + s/10.
pact::moe_routing make_routing(index_t T, index_t E, index_t k, const std::vector<int>& ids) {
  pact::moe_routing r;
  r.tokens = T;
  r.experts = E;
  r.k = k;
  r.expert.assign(ids.begin(), ids.end());
  for (index_t t = 0; t < T; ++t)
    for (index_t s = 0; s < k; ++s) r.weight.push_back(1.0f + static_cast<float>(t) + 0.1f * static_cast<float>(s));
  r.probs.assign(static_cast<std::size_t>(T * E), 1.0f / static_cast<float>(E));
  return r;
}

/// The plan written plainly: kept pairs in (token, slot) order, grouped by expert.
void expect_plan_consistent(const pact::moe_routing& r, const pact::moe_dispatch_plan& p, const std::vector<bool>& kept) {
  index_t rows = 0;
  for (index_t e = 0; e < r.experts; ++e) {
    ASSERT_EQ(p.offsets[static_cast<std::size_t>(e)], rows);
    for (index_t t = 0; t < r.tokens; ++t)
      for (index_t s = 0; s < r.k; ++s) {
        const auto i = static_cast<std::size_t>(t * r.k + s);
        if (r.expert[i] != e || !kept[i]) continue;
        ASSERT_EQ(p.pair_row[i], rows);
        ASSERT_EQ(p.row_token[static_cast<std::size_t>(rows)], t);
        ASSERT_EQ(p.row_slot[static_cast<std::size_t>(rows)], s);
        ASSERT_EQ(p.row_weight[static_cast<std::size_t>(rows)], r.weight[i]);
        ++rows;
      }
  }
  EXPECT_EQ(p.rows(), rows);
  for (std::size_t i = 0; i < kept.size(); ++i)
    if (!kept[i]) {
      EXPECT_EQ(p.pair_row[i], -1);
    }
}
}  // namespace

TEST(MoeDispatch, StableCountingSortMatchesPlainGrouping) {
  for (index_t E : {1, 2, 7, 64})
    for (index_t k : {index_t{1}, index_t{2}, E}) {
      if (k > E) continue;
      const index_t T = 53;
      const auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), static_cast<std::uint32_t>(E + k), -2, 2);
      pact::moe_routing r;
      pact::route(pact::softmax_topk{k}, pact::make_row_major<const float>(logits.data(), T, E), r);
      pact::moe_dispatch_plan p;
      pact::plan_dispatch(r, p);
      expect_plan_consistent(r, p, std::vector<bool>(static_cast<std::size_t>(T * k), true));
      EXPECT_TRUE(p.dropped.empty());
      for (index_t e = 0; e < E; ++e) EXPECT_EQ(p.routed[static_cast<std::size_t>(e)], p.rows_of(e));
    }
}

TEST(MoeDispatch, ZeroTokenExpertsAndAllTokensToOneExpert) {
  const index_t T = 9, E = 6;
  pact::moe_dispatch_plan p;
  auto r = make_routing(T, E, 1, std::vector<int>(9, 4));
  pact::plan_dispatch(r, p);
  for (index_t e = 0; e < E; ++e) EXPECT_EQ(p.rows_of(e), e == 4 ? T : 0);
  expect_plan_consistent(r, p, std::vector<bool>(9, true));
  // The same plan object reused for a different routing (workspace reuse).
  r = make_routing(3, E, 2, {5, 0, 0, 5, 2, 5});
  pact::plan_dispatch(r, p);
  EXPECT_EQ(p.rows(), 6);
  EXPECT_EQ(p.rows_of(0), 2);
  EXPECT_EQ(p.rows_of(1), 0);
  EXPECT_EQ(p.rows_of(5), 3);
  expect_plan_consistent(r, p, std::vector<bool>(6, true));
}

TEST(MoeDispatch, CapacityDropsBySlotRankThenTokenOrder) {
  // 4 tokens, k = 2, 2 experts; factor 0.5 -> capacity ceil(0.5 * 8 / 2) = 2 per expert.
  // Slot 0 choices: t0->0, t1->0, t2->0, t3->1; slot 1: t0->1, t1->1, t2->1, t3->0.
  // Admission (slot 0 first, then tokens): e0 gets t0s0, t1s0; t2s0 dropped; e1 gets t3s0,
  // then t0s1; t1s1, t2s1 dropped (e1 full), t3s1 dropped (e0 full).
  auto r = make_routing(4, 2, 2, {0, 1, 0, 1, 0, 1, 1, 0});
  pact::moe_dispatch_plan p;
  pact::plan_dispatch(r, p, {0.5});
  EXPECT_EQ(p.capacity, 2);
  const std::vector<pact::dropped_pair> want{{2, 0}, {1, 1}, {2, 1}, {3, 1}};
  EXPECT_EQ(p.dropped, want);
  expect_plan_consistent(r, p, {true, true, true, false, false, false, true, false});
  EXPECT_EQ(p.routed[0], 4);  // load counts routed pairs, before dropping
  EXPECT_EQ(p.routed[1], 4);
  // A large factor drops nothing; capacity factor 1 with perfect balance drops nothing.
  pact::plan_dispatch(r, p, {10.0});
  EXPECT_TRUE(p.dropped.empty());
  r = make_routing(4, 2, 1, {0, 1, 1, 0});
  pact::plan_dispatch(r, p, {1.0});
  EXPECT_TRUE(p.dropped.empty());
  EXPECT_EQ(p.capacity, 2);
}

TEST(MoeDispatch, CapacityMatchesPlainPriorityRule) {
  const index_t T = 61, E = 8, k = 3;
  const auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), 3, -2, 2);
  std::vector<float> skewed = logits;
  for (index_t t = 0; t < T; ++t) skewed[static_cast<std::size_t>(t * E + 2)] += 3;  // overload expert 2
  pact::moe_routing r;
  pact::route(pact::softmax_topk{k}, pact::make_row_major<const float>(skewed.data(), T, E), r);
  for (double factor : {0.25, 0.8, 1.0, 1.25}) {
    pact::moe_dispatch_plan p;
    pact::plan_dispatch(r, p, {factor});
    const auto cap = static_cast<index_t>(std::ceil(factor * T * k / E));
    EXPECT_EQ(p.capacity, cap);
    std::vector<index_t> used(E, 0);
    std::vector<bool> kept(static_cast<std::size_t>(T * k));
    std::vector<pact::dropped_pair> dropped;
    for (index_t s = 0; s < k; ++s)
      for (index_t t = 0; t < T; ++t) {
        const auto i = static_cast<std::size_t>(t * k + s);
        kept[i] = used[static_cast<std::size_t>(r.expert[i])]++ < cap;
        if (!kept[i]) dropped.push_back({t, s});
      }
    EXPECT_EQ(p.dropped, dropped) << factor;
    EXPECT_FALSE(dropped.empty()) << factor;
    expect_plan_consistent(r, p, kept);
  }
}

TEST(MoeDispatch, GatherCopiesTokenRows) {
  const index_t T = 11, E = 5, k = 2, H = 19;
  const auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), 4);
  const auto x = pact_test::random_values<float>(static_cast<std::size_t>(T * (H + 3)), 5);
  pact::moe_routing r;
  pact::route(pact::softmax_topk{k}, pact::make_row_major<const float>(logits.data(), T, E), r);
  pact::moe_dispatch_plan p;
  pact::plan_dispatch(r, p);
  for (int threads : {1, 2, 3}) {
    pact::thread_pool pool(threads);
    std::vector<float> xs(static_cast<std::size_t>(p.rows() * H), std::numeric_limits<float>::quiet_NaN());
    pact::gather_rows(p, pact::make_row_major<const float>(x.data(), T, H, H + 3), pact::make_row_major(xs.data(), p.rows(), H), pool);
    for (index_t row = 0; row < p.rows(); ++row)
      for (index_t j = 0; j < H; ++j)
        ASSERT_EQ(xs[static_cast<std::size_t>(row * H + j)], x[static_cast<std::size_t>(p.row_token[static_cast<std::size_t>(row)] * (H + 3) + j)]);
  }
}

TEST(MoeCombine, SumsSlotsInOrderPlusSharedAndZerosForDroppedTokens) {
  // 3 tokens, k = 2, 2 experts, capacity 1 per expert (factor 1/3 -> ceil(1/3*6/2) = 1).
  // slot 0: t0->0, t1->1, t2->0 ; slot 1: t0->1, t1->0, t2->1
  // admitted: t0s0 (e0), t1s0 (e1); everything else dropped -> t2 has no rows.
  auto r = make_routing(3, 2, 2, {0, 1, 1, 0, 0, 1});
  pact::moe_dispatch_plan p;
  pact::plan_dispatch(r, p, {1.0 / 3.0});
  ASSERT_EQ(p.rows(), 2);
  const index_t H = 3;
  std::vector<float> ys{1, 2, 3, 10, 20, 30};  // row 0 = e0 (t0), row 1 = e1 (t1)
  std::vector<float> out(9, std::numeric_limits<float>::quiet_NaN());
  pact::combine(p, pact::make_row_major<const float>(ys.data(), 2, H), pact::make_row_major<const float>(nullptr, 0, H),
                pact::make_row_major(out.data(), 3, H));
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, 10, 20, 30, 0, 0, 0}));
  std::vector<float> shared(2 * 3 * H);
  for (std::size_t i = 0; i < shared.size(); ++i) shared[i] = static_cast<float>(100 * (i + 1));
  pact::combine(p, pact::make_row_major<const float>(ys.data(), 2, H), pact::make_row_major<const float>(shared.data(), 6, H),
                pact::make_row_major(out.data(), 3, H));
  for (index_t t = 0; t < 3; ++t)
    for (index_t j = 0; j < H; ++j) {
      const float routed = t == 0 ? ys[static_cast<std::size_t>(j)] : t == 1 ? ys[static_cast<std::size_t>(3 + j)] : 0.0f;
      EXPECT_EQ(out[static_cast<std::size_t>(t * H + j)],
                routed + shared[static_cast<std::size_t>(t * H + j)] + shared[static_cast<std::size_t>((3 + t) * H + j)]);
    }
}

TEST(MoeStatistics, CountsMeanProbabilityAndSwitchLoss) {
  const index_t T = 40, E = 8, k = 2;
  const auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), 6, -2, 2);
  pact::moe_routing r;
  pact::route(pact::softmax_topk{k}, pact::make_row_major<const float>(logits.data(), T, E), r);
  pact::moe_load_stats s;
  pact::compute_load_stats(r, s);
  std::vector<index_t> counts(E, 0);
  std::vector<double> mean(E, 0.0);
  for (index_t t = 0; t < T; ++t) {
    for (index_t j = 0; j < k; ++j) ++counts[static_cast<std::size_t>(r.expert_of(t, j))];
    double m = -1e300;
    for (index_t e = 0; e < E; ++e) m = std::max(m, static_cast<double>(logits[static_cast<std::size_t>(t * E + e)]));
    double sum = 0;
    for (index_t e = 0; e < E; ++e) sum += std::exp(logits[static_cast<std::size_t>(t * E + e)] - m);
    for (index_t e = 0; e < E; ++e) mean[static_cast<std::size_t>(e)] += std::exp(logits[static_cast<std::size_t>(t * E + e)] - m) / sum / T;
  }
  EXPECT_EQ(s.tokens_per_expert, counts);
  double loss = 0;
  for (index_t e = 0; e < E; ++e) {
    EXPECT_NEAR(s.mean_probability[static_cast<std::size_t>(e)], mean[static_cast<std::size_t>(e)], 1e-6);
    loss += static_cast<double>(counts[static_cast<std::size_t>(e)]) / (T * k) * mean[static_cast<std::size_t>(e)];
  }
  EXPECT_NEAR(s.aux_loss, E * loss, 1e-5);
  // Perfect balance with uniform probabilities gives exactly 1; all load on one expert with
  // all probability on it gives E.
  std::vector<index_t> even(E, 5);
  std::vector<double> uniform(E, 1.0 / E), one_hot(E, 0.0);
  EXPECT_DOUBLE_EQ(pact::switch_aux_loss(even, uniform), 1.0);
  std::vector<index_t> skew(E, 0);
  skew[3] = 10;
  one_hot[3] = 1;
  EXPECT_DOUBLE_EQ(pact::switch_aux_loss(skew, one_hot), static_cast<double>(E));
  // Dropped pairs are reported through the plan.
  pact::moe_dispatch_plan p;
  pact::plan_dispatch(r, p, {0.5});
  pact::compute_load_stats(r, s, &p);
  EXPECT_EQ(s.dropped, static_cast<index_t>(p.dropped.size()));
  EXPECT_GT(s.dropped, 0);
}

TEST(MoeStatistics, AuxLossFreeBiasUpdate) {
  std::vector<float> bias{0.0f, 0.5f, -0.25f, 1.0f};
  const std::vector<index_t> load{10, 2, 4, 4};  // mean 5
  pact::update_expert_bias(bias, load, 0.125f);
  EXPECT_EQ(bias, (std::vector<float>{-0.125f, 0.625f, -0.125f, 1.125f}));
  const std::vector<index_t> balanced{3, 3, 3, 3};
  pact::update_expert_bias(bias, balanced, 0.125f);  // sign(0) = 0: unchanged
  EXPECT_EQ(bias, (std::vector<float>{-0.125f, 0.625f, -0.125f, 1.125f}));
  // Routing with the updated bias moves tokens from the overloaded expert.
  expect_error(pact::errc::invalid_shape, [&] { pact::update_expert_bias(bias, std::vector<index_t>(3, 1), 0.1f); });
  expect_error(pact::errc::invalid_argument, [&] { pact::update_expert_bias(bias, load, std::numeric_limits<float>::infinity()); });
}

TEST(MoeStatistics, BiasUpdateBalancesLoadOverSteps) {
  // Expert 0 is favoured by the logits; a few bias steps spread the load.
  const index_t T = 256, E = 8, k = 2;
  auto logits = pact_test::random_values<float>(static_cast<std::size_t>(T * E), 12, -1, 1);
  for (index_t t = 0; t < T; ++t) logits[static_cast<std::size_t>(t * E)] += 1.5f;
  std::vector<float> bias(E, 0.0f);
  pact::moe_routing r;
  pact::moe_load_stats s;
  auto spread = [&] {
    pact::route(pact::sigmoid_grouped_topk{k, 1, 1, 1.0f, bias}, pact::make_row_major<const float>(logits.data(), T, E), r);
    pact::compute_load_stats(r, s);
    const auto [lo, hi] = std::minmax_element(s.tokens_per_expert.begin(), s.tokens_per_expert.end());
    return *hi - *lo;
  };
  const index_t before = spread();
  for (int step = 0; step < 60; ++step) {
    spread();
    pact::update_expert_bias(bias, s.tokens_per_expert, 0.01f);
  }
  EXPECT_LT(spread(), before / 2);
}

TEST(MoeDispatch, InvalidArguments) {
  auto r = make_routing(2, 3, 1, {0, 2});
  pact::moe_dispatch_plan p;
  expect_error(pact::errc::invalid_argument, [&] { pact::plan_dispatch(r, p, {-1.0}); });
  expect_error(pact::errc::invalid_argument, [&] { pact::plan_dispatch(r, p, {std::numeric_limits<double>::quiet_NaN()}); });
  auto bad = make_routing(2, 3, 1, {0, 3});
  expect_error(pact::errc::invalid_data, [&] { pact::plan_dispatch(bad, p); });
  pact::plan_dispatch(r, p);
  std::vector<float> x(2 * 4, 1.0f), xs(2 * 4);
  expect_error(pact::errc::invalid_shape, [&] {
    pact::gather_rows(p, pact::make_row_major<const float>(x.data(), 2, 4), pact::make_row_major(xs.data(), 1, 4));
  });
  expect_error(pact::errc::invalid_shape, [&] {
    pact::gather_rows(p, pact::make_row_major<const float>(x.data(), 1, 4), pact::make_row_major(xs.data(), 2, 4));
  });
  expect_error(pact::errc::aliasing, [&] {
    pact::gather_rows(p, pact::make_row_major<const float>(x.data(), 2, 4), pact::make_row_major(x.data(), 2, 4));
  });
  std::vector<float> out(2 * 4);
  expect_error(pact::errc::invalid_shape, [&] {
    pact::combine(p, pact::make_row_major<const float>(xs.data(), 2, 4), pact::make_row_major<const float>(nullptr, 0, 4),
                  pact::make_row_major(out.data(), 1, 4));
  });
  expect_error(pact::errc::invalid_shape, [&] {
    pact::combine(p, pact::make_row_major<const float>(xs.data(), 2, 4), pact::make_row_major<const float>(x.data(), 1, 4),
                  pact::make_row_major(out.data(), 2, 4));
  });
  expect_error(pact::errc::aliasing, [&] {
    pact::combine(p, pact::make_row_major<const float>(xs.data(), 2, 4), pact::make_row_major<const float>(nullptr, 0, 4),
                  pact::make_row_major(xs.data(), 2, 4));
  });
}
