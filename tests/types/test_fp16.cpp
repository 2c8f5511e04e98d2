// IEEE binary16: every code decoded against the double-precision formula, the encoder
// against the nearest-value reference, the round trip, and, when the compiler targets F16C,
// bit-for-bit agreement with the hardware conversions the SIMD layer will use.

#include <pact/types/fp16.hpp>

#include <gtest/gtest.h>

#include <type_traits>

#include "ref_float_formats.hpp"

#if defined(__F16C__)
#include <immintrin.h>  // test-only: checks the portable rule against vcvtps2ph / vcvtph2ps
#endif

namespace {

std::uint32_t ref_float_to_fp16(const ref::nearest_encoder& table, float x) {
  const std::uint32_t u = ref::bits_of(x);
  const ref::rounded r = ref::round_to_format(table, x);
  const std::uint32_t sign = r.negative ? 0x8000u : 0u;
  if (r.is_nan) return sign | 0x7C00u | 0x0200u | ((u & 0x007FFFFFu) >> 13);
  return sign | (r.code > ref::fp16_format.max_finite_code ? 0x7C00u : r.code);
}

bool fp16_special(std::uint32_t code, std::uint32_t& want_bits) {
  if ((code & 0x7C00u) != 0x7C00u) return false;
  const std::uint32_t sign = (code & 0x8000u) << 16;
  const std::uint32_t mantissa = code & 0x03FFu;
  want_bits = mantissa == 0 ? sign | 0x7F800000u : sign | 0x7F800000u | 0x00400000u | (mantissa << 13);
  return true;
}

static_assert(std::is_trivial_v<pact::fp16> && std::is_standard_layout_v<pact::fp16>);
static_assert(sizeof(pact::fp16) == 2);
static_assert(pact::float_to_fp16_bits(1.0f) == 0x3C00);
static_assert(pact::float_to_fp16_bits(65504.0f) == 0x7BFF);
static_assert(pact::float_to_fp16_bits(65520.0f) == 0x7C00);
static_assert(pact::fp16_bits_to_float(0x0001) == 0x1p-24f);
static_assert(static_cast<float>(pact::fp16(-0.5f)) == -0.5f);

TEST(Fp16, DecodeEveryCode) {
  ref::check_decode_all_codes(
      ref::fp16_format, [](std::uint32_t c) { return pact::fp16_bits_to_float(static_cast<std::uint16_t>(c)); },
      fp16_special);
}

TEST(Fp16, EncodeMatchesNearestEvenReference) {
  const ref::nearest_encoder table(ref::fp16_format);
  ref::mismatch_log log("fp16 encode");
  ref::for_each_test_float(table, [&](float x) {
    log.check(x, pact::float_to_fp16_bits(x), ref_float_to_fp16(table, x));
  });
}

TEST(Fp16, RoundTripEveryNonNanCode) {
  ref::mismatch_log log("fp16 round trip");
  for (std::uint32_t c = 0; c < 0x10000u; ++c) {
    if ((c & 0x7FFFu) > 0x7C00u) continue;  // NaN
    const float v = pact::fp16_bits_to_float(static_cast<std::uint16_t>(c));
    log.check_code(c, pact::float_to_fp16_bits(v), c);
  }
}

TEST(Fp16, HandPickedCases) {
  EXPECT_EQ(pact::float_to_fp16_bits(65519.996f), 0x7BFF);                     // below the overflow tie
  EXPECT_EQ(pact::float_to_fp16_bits(-65520.0f), 0xFC00);                      // overflow tie -> -Inf
  EXPECT_EQ(pact::float_to_fp16_bits(0x1p-25f), 0x0000);                       // half the smallest subnormal: tie to 0
  EXPECT_EQ(pact::float_to_fp16_bits(ref::float_of(0x33000001u)), 0x0001);     // just above it
  EXPECT_EQ(pact::float_to_fp16_bits(0x1.8p-24f), 0x0002);                     // 1.5 subnormal units: tie to even 2
  EXPECT_EQ(pact::float_to_fp16_bits(ref::float_of(0x387FE000u)), 0x0400);     // rounds up into the normals
  EXPECT_EQ(pact::float_to_fp16_bits(ref::float_of(0x7F800001u)), 0x7E00);     // sNaN -> quiet NaN
  EXPECT_EQ(pact::float_to_fp16_bits(ref::float_of(0xFFFFE000u)), 0xFFFF);     // payload kept
  EXPECT_EQ(ref::bits_of(pact::fp16_bits_to_float(0x7C01)), 0x7FC02000u);      // f16 sNaN -> quiet
  EXPECT_EQ(ref::bits_of(pact::fp16_bits_to_float(0xFC00)), 0xFF800000u);      // -Inf
  EXPECT_EQ(pact::fp16_bits_to_float(0x8000), 0.0f);
  EXPECT_TRUE(std::signbit(pact::fp16_bits_to_float(0x8000)));
}

#if defined(__F16C__)
TEST(Fp16, MatchesF16cBitForBit) {
  ref::mismatch_log decode_log("fp16 decode vs vcvtph2ps");
  for (std::uint32_t c = 0; c < 0x10000u; ++c) {
    const float hw = _cvtsh_ss(static_cast<unsigned short>(c));
    decode_log.check_code(c, ref::bits_of(pact::fp16_bits_to_float(static_cast<std::uint16_t>(c))), ref::bits_of(hw));
  }
  const ref::nearest_encoder table(ref::fp16_format);
  ref::mismatch_log encode_log("fp16 encode vs vcvtps2ph");
  ref::for_each_test_float(table, [&](float x) {
    const auto hw = static_cast<std::uint32_t>(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    encode_log.check(x, pact::float_to_fp16_bits(x), hw);
  });
}
#endif

}  // namespace
