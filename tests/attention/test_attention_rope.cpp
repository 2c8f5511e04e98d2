// RoPE: frequencies of every scaling variant against the formulas, both layouts against a
// plain rotation, and fused RoPE inside attention == apply_rope then attention (bitwise).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numbers>

#include "pact/attention.hpp"
#include "support/reference.hpp"

namespace {
using pact::index_t;

TEST(AttentionRope, FrequenciesOfEveryScaling) {
  const index_t d = 64;
  pact::rope_config cfg;
  cfg.base = 10000;
  cfg.factor = 4;
  cfg.scaling = pact::rope_scaling::none;
  pact::rope_table plain(cfg, d);
  cfg.scaling = pact::rope_scaling::linear;
  pact::rope_table linear(cfg, d);
  cfg.scaling = pact::rope_scaling::ntk;
  pact::rope_table ntk(cfg, d);
  cfg.scaling = pact::rope_scaling::yarn;
  cfg.original_max_positions = 4096;
  pact::rope_table yarn(cfg, d);
  const double ntk_base = 10000 * std::pow(4.0, 64.0 / 62.0);
  auto corr = [](double rot) { return 64.0 * std::log(4096.0 / (rot * 2 * std::numbers::pi)) / (2 * std::log(10000.0)); };
  const double low = std::max(0.0, std::floor(corr(32))), high = std::min(63.0, std::ceil(corr(1)));
  for (index_t i = 0; i < d / 2; ++i) {
    const double f = std::pow(10000.0, -2.0 * i / 64.0);
    EXPECT_NEAR(plain.inv_freq(i), f, 1e-15 * std::max(1.0, f));
    EXPECT_NEAR(linear.inv_freq(i), f / 4, 1e-15);
    EXPECT_NEAR(ntk.inv_freq(i), std::pow(ntk_base, -2.0 * i / 64.0), 1e-15);
    const double g = std::clamp((i - low) / (high - low), 0.0, 1.0);
    EXPECT_NEAR(yarn.inv_freq(i), g * f / 4 + (1 - g) * f, 1e-15) << i;
  }
  // The high frequencies are kept, the low ones interpolated (YaRN's point).
  EXPECT_DOUBLE_EQ(yarn.inv_freq(0), plain.inv_freq(0));
  EXPECT_NEAR(yarn.inv_freq(31), plain.inv_freq(31) / 4, 1e-18);
  EXPECT_NEAR(yarn.attention_factor(), 0.1 * std::log(4.0) + 1, 1e-15);
}

TEST(AttentionRope, BothLayoutsAgainstPlainRotation) {
  const index_t B = 2, S = 9, H = 3, d = 20;
  for (auto layout : {pact::rope_layout::interleaved, pact::rope_layout::half_split})
    for (index_t rot : {0, 12}) {
      pact::rope_config cfg;
      cfg.layout = layout;
      cfg.rotary_dim = rot;
      cfg.scaling = pact::rope_scaling::linear;
      cfg.factor = 2;
      const pact::rope_table table(cfg, d);
      const auto x0 = pact_test::random_values<float>(static_cast<std::size_t>(B * S * H * d), 5);
      auto x = x0;
      pact::thread_pool pool(2);
      pact::apply_rope(pact::tensor_view<float, 4>(x.data(), {B, S, H, d}), table, 100, pool);
      const index_t r = rot == 0 ? d : rot, half = r / 2;
      for (index_t b = 0; b < B; ++b)
        for (index_t t = 0; t < S; ++t)
          for (index_t h = 0; h < H; ++h) {
            const std::size_t base = static_cast<std::size_t>(((b * S + t) * H + h) * d);
            for (index_t i = 0; i < half; ++i) {
              const double ang = (100.0 + t) * std::pow(10000.0, -2.0 * i / r) / 2.0;
              const std::size_t ia = base + static_cast<std::size_t>(layout == pact::rope_layout::interleaved ? 2 * i : i);
              const std::size_t ib = base + static_cast<std::size_t>(layout == pact::rope_layout::interleaved ? 2 * i + 1 : i + half);
              EXPECT_NEAR(x[ia], x0[ia] * std::cos(ang) - x0[ib] * std::sin(ang), 2e-6);
              EXPECT_NEAR(x[ib], x0[ia] * std::sin(ang) + x0[ib] * std::cos(ang), 2e-6);
            }
            for (index_t c = r; c < d; ++c) EXPECT_EQ(x[base + static_cast<std::size_t>(c)], x0[base + static_cast<std::size_t>(c)]);
          }
    }
}

void fused_equals_separate(index_t sq, pact::rope_layout layout) {
  const index_t S = 97, Hq = 4, Hkv = 2, d = 32;
  pact::rope_config cfg;
  cfg.layout = layout;
  cfg.scaling = pact::rope_scaling::yarn;
  cfg.factor = 8;
  cfg.original_max_positions = 64;
  const pact::rope_table table(cfg, d);
  auto q = pact_test::random_values<float>(static_cast<std::size_t>(sq * Hq * d), 1);
  auto k = pact_test::random_values<float>(static_cast<std::size_t>(S * Hkv * d), 2);
  const auto v = pact_test::random_values<float>(static_cast<std::size_t>(S * Hkv * d), 3);
  pact::attention_params p;
  p.causal = true;
  p.rope = &table;
  std::vector<float> fused(q.size(), NAN), separate(q.size(), NAN);
  pact::attention(pact::tensor_view<const float, 4>(q.data(), {1, sq, Hq, d}), pact::tensor_view<const float, 4>(k.data(), {1, S, Hkv, d}),
                  pact::tensor_view<const float, 4>(v.data(), {1, S, Hkv, d}), pact::tensor_view<float, 4>(fused.data(), {1, sq, Hq, d}), p);
  pact::apply_rope(pact::tensor_view<float, 4>(q.data(), {1, sq, Hq, d}), table, S - sq);
  pact::apply_rope(pact::tensor_view<float, 4>(k.data(), {1, S, Hkv, d}), table, 0);
  p.rope = nullptr;
  pact::attention(pact::tensor_view<const float, 4>(q.data(), {1, sq, Hq, d}), pact::tensor_view<const float, 4>(k.data(), {1, S, Hkv, d}),
                  pact::tensor_view<const float, 4>(v.data(), {1, S, Hkv, d}), pact::tensor_view<float, 4>(separate.data(), {1, sq, Hq, d}), p);
  EXPECT_EQ(0, std::memcmp(fused.data(), separate.data(), fused.size() * sizeof(float))) << "sq " << sq;
}

TEST(AttentionRope, FusedEqualsSeparate) {
  for (auto layout : {pact::rope_layout::interleaved, pact::rope_layout::half_split}) {
    fused_equals_separate(1, layout);   // decode kernel
    fused_equals_separate(70, layout);  // prefill kernel
  }
}

TEST(AttentionRope, InvalidArguments) {
  pact::rope_config cfg;
  cfg.rotary_dim = 7;
  EXPECT_THROW(pact::rope_table(cfg, 16), pact::error);
  cfg.rotary_dim = 18;
  EXPECT_THROW(pact::rope_table(cfg, 16), pact::error);
  cfg.rotary_dim = 0;
  cfg.factor = 0.5;
  EXPECT_THROW(pact::rope_table(cfg, 16), pact::error);
  const pact::rope_table t16(pact::rope_config{}, 16);
  std::vector<float> x(2 * 8);
  try {
    pact::apply_rope(pact::tensor_view<float, 4>(x.data(), {1, 2, 1, 8}), t16);
    ADD_FAILURE();
  } catch (const pact::error& e) {
    EXPECT_EQ(e.code(), pact::errc::invalid_shape);
  }
}

}  // namespace
