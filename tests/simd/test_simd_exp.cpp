// simd::exp against float64 std::exp on every arch: the documented bound is 2 ulp for
// normal results, and exact special values.
#include <cfloat>
#include <cmath>
#include <limits>

#include "pact/simd/simd.hpp"
#include "support/arch_list.hpp"
#include "support/reference.hpp"

namespace simd = pact::simd;

template <class A>
class SimdExp : public ::testing::Test {};
TYPED_TEST_SUITE(SimdExp, pact_test::compiled_archs, pact_test::arch_name);

template <class A>
float exp1(float x) {
  constexpr std::size_t L = simd::lanes<float, A>;
  float in[L], out[L];
  for (auto& v : in) v = x;
  simd::store(out, simd::exp(simd::load<A>(in)));
  return out[0];
}

TYPED_TEST(SimdExp, MaxUlpErrorOverTheNormalRange) {
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<float, A>;
  // Every 2^-9 step plus a random-ish offset across [-87.3, 88.7]: ~90k points.
  std::int64_t worst = 0;
  float worst_x = 0;
  float in[L], out[L];
  std::size_t fill = 0;
  auto flush = [&] {
    simd::store(out, simd::exp(simd::load<A>(in)));
    for (std::size_t i = 0; i < fill; ++i) {
      const double ref = std::exp(static_cast<double>(in[i]));
      if (ref < FLT_MIN) continue;
      const auto d = pact_test::ulp_distance(out[i], static_cast<float>(ref));
      if (d > worst) {
        worst = d;
        worst_x = in[i];
      }
    }
    fill = 0;
  };
  for (double x = -87.33; x < 88.72; x += 1.0 / 512 + 1e-7) {
    in[fill++] = static_cast<float>(x);
    if (fill == L) flush();
  }
  if (fill) flush();
  EXPECT_LE(worst, 2) << "worst x = " << worst_x;
  this->RecordProperty("max_ulp", static_cast<int>(worst));
}

TYPED_TEST(SimdExp, SpecialValues) {
  using A = TypeParam;
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(exp1<A>(0.0f), 1.0f);
  EXPECT_EQ(exp1<A>(inf), inf);
  EXPECT_EQ(exp1<A>(-inf), 0.0f);
  EXPECT_TRUE(std::isnan(exp1<A>(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(exp1<A>(88.73f), inf);   // overflow
  EXPECT_EQ(exp1<A>(-120.0f), 0.0f);  // underflow
  // Subnormal results are close in absolute terms.
  for (float x = -103.0f; x < -87.4f; x += 0.37f) {
    EXPECT_NEAR(exp1<A>(x), std::exp(static_cast<double>(x)), 2 * std::ldexp(1.0, -149)) << x;
  }
}

TYPED_TEST(SimdExp, MixedRangesInOneVector) {
  // The main path clamps at -87 and recomputes only the lanes whose results are subnormal:
  // every lane of a vector mixing -inf, subnormal, normal, overflowing and NaN inputs keeps
  // its own value. Each input is placed at every lane position once.
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<float, A>;
  const float inf = std::numeric_limits<float>::infinity();
  const float xs[] = {-inf, -103.9f, -95.0f, -87.2f, -86.9f, -1.5f, 0.0f, 3.25f, 88.5f, 89.0f, -104.5f, -87.0f, 40.0f, -60.0f};
  constexpr std::size_t n = sizeof(xs) / sizeof(xs[0]);
  for (std::size_t shift = 0; shift < n; ++shift) {
    float in[L], out[L];
    for (std::size_t i = 0; i < L; ++i) in[i] = xs[(i + shift) % n];
    if (L > 1) in[L - 1] = std::numeric_limits<float>::quiet_NaN();
    simd::store(out, simd::exp(simd::load<A>(in)));
    for (std::size_t i = 0; i < L; ++i) {
      if (std::isnan(in[i])) {
        EXPECT_TRUE(std::isnan(out[i])) << "lane " << i;
        continue;
      }
      const double ref = std::exp(static_cast<double>(in[i]));
      if (ref < FLT_MIN)
        EXPECT_NEAR(out[i], ref, 2 * std::ldexp(1.0, -149)) << "x = " << in[i] << ", lane " << i;
      else if (ref > FLT_MAX)
        EXPECT_EQ(out[i], inf) << "x = " << in[i];
      else
        EXPECT_LE(pact_test::ulp_distance(out[i], static_cast<float>(ref)), 2) << "x = " << in[i] << ", lane " << i;
    }
  }
}

TYPED_TEST(SimdExp, ErfAndTanh) {
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<float, A>;
  float in[L], e[L], t[L];
  for (float x = -6.0f; x < 6.0f; x += 0.01f) {
    for (auto& v : in) v = x;
    simd::store(e, simd::erf(simd::load<A>(in)));
    simd::store(t, simd::tanh(simd::load<A>(in)));
    EXPECT_NEAR(e[0], std::erf(static_cast<double>(x)), 1e-6) << x;
    EXPECT_NEAR(t[0], std::tanh(static_cast<double>(x)), 1e-6) << x;
  }
}
