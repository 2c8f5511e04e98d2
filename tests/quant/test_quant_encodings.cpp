// Exhaustive element encodings for the MX element types: fp6 E2M3 / E3M2 (all 64 codes),
// fp4 E2M1 (all 16), E8M0 (all 256), against the table-based reference of
// tests/types/ref_float_formats.hpp.
#include <pact/quant.hpp>

#include <gtest/gtest.h>

#include <cmath>

#include "types/ref_float_formats.hpp"

namespace {

constexpr ref::format e2m3_format{"fp6_e2m3", 2, 3, 1, 0x1F};
constexpr ref::format e3m2_format{"fp6_e3m2", 3, 2, 3, 0x1F};

template <class Decode>
void decode_all_64(const ref::format& f, Decode decode) {
  for (std::uint32_t c = 0; c < 64; ++c) {
    const double want = ref::value(f, c);
    const float got = decode(static_cast<std::uint8_t>(c));
    EXPECT_EQ(static_cast<double>(got), want) << f.name << " code " << c;
    EXPECT_EQ(std::signbit(got), (c & 0x20) != 0) << f.name << " code " << c;
  }
}

// Encode every float32 input of ref::for_each_encode_input-style sweep: nearest, ties to
// even, saturating, NaN -> +0.
template <class Encode>
void encode_sweep(const ref::format& f, std::uint32_t sign_bit, Encode encode) {
  const ref::nearest_encoder table(f);
  std::size_t checked = 0, bad = 0;
  auto check = [&](float x) {
    const auto r = ref::round_to_format(table, x);
    std::uint32_t want;
    if (r.is_nan) want = 0;
    else want = (r.negative ? sign_bit : 0u) | (r.code > f.max_finite_code ? f.max_finite_code : r.code);
    const std::uint32_t got = encode(x);
    ++checked;
    if (got != want && ++bad <= 5) ADD_FAILURE() << f.name << " encode(" << x << "): want " << want << " got " << got;
  };
  // Every value, every midpoint, +-1 ulp around each, both signs; then a dense sweep.
  for (std::size_t i = 0; i + 1 < table.values().size(); ++i) {
    const double v = table.values()[i], next = table.values()[i + 1];
    for (double p : {v, (v + next) / 2}) {
      const float fp = static_cast<float>(p);
      for (float t : {fp, std::nextafter(fp, 0.0f), std::nextafter(fp, INFINITY)}) {
        check(t);
        check(-t);
      }
    }
  }
  for (float s : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 1e30f, -1e30f, 1e-30f, 3.4e38f}) check(s);
  for (std::uint32_t u = 0; u < (1u << 20); ++u) check(std::bit_cast<float>(0x3E000000u + u * 37u));
  EXPECT_EQ(bad, 0u) << checked << " inputs";
}

}  // namespace

TEST(QuantEncodings, Fp6E2M3AllCodes) {
  decode_all_64(e2m3_format, pact::fp6_e2m3_bits_to_float);
  EXPECT_EQ(pact::fp6_e2m3_bits_to_float(0x1F), 7.5f);
  EXPECT_EQ(pact::fp6_e2m3_bits_to_float(0x01), 0.125f);
  for (std::uint32_t c = 0; c < 64; ++c) {  // round trip of every code
    EXPECT_EQ(pact::float_to_fp6_e2m3_bits(pact::fp6_e2m3_bits_to_float(static_cast<std::uint8_t>(c))), c);
  }
}

TEST(QuantEncodings, Fp6E3M2AllCodes) {
  decode_all_64(e3m2_format, pact::fp6_e3m2_bits_to_float);
  EXPECT_EQ(pact::fp6_e3m2_bits_to_float(0x1F), 28.0f);
  EXPECT_EQ(pact::fp6_e3m2_bits_to_float(0x01), 0.0625f);
  for (std::uint32_t c = 0; c < 64; ++c) {
    EXPECT_EQ(pact::float_to_fp6_e3m2_bits(pact::fp6_e3m2_bits_to_float(static_cast<std::uint8_t>(c))), c);
  }
}

TEST(QuantEncodings, Fp6EncodeNearestEvenSaturating) {
  encode_sweep(e2m3_format, 0x20, [](float x) { return pact::float_to_fp6_e2m3_bits(x); });
  encode_sweep(e3m2_format, 0x20, [](float x) { return pact::float_to_fp6_e3m2_bits(x); });
  EXPECT_EQ(pact::float_to_fp6_e2m3_bits(7.75f), 0x1F);   // tie 7.5 / 8 -> 8 -> saturate
  EXPECT_EQ(pact::float_to_fp6_e2m3_bits(-100.0f), 0x3F);
  EXPECT_EQ(pact::float_to_fp6_e3m2_bits(INFINITY), 0x1F);
  EXPECT_EQ(pact::float_to_fp6_e3m2_bits(NAN), 0x00);
  EXPECT_EQ(pact::float_to_fp6_e2m3_bits(0.0625f), 0x00);  // tie 0 / 0.125 -> even 0
  EXPECT_EQ(pact::float_to_fp6_e2m3_bits(0.1875f), 0x02);  // tie 0.125 / 0.25 -> even 0.25
}

TEST(QuantEncodings, Fp4E2M1AllCodes) {
  for (std::uint32_t c = 0; c < 16; ++c) {
    EXPECT_EQ(static_cast<double>(pact::fp4_e2m1_bits_to_float(static_cast<std::uint8_t>(c))), ref::value(ref::e2m1_format, c));
    EXPECT_EQ(pact::float_to_fp4_e2m1_bits(pact::fp4_e2m1_bits_to_float(static_cast<std::uint8_t>(c))), c);
  }
  encode_sweep(ref::e2m1_format, 0x8, [](float x) { return pact::float_to_fp4_e2m1_bits(x); });
}

TEST(QuantEncodings, E8M0AllCodes) {
  for (std::uint32_t c = 0; c < 255; ++c) {
    EXPECT_EQ(static_cast<double>(pact::e8m0_to_float(pact::e8m0::from_bits(static_cast<std::uint8_t>(c)))),
              std::ldexp(1.0, static_cast<int>(c) - 127));
  }
  EXPECT_TRUE(std::isnan(pact::e8m0_to_float(pact::e8m0::from_bits(0xFF))));
}
