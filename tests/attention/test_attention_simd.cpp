// simd/ops_kv.hpp: int8 and FP8 (E4M3, E4M3 / 256, E5M2; one and two vectors at a time)
// widening loads, every code, every compiled arch.
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
TYPED_TEST(AttentionSimd, Fp8WideningPairsAreExact) {
  using A = TypeParam;
  namespace simd = pact::simd;
  constexpr std::size_t L = simd::lanes<float, A>;
  std::uint8_t codes[256 + 128];
  for (int i = 0; i < 256 + 128; ++i) codes[i] = static_cast<std::uint8_t>(i * 1);
  for (std::size_t at = 0; at < 256; at += 2 * L) {
    alignas(64) float e4[2][64], e5[2][64], e4_one[64], e5_one[64];
    const auto p4 = simd::load2_fp8_e4m3_f32_div256<A>(codes + at);
    const auto p5 = simd::load2_fp8_e5m2_f32<A>(codes + at);
    for (int h = 0; h < 2; ++h) {
      simd::store(e4[h], p4[static_cast<std::size_t>(h)]);
      simd::store(e5[h], p5[static_cast<std::size_t>(h)]);
    }
    for (std::size_t e = 0; e < 2 * L; ++e) {
      const auto c = codes[at + e];
      const float got4 = e4[e / L][e % L], got5 = e5[e / L][e % L];
      const float want4 = pact::fp8_e4m3_bits_to_float(c) / 256.0f, want5 = pact::fp8_e5m2_bits_to_float(c);
      if (!std::isnan(want4)) {
        EXPECT_EQ(std::memcmp(&want4, &got4, 4), 0) << "E4M3 code " << int(c) << " got " << got4;
      }
      if (std::isnan(want5)) {
        EXPECT_TRUE(std::isnan(got5)) << "E5M2 code " << int(c);
      } else {
        EXPECT_EQ(std::memcmp(&want5, &got5, 4), 0) << "E5M2 code " << int(c) << " got " << got5;
      }
    }
    // The pair equals two single loads, bit for bit.
    for (std::size_t h = 0; h < 2; ++h) {
      simd::store(e4_one, simd::load_fp8_e4m3_f32_div256<A>(codes + at + h * L));
      simd::store(e5_one, simd::load_fp8_e5m2_f32<A>(codes + at + h * L));
      for (std::size_t e = 0; e < L; ++e) {
        if (!std::isnan(pact::fp8_e4m3_bits_to_float(codes[at + h * L + e]))) {
          EXPECT_EQ(std::memcmp(&e4_one[e], &e4[h][e], 4), 0);
        }
        if (!std::isnan(e5_one[e])) {
          EXPECT_EQ(std::memcmp(&e5_one[e], &e5[h][e], 4), 0);
        }
      }
    }
  }
}
}  // namespace
