// OCP MX blocks against a reference written from the spec: shared exponent
// floor(log2(amax)) - emax_elem found by a loop in double, each element the nearest code by
// exhaustive search over all codes (ties to the even code), saturating; NaN blocks.
#include <pact/quant.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "quant/quant_inputs.hpp"

namespace q = pact::quant;

namespace {

template <class Block>
void compare_block_with_spec(const float* x, const Block& got, const char* name) {
  using T = q::mx_traits<Block>;
  double amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(static_cast<double>(x[j])));
  int e = -127;
  if (amax > 0) {
    int p = 0;  // floor(log2(amax)) by repeated halving / doubling
    double m = amax;
    while (m >= 2) { m /= 2; ++p; }
    while (m < 1) { m *= 2; --p; }
    e = std::clamp(p - T::emax, -127, 127);
  }
  ASSERT_EQ(got.scale.bits, e + 127) << name;
  const double X = std::ldexp(1.0, e);
  // All codes with their values (sign included), for the nearest search.
  const int ncodes = std::is_same_v<Block, q::mx_block_fp4> ? 16 : (std::is_same_v<Block, q::mx_block_fp6_e2m3> || std::is_same_v<Block, q::mx_block_fp6_e3m2>) ? 64 : 256;
  for (int j = 0; j < 32; ++j) {
    const double v = static_cast<double>(x[j]) / X;
    int best = -1;
    double best_d = 0;
    for (int c = 0; c < ncodes; ++c) {
      const double cv = static_cast<double>(T::decode(static_cast<std::uint8_t>(c)));
      if (std::isnan(cv) || std::isinf(cv)) continue;
      if (c == (ncodes / 2) && cv == 0) continue;  // -0: compared through the sign below
      const double dist = std::fabs(cv - v);
      const bool better = best < 0 || dist < best_d ||
                          (dist == best_d && (c & 1) == 0 && (best & 1) == 1);  // ties to even code
      if (better) { best = c; best_d = dist; }
    }
    if (std::is_same_v<Block, q::mx_block_int8>) {
      // MXINT8 element: RNE(64 v) clamped to [-127, 127], two's complement.
      const double r = std::clamp(std::nearbyint(v * 64), -127.0, 127.0);
      best = static_cast<std::uint8_t>(static_cast<std::int8_t>(r));
    } else if (best_d == 0 && v == 0 && std::signbit(x[j])) {
      best = ncodes / 2;  // the sign of zero is kept
    } else if (v < 0 && T::decode(static_cast<std::uint8_t>(best)) == 0) {
      best = ncodes / 2;  // negative value rounding to zero -> -0
    }
    EXPECT_EQ(T::get(got, j), best) << name << " element " << j << " x=" << x[j] << " v=" << v;
  }
}

template <class Block>
void check_format(const char* name) {
  for (const auto& row : qin::all_rows(32, 77)) {
    std::vector<Block> b(row.x.size() / 32);
    q::quantize_mx<Block>(row.x, b);
    for (std::size_t k = 0; k < b.size(); ++k) {
      compare_block_with_spec(row.x.data() + 32 * k, b[k], name);
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "row " << row.name << " block " << k;
        return;
      }
    }
    // dequantize: decode(code) * X, exact in double then one rounding
    std::vector<float> y(row.x.size());
    q::dequantize_mx<Block>(b, y);
    for (std::size_t i = 0; i < y.size(); ++i) {
      const auto& blk = b[i / 32];
      const double want = static_cast<double>(q::mx_traits<Block>::decode(q::mx_traits<Block>::get(blk, static_cast<int>(i % 32)))) *
                          std::ldexp(1.0, blk.scale.bits - 127);
      ASSERT_EQ(y[i], static_cast<float>(want)) << name << " " << row.name << " " << i;
    }
  }
}

}  // namespace

TEST(QuantMx, Fp8E4M3) { check_format<q::mx_block_fp8_e4m3>("mxfp8_e4m3"); }
TEST(QuantMx, Fp8E5M2) { check_format<q::mx_block_fp8_e5m2>("mxfp8_e5m2"); }
TEST(QuantMx, Fp6E2M3) { check_format<q::mx_block_fp6_e2m3>("mxfp6_e2m3"); }
TEST(QuantMx, Fp6E3M2) { check_format<q::mx_block_fp6_e3m2>("mxfp6_e3m2"); }
TEST(QuantMx, Fp4E2M1) { check_format<q::mx_block_fp4>("mxfp4"); }
TEST(QuantMx, Int8) { check_format<q::mx_block_int8>("mxint8"); }

TEST(QuantMx, GoldenBlocks) {
  float x[32] = {};
  x[0] = 448; x[1] = 1; x[2] = -2; x[3] = 0.0078125f;
  q::mx_block_fp8_e4m3 a;
  q::scalar::quantize_block(x, a);
  EXPECT_EQ(a.scale.bits, 127);  // floor(log2 448) = 8 = emax -> X = 1
  EXPECT_EQ(a.q[0], 0x7E);
  EXPECT_EQ(a.q[1], 0x38);
  EXPECT_EQ(a.q[2], 0xC0);
  EXPECT_EQ(a.q[3], 0x04);  // 2^-7 = 4 * 2^-9 (subnormal)

  float y[32] = {};
  y[0] = 7.5f; y[1] = 1.0f; y[4] = -0.125f;
  q::mx_block_fp6_e2m3 b;
  q::scalar::quantize_block(y, b);
  EXPECT_EQ(b.scale.bits, 127);  // floor(log2 7.5) = 2 = emax
  // codes 0x1F, 0x08, 0, 0 | 0x21 (-0.125), 0, 0, 0: 24-bit words 0x00021F and 0x000021
  EXPECT_EQ(b.packed[0], 0x1F);
  EXPECT_EQ(b.packed[1], 0x02);
  EXPECT_EQ(b.packed[2], 0x00);
  EXPECT_EQ(b.packed[3], 0x21);
  EXPECT_EQ(b.packed[4], 0x00);

  float z[32] = {};
  z[0] = 1.5f; z[1] = -1; z[2] = 1.0f / 128; z[3] = 3.0f / 128;
  q::mx_block_int8 c;
  q::scalar::quantize_block(z, c);
  EXPECT_EQ(c.scale.bits, 127);
  EXPECT_EQ(c.q[0], 96);
  EXPECT_EQ(c.q[1], -64);
  EXPECT_EQ(c.q[2], 0);  // 0.5 -> even 0
  EXPECT_EQ(c.q[3], 2);  // 1.5 -> even 2

  float w[32] = {};
  w[0] = 6; w[1] = -0.75f; w[2] = 5;
  q::mx_block_fp4 d;
  q::scalar::quantize_block(w, d);
  EXPECT_EQ(d.scale.bits, 127);
  EXPECT_EQ(d.packed[0], 0xA7);  // 6 -> 0x7; -0.75 -> tie .5/1 -> even 1.0 -> 0xA
  EXPECT_EQ(d.packed[1], 0x06);  // 5 -> tie 4/6 -> even 4 (0x6)
}

TEST(QuantMx, NanAndInfBlocksAndAllZero) {
  std::vector<float> x(64, 1.0f);
  x[5] = NAN;
  x[40] = -INFINITY;
  std::vector<q::mx_block_fp8_e4m3> b(2);
  q::quantize_mx<q::mx_block_fp8_e4m3>(x, b);
  EXPECT_EQ(b[0].scale.bits, 0xFF);
  EXPECT_EQ(b[1].scale.bits, 0xFF);
  std::vector<float> y(64);
  q::dequantize_mx<q::mx_block_fp8_e4m3>(b, y);
  for (float v : y) EXPECT_TRUE(std::isnan(v));
  std::vector<float> zeros(32, 0.0f);
  std::vector<q::mx_block_int8> z(1);
  q::quantize_mx<q::mx_block_int8>(zeros, z);
  EXPECT_EQ(z[0].scale.bits, 0);
  for (auto v : z[0].q) EXPECT_EQ(v, 0);
}

TEST(QuantMx, RoundTripErrorBounds) {
  const auto rows = qin::random_rows(32, 1024, 11);
  auto worst = [&](auto tag) {
    using Block = decltype(tag);
    double w = 0;
    for (const auto& row : rows) {
      std::vector<Block> b(row.x.size() / 32);
      std::vector<float> y(row.x.size());
      q::quantize_mx<Block>(row.x, b);
      q::dequantize_mx<Block>(b, y);
      for (std::size_t k = 0; k < y.size(); k += 32) {
        double amax = 0, err = 0;
        for (std::size_t i = k; i < k + 32; ++i) {
          amax = std::max(amax, std::fabs(static_cast<double>(row.x[i])));
          err = std::max(err, std::fabs(static_cast<double>(row.x[i]) - y[i]));
        }
        if (amax > 0) w = std::max(w, err / amax);
      }
    }
    return w;
  };
  const double e4m3 = worst(q::mx_block_fp8_e4m3{}), e5m2 = worst(q::mx_block_fp8_e5m2{});
  const double e2m3 = worst(q::mx_block_fp6_e2m3{}), e3m2 = worst(q::mx_block_fp6_e3m2{});
  const double fp4 = worst(q::mx_block_fp4{}), i8 = worst(q::mx_block_int8{});
  std::printf("MX round-trip max |err| / block amax: e4m3 %.5f e5m2 %.5f e2m3 %.5f e3m2 %.5f fp4 %.5f int8 %.5f\n",
              e4m3, e5m2, e2m3, e3m2, fp4, i8);
  // Elements near amax have relative step 2^-mant; amax itself may saturate (amax/X < 2^(emax+1)).
  EXPECT_LE(e4m3, 0.125 + 1e-9);  // amax/X up to 512 saturates at 448
  EXPECT_LE(e5m2, 0.125 + 1e-9);
  EXPECT_LE(e2m3, 0.0625 + 1e-9);
  EXPECT_LE(e3m2, 0.125 + 1e-9);
  EXPECT_LE(fp4, 0.25 + 1e-9);
  EXPECT_LE(i8, 1.0 / 128 + 1e-9);
}
