// bf16/fp16 <-> f32 lane conversions: bit-identical to the scalar rules in types/ for
// every 16-bit encoding and for the float inputs around every rounding boundary.
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "pact/simd/simd.hpp"
#include "pact/types/bf16.hpp"
#include "pact/types/fp16.hpp"
#include "support/arch_list.hpp"

namespace simd = pact::simd;

template <class A>
class SimdConvert : public ::testing::Test {};
TYPED_TEST_SUITE(SimdConvert, pact_test::compiled_archs, pact_test::arch_name);

static std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
static float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// Every 16-bit code decoded, plus floats at/near every rounding boundary.
static std::vector<float> boundary_floats() {
  std::vector<float> v;
  for (std::uint32_t c = 0; c < 65536; ++c) {
    const std::uint32_t u = c << 16;
    for (std::uint32_t d : {0u, 1u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu}) v.push_back(float_of(u + d));
    v.push_back(pact::fp16_bits_to_float(static_cast<std::uint16_t>(c)));
  }
  // fp16 midpoints: halfway between consecutive fp16 values, and +-1 ulp
  for (std::uint32_t c = 0; c < 0x7C00; ++c) {
    const double lo = pact::fp16_bits_to_float(static_cast<std::uint16_t>(c));
    const double hi = pact::fp16_bits_to_float(static_cast<std::uint16_t>(c + 1));
    const float mid = static_cast<float>((lo + hi) / 2);
    for (float m : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)}) {
      v.push_back(m);
      v.push_back(-m);
    }
  }
  std::mt19937 g(7);
  for (int i = 0; i < 200000; ++i) v.push_back(float_of(g()));
  return v;
}

/// One check for both 16-bit formats: every code decoded by the SIMD load equals the scalar
/// decode, and every boundary float encoded by the SIMD store equals the scalar encode.
template <class A, class Load, class Store, class Decode, class Encode>
void check_half_conversions(Load load, Store store, Decode decode, Encode encode) {
  constexpr std::size_t L = simd::lanes<float, A>;
  for (std::uint32_t c = 0; c < 65536; c += L) {
    std::uint16_t in[L];
    float out[L];
    for (std::size_t i = 0; i < L; ++i) in[i] = static_cast<std::uint16_t>(c + i);
    simd::store(out, load(in));
    for (std::size_t i = 0; i < L; ++i) ASSERT_EQ(bits_of(out[i]), bits_of(decode(in[i]))) << c + i;
  }
  const auto fs = boundary_floats();
  for (std::size_t o = 0; o + L <= fs.size(); o += L) {
    std::uint16_t out[L];
    store(out, simd::load<A>(&fs[o]));
    for (std::size_t i = 0; i < L; ++i) ASSERT_EQ(out[i], encode(fs[o + i])) << std::hex << bits_of(fs[o + i]);
  }
}

TYPED_TEST(SimdConvert, Bf16AllCodesAndRounding) {
  check_half_conversions<TypeParam>(simd::load_bf16<TypeParam>, simd::store_bf16,
                                    [](std::uint16_t b) { return pact::bf16_bits_to_float(b); },
                                    [](float f) { return pact::float_to_bf16_bits(f); });
}

TYPED_TEST(SimdConvert, Fp16AllCodesAndRounding) {
  check_half_conversions<TypeParam>(simd::load_fp16<TypeParam>, simd::store_fp16,
                                    [](std::uint16_t b) { return pact::fp16_bits_to_float(b); },
                                    [](float f) { return pact::float_to_fp16_bits(f); });
}
