// ggml block formats: quantizer bytes against the independent reference (quant_reference.hpp)
// on edge and random rows, hand-derived golden blocks, dequantization against double
// arithmetic, round-trip error bounds, and the checked API's errors.
#include <pact/quant.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "quant/quant_inputs.hpp"
#include "quant/quant_reference.hpp"

namespace q = pact::quant;

namespace {

template <class Block>
std::vector<std::uint8_t> bytes_of(const std::vector<Block>& b) {
  std::vector<std::uint8_t> out(b.size() * sizeof(Block));
  std::memcpy(out.data(), b.data(), out.size());
  return out;
}

template <class Block, class Ref>
void compare_with_reference(Ref ref) {
  int mismatches = 0;
  for (const auto& row : qin::all_rows()) {
    const std::size_t nb = row.x.size() / Block::elems;
    std::vector<Block> got(nb);
    q::quantize<Block>(row.x, got);  // checked API, native arch
    const auto got_bytes = bytes_of(got);
    for (std::size_t b = 0; b < nb; ++b) {
      const auto want = ref(row.x.data() + b * Block::elems);
      ASSERT_EQ(want.size(), sizeof(Block));
      if (std::memcmp(want.data(), got_bytes.data() + b * sizeof(Block), sizeof(Block)) != 0 && ++mismatches <= 5) {
        ADD_FAILURE() << "row " << row.name << " block " << b << ": bytes differ from the reference";
        for (std::size_t i = 0; i < sizeof(Block); ++i) {
          if (want[i] != got_bytes[b * sizeof(Block) + i]) {
            std::printf("  byte %zu: want %02x got %02x\n", i, want[i], got_bytes[b * sizeof(Block) + i]);
            break;
          }
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace

TEST(QuantGgml, Q8_0MatchesReference) { compare_with_reference<q::block_q8_0>(qref::q8_0); }
TEST(QuantGgml, Q4_0MatchesReference) { compare_with_reference<q::block_q4_0>(qref::q4_0); }
TEST(QuantGgml, Q4_1MatchesReference) { compare_with_reference<q::block_q4_1>(qref::q4_1); }
TEST(QuantGgml, Mxfp4MatchesReference) { compare_with_reference<q::block_mxfp4>(qref::mxfp4_ggml); }
TEST(QuantGgml, Q8_KMatchesReference) { compare_with_reference<q::block_q8_K>(qref::q8_K); }
TEST(QuantGgml, Q4_KMatchesReference) { compare_with_reference<q::block_q4_K>(qref::q4_K); }
TEST(QuantGgml, Q6_KMatchesReference) { compare_with_reference<q::block_q6_K>(qref::q6_K); }

// ---- golden blocks, derived by hand from the documented rules ----

TEST(QuantGgml, Q8_0Golden) {
  // amax 127 -> d = 1 exactly (fp16 0x3C00), id = 1; q = roundf(x): halves go away from 0.
  float x[32] = {127, -127, 2.5f, -2.5f, 0.5f, -0.5f, 1.49f, -1.51f, 0, 100.4f};
  q::block_q8_0 b;
  q::scalar::quantize_block(x, b);
  EXPECT_EQ(b.d.bits, 0x3C00);
  const int want[10] = {127, -127, 3, -3, 1, -1, 1, -2, 0, 100};
  for (int j = 0; j < 10; ++j) EXPECT_EQ(b.qs[j], want[j]) << j;
  for (int j = 10; j < 32; ++j) EXPECT_EQ(b.qs[j], 0) << j;
}

TEST(QuantGgml, Q4_0Golden) {
  // The first largest magnitude is -8 (the later +8 ties but comes second): d = -8/-8 = 1,
  // q = min(15, trunc(x + 8.5)).
  float x[32] = {};
  x[0] = -8; x[1] = 7; x[2] = 8; x[3] = -0.5f; x[4] = 0.49f; x[5] = -3.2f; x[16] = 1; x[17] = -7.6f;
  q::block_q4_0 b;
  q::scalar::quantize_block(x, b);
  EXPECT_EQ(b.d.bits, 0x3C00);
  // lo nibbles: -8->0, 7->15, 8->16->15, -0.5->8, 0.49->8, -3.2->5, rest 0->8
  // hi nibbles (elements 16..): 1->9, -7.6->0 (0.9 truncates), rest 8
  EXPECT_EQ(b.qs[0], 0x90);
  EXPECT_EQ(b.qs[1], 0x0F);
  EXPECT_EQ(b.qs[2], 0x8F);
  EXPECT_EQ(b.qs[3], 0x88);
  EXPECT_EQ(b.qs[4], 0x88);
  EXPECT_EQ(b.qs[5], 0x85);
  for (int j = 6; j < 16; ++j) EXPECT_EQ(b.qs[j], 0x88) << j;
}

TEST(QuantGgml, Mxfp4Golden) {
  // amax 6: e = floor(log2 6) - 2 + 127 = 127, d = 2^(127-128) = 0.5, so the code values are
  // 0.5 * {0, 1, 2, 3, 4, 6, 8, 12} = {0, .5, 1, 1.5, 2, 3, 4, 6}; ties pick the lower code.
  float x[32] = {};
  x[0] = 6; x[1] = -6; x[2] = 0.75f; x[3] = -0.25f; x[4] = 5; x[5] = 2.5f; x[6] = -1.25f; x[7] = 100.0f / 1024;
  x[16] = 3; x[17] = -4;
  x[31] = 0.76f;
  q::block_mxfp4 b;
  q::scalar::quantize_block(x, b);
  EXPECT_EQ(b.e.bits, 127);
  EXPECT_EQ(b.qs[0], 0x57);  // 6 -> 7, hi: 3 -> 5
  EXPECT_EQ(b.qs[1], 0xEF);  // -6 -> 15, hi: -4 -> 14
  EXPECT_EQ(b.qs[2], 0x01);  // 0.75: tie .5 / 1 -> code 1
  EXPECT_EQ(b.qs[3], 0x00);  // -0.25: tie +0 / -0.5 -> code 0
  EXPECT_EQ(b.qs[4], 0x06);  // 5: tie 4 / 6 -> code 6 (value 4)
  EXPECT_EQ(b.qs[5], 0x04);  // 2.5: tie 2 / 3 -> code 4 (value 2)
  EXPECT_EQ(b.qs[6], 0x0A);  // -1.25: tie -1 / -1.5 -> code 10 (value -1)
  EXPECT_EQ(b.qs[7], 0x00);  // 0.0977 -> 0
  EXPECT_EQ(b.qs[15], 0x20); // hi: 0.76 -> 1 (code 2)
}

TEST(QuantGgml, Q8_KGolden) {
  // First largest magnitude -127 -> iscale = 1, d = 1; q = min(127, round-half-even(x)).
  std::vector<float> x(256, 0.0f);
  x[0] = -127; x[1] = 127; x[2] = 2.5f; x[3] = 3.5f; x[4] = -0.5f; x[17] = 5;
  q::block_q8_K b;
  q::scalar::quantize_block(x.data(), b);
  EXPECT_EQ(b.d, 1.0f);
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[1], 127);
  EXPECT_EQ(b.qs[2], 2);
  EXPECT_EQ(b.qs[3], 4);
  EXPECT_EQ(b.qs[4], 0);
  EXPECT_EQ(b.bsums[0], -127 + 127 + 2 + 4);
  EXPECT_EQ(b.bsums[1], 5);
}

// ---- dequantization against double arithmetic ----

TEST(QuantGgml, DequantizeMatchesDoubleFormulas) {
  auto rows = qin::random_rows(8, 512, 99);
  for (const auto& row : rows) {
    std::vector<float> y(row.x.size());
    {  // Q8_0: d * q, one rounding
      std::vector<q::block_q8_0> b(row.x.size() / 32);
      q::quantize<q::block_q8_0>(row.x, b);
      q::dequantize<q::block_q8_0>(b, y);
      for (std::size_t i = 0; i < y.size(); ++i) {
        const auto& blk = b[i / 32];
        ASSERT_EQ(y[i], static_cast<float>(static_cast<double>(qref::fp16_value(blk.d.bits)) * blk.qs[i % 32])) << i;
      }
    }
    {  // Q4_1: round(round(d * q) + m)
      std::vector<q::block_q4_1> b(row.x.size() / 32);
      q::quantize<q::block_q4_1>(row.x, b);
      q::dequantize<q::block_q4_1>(b, y);
      for (std::size_t i = 0; i < y.size(); ++i) {
        const auto& blk = b[i / 32];
        const int j = static_cast<int>(i % 32);
        const int nib = j < 16 ? (blk.qs[j] & 0xF) : (blk.qs[j - 16] >> 4);
        const float p = static_cast<float>(static_cast<double>(qref::fp16_value(blk.d.bits)) * nib);
        ASSERT_EQ(y[i], static_cast<float>(static_cast<double>(p) + qref::fp16_value(blk.m.bits))) << i;
      }
    }
    {  // Q4_K: round(round(round(d * sc) * q) - round(dmin * m))
      std::vector<q::block_q4_K> b(row.x.size() / 256);
      q::quantize<q::block_q4_K>(row.x, b);
      q::dequantize<q::block_q4_K>(b, y);
      for (std::size_t i = 0; i < y.size(); ++i) {
        const auto& blk = b[i / 256];
        const int e = static_cast<int>(i % 256), s = e / 32, c = e / 64, l = e % 32;
        int sc, mn;
        if (s < 4) { sc = blk.scales[s] & 63; mn = blk.scales[s + 4] & 63; }
        else { sc = (blk.scales[s + 4] & 0xF) | ((blk.scales[s - 4] >> 6) << 4); mn = (blk.scales[s + 4] >> 4) | ((blk.scales[s] >> 6) << 4); }
        const int nib = (e % 64) < 32 ? (blk.qs[32 * c + l] & 0xF) : (blk.qs[32 * c + l] >> 4);
        const float d1 = static_cast<float>(static_cast<double>(qref::fp16_value(blk.d.bits)) * sc);
        const float m1 = static_cast<float>(static_cast<double>(qref::fp16_value(blk.dmin.bits)) * mn);
        const float p = static_cast<float>(static_cast<double>(d1) * nib);
        ASSERT_EQ(y[i], static_cast<float>(static_cast<double>(p) - m1)) << i;
      }
    }
    {  // Q6_K: round(round(d * scale) * (q - 32))
      std::vector<q::block_q6_K> b(row.x.size() / 256);
      q::quantize<q::block_q6_K>(row.x, b);
      q::dequantize<q::block_q6_K>(b, y);
      for (std::size_t i = 0; i < y.size(); ++i) {
        const auto& blk = b[i / 256];
        const int e = static_cast<int>(i % 256), h = e / 128, k = (e % 128) / 32, l = e % 32;
        const int lo = (blk.ql[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0xF;
        const int hi = (blk.qh[32 * h + l] >> (2 * k)) & 3;
        const float ds = static_cast<float>(static_cast<double>(qref::fp16_value(blk.d.bits)) * blk.scales[e / 16]);
        ASSERT_EQ(y[i], static_cast<float>(static_cast<double>(ds) * ((lo | (hi << 4)) - 32))) << i;
      }
    }
    {  // MXFP4: kvalues[c] * 2^(e - 128), exact in double
      std::vector<q::block_mxfp4> b(row.x.size() / 32);
      q::quantize<q::block_mxfp4>(row.x, b);
      q::dequantize<q::block_mxfp4>(b, y);
      for (std::size_t i = 0; i < y.size(); ++i) {
        const auto& blk = b[i / 32];
        const int j = static_cast<int>(i % 32);
        const int c = j < 16 ? (blk.qs[j] & 0xF) : (blk.qs[j - 16] >> 4);
        ASSERT_EQ(y[i], static_cast<float>(qref::kv_doubled[c] * std::ldexp(1.0, blk.e.bits - 128))) << i;
      }
    }
  }
}

// ---- round-trip error: max |x - deq(q(x))| / amax(block) over random rows ----

namespace {
template <class Block>
double worst_relative_error(const std::vector<qin::row>& rows) {
  double worst = 0;
  for (const auto& row : rows) {
    std::vector<Block> b(row.x.size() / Block::elems);
    std::vector<float> y(row.x.size());
    q::quantize<Block>(row.x, b);
    q::dequantize<Block>(b, y);
    for (std::size_t k = 0; k < row.x.size(); k += Block::elems) {
      double amax = 0, err = 0;
      for (std::size_t i = k; i < k + Block::elems; ++i) {
        amax = std::max(amax, std::fabs(static_cast<double>(row.x[i])));
        err = std::max(err, std::fabs(static_cast<double>(row.x[i]) - y[i]));
      }
      if (amax > 0) worst = std::max(worst, err / amax);
    }
  }
  return worst;
}
}  // namespace

TEST(QuantGgml, RoundTripErrorBounds) {
  // Weight-like scales (2^-6 .. 2^6 times heavy-tailed rows): fp16 block scales stay normal.
  const auto rows = qin::random_rows(64, 1024, 7, 6);
  // Bounds: half a quantization step relative to the block maximum, plus fp16 scale
  // rounding; measured values are printed for docs/quant.md.
  const double e_q8_0 = worst_relative_error<q::block_q8_0>(rows);
  const double e_q4_0 = worst_relative_error<q::block_q4_0>(rows);
  const double e_q4_1 = worst_relative_error<q::block_q4_1>(rows);
  const double e_q4_K = worst_relative_error<q::block_q4_K>(rows);
  const double e_q6_K = worst_relative_error<q::block_q6_K>(rows);
  const double e_q8_K = worst_relative_error<q::block_q8_K>(rows);
  const double e_mxfp4 = worst_relative_error<q::block_mxfp4>(rows);
  std::printf("round-trip max |err| / block amax: q8_0 %.5f q4_0 %.5f q4_1 %.5f q4_K %.5f q6_K %.5f q8_K %.5f mxfp4 %.5f\n",
              e_q8_0, e_q4_0, e_q4_1, e_q4_K, e_q6_K, e_q8_K, e_mxfp4);
  EXPECT_LE(e_q8_0, 0.5 / 127 + 1e-3);
  EXPECT_LE(e_q8_K, 0.5 / 127 + 1e-6);
  EXPECT_LE(e_q4_0, 1.0 / 8 + 1e-3);    // step amax/8, one-sided clamp of +8 -> 7
  EXPECT_LE(e_q4_1, 0.5 * 2 / 15 + 2e-3);  // step (max - min)/15 <= 2 amax / 15
  EXPECT_LE(e_q4_K, 0.15);
  EXPECT_LE(e_q6_K, 0.05);
  EXPECT_LE(e_mxfp4, 0.25);  // amax in [4, 8) X: worst gap 4 -> 6 (step 2 of >= 4 units... )
}

// ---- checked API ----

TEST(QuantGgml, CheckedApiErrors) {
  std::vector<float> x(64, 1.0f);
  std::vector<q::block_q8_0> b(3);
  try {
    q::quantize<q::block_q8_0>(x, b);
    FAIL() << "size mismatch accepted";
  } catch (const pact::error& e) {
    EXPECT_EQ(e.code(), pact::errc::invalid_shape);
  }
  b.resize(2);
  x[40] = NAN;
  try {
    q::quantize<q::block_q8_0>(x, b);
    FAIL() << "NaN accepted";
  } catch (const pact::error& e) {
    EXPECT_EQ(e.code(), pact::errc::invalid_data);
  }
  x[40] = INFINITY;
  for (int f = 0; f < 3; ++f) {
    try {
      if (f == 0) { std::vector<q::block_q4_0> c(2); q::quantize<q::block_q4_0>(x, c); }
      if (f == 1) { std::vector<q::block_q4_1> c(2); q::quantize<q::block_q4_1>(x, c); }
      if (f == 2) { std::vector<float> z(256, 1.0f); z[255] = -INFINITY; std::vector<q::block_q4_K> c(1); q::quantize<q::block_q4_K>(z, c); }
      FAIL() << "Inf accepted, format " << f;
    } catch (const pact::error& e) {
      EXPECT_EQ(e.code(), pact::errc::invalid_data);
    }
  }
  std::vector<float> y(63);
  EXPECT_THROW(q::dequantize<q::block_q8_0>(std::span<const q::block_q8_0>(b), y), pact::error);
}

TEST(QuantGgml, ThreadCountsGiveIdenticalBytes) {
  const auto rows = qin::random_rows(1, 256 * 300, 5);
  const auto& x = rows[0].x;
  std::vector<q::block_q4_K> ref(x.size() / 256);
  q::quantize<q::block_q4_K>(x, ref);
  std::vector<q::block_q8_0> ref8(x.size() / 32);
  q::quantize<q::block_q8_0>(x, ref8);
  for (int threads : {2, 3}) {
    pact::thread_pool pool(threads);
    std::vector<q::block_q4_K> got(ref.size());
    q::quantize<q::block_q4_K>(x, got, pool);
    EXPECT_EQ(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(q::block_q4_K)), 0);
    std::vector<q::block_q8_0> got8(ref8.size());
    q::quantize<q::block_q8_0>(x, got8, pool);
    EXPECT_EQ(std::memcmp(got8.data(), ref8.data(), ref8.size() * sizeof(q::block_q8_0)), 0);
  }
}
