// fp8 e4m3 (FN) and e5m2: every code decoded against the double-precision formula, the
// encoders in both overflow modes against the nearest-value reference, and round trips.

#include <pact/types/fp16.hpp>
#include <pact/types/fp8.hpp>

#include <gtest/gtest.h>

#include <type_traits>

#include "ref_float_formats.hpp"

namespace {

using pact::fp8_overflow;

// Rules from docs/types.md, table "fp8 overflow".
std::uint32_t ref_float_to_e4m3(const ref::nearest_encoder& table, float x, fp8_overflow mode) {
  const ref::rounded r = ref::round_to_format(table, x);
  const std::uint32_t sign = r.negative ? 0x80u : 0u;
  if (r.is_nan) return sign | 0x7Fu;
  if (r.code > ref::e4m3_format.max_finite_code) return sign | (mode == fp8_overflow::saturate ? 0x7Eu : 0x7Fu);
  return sign | r.code;
}

std::uint32_t ref_float_to_e5m2(const ref::nearest_encoder& table, float x, fp8_overflow mode) {
  const ref::rounded r = ref::round_to_format(table, x);
  const std::uint32_t sign = r.negative ? 0x80u : 0u;
  if (r.is_nan) return sign | 0x7Eu;
  if (r.code > ref::e5m2_format.max_finite_code) return sign | (mode == fp8_overflow::saturate ? 0x7Bu : 0x7Cu);
  return sign | r.code;
}

bool e4m3_special(std::uint32_t code, std::uint32_t& want_bits) {
  if ((code & 0x7Fu) != 0x7Fu) return false;  // the only NaN; no Inf
  want_bits = ((code & 0x80u) << 24) | 0x7FC00000u;
  return true;
}

bool e5m2_special(std::uint32_t code, std::uint32_t& want_bits) {
  if ((code & 0x7Cu) != 0x7Cu) return false;
  const std::uint32_t sign = (code & 0x80u) << 24;
  const std::uint32_t mantissa = code & 0x3u;
  want_bits = mantissa == 0 ? sign | 0x7F800000u : sign | 0x7FC00000u | (mantissa << 21);
  return true;
}

static_assert(std::is_trivial_v<pact::fp8_e4m3> && std::is_standard_layout_v<pact::fp8_e4m3>);
static_assert(std::is_trivial_v<pact::fp8_e5m2> && std::is_standard_layout_v<pact::fp8_e5m2>);
static_assert(pact::fp8_e4m3_bits_to_float(0x7E) == 448.0f);
static_assert(pact::fp8_e4m3_bits_to_float(0x01) == 0x1p-9f);
static_assert(pact::float_to_fp8_e4m3_bits(1000.0f) == 0x7E);
static_assert(pact::float_to_fp8_e4m3_bits(1000.0f, fp8_overflow::to_nan_or_inf) == 0x7F);
static_assert(pact::fp8_e5m2_bits_to_float(0x7B) == 57344.0f);
static_assert(pact::float_to_fp8_e5m2_bits(-1e6f, fp8_overflow::to_nan_or_inf) == 0xFC);
static_assert(static_cast<float>(pact::fp8_e4m3(-1.75f)) == -1.75f);

TEST(Fp8E4m3, DecodeEveryCode) {
  ref::check_decode_all_codes(
      ref::e4m3_format, [](std::uint32_t c) { return pact::fp8_e4m3_bits_to_float(static_cast<std::uint8_t>(c)); },
      e4m3_special);
}

TEST(Fp8E5m2, DecodeEveryCode) {
  ref::check_decode_all_codes(
      ref::e5m2_format, [](std::uint32_t c) { return pact::fp8_e5m2_bits_to_float(static_cast<std::uint8_t>(c)); },
      e5m2_special);
}

TEST(Fp8E5m2, DecodeEqualsFp16OfShiftedBits) {
  ref::mismatch_log log("e5m2 decode vs fp16(bits << 8)");
  for (std::uint32_t c = 0; c < 256; ++c) {
    log.check_code(c, ref::bits_of(pact::fp8_e5m2_bits_to_float(static_cast<std::uint8_t>(c))),
                   ref::bits_of(pact::fp16_bits_to_float(static_cast<std::uint16_t>(c << 8))));
  }
}

TEST(Fp8E4m3, EncodeMatchesReferenceBothModes) {
  const ref::nearest_encoder table(ref::e4m3_format);
  ref::mismatch_log saturate_log("e4m3 encode saturate");
  ref::mismatch_log nan_log("e4m3 encode to_nan_or_inf");
  ref::for_each_test_float(table, [&](float x) {
    saturate_log.check(x, pact::float_to_fp8_e4m3_bits(x), ref_float_to_e4m3(table, x, fp8_overflow::saturate));
    nan_log.check(x, pact::float_to_fp8_e4m3_bits(x, fp8_overflow::to_nan_or_inf),
                  ref_float_to_e4m3(table, x, fp8_overflow::to_nan_or_inf));
  });
}

TEST(Fp8E5m2, EncodeMatchesReferenceBothModes) {
  const ref::nearest_encoder table(ref::e5m2_format);
  ref::mismatch_log saturate_log("e5m2 encode saturate");
  ref::mismatch_log inf_log("e5m2 encode to_nan_or_inf");
  ref::for_each_test_float(table, [&](float x) {
    saturate_log.check(x, pact::float_to_fp8_e5m2_bits(x), ref_float_to_e5m2(table, x, fp8_overflow::saturate));
    inf_log.check(x, pact::float_to_fp8_e5m2_bits(x, fp8_overflow::to_nan_or_inf),
                  ref_float_to_e5m2(table, x, fp8_overflow::to_nan_or_inf));
  });
}

TEST(Fp8, RoundTripEveryNonNanCode) {
  ref::mismatch_log log("fp8 round trip");
  for (std::uint32_t c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    if ((c & 0x7Fu) != 0x7Fu) {
      const float v = pact::fp8_e4m3_bits_to_float(code);
      log.check_code(c, pact::float_to_fp8_e4m3_bits(v), c);
      log.check_code(c, pact::float_to_fp8_e4m3_bits(v, fp8_overflow::to_nan_or_inf), c);
    }
    if ((c & 0x7Fu) <= 0x7Bu) {  // finite: Inf only survives the non-saturating mode
      const float v = pact::fp8_e5m2_bits_to_float(code);
      log.check_code(c, pact::float_to_fp8_e5m2_bits(v), c);
      log.check_code(c, pact::float_to_fp8_e5m2_bits(v, fp8_overflow::to_nan_or_inf), c);
    }
  }
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(pact::float_to_fp8_e5m2_bits(pact::fp8_e5m2_bits_to_float(0xFC), fp8_overflow::to_nan_or_inf), 0xFC);
  EXPECT_EQ(pact::float_to_fp8_e5m2_bits(inf), 0x7B);
}

TEST(Fp8, HandPickedOverflowAndTies) {
  // e4m3: 464 is the tie between 448 (even mantissa) and 480: stays finite in both modes.
  EXPECT_EQ(pact::float_to_fp8_e4m3_bits(464.0f, fp8_overflow::to_nan_or_inf), 0x7E);
  EXPECT_EQ(pact::float_to_fp8_e4m3_bits(std::nextafter(464.0f, 1e9f), fp8_overflow::to_nan_or_inf), 0x7F);
  EXPECT_EQ(pact::float_to_fp8_e4m3_bits(-std::numeric_limits<float>::infinity()), 0xFE);
  EXPECT_EQ(pact::float_to_fp8_e4m3_bits(-std::numeric_limits<float>::infinity(), fp8_overflow::to_nan_or_inf), 0xFF);
  EXPECT_EQ(pact::float_to_fp8_e4m3_bits(-std::numeric_limits<float>::quiet_NaN()), 0xFF);
  EXPECT_EQ(pact::float_to_fp8_e4m3_bits(0x1p-10f), 0x00);                  // half the smallest subnormal
  EXPECT_EQ(pact::float_to_fp8_e4m3_bits(0x1.8p-9f), 0x02);                 // 1.5 units -> even 2
  EXPECT_EQ(pact::float_to_fp8_e4m3_bits(-0.0f), 0x80);
  // e5m2: 61440 is the tie between 57344 (odd mantissa) and 65536: overflows.
  EXPECT_EQ(pact::float_to_fp8_e5m2_bits(std::nextafter(61440.0f, 0.0f), fp8_overflow::to_nan_or_inf), 0x7B);
  EXPECT_EQ(pact::float_to_fp8_e5m2_bits(61440.0f, fp8_overflow::to_nan_or_inf), 0x7C);
  EXPECT_EQ(pact::float_to_fp8_e5m2_bits(61440.0f), 0x7B);
  EXPECT_EQ(pact::float_to_fp8_e5m2_bits(std::numeric_limits<float>::quiet_NaN()), 0x7E);
  EXPECT_EQ(pact::float_to_fp8_e5m2_bits(0x1p-17f), 0x00);
  EXPECT_EQ(pact::float_to_fp8_e5m2_bits(0x1.000002p-17f), 0x01);
}

}  // namespace
