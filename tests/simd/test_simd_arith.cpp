// fma, min/max, reductions, comparisons and select on every compiled arch.
#include <cmath>
#include <limits>

#include "pact/simd/simd.hpp"
#include "support/arch_list.hpp"
#include "support/reference.hpp"

namespace simd = pact::simd;

template <class A>
class SimdArith : public ::testing::Test {};
TYPED_TEST_SUITE(SimdArith, pact_test::compiled_archs, pact_test::arch_name);

TYPED_TEST(SimdArith, FmaMatchesFusedOrUnfused) {
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<float, A>;
  const auto a = pact_test::random_values<float>(L * 64, 1), b = pact_test::random_values<float>(L * 64, 2),
             c = pact_test::random_values<float>(L * 64, 3);
  for (std::size_t o = 0; o < L * 64; o += L) {
    float out[L];
    simd::store(out, simd::fma(simd::load<A>(&a[o]), simd::load<A>(&b[o]), simd::load<A>(&c[o])));
    for (std::size_t i = 0; i < L; ++i) {
      const float fused = std::fma(a[o + i], b[o + i], c[o + i]);
      const float unfused = a[o + i] * b[o + i] + c[o + i];
      if (A::fused_fma) EXPECT_EQ(out[i], fused);
      else EXPECT_TRUE(out[i] == fused || out[i] == unfused);
    }
  }
  // Fused on FMA archs: 1 + 2^-23 squared minus its rounded square is exact only when fused.
  if constexpr (A::fused_fma) {
    const float x = 1.0f + std::ldexp(1.0f, -23);
    float out[L];
    simd::store(out, simd::fma(simd::broadcast<A>(x), simd::broadcast<A>(x), simd::broadcast<A>(-(x * x))));
    EXPECT_EQ(out[0], std::ldexp(1.0f, -46));
  }
}

TYPED_TEST(SimdArith, MinMaxAbs) {
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<float, A>;
  const auto a = pact_test::random_values<float>(L, 4), b = pact_test::random_values<float>(L, 5);
  float mn[L], mx[L], ab[L];
  simd::store(mn, simd::min(simd::load<A>(a.data()), simd::load<A>(b.data())));
  simd::store(mx, simd::max(simd::load<A>(a.data()), simd::load<A>(b.data())));
  simd::store(ab, simd::abs(simd::load<A>(a.data())));
  for (std::size_t i = 0; i < L; ++i) {
    EXPECT_EQ(mn[i], std::min(a[i], b[i]));
    EXPECT_EQ(mx[i], std::max(a[i], b[i]));
    EXPECT_EQ(ab[i], std::fabs(a[i]));
  }
}

TYPED_TEST(SimdArith, Reductions) {
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<float, A>;
  for (std::uint32_t seed = 0; seed < 50; ++seed) {
    const auto a = pact_test::random_values<float>(L, 10 + seed, -100, 100);
    const auto v = simd::load<A>(a.data());
    double sum = 0;
    float mx = a[0], mn = a[0];
    for (float x : a) {
      sum += x;
      mx = std::max(mx, x);
      mn = std::min(mn, x);
    }
    EXPECT_NEAR(simd::reduce_add(v), sum, 1e-5 * 100 * L);
    EXPECT_EQ(simd::reduce_max(v), mx);
    EXPECT_EQ(simd::reduce_min(v), mn);
  }
  // integers reduce exactly
  constexpr std::size_t Li = simd::lanes<std::int32_t, A>;
  std::int32_t iv[Li];
  std::int64_t isum = 0;
  for (std::size_t i = 0; i < Li; ++i) isum += iv[i] = static_cast<std::int32_t>(i * 1000 - 7);
  EXPECT_EQ(simd::reduce_add(simd::load<A>(iv)), isum);
  // int32 maximum, with the largest lane at every position and negative lanes
  for (std::size_t at = 0; at < Li; ++at) {
    std::int32_t jv[Li];
    for (std::size_t i = 0; i < Li; ++i) jv[i] = -static_cast<std::int32_t>(i * 77) - 1000;
    jv[at] = 0x7F800000;
    EXPECT_EQ(simd::reduce_max(simd::load<A>(jv)), 0x7F800000) << at;
    jv[at] = -5;
    EXPECT_EQ(simd::reduce_max(simd::load<A>(jv)), -5) << at;
  }
  // NaN propagates through the sum
  float withnan[L];
  for (auto& x : withnan) x = 1.0f;
  withnan[L - 1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(simd::reduce_add(simd::load<A>(withnan))));
}

TYPED_TEST(SimdArith, ReduceMaxEachTransposes) {
  using A = TypeParam;
  using V = simd::vec<float, A>;
  constexpr std::size_t L = simd::lanes<float, A>;
  for (std::uint32_t seed = 0; seed < 20; ++seed) {
    auto a = pact_test::random_values<float>(L * L, 300 + seed, -100, 100);
    // Each row's maximum in a different lane, and one row of equal values.
    for (std::size_t i = 0; i < L; ++i) a[i * L + (i * 7 + seed) % L] = 1000.0f + static_cast<float>(i);
    for (std::size_t j = 0; j < L; ++j) a[(seed % L) * L + j] = -3.0f;
    V rows[L];
    for (std::size_t i = 0; i < L; ++i) rows[i] = simd::load<A>(&a[i * L]);
    float out[L];
    simd::store(out, simd::reduce_max_each(rows));
    for (std::size_t i = 0; i < L; ++i) {
      float m = a[i * L];
      for (std::size_t j = 1; j < L; ++j) m = std::max(m, a[i * L + j]);
      EXPECT_EQ(out[i], m) << "row " << i << " seed " << seed;
    }
  }
}

TYPED_TEST(SimdArith, ReduceAddEachTransposes) {
  using A = TypeParam;
  using V = simd::vec<float, A>;
  constexpr std::size_t L = simd::lanes<float, A>;
  for (std::uint32_t seed = 0; seed < 20; ++seed) {
    const auto a = pact_test::random_values<float>(L * L, 100 + seed, -100, 100);
    V rows[L];
    for (std::size_t i = 0; i < L; ++i) rows[i] = simd::load<A>(&a[i * L]);
    float out[L];
    simd::store(out, simd::reduce_add_each(rows));
    for (std::size_t i = 0; i < L; ++i) {
      double sum = 0;
      for (std::size_t j = 0; j < L; ++j) sum += a[i * L + j];
      EXPECT_NEAR(out[i], sum, 1e-5 * 100 * L) << "row " << i;
    }
  }
  // A NaN in one row reaches that row's lane only.
  V rows[L];
  for (std::size_t i = 0; i < L; ++i) rows[i] = simd::broadcast<A>(static_cast<float>(i));
  float withnan[L];
  for (std::size_t j = 0; j < L; ++j) withnan[j] = j == L / 2 ? std::numeric_limits<float>::quiet_NaN() : 1.0f;
  rows[1] = simd::load<A>(withnan);
  float out[L];
  simd::store(out, simd::reduce_add_each(rows));
  for (std::size_t i = 0; i < L; ++i) {
    if (i == 1) EXPECT_TRUE(std::isnan(out[i]));
    else EXPECT_EQ(out[i], static_cast<float>(i * L));
  }
}

TYPED_TEST(SimdArith, CompareAndSelect) {
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<float, A>;
  const auto a = pact_test::random_values<float>(L, 20), b = pact_test::random_values<float>(L, 21);
  const auto va = simd::load<A>(a.data()), vb = simd::load<A>(b.data());
  float lt[L], le[L], gt[L], ge[L], eq[L];
  simd::store(lt, simd::select(simd::cmp_lt(va, vb), va, vb));
  simd::store(le, simd::select(simd::cmp_le(va, va), va, vb));
  simd::store(gt, simd::select(simd::cmp_gt(va, vb), va, vb));
  simd::store(ge, simd::select(simd::cmp_ge(va, vb), va, vb));
  simd::store(eq, simd::select(simd::cmp_eq(va, vb), va, vb));
  for (std::size_t i = 0; i < L; ++i) {
    EXPECT_EQ(lt[i], a[i] < b[i] ? a[i] : b[i]);
    EXPECT_EQ(le[i], a[i]);
    EXPECT_EQ(gt[i], a[i] > b[i] ? a[i] : b[i]);
    EXPECT_EQ(ge[i], a[i] >= b[i] ? a[i] : b[i]);
    EXPECT_EQ(eq[i], b[i]);
  }
  EXPECT_TRUE(simd::all(simd::cmp_le(va, va)));
  EXPECT_FALSE(simd::any(simd::cmp_lt(va, va)));
  float n[L];
  for (auto& x : n) x = 0.0f;
  n[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(simd::any(simd::is_nan(simd::load<A>(n))));
  EXPECT_FALSE(simd::all(simd::is_nan(simd::load<A>(n))) && L > 1);
}
