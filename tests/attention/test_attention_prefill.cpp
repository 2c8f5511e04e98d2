// Flash attention prefill: every mask and logit variant, GQA groups, tail sizes, dtypes,
// compared with the float64 reference on every compiled arch.
#include <gtest/gtest.h>

#include "attention_reference.hpp"
#include "pact/attention.hpp"
#include "support/arch_list.hpp"
#include "support/reference.hpp"

namespace {
using pact::index_t;
using pact_test::nmse;
using pact_test::ref_attention;
using pact_test::ref_options;

struct shape {
  long B, Sq, Skv, Hq, Hkv, d;
};

template <class T>
std::vector<T> narrow(const std::vector<double>& x) {
  std::vector<T> r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) r[i] = T(static_cast<float>(x[i]));
  return r;
}
/// The values the kernel actually sees (after rounding to T), as float64.
template <class T>
std::vector<double> widen(const std::vector<T>& x) {
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) r[i] = static_cast<double>(static_cast<float>(x[i]));
  return r;
}

// Tests about masks, groups and dtypes take the one runtime-head-dim kernel (any_head_dim);
// the compiled head dims are covered by the tests that pass dispatching<A>, which keeps
// the number of kernels this file instantiates (and its compile time) down.
template <class A>
using dispatching = pact::attention_config<64, 64, 0, A>;

template <class A, class T = float, class Policy = pact::attention_config<64, 64, pact::any_head_dim, A>>
double run_case(const shape& s, const pact::attention_params& p, const ref_options& r, std::uint32_t seed) {
  const auto qd = pact_test::random_values<double>(static_cast<std::size_t>(s.B * s.Sq * s.Hq * s.d), seed);
  const auto kd = pact_test::random_values<double>(static_cast<std::size_t>(s.B * s.Skv * s.Hkv * s.d), seed + 1);
  const auto vd = pact_test::random_values<double>(static_cast<std::size_t>(s.B * s.Skv * s.Hkv * s.d), seed + 2);
  const auto q = narrow<T>(qd), k = narrow<T>(kd), v = narrow<T>(vd);
  std::vector<T> o(q.size(), T(std::numeric_limits<float>::quiet_NaN()));
  pact::tensor_view<const T, 4> qv(q.data(), {s.B, s.Sq, s.Hq, s.d});
  pact::tensor_view<const T, 4> kv(k.data(), {s.B, s.Skv, s.Hkv, s.d});
  pact::tensor_view<const T, 4> vv(v.data(), {s.B, s.Skv, s.Hkv, s.d});
  pact::tensor_view<T, 4> ov(o.data(), {s.B, s.Sq, s.Hq, s.d});
  pact::attention<Policy>(qv, kv, vv, ov, p);
  const auto ref = ref_attention(widen(q), widen(k), widen(v), s.B, s.Sq, s.Skv, s.Hq, s.Hkv, s.d, r);
  return nmse(o, ref);
}

template <class A>
class AttentionPrefill : public ::testing::Test {};
TYPED_TEST_SUITE(AttentionPrefill, pact_test::float_archs, pact_test::arch_name);

TYPED_TEST(AttentionPrefill, PlainAcrossTailSizes) {
  // block 64 x 64: lengths 1 .. 2 tiles + 1 and odd sizes, several head dims.
  for (long sq : {1L, 7L, 63L, 64L, 65L, 129L})
    for (long d : {8L, 13L, 64L}) {
      const shape s{1, sq, sq, 1, 1, d};
      EXPECT_LE((run_case<TypeParam, float, dispatching<TypeParam>>(s, {}, {}, 11)), 1e-7) << "Sq=Skv=" << sq << " d=" << d;
    }
}

TYPED_TEST(AttentionPrefill, EveryMaskAndVariant) {
  // Sq != Skv exercises the bottom-right alignment; 2 heads check per-head slopes/sinks.
  // The first two shapes take the decode kernel (g * Sq <= 16), the others the prefill kernel.
  for (auto s : {shape{1, 1, 77, 2, 1, 16}, shape{2, 3, 141, 2, 1, 24}, shape{1, 37, 37, 2, 1, 16}, shape{2, 23, 141, 2, 2, 24},
                 shape{1, 70, 45, 2, 1, 8}}) {
    const std::vector<float> slopes{0.25f, 0.0625f}, sinks{0.5f, -1.5f};
    std::vector<double> mask_d(static_cast<std::size_t>(s.Sq * s.Skv * 2));
    {
      const auto r = pact_test::random_values<double>(mask_d.size(), 99, -2.0, 2.0);
      for (std::size_t i = 0; i < r.size(); ++i) mask_d[i] = (i % 7 == 3) ? -std::numeric_limits<double>::infinity() : r[i];
    }
    std::vector<float> mask_f(mask_d.begin(), mask_d.end());
    for (int variant = 0; variant < 9; ++variant) {
      pact::attention_params p;
      ref_options r;
      switch (variant) {
        case 0: p.causal = r.causal = true; break;
        case 1: p.window_left = r.window_left = 5; p.causal = r.causal = true; break;
        case 2: p.window_left = r.window_left = 3; p.window_right = r.window_right = 9; break;
        case 3: p.softcap = 0.7f; r.softcap = static_cast<double>(p.softcap); p.scale = 3.0f; r.scale = 3.0; break;
        case 4: p.alibi_slopes = slopes; r.slopes = {0.25, 0.0625}; p.causal = r.causal = true; break;
        case 5: p.sinks = sinks; r.sinks = {0.5, -1.5}; break;
        case 6:
          p.mask = pact::tensor_view<const float, 4>(mask_f.data(), {1, 2, s.Sq, s.Skv});
          r.mask = &mask_d;
          r.mask_h = 2;
          break;
        case 7: p.scale = 0.05f; r.scale = static_cast<double>(p.scale); p.causal = r.causal = true; p.sinks = sinks; r.sinks = {0.5, -1.5}; break;
        case 8:  // broadcast mask over heads plus causal and softcap together
          p.mask = pact::tensor_view<const float, 4>(mask_f.data(), {1, 1, s.Sq, s.Skv});
          r.mask = &mask_d;
          p.causal = r.causal = true;
          p.softcap = 2.0f;
          r.softcap = 2.0;
          break;
      }
      EXPECT_LE((run_case<TypeParam>(s, p, r, 21 + static_cast<std::uint32_t>(variant))), 1e-7)
          << "variant " << variant << " Sq=" << s.Sq << " Skv=" << s.Skv;
    }
  }
}

TYPED_TEST(AttentionPrefill, GqaGroupSizes) {
  for (long g = 1; g <= 8; ++g) {
    const shape s{1, 19, 33, 2 * g, 2, 16};
    pact::attention_params p;
    p.causal = g % 2 == 0;
    ref_options r;
    r.causal = p.causal;
    EXPECT_LE((run_case<TypeParam>(s, p, r, 40 + static_cast<std::uint32_t>(g))), 1e-7) << "group " << g;
  }
  // MQA with many query rows per block (prefill path with several tiles)
  EXPECT_LE((run_case<TypeParam>(shape{1, 130, 130, 4, 1, 32}, {}, {}, 61)), 1e-7);
}

TYPED_TEST(AttentionPrefill, CompiledHeadDims) {
  for (long d : {64L, 80L, 96L, 128L, 256L}) {
    pact::attention_params p;
    p.causal = true;
    ref_options r;
    r.causal = true;
    EXPECT_LE((run_case<TypeParam, float, dispatching<TypeParam>>(shape{1, 33, 40, 2, 1, d}, p, r, 70)), 1e-7) << "d=" << d;
    // The one-kernel policy gives the same numbers within rounding at these dims too.
    EXPECT_LE((run_case<TypeParam>(shape{1, 33, 40, 2, 1, d}, p, r, 70)), 1e-7) << "any_head_dim, d=" << d;
  }
}

TYPED_TEST(AttentionPrefill, HalfPrecisionInputs) {
  pact::attention_params p;
  p.causal = true;
  ref_options r;
  r.causal = true;
  EXPECT_LE((run_case<TypeParam, pact::bf16>(shape{1, 45, 45, 4, 2, 32}, p, r, 80)), 5e-4);
  EXPECT_LE((run_case<TypeParam, pact::fp16>(shape{1, 45, 45, 4, 2, 32}, p, r, 81)), 5e-4);
}

TYPED_TEST(AttentionPrefill, DecodeSplitsAndFewQueries) {
  // 1..4 query tokens over a longer KV; every split count gives the reference.
  for (long sq : {1L, 3L})
    for (index_t splits : {1, 2, 3, 5}) {
      pact::attention_params p;
      p.kv_splits = splits;
      p.causal = true;
      // attention_params::sinks is a span: it must view storage that outlives the call.
      static const std::vector<float> keep{0.3f, 0.1f, -0.2f, 1.0f, 0.0f, 0.0f, 0.5f, 0.7f};
      p.sinks = keep;
      ref_options r;
      r.causal = true;
      r.sinks.assign(keep.begin(), keep.end());
      EXPECT_LE((run_case<TypeParam>(shape{2, sq, 300, 8, 2, 32}, p, r, 90)), 1e-7) << "Sq=" << sq << " splits=" << splits;
    }
}

}  // namespace
