// bf16: every one of the 65536 codes decoded against the double-precision formula, the
// encoder against the nearest-value reference on ~8 million chosen and random floats, and
// the round trip of every non-NaN code.

#include <pact/types/bf16.hpp>

#include <gtest/gtest.h>

#include <type_traits>

#include "ref_float_formats.hpp"

namespace {

// The spec'd rules, written from the documentation rather than from the implementation.
std::uint32_t ref_float_to_bf16(const ref::nearest_encoder& table, float x) {
  const std::uint32_t u = ref::bits_of(x);
  const ref::rounded r = ref::round_to_format(table, x);
  if (r.is_nan) return (u >> 16) | 0x0040u;  // sign + top payload, quiet bit forced
  const std::uint32_t sign = r.negative ? 0x8000u : 0u;
  return sign | (r.code > ref::bf16_format.max_finite_code ? 0x7F80u : r.code);  // overflow -> Inf
}

bool bf16_special(std::uint32_t code, std::uint32_t& want_bits) {
  if ((code & 0x7F80u) != 0x7F80u) return false;
  want_bits = code << 16;  // Inf and every NaN payload map to the float32 with the same top bits
  return true;
}

static_assert(std::is_trivial_v<pact::bf16> && std::is_standard_layout_v<pact::bf16>);
static_assert(sizeof(pact::bf16) == 2);
// Usable in constant expressions.
static_assert(pact::float_to_bf16_bits(1.0f) == 0x3F80);
static_assert(pact::float_to_bf16_bits(-2.0f) == 0xC000);
static_assert(pact::bf16_bits_to_float(0x3FC0) == 1.5f);
static_assert(static_cast<float>(pact::bf16(3.0f)) == 3.0f);
static_assert(pact::bf16::from_bits(0x4049).bits == 0x4049);

TEST(Bf16, DecodeEveryCode) {
  ref::check_decode_all_codes(
      ref::bf16_format, [](std::uint32_t c) { return pact::bf16_bits_to_float(static_cast<std::uint16_t>(c)); },
      bf16_special);
}

TEST(Bf16, EncodeMatchesNearestEvenReference) {
  const ref::nearest_encoder table(ref::bf16_format);
  ref::mismatch_log log("bf16 encode");
  ref::for_each_test_float(table, [&](float x) {
    log.check(x, pact::float_to_bf16_bits(x), ref_float_to_bf16(table, x));
  });
}

TEST(Bf16, RoundTripEveryNonNanCode) {
  ref::mismatch_log log("bf16 round trip");
  for (std::uint32_t c = 0; c < 0x10000u; ++c) {
    if ((c & 0x7FFFu) > 0x7F80u) continue;  // NaN
    const float v = pact::bf16_bits_to_float(static_cast<std::uint16_t>(c));
    log.check_code(c, pact::float_to_bf16_bits(v), c);
  }
}

TEST(Bf16, HandPickedCases) {
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0x3F808001u)), 0x3F81);  // above tie
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0x7F7FFFFFu)), 0x7F80);  // FLT_MAX -> Inf
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0x7F7F7FFFu)), 0x7F7F);  // just below the overflow tie
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0xFF800000u)), 0xFF80);  // -Inf
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0x7F800001u)), 0x7FC0);  // sNaN, low payload: still NaN
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0xFFA12345u)), 0xFFE1);  // sign + payload kept, quiet
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0x80000000u)), 0x8000);  // -0
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0x00008000u)), 0x0000);  // subnormal tie to even 0
  EXPECT_EQ(pact::float_to_bf16_bits(ref::float_of(0x00018000u)), 0x0002);  // subnormal tie, odd -> up

  const pact::bf16 x(0.1f);
  EXPECT_EQ(x.bits, 0x3DCD);
  EXPECT_EQ(static_cast<float>(x), ref::float_of(0x3DCD0000u));
}

}  // namespace
