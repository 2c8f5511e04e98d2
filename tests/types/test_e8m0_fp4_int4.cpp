// The MX pieces: E8M0 scales, FP4 E2M1 elements, and packed int4.

#include <pact/types/types.hpp>

#include <gtest/gtest.h>

#include <array>
#include <type_traits>
#include <vector>

#include "ref_float_formats.hpp"

namespace {

// ---------------- e8m0 ----------------

static_assert(std::is_trivial_v<pact::e8m0> && sizeof(pact::e8m0) == 1);
static_assert(pact::e8m0_to_float(pact::e8m0::from_bits(127)) == 1.0f);
static_assert(pact::e8m0_from_exponent(-3).bits == 124);
static_assert(pact::e8m0_from_float_floor_log2(-6.0f).bits == 129);

TEST(E8m0, DecodeEveryCode) {
  ref::mismatch_log log("e8m0 decode");
  for (std::uint32_t c = 0; c < 256; ++c) {
    const float got = pact::e8m0_to_float(pact::e8m0::from_bits(static_cast<std::uint8_t>(c)));
    if (c == 0xFF) {
      EXPECT_TRUE(std::isnan(got));
      log.check_code(c, ref::bits_of(got), 0x7FC00000u);
      continue;
    }
    const double want = std::ldexp(1.0, static_cast<int>(c) - 127);
    EXPECT_EQ(static_cast<double>(got), want) << "code " << c;
    log.check_code(c, ref::bits_of(got), ref::bits_of(static_cast<float>(want)));
  }
  EXPECT_EQ(pact::e8m0::from_bits(0).exponent(), -127);
  EXPECT_TRUE(pact::e8m0::from_bits(0xFF).is_nan());
  EXPECT_FALSE(pact::e8m0::from_bits(0xFE).is_nan());
}

TEST(E8m0, FromExponentClamps) {
  for (int e = -400; e <= 400; ++e) {
    const int clamped = std::min(127, std::max(-127, e));
    const pact::e8m0 s = pact::e8m0_from_exponent(e);
    ASSERT_EQ(s.exponent(), clamped) << e;
    ASSERT_EQ(static_cast<double>(pact::e8m0_to_float(s)), std::ldexp(1.0, clamped)) << e;
  }
}

TEST(E8m0, FloorLog2MatchesReference) {
  const ref::nearest_encoder unused_table(ref::e2m1_format);
  ref::mismatch_log log("e8m0 floor log2");
  ref::for_each_test_float(unused_table, [&](float x) {
    std::uint32_t want = 0xFF;
    if (std::isfinite(x)) {
      // Reference: floor(log2|x|) from frexp (|x| = f * 2^e, f in [0.5, 1)), zero -> -inf.
      int e = 0;
      const double f = std::frexp(std::fabs(static_cast<double>(x)), &e);
      const int floor_log2 = f == 0.0 ? -1000 : e - 1;
      want = static_cast<std::uint32_t>(std::min(127, std::max(-127, floor_log2)) + 127);
    }
    log.check(x, pact::e8m0_from_float_floor_log2(x).bits, want);
  });
}

// ---------------- fp4 e2m1 ----------------

static_assert(std::is_trivial_v<pact::fp4_e2m1> && sizeof(pact::fp4_e2m1) == 1);
static_assert(pact::fp4_e2m1_bits_to_float(0x7) == 6.0f);
static_assert(pact::float_to_fp4_e2m1_bits(-2.5f) == 0xC);
static_assert(pact::fp4_e2m1::from_bits(0xF3).bits == 0x3);

std::uint32_t ref_float_to_e2m1(const ref::nearest_encoder& table, float x) {
  const ref::rounded r = ref::round_to_format(table, x);
  if (r.is_nan) return 0;  // NaN -> +0 (documented choice)
  const std::uint32_t sign = r.negative ? 0x8u : 0u;
  return sign | std::min(r.code, ref::e2m1_format.max_finite_code);  // saturate, Inf included
}

TEST(Fp4E2m1, DecodeEveryCodeAndListedValues) {
  ref::check_decode_all_codes(
      ref::e2m1_format, [](std::uint32_t c) { return pact::fp4_e2m1_bits_to_float(static_cast<std::uint8_t>(c)); },
      [](std::uint32_t, std::uint32_t&) { return false; });
  // The OCP table, independently of any formula.
  const std::array<float, 8> values{0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  for (std::uint8_t c = 0; c < 8; ++c) {
    EXPECT_EQ(pact::fp4_e2m1_bits_to_float(c), values[c]);
    EXPECT_EQ(pact::fp4_e2m1_bits_to_float(static_cast<std::uint8_t>(c | 8)), -values[c]);
    EXPECT_EQ(pact::fp4_e2m1_bits_to_float(static_cast<std::uint8_t>(c | 0xF0)), values[c]);  // high nibble ignored
  }
}

TEST(Fp4E2m1, EncodeMatchesReference) {
  const ref::nearest_encoder table(ref::e2m1_format);
  ref::mismatch_log log("fp4 encode");
  ref::for_each_test_float(table, [&](float x) { log.check(x, pact::float_to_fp4_e2m1_bits(x), ref_float_to_e2m1(table, x)); });
}

TEST(Fp4E2m1, RoundTripAndHandPicked) {
  for (std::uint8_t c = 0; c < 16; ++c) EXPECT_EQ(pact::float_to_fp4_e2m1_bits(pact::fp4_e2m1_bits_to_float(c)), c);
  EXPECT_EQ(pact::float_to_fp4_e2m1_bits(0.25f), 0x0);  // ties to even
  EXPECT_EQ(pact::float_to_fp4_e2m1_bits(0.75f), 0x2);
  EXPECT_EQ(pact::float_to_fp4_e2m1_bits(2.5f), 0x4);
  EXPECT_EQ(pact::float_to_fp4_e2m1_bits(5.0f), 0x6);
  EXPECT_EQ(pact::float_to_fp4_e2m1_bits(6.9f), 0x7);
  EXPECT_EQ(pact::float_to_fp4_e2m1_bits(-1e30f), 0xF);
  EXPECT_EQ(pact::float_to_fp4_e2m1_bits(std::numeric_limits<float>::infinity()), 0x7);
  EXPECT_EQ(pact::float_to_fp4_e2m1_bits(-std::numeric_limits<float>::quiet_NaN()), 0x0);
  EXPECT_EQ(pact::float_to_fp4_e2m1_bits(-0.1f), 0x8);
  EXPECT_EQ(pact::fp4_e2m1(3.2f).bits, 0x5);
}

// ---------------- int4 ----------------

int ref_signed_nibble(unsigned nibble) { return nibble >= 8 ? static_cast<int>(nibble) - 16 : static_cast<int>(nibble); }

static_assert(std::is_trivial_v<pact::int4x2> && sizeof(pact::int4x2) == 1);
static_assert(pact::pack_s4(-1, 7).bits == 0x7F);
static_assert(pact::unpack_s4_hi(pact::int4x2{0x8F}) == -8);

TEST(Int4, UnpackEveryByte) {
  for (unsigned b = 0; b < 256; ++b) {
    const pact::int4x2 p{static_cast<std::uint8_t>(b)};
    EXPECT_EQ(pact::unpack_s4_lo(p), ref_signed_nibble(b & 0xF)) << b;
    EXPECT_EQ(pact::unpack_s4_hi(p), ref_signed_nibble(b >> 4)) << b;
    EXPECT_EQ(pact::unpack_u4_lo(p), static_cast<int>(b & 0xF)) << b;
    EXPECT_EQ(pact::unpack_u4_hi(p), static_cast<int>(b >> 4)) << b;
  }
}

TEST(Int4, PackEveryPairAndSaturate) {
  for (int lo = -8; lo <= 7; ++lo) {
    for (int hi = -8; hi <= 7; ++hi) {
      const pact::int4x2 p = pact::pack_s4(lo, hi);
      EXPECT_EQ(p.bits, ((lo & 0xF) | ((hi & 0xF) << 4)));
      EXPECT_EQ(pact::unpack_s4_lo(p), lo);
      EXPECT_EQ(pact::unpack_s4_hi(p), hi);
    }
  }
  for (int lo = 0; lo <= 15; ++lo) {
    for (int hi = 0; hi <= 15; ++hi) {
      const pact::int4x2 p = pact::pack_u4(lo, hi);
      EXPECT_EQ(p.bits, lo | (hi << 4));
      EXPECT_EQ(pact::unpack_u4_lo(p), lo);
      EXPECT_EQ(pact::unpack_u4_hi(p), hi);
    }
  }
  for (int v = -1000; v <= 1000; ++v) {
    EXPECT_EQ(pact::saturate_s4(v), v < -8 ? -8 : (v > 7 ? 7 : v));
    EXPECT_EQ(pact::saturate_u4(v), v < 0 ? 0 : (v > 15 ? 15 : v));
  }
  EXPECT_EQ(pact::pack_s4(100, -100).bits, 0x87);  // 7 and -8, not wrapped
  EXPECT_EQ(pact::pack_u4(-5, 99).bits, 0xF0);
}

// Not inlined into a loop over constant lengths: g++ 12 -O3 otherwise reports false
// -Wstringop-overflow warnings on the vectorized loops of the fully unrolled test.
[[gnu::noinline]] void check_bulk_signed_round_trip(std::size_t n) {
  std::vector<std::int8_t> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<std::int8_t>(static_cast<int>(i * 5 % 16) - 8);
  std::vector<pact::int4x2> packed(pact::packed_int4_size(n), pact::int4x2{0xAA});
  ASSERT_EQ(packed.size(), (n + 1) / 2);
  ASSERT_TRUE(pact::pack_s4_span(values, packed));
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned nibble = i % 2 == 0 ? packed[i / 2].bits & 0xFu : packed[i / 2].bits >> 4u;
    EXPECT_EQ(ref_signed_nibble(nibble), values[i]) << n << " " << i;
  }
  if (n % 2 == 1) {
    EXPECT_EQ(packed.back().bits >> 4, 0) << "odd length: last high nibble must be 0";
  }
  std::vector<std::int8_t> unpacked(n, 99);
  ASSERT_TRUE(pact::unpack_s4_span(packed, unpacked));
  EXPECT_EQ(unpacked, values);
}

TEST(Int4, BulkSignedAllLengths) {
  for (std::size_t n = 0; n <= 9; ++n) check_bulk_signed_round_trip(n);
  check_bulk_signed_round_trip(1001);
}

TEST(Int4, BulkUnsignedAndSaturation) {
  const std::vector<std::uint8_t> values{0, 15, 16, 200, 7};
  std::vector<pact::int4x2> packed(3);
  ASSERT_TRUE(pact::pack_u4_span(values, packed));
  EXPECT_EQ(packed[0].bits, 0xF0);
  EXPECT_EQ(packed[1].bits, 0xFF);  // 16 and 200 saturate to 15
  EXPECT_EQ(packed[2].bits, 0x07);
  std::vector<std::uint8_t> unpacked(5);
  ASSERT_TRUE(pact::unpack_u4_span(packed, unpacked));
  EXPECT_EQ(unpacked, (std::vector<std::uint8_t>{0, 15, 15, 15, 7}));

  const std::vector<std::int8_t> s{-128, 127, -9};
  std::vector<pact::int4x2> sp(2);
  ASSERT_TRUE(pact::pack_s4_span(s, sp));
  EXPECT_EQ(sp[0].bits, 0x78);
  EXPECT_EQ(sp[1].bits, 0x08);
}

TEST(Int4, BulkSizeMismatchWritesNothing) {
  const std::vector<std::int8_t> values{1, 2, 3};
  for (std::size_t wrong : {0u, 1u, 3u}) {
    std::vector<pact::int4x2> packed(wrong, pact::int4x2{0xAA});
    EXPECT_FALSE(pact::pack_s4_span(values, packed)) << wrong;
    for (pact::int4x2 p : packed) EXPECT_EQ(p.bits, 0xAA);
  }
  const std::vector<pact::int4x2> packed{pact::int4x2{0x21}, pact::int4x2{0x03}};
  for (std::size_t wrong : {0u, 1u, 2u, 5u}) {
    std::vector<std::int8_t> out(wrong, 99);
    EXPECT_FALSE(pact::unpack_s4_span(packed, out)) << wrong;
    for (std::int8_t v : out) EXPECT_EQ(v, 99);
    std::vector<std::uint8_t> uout(wrong, 99);
    EXPECT_FALSE(pact::unpack_u4_span(packed, uout)) << wrong;
  }
  std::vector<pact::int4x2> wrong_u(1);
  EXPECT_FALSE(pact::pack_u4_span(std::vector<std::uint8_t>{1, 2, 3}, wrong_u));
  std::vector<std::int8_t> three(3), four(4);
  EXPECT_TRUE(pact::unpack_s4_span(packed, three));
  EXPECT_TRUE(pact::unpack_s4_span(packed, four));
  EXPECT_EQ(three, (std::vector<std::int8_t>{1, 2, 3}));
}

// A constexpr round trip through the bulk functions: they are usable at compile time.
constexpr bool bulk_round_trip_at_compile_time() {
  std::array<std::int8_t, 5> in{-8, 7, 0, -1, 3};
  std::array<pact::int4x2, 3> packed{};
  std::array<std::int8_t, 5> out{};
  return pact::pack_s4_span(in, packed) && pact::unpack_s4_span(packed, out) && in == out;
}
static_assert(bulk_round_trip_at_compile_time());

}  // namespace
