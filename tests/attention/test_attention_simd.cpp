// simd/ops_kv.hpp: int8 and FP8 E4M3 widening loads, every code, every compiled arch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "pact/simd/ops_kv.hpp"
#include "support/arch_list.hpp"

namespace {
template <class A>
class AttentionSimd : public ::testing::Test {};
TYPED_TEST_SUITE(AttentionSimd, pact_test::compiled_archs, pact_test::arch_name);

TYPED_TEST(AttentionSimd, WideningLoadsAreExact) {
  using A = TypeParam;
  namespace simd = pact::simd;
  constexpr std::size_t L = simd::lanes<float, A>;
  std::uint8_t codes[256 + 64];
  for (int i = 0; i < 256 + 64; ++i) codes[i] = static_cast<std::uint8_t>(i * 1);
  for (std::size_t at = 0; at < 256; at += L) {
    alignas(64) float f8[64], i8[64];
    simd::store(f8, simd::load_fp8_e4m3_f32<A>(codes + at));
    simd::store(i8, simd::load_i8_f32<A>(reinterpret_cast<const std::int8_t*>(codes + at)));
    for (std::size_t e = 0; e < L; ++e) {
      const auto c = codes[at + e];
      const float want = pact::fp8_e4m3_bits_to_float(c);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(f8[e])) << int(c);
      } else {
        EXPECT_EQ(std::memcmp(&want, &f8[e], 4), 0) << "code " << int(c) << " got " << f8[e] << " want " << want;
      }
      EXPECT_EQ(i8[e], static_cast<float>(static_cast<std::int8_t>(c)));
    }
  }
}
}  // namespace
