// int8 dot products (exact, incl. the extremes that saturate pmaddubsw) and int4 nibbles.
#include <random>
#include <vector>

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

// ---- ggml GEMV data movement (simd/ops_int8_gemv.hpp): every arch against the rule ----

TYPED_TEST(SimdInt, GemvSegmentsAndSpreads) {
  using A = TypeParam;
  constexpr std::size_t L8 = simd::lanes<std::uint8_t, A>, L32 = simd::lanes<std::int32_t, A>;
  std::mt19937 g(11);
  std::uint8_t pool[512];
  for (auto& b : pool) b = static_cast<std::uint8_t>(g());
  const std::uint8_t* seg[4] = {pool + 3, pool + 100, pool + 37, pool + 251};  // unaligned
  alignas(64) std::uint8_t bytes[L8];
  simd::store(bytes, simd::load_segments16<A>(seg));
  for (std::size_t i = 0; i < L8; ++i) EXPECT_EQ(bytes[i], seg[i / 16][i % 16]) << i;

  const std::uint8_t* e[4] = {pool + 7, pool + 9, pool + 300, pool + 2};
  alignas(64) std::int32_t ints[L32];
  simd::store(ints, simd::load_u8_spread4<A>(e));
  for (std::size_t j = 0; j < L32; ++j) EXPECT_EQ(ints[j], *e[j / 4]) << j;

  const std::uint16_t h[4] = {0x3C00, 0xC500, 0x0001, 0x7BFF};  // 1, -5, smallest subnormal, max
  const std::uint16_t* hp[4] = {h, h + 1, h + 2, h + 3};
  alignas(64) float f[L32];
  simd::store(f, simd::load_fp16_spread4<A>(hp));
  for (std::size_t j = 0; j < L32; ++j) EXPECT_EQ(f[j], pact::fp16_bits_to_float(h[j / 4])) << j;
  const auto pair = simd::fp16x2_to_float<A>(0xC5003C00u);
  EXPECT_EQ(pair[0], 1.0f);
  EXPECT_EQ(pair[1], -5.0f);
}

TYPED_TEST(SimdInt, Lookup16EveryIndex) {
  using A = TypeParam;
  constexpr std::size_t L8 = simd::lanes<std::uint8_t, A>;
  const std::uint8_t table[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};
  const auto t = simd::load_table16<A>(table);
  for (unsigned base = 0; base < 64; base += 1) {
    alignas(64) std::uint8_t idx[L8], out[L8];
    for (std::size_t i = 0; i < L8; ++i) idx[i] = static_cast<std::uint8_t>((base + 7 * i) % 16);
    simd::store(out, simd::lookup16(t, simd::load<A>(idx)));
    for (std::size_t i = 0; i < L8; ++i) ASSERT_EQ(out[i], table[idx[i]]) << i;
  }
}

TYPED_TEST(SimdInt, SubblockScales8FollowTheQ4KLayout) {
  using A = TypeParam;
  constexpr std::size_t S = simd::lanes<std::uint8_t, A>, L = simd::lanes<std::int32_t, A>, T = 128 / S;
  const std::uint64_t sc8 = 0x3F2A1B0C05332211ull;  // scale s in byte s
  const auto v = simd::subblock_scales8<A>(sc8);
  static_assert(v.size() == 2 * T);
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t h = 0; h < 2; ++h) {
      alignas(64) std::int32_t lane[L];
      simd::store(lane, v[2 * t + h]);
      for (std::size_t j = 0; j < L; ++j) {
        // Lane j of load t covers quant bytes t*S + 4j ..: chunk (t*S + 4j) / 32, whose
        // low nibbles are sub-block 2 * chunk and high nibbles the next one.
        const std::size_t sub = 2 * ((t * S + 4 * j) / 32) + h;
        EXPECT_EQ(lane[j], static_cast<std::int32_t>(0x10001u * ((sc8 >> (8 * sub)) & 0xFF)))
            << "t " << t << " h " << h << " lane " << j;
      }
    }
}

TYPED_TEST(SimdInt, Widen8Bytes) {
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<std::int32_t, A>;
  const std::uint64_t b8 = 0xFF80017F3F2A1B0Cull;
  alignas(64) std::int32_t lane[L];
  simd::store(lane, simd::widen_u8x8<A>(b8));
  for (std::size_t j = 0; j < L; ++j) EXPECT_EQ(lane[j], j < 8 ? static_cast<std::int32_t>((b8 >> (8 * j)) & 0xFF) : 0) << j;
}

TYPED_TEST(SimdInt, DotU8S8ScaledIsExact) {
  using A = TypeParam;
  constexpr std::size_t L32 = simd::lanes<std::int32_t, A>, L8 = 4 * L32;
  std::mt19937 g(12);
  for (int mode = 0; mode < 3; ++mode)
    for (int rep = 0; rep < 50; ++rep) {
      alignas(64) std::int32_t acc[L32], s[L32], out[L32];
      alignas(64) std::uint8_t a[L8];
      alignas(64) std::int8_t b[L8];
      std::int32_t s16[L32];
      for (std::size_t i = 0; i < L32; ++i) {
        acc[i] = static_cast<std::int32_t>(g() % 2000000) - 1000000;
        s16[i] = mode == 1 ? 32767 : (mode == 2 ? -32768 : static_cast<std::int32_t>(g() % 65536) - 32768);
        s[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(s16[i] & 0xFFFF) * 0x10001u);
      }
      for (std::size_t i = 0; i < L8; ++i) {
        a[i] = mode == 0 ? static_cast<std::uint8_t>(g() % 128) : 127;  // a < 128 (the precondition)
        b[i] = mode == 0 ? static_cast<std::int8_t>(g()) : -128;
      }
      simd::store(out, simd::dot_u8s8_scaled(simd::load<A>(acc), simd::load<A>(a), simd::load<A>(b), simd::load<A>(s)));
      for (std::size_t i = 0; i < L32; ++i) {
        std::int64_t dot = 0;
        for (std::size_t j = 0; j < 4; ++j) dot += static_cast<std::int64_t>(a[4 * i + j]) * b[4 * i + j];
        ASSERT_EQ(out[i], static_cast<std::int32_t>(acc[i] + s16[i] * dot)) << "lane " << i << " mode " << mode;
      }
    }
}

TYPED_TEST(SimdInt, SubByteCodeStreams) {
  // load_u4_to_i32 / load_u6_to_i32 against a bit-by-bit reading of the stream, at every
  // byte offset a kernel uses, with the bytes after the named range unreadable in spirit:
  // the source ends exactly where the op's range ends, so ASan would catch an over-read.
  using A = TypeParam;
  constexpr std::size_t L = simd::lanes<std::int32_t, A>;
  std::mt19937 rng(5);
  for (int trial = 0; trial < 64; ++trial) {
    std::vector<std::uint8_t> b4(L / 2), b6(6 * L / 8);
    for (auto& v : b4) v = static_cast<std::uint8_t>(rng());
    for (auto& v : b6) v = static_cast<std::uint8_t>(rng());
    alignas(64) std::int32_t got4[L], got6[L];
    simd::store(got4, simd::load_u4_to_i32<A>(b4.data()));
    simd::store(got6, simd::load_u6_to_i32<A>(b6.data()));
    auto bit = [](const std::vector<std::uint8_t>& s, std::size_t k) { return (s[k / 8] >> (k % 8)) & 1; };
    for (std::size_t j = 0; j < L; ++j) {
      int want4 = 0, want6 = 0;
      for (int i = 0; i < 4; ++i) want4 |= bit(b4, 4 * j + static_cast<std::size_t>(i)) << i;
      for (int i = 0; i < 6; ++i) want6 |= bit(b6, 6 * j + static_cast<std::size_t>(i)) << i;
      ASSERT_EQ(got4[j], want4) << "u4 lane " << j;
      ASSERT_EQ(got6[j], want6) << "u6 lane " << j;
    }
  }
}

// The VNNI byte interleaves: out[4j + t] = rows[t][j], for 16 and 64 columns, rows at
// unrelated addresses and unaligned, nothing written past the output.
TYPED_TEST(SimdInt, Interleave4BytesIsTheTransposedQuad) {
  using A = TypeParam;
  std::vector<std::int8_t> src(4 * 200);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<std::int8_t>(i * 37u + 11u);
  const std::int8_t* rows[4] = {src.data() + 1, src.data() + 300, src.data() + 215, src.data() + 533};
  for (int width : {16, 64}) {
    std::vector<std::int8_t> out(4 * 64 + 8, std::int8_t{-99});
    if (width == 16)
      pact::simd::interleave4_bytes16<A>(rows, out.data() + 3);
    else
      pact::simd::interleave4_bytes64<A>(rows, out.data() + 3);
    for (int i = 0; i < static_cast<int>(out.size()); ++i) {
      const int k = i - 3;
      const std::int8_t want = k >= 0 && k < 4 * width ? rows[k % 4][k / 4] : std::int8_t{-99};
      ASSERT_EQ(out[static_cast<std::size_t>(i)], want) << A::name << " width " << width << " byte " << k;
    }
  }
}
