// int8 dot products (exact, incl. the extremes that saturate pmaddubsw) and int4 nibbles.
#include <random>

#include "pact/simd/simd.hpp"
#include "support/arch_list.hpp"

namespace simd = pact::simd;

template <class A>
class SimdInt : public ::testing::Test {};
TYPED_TEST_SUITE(SimdInt, pact_test::compiled_archs, pact_test::arch_name);

template <class A, bool ASigned>
void check_dot(std::uint32_t seed, int mode) {
  constexpr std::size_t L32 = simd::lanes<std::int32_t, A>, L8 = 4 * L32;
  std::mt19937 g(seed);
  alignas(64) std::int32_t acc[L32], out[L32];
  alignas(64) std::uint8_t au[L8];
  alignas(64) std::int8_t as[L8], b[L8];
  for (std::size_t i = 0; i < L32; ++i) acc[i] = static_cast<std::int32_t>(g() % 2000000) - 1000000;
  for (std::size_t i = 0; i < L8; ++i) {
    if (mode == 0) {
      au[i] = static_cast<std::uint8_t>(g());
      b[i] = static_cast<std::int8_t>(g());
    } else {  // extremes: 255 * -128 and -128 * -128 in every lane
      au[i] = 255;
      b[i] = -128;
    }
    as[i] = static_cast<std::int8_t>(mode == 0 ? static_cast<std::int8_t>(g()) : -128);
  }
  if constexpr (ASigned) {
    simd::store(out, simd::dot_s8s8(simd::load<A>(acc), simd::load<A>(as), simd::load<A>(b)));
  } else {
    simd::store(out, simd::dot_u8s8(simd::load<A>(acc), simd::load<A>(au), simd::load<A>(b)));
  }
  for (std::size_t i = 0; i < L32; ++i) {
    std::int64_t ref = acc[i];
    for (std::size_t j = 0; j < 4; ++j)
      ref += (ASigned ? static_cast<std::int64_t>(as[4 * i + j]) : static_cast<std::int64_t>(au[4 * i + j])) * b[4 * i + j];
    EXPECT_EQ(out[i], ref) << "lane " << i << " mode " << mode;
  }
}

TYPED_TEST(SimdInt, DotU8S8IsExact) {
  for (std::uint32_t s = 0; s < 200; ++s) check_dot<TypeParam, false>(s, 0);
  check_dot<TypeParam, false>(1, 1);
}
TYPED_TEST(SimdInt, DotS8S8IsExact) {
  for (std::uint32_t s = 0; s < 200; ++s) check_dot<TypeParam, true>(s, 0);
  check_dot<TypeParam, true>(1, 1);
}

TYPED_TEST(SimdInt, NibbleUnpack) {
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<std::uint8_t, A>;
  for (unsigned base = 0; base < 256; base += L) {
    alignas(64) std::uint8_t packed[L], lo[L], hi[L];
    alignas(64) std::int8_t slo[L];
    for (std::size_t i = 0; i < L; ++i) packed[i] = static_cast<std::uint8_t>(base + i);
    const auto v = simd::load<A>(packed);
    simd::store(lo, simd::unpack_low_nibbles(v));
    simd::store(hi, simd::unpack_high_nibbles(v));
    simd::store(slo, simd::sign_extend_nibbles(simd::unpack_low_nibbles(v)));
    for (std::size_t i = 0; i < L; ++i) {
      EXPECT_EQ(lo[i], packed[i] & 0x0F);
      EXPECT_EQ(hi[i], packed[i] >> 4);
      const int n = packed[i] & 0x0F;
      EXPECT_EQ(slo[i], n >= 8 ? n - 16 : n);
    }
  }
}
