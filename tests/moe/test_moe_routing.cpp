// Routing policies against the float64 reference; ties, bias, validation, threads.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "moe/moe_reference.hpp"
#include "pact/moe.hpp"
#include "support/reference.hpp"
#include "support/expect_error.hpp"

namespace ref = pact_test::moe_ref;
using pact::index_t;

namespace {
using pact_test::expect_error;
std::vector<double> row(const std::vector<float>& m, index_t t, index_t E) {
  return {m.begin() + t * E, m.begin() + (t + 1) * E};
}

/// Checks r (from pact) against ref_fn(logits of token t) for every token.
template <class RefFn>
void expect_routing_matches(const pact::moe_routing& r, const std::vector<float>& logits, RefFn ref_fn) {
  for (index_t t = 0; t < r.tokens; ++t) {
    const ref::token_route want = ref_fn(row(logits, t, r.experts));
    for (index_t s = 0; s < r.k; ++s) {
      ASSERT_EQ(r.expert_of(t, s), want.ids[static_cast<std::size_t>(s)]) << "token " << t << " slot " << s;
      const double w = want.weights[static_cast<std::size_t>(s)];
      EXPECT_NEAR(r.weight_of(t, s), w, 2e-6 * (1 + std::fabs(w))) << "token " << t << " slot " << s;
    }
    for (index_t e = 0; e < r.experts; ++e)
      EXPECT_NEAR(r.probs[static_cast<std::size_t>(t * r.experts + e)], want.probs[static_cast<std::size_t>(e)], 2e-6);
  }
}

std::vector<float> random_logits(index_t T, index_t E, std::uint32_t seed, double range = 3.0) {
  return pact_test::random_values<float>(static_cast<std::size_t>(T * E), seed, -range, range);
}
}  // namespace

TEST(MoeRouting, SoftmaxTopkMatchesReference) {
  for (index_t E : {1, 2, 8, 13, 64})
    for (index_t k : {index_t{1}, index_t{2}, E}) {
      if (k > E) continue;
      for (bool renorm : {true, false}) {
        const index_t T = 37;
        const auto logits = random_logits(T, E, static_cast<std::uint32_t>(E * 31 + k));
        pact::moe_routing r;
        pact::route(pact::softmax_topk{k, renorm}, pact::make_row_major<const float>(logits.data(), T, E), r);
        expect_routing_matches(r, logits, [&](const std::vector<double>& l) { return ref::softmax_topk(l, static_cast<int>(k), renorm); });
      }
    }
}

TEST(MoeRouting, TopkSoftmaxMatchesReference) {
  for (index_t E : {1, 3, 8, 64})
    for (index_t k : {index_t{1}, index_t{2}, E}) {
      if (k > E) continue;
      const index_t T = 29;
      const auto logits = random_logits(T, E, static_cast<std::uint32_t>(E * 7 + k));
      pact::moe_routing r;
      pact::route(pact::topk_softmax{k}, pact::make_row_major<const float>(logits.data(), T, E), r);
      expect_routing_matches(r, logits, [&](const std::vector<double>& l) { return ref::topk_softmax(l, static_cast<int>(k)); });
    }
}

TEST(MoeRouting, TopkSoftmaxAndRenormalizedSoftmaxTopkAgree) {
  // Same selection; weights equal up to rounding (the softmax of the k logits).
  const index_t T = 50, E = 16, k = 4;
  const auto logits = random_logits(T, E, 5);
  pact::moe_routing a, b;
  pact::route(pact::topk_softmax{k}, pact::make_row_major<const float>(logits.data(), T, E), a);
  pact::route(pact::softmax_topk{k, true}, pact::make_row_major<const float>(logits.data(), T, E), b);
  for (index_t i = 0; i < T * k; ++i) {
    EXPECT_EQ(a.expert[static_cast<std::size_t>(i)], b.expert[static_cast<std::size_t>(i)]);
    EXPECT_NEAR(a.weight[static_cast<std::size_t>(i)], b.weight[static_cast<std::size_t>(i)], 1e-6);
  }
}

TEST(MoeRouting, SigmoidGroupedMatchesReference) {
  struct cfg {
    index_t E, k, n_group, topk_group;
    float scale;
    bool with_bias;
  };
  for (const cfg c : {cfg{16, 4, 4, 2, 2.5f, true}, cfg{16, 4, 4, 2, 1.0f, false}, cfg{64, 8, 8, 4, 2.5f, true},
                      cfg{12, 3, 1, 1, 1.0f, true}, cfg{12, 12, 1, 1, 1.0f, false}, cfg{8, 1, 8, 3, 1.0f, true},
                      cfg{8, 2, 2, 2, 1.5f, true}, cfg{9, 3, 3, 1, 1.0f, true}}) {
    const index_t T = 41;
    const auto logits = random_logits(T, c.E, static_cast<std::uint32_t>(c.E + 100 * c.k + c.n_group));
    const auto biasf = pact_test::random_values<float>(static_cast<std::size_t>(c.E), 77, -0.3, 0.3);
    std::vector<double> biasd(biasf.begin(), biasf.end());
    pact::sigmoid_grouped_topk policy{c.k, c.n_group, c.topk_group, c.scale};
    if (c.with_bias) policy.bias = biasf;
    else biasd.clear();
    pact::moe_routing r;
    pact::route(policy, pact::make_row_major<const float>(logits.data(), T, c.E), r);
    expect_routing_matches(r, logits, [&](const std::vector<double>& l) {
      return ref::sigmoid_grouped(l, static_cast<int>(c.k), static_cast<int>(c.n_group), static_cast<int>(c.topk_group), c.scale, biasd);
    });
  }
}

TEST(MoeRouting, SigmoidBiasSteersSelectionButNotWeights) {
  // Expert 5 has the lowest logit but a large bias: it is chosen, and its weight is its
  // own unbiased sigmoid score (renormalized), not the biased one.
  const index_t E = 8;
  std::vector<float> logits{1.0f, 0.9f, 0.8f, 0.7f, 0.6f, -2.0f, 0.4f, 0.3f};
  std::vector<float> bias(E, 0.0f);
  bias[5] = 5.0f;
  pact::moe_routing r;
  pact::route(pact::sigmoid_grouped_topk{2, 1, 1, 1.0f, bias}, pact::make_row_major<const float>(logits.data(), 1, E), r);
  EXPECT_EQ(r.expert_of(0, 0), 5);
  EXPECT_EQ(r.expert_of(0, 1), 0);
  const double s5 = 1 / (1 + std::exp(2.0)), s0 = 1 / (1 + std::exp(-1.0));
  EXPECT_NEAR(r.weight_of(0, 0), s5 / (s5 + s0), 1e-6);
  EXPECT_NEAR(r.weight_of(0, 1), s0 / (s5 + s0), 1e-6);
}

TEST(MoeRouting, GroupLimitUsesSumOfTopTwo) {
  // Group 0 holds the single best expert but group 1 has the better top-2 sum: with
  // topk_group = 1 only group 1's experts may be chosen.
  std::vector<float> logits{4.0f, -4.0f, -4.0f, -4.0f, 1.0f, 1.0f, 0.5f, -1.0f};
  pact::moe_routing r;
  pact::route(pact::sigmoid_grouped_topk{2, 2, 1}, pact::make_row_major<const float>(logits.data(), 1, 8), r);
  EXPECT_EQ(r.expert_of(0, 0), 4);
  EXPECT_EQ(r.expert_of(0, 1), 5);
}

TEST(MoeRouting, TiesBreakTowardsLowerIndex) {
  const index_t E = 8;
  std::vector<float> equal(2 * E, 0.25f);
  for (index_t k : {index_t{1}, index_t{3}, E}) {
    pact::moe_routing a, b, c;
    const auto v = pact::make_row_major<const float>(equal.data(), 2, E);
    pact::route(pact::softmax_topk{k}, v, a);
    pact::route(pact::topk_softmax{k}, v, b);
    pact::route(pact::sigmoid_grouped_topk{k, 4, 4}, v, c);
    for (const auto* r : {&a, &b, &c})
      for (index_t t = 0; t < 2; ++t)
        for (index_t s = 0; s < k; ++s) {
          EXPECT_EQ(r->expert_of(t, s), s);
          EXPECT_FLOAT_EQ(r->weight_of(t, s), 1.0f / static_cast<float>(k));
        }
  }
  // Tied groups: the lower group wins.
  pact::moe_routing g;
  pact::route(pact::sigmoid_grouped_topk{2, 4, 2}, pact::make_row_major<const float>(equal.data(), 1, E), g);
  EXPECT_EQ(g.expert_of(0, 0), 0);
  EXPECT_EQ(g.expert_of(0, 1), 1);
  // Partial tie: 2 and 6 equal and best -> 2 first.
  std::vector<float> l{0, 0, 3, 0, 0, 0, 3, 0};
  pact::route(pact::softmax_topk{2}, pact::make_row_major<const float>(l.data(), 1, E), g);
  EXPECT_EQ(g.expert_of(0, 0), 2);
  EXPECT_EQ(g.expert_of(0, 1), 6);
}

TEST(MoeRouting, RouteHiddenEqualsGemmLogitsThenRoute) {
  const index_t T = 45, H = 37, E = 16;
  const auto x = pact_test::random_values<float>(static_cast<std::size_t>(T * H), 1);
  const auto w = pact_test::random_values<float>(static_cast<std::size_t>(H * E), 2);
  std::vector<float> logits(static_cast<std::size_t>(T * E));
  pact::gemm(1.0f, pact::make_row_major<const float>(x.data(), T, H), pact::make_row_major<const float>(w.data(), H, E), 0.0f,
             pact::make_row_major(logits.data(), T, E));
  pact::moe_routing a, b;
  const pact::softmax_topk policy{4};
  pact::route_hidden(policy, pact::make_row_major<const float>(x.data(), T, H), pact::make_row_major<const float>(w.data(), H, E), a);
  pact::route(policy, pact::make_row_major<const float>(logits.data(), T, E), b);
  EXPECT_EQ(a.expert, b.expert);
  EXPECT_EQ(a.weight, b.weight);
  // And against the float64 reference of x * w.
  for (index_t t = 0; t < T; ++t) {
    std::vector<double> l(static_cast<std::size_t>(E), 0.0);
    for (index_t e = 0; e < E; ++e)
      for (index_t i = 0; i < H; ++i) l[static_cast<std::size_t>(e)] += static_cast<double>(x[static_cast<std::size_t>(t * H + i)]) * w[static_cast<std::size_t>(i * E + e)];
    const auto want = ref::softmax_topk(l, 4, true);
    for (index_t s = 0; s < 4; ++s) EXPECT_EQ(a.expert_of(t, s), want.ids[static_cast<std::size_t>(s)]);
  }
}

TEST(MoeRouting, IdenticalForEveryThreadCount) {
  const index_t T = 333, E = 64;
  const auto logits = random_logits(T, E, 9);
  const auto bias = pact_test::random_values<float>(static_cast<std::size_t>(E), 10, -0.1, 0.1);
  const pact::sigmoid_grouped_topk policy{8, 8, 4, 2.5f, bias};
  pact::moe_routing base;
  pact::route(policy, pact::make_row_major<const float>(logits.data(), T, E), base);
  for (int threads : {1, 2, 3}) {
    pact::thread_pool pool(threads);
    pact::moe_routing r;
    pact::route(policy, pact::make_row_major<const float>(logits.data(), T, E), r, pool);
    EXPECT_EQ(r.expert, base.expert) << threads;
    EXPECT_EQ(r.weight, base.weight) << threads;
    EXPECT_EQ(r.probs, base.probs) << threads;
  }
}

TEST(MoeRouting, InvalidArguments) {
  std::vector<float> l(4 * 8, 0.5f);
  const auto v = pact::make_row_major<const float>(l.data(), 4, 8);
  pact::moe_routing r;
  expect_error(pact::errc::invalid_argument, [&] { pact::route(pact::softmax_topk{9}, v, r); });
  expect_error(pact::errc::invalid_argument, [&] { pact::route(pact::softmax_topk{0}, v, r); });
  expect_error(pact::errc::invalid_argument, [&] { pact::route(pact::topk_softmax{9}, v, r); });
  expect_error(pact::errc::invalid_argument, [&] { pact::route(pact::sigmoid_grouped_topk{9}, v, r); });
  expect_error(pact::errc::invalid_argument, [&] { pact::route(pact::sigmoid_grouped_topk{2, 3, 1}, v, r); });   // 3 does not divide 8
  expect_error(pact::errc::invalid_argument, [&] { pact::route(pact::sigmoid_grouped_topk{2, 4, 5}, v, r); });   // topk_group > n_group
  expect_error(pact::errc::invalid_argument, [&] { pact::route(pact::sigmoid_grouped_topk{2, 4, 0}, v, r); });
  expect_error(pact::errc::invalid_argument, [&] { pact::route(pact::sigmoid_grouped_topk{2, 0, 1}, v, r); });
  expect_error(pact::errc::invalid_argument, [&] { pact::route(pact::sigmoid_grouped_topk{5, 4, 2}, v, r); });   // k > 2 groups x 2
  std::vector<float> short_bias(7, 0.0f), nan_bias(8, 0.0f);
  nan_bias[3] = std::numeric_limits<float>::quiet_NaN();
  expect_error(pact::errc::invalid_shape, [&] { pact::route(pact::sigmoid_grouped_topk{2, 1, 1, 1.0f, short_bias}, v, r); });
  expect_error(pact::errc::invalid_data, [&] { pact::route(pact::sigmoid_grouped_topk{2, 1, 1, 1.0f, nan_bias}, v, r); });
  expect_error(pact::errc::invalid_shape, [&] { pact::route(pact::softmax_topk{1}, pact::make_row_major<const float>(l.data(), 4, 0), r); });
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()}) {
    auto m = l;
    m[13] = bad;
    expect_error(pact::errc::invalid_data, [&] { pact::route(pact::softmax_topk{2}, pact::make_row_major<const float>(m.data(), 4, 8), r); });
    expect_error(pact::errc::invalid_data, [&] { pact::route(pact::sigmoid_grouped_topk{2}, pact::make_row_major<const float>(m.data(), 4, 8), r); });
  }
  // Hidden-state input: shape mismatch and a NaN in x (the logits become NaN).
  std::vector<float> x(4 * 5, 1.0f), w(6 * 8, 0.1f);
  expect_error(pact::errc::invalid_shape, [&] {
    pact::route_hidden(pact::softmax_topk{2}, pact::make_row_major<const float>(x.data(), 4, 5), pact::make_row_major<const float>(w.data(), 6, 8), r);
  });
  x[7] = std::numeric_limits<float>::quiet_NaN();
  expect_error(pact::errc::invalid_data, [&] {
    pact::route_hidden(pact::softmax_topk{2}, pact::make_row_major<const float>(x.data(), 4, 5), pact::make_row_major<const float>(w.data(), 5, 8), r);
  });
}

TEST(MoeRouting, ZeroTokens) {
  pact::moe_routing r;
  pact::route(pact::softmax_topk{2}, pact::make_row_major<const float>(nullptr, 0, 8), r);
  EXPECT_EQ(r.tokens, 0);
  EXPECT_EQ(r.k, 2);
}
