// Every SIMD quantize / dequantize path equals the scalar path bit for bit, on every arch
// this build compiled (tests/support/arch_list.hpp), over edge and random rows.
#include <pact/quant.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "quant/quant_inputs.hpp"
#include "support/arch_list.hpp"

namespace q = pact::quant;

template <class A>
class QuantSimd : public ::testing::Test {};
TYPED_TEST_SUITE(QuantSimd, pact_test::compiled_archs, pact_test::arch_name);

namespace {

template <class A, class Block>
void ggml_paths_equal_scalar() {
  for (const auto& row : qin::all_rows(48, 4321)) {
    const std::size_t nb = row.x.size() / Block::elems;
    std::vector<Block> s(nb), v(nb);
    q::scalar::quantize_blocks(row.x.data(), s.data(), nb);
    const bool finite = q::quantize_blocks<A>(row.x.data(), v.data(), nb);
    EXPECT_TRUE(finite) << row.name;
    ASSERT_EQ(std::memcmp(s.data(), v.data(), nb * sizeof(Block)), 0) << A::name << " quantize, row " << row.name;
    std::vector<float> ys(row.x.size(), -1.0f), yv(row.x.size(), 12345.0f);  // poisoned
    q::scalar::dequantize_blocks(s.data(), ys.data(), nb);
    q::dequantize_blocks<A>(s.data(), yv.data(), nb);
    ASSERT_EQ(std::memcmp(ys.data(), yv.data(), ys.size() * sizeof(float)), 0) << A::name << " dequantize, row " << row.name;
  }
}

}  // namespace

TYPED_TEST(QuantSimd, GgmlBlocksMatchScalar) {
  using A = TypeParam;
  ggml_paths_equal_scalar<A, q::block_q8_0>();
  ggml_paths_equal_scalar<A, q::block_q4_0>();
  ggml_paths_equal_scalar<A, q::block_q8_K>();
  ggml_paths_equal_scalar<A, q::block_q4_K>();
  ggml_paths_equal_scalar<A, q::block_q6_K>();
  ggml_paths_equal_scalar<A, q::block_mxfp4>();
  ggml_paths_equal_scalar<A, q::block_q4_1>();
}

TYPED_TEST(QuantSimd, DequantizeEveryByteValue) {
  // Every possible quant byte in every position (scales fixed): catches nibble / sign slips.
  using A = TypeParam;
  std::vector<q::block_q4_0> b4(256);
  std::vector<q::block_mxfp4> bm(256);
  std::vector<q::block_q8_0> b8(256);
  for (int i = 0; i < 256; ++i) {
    b4[i].d = pact::fp16(0.37f);
    b8[i].d = pact::fp16(-1.5f);
    bm[i].e = pact::e8m0::from_bits(static_cast<std::uint8_t>(i == 255 ? 0 : i));
    for (int j = 0; j < 16; ++j) b4[i].qs[j] = bm[i].qs[j] = static_cast<std::uint8_t>(i + 17 * j);
    for (int j = 0; j < 32; ++j) b8[i].qs[j] = static_cast<std::int8_t>(i + 7 * j);
  }
  std::vector<float> ys(256 * 32), yv(256 * 32);
  q::scalar::dequantize_blocks(b4.data(), ys.data(), 256);
  q::dequantize_blocks<A>(b4.data(), yv.data(), 256);
  EXPECT_EQ(std::memcmp(ys.data(), yv.data(), ys.size() * 4), 0);
  q::scalar::dequantize_blocks(bm.data(), ys.data(), 256);
  q::dequantize_blocks<A>(bm.data(), yv.data(), 256);
  EXPECT_EQ(std::memcmp(ys.data(), yv.data(), ys.size() * 4), 0);
  q::scalar::dequantize_blocks(b8.data(), ys.data(), 256);
  q::dequantize_blocks<A>(b8.data(), yv.data(), 256);
  EXPECT_EQ(std::memcmp(ys.data(), yv.data(), ys.size() * 4), 0);
}

namespace {
/// Every byte value in every element position and every scale code (0xFF, the NaN scale,
/// and 0, the subnormal 2^-127, included): the SIMD MX decoder equals the scalar one bit for
/// bit (any NaN for NaN: the two decoders may build different NaN payloads).
template <class A, class Block>
void mx_blocks_equal_scalar_every_byte() {
  std::vector<Block> b(256 * 4);
  for (std::size_t i = 0; i < b.size(); ++i) {
    auto* bytes = reinterpret_cast<std::uint8_t*>(&b[i]);
    bytes[0] = static_cast<std::uint8_t>(i % 256);  // the scale
    for (std::size_t j = 1; j < sizeof(Block); ++j) bytes[j] = static_cast<std::uint8_t>(i / 4 + 17 * j + 61 * (i % 4));
  }
  std::vector<float> ys(b.size() * 32, -1.0f), yv(b.size() * 32, 12345.0f);  // poisoned
  for (std::size_t i = 0; i < b.size(); ++i) q::scalar::dequantize_block(b[i], ys.data() + 32 * i);
  q::mx_detail::dequantize_mx_blocks<A>(b.data(), yv.data(), b.size());
  for (std::size_t i = 0; i < ys.size(); ++i) {
    if (std::isnan(ys[i])) {
      ASSERT_TRUE(std::isnan(yv[i])) << A::name << " element " << i;
    } else {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(ys[i]), std::bit_cast<std::uint32_t>(yv[i])) << A::name << " element " << i << ": " << ys[i] << " vs " << yv[i];
    }
  }
}
}  // namespace

TYPED_TEST(QuantSimd, MxBlocksMatchScalarEveryByte) {
  using A = TypeParam;
  mx_blocks_equal_scalar_every_byte<A, q::mx_block_fp8_e4m3>();
  mx_blocks_equal_scalar_every_byte<A, q::mx_block_fp8_e5m2>();
  mx_blocks_equal_scalar_every_byte<A, q::mx_block_fp6_e2m3>();
  mx_blocks_equal_scalar_every_byte<A, q::mx_block_fp6_e3m2>();
  mx_blocks_equal_scalar_every_byte<A, q::mx_block_fp4>();
  mx_blocks_equal_scalar_every_byte<A, q::mx_block_int8>();
}

TYPED_TEST(QuantSimd, NonFiniteInputIsReported) {
  using A = TypeParam;
  std::vector<float> x(256, 0.5f);
  std::vector<q::block_q8_0> b(8);
  std::vector<q::block_q8_K> k(1);
  EXPECT_TRUE(q::quantize_blocks<A>(x.data(), b.data(), 8));
  x[77] = NAN;
  EXPECT_FALSE(q::quantize_blocks<A>(x.data(), b.data(), 8));
  EXPECT_FALSE(q::quantize_blocks<A>(x.data(), k.data(), 1));
  x[77] = -INFINITY;
  EXPECT_FALSE((q::quantize_blocks<A, q::block_q4_0>(x.data(), reinterpret_cast<q::block_q4_0*>(b.data()), 8)));
}

namespace {
// FP8 and int8 kernels: the SIMD code of arch A against the scalar arch's instantiation,
// which runs the same arithmetic with plain loops (scalar_batch); the references in
// test_quant_int8_fp8.cpp pin the scalar results to the documented rules.
template <class A, class Fp8>
void fp8_rows_match(const std::vector<float>& x, std::size_t rows, std::size_t cols) {
  std::vector<Fp8> qa(rows * cols), qs(rows * cols);
  const std::size_t g = (cols + 127) / 128;
  std::vector<float> sa(rows * g), ss(rows * g);
  EXPECT_TRUE((q::fp8_kernels::quantize_rows_1x128<A, Fp8>(x.data(), cols, cols, 0, rows, qa.data(), sa.data())));
  EXPECT_TRUE((q::fp8_kernels::quantize_rows_1x128<pact::simd::scalar, Fp8>(x.data(), cols, cols, 0, rows, qs.data(), ss.data())));
  ASSERT_EQ(std::memcmp(qa.data(), qs.data(), rows * cols), 0) << A::name;
  ASSERT_EQ(std::memcmp(sa.data(), ss.data(), sa.size() * 4), 0) << A::name;
}
}  // namespace

TYPED_TEST(QuantSimd, Fp8AndInt8RowsMatchScalar) {
  using A = TypeParam;
  for (std::size_t cols : {1, 5, 16, 17, 33, 127, 128, 129, 300}) {
    const std::size_t rows = 3;
    std::vector<float> x;
    for (const auto& r : qin::random_rows(static_cast<int>(rows), cols, static_cast<std::uint32_t>(cols))) x.insert(x.end(), r.x.begin(), r.x.end());
    // also every special magnitude class: subnormal-range fp8 values, ties
    for (std::size_t i = 0; i < x.size(); i += 7) x[i] = std::ldexp(static_cast<float>(i % 5) + 0.5f, -12);
    fp8_rows_match<A, pact::fp8_e4m3>(x, rows, cols);
    fp8_rows_match<A, pact::fp8_e5m2>(x, rows, cols);
    for (std::size_t gc : {cols, std::size_t{32}, std::size_t{64}, std::size_t{128}}) {
      std::vector<std::int8_t> qa(rows * cols), qs(rows * cols);
      std::vector<std::uint8_t> ua(rows * cols), us(rows * cols);
      const std::size_t g = (cols + gc - 1) / gc;
      std::vector<float> sa(rows * g), ss(rows * g);
      std::vector<std::int32_t> za(rows * g), zs(rows * g);
      EXPECT_TRUE((q::int8_kernels::quantize_rows<A>(x.data(), cols, cols, gc, 0, rows, qa.data(), sa.data(), nullptr)));
      EXPECT_TRUE((q::int8_kernels::quantize_rows<pact::simd::scalar>(x.data(), cols, cols, gc, 0, rows, qs.data(), ss.data(), nullptr)));
      ASSERT_EQ(std::memcmp(qa.data(), qs.data(), qa.size()), 0) << A::name << " int8 cols " << cols << " group " << gc;
      ASSERT_EQ(std::memcmp(sa.data(), ss.data(), sa.size() * 4), 0);
      EXPECT_TRUE((q::int8_kernels::quantize_rows<A>(x.data(), cols, cols, gc, 0, rows, ua.data(), sa.data(), za.data())));
      EXPECT_TRUE((q::int8_kernels::quantize_rows<pact::simd::scalar>(x.data(), cols, cols, gc, 0, rows, us.data(), ss.data(), zs.data())));
      ASSERT_EQ(std::memcmp(ua.data(), us.data(), ua.size()), 0) << A::name << " uint8 cols " << cols << " group " << gc;
      ASSERT_EQ(za, zs);
    }
  }
}

TYPED_TEST(QuantSimd, StreamedQuantizersMatchScalarOnLongInputs) {
  // The activation quantizers walk long inputs as four streams (Q8_0: chunks of L blocks;
  // 1x128 FP8: rows): sizes below, at and past whole stream rounds, and a non-finite value
  // in the last stream, which must still be reported.
  using A = TypeParam;
  constexpr std::size_t L = pact::simd::lanes<float, A>;
  for (std::size_t nb : {4 * L - 1, 4 * L, 12 * L + 5, std::size_t{1031}}) {
    std::vector<float> x;
    for (const auto& r : qin::random_rows(static_cast<int>((nb * 32 + 255) / 256), 256, static_cast<std::uint32_t>(nb))) x.insert(x.end(), r.x.begin(), r.x.end());
    x.resize(nb * 32);
    for (std::size_t i = 0; i < x.size(); i += 97) x[i] *= 1e-3f;  // blocks of different scales
    std::vector<q::block_q8_0> s(nb), v(nb);
    q::scalar::quantize_blocks(x.data(), s.data(), nb);
    EXPECT_TRUE(q::quantize_blocks<A>(x.data(), v.data(), nb));
    ASSERT_EQ(std::memcmp(s.data(), v.data(), nb * sizeof(q::block_q8_0)), 0) << A::name << " Q8_0, " << nb << " blocks";
    x[x.size() - 40] = NAN;
    EXPECT_FALSE(q::quantize_blocks<A>(x.data(), v.data(), nb)) << nb;
  }
  for (std::size_t rows : {4, 6, 9})
    for (std::size_t cols : {128, 300, 384}) {
      std::vector<float> x;
      for (const auto& r : qin::random_rows(static_cast<int>(rows), cols, static_cast<std::uint32_t>(rows * cols))) x.insert(x.end(), r.x.begin(), r.x.end());
      for (std::size_t i = 0; i < x.size(); i += 7) x[i] = std::ldexp(static_cast<float>(i % 5) + 0.5f, -12);
      for (std::size_t c = 0; c < 128; ++c) x[cols + c] = 0.0f;  // an all-zero group
      x[2 * cols + 5] = 1e-38f;                                   // a group whose 448 / amax overflows
      for (std::size_t c = 0; c < 128; ++c)
        if (c != 5) x[2 * cols + c] = 0.0f;
      fp8_rows_match<A, pact::fp8_e4m3>(x, rows, cols);
      fp8_rows_match<A, pact::fp8_e5m2>(x, rows, cols);
      std::vector<pact::fp8_e4m3> qa(rows * cols);
      std::vector<float> sa(rows * ((cols + 127) / 128));
      x[(rows - 1) * cols + 3] = -INFINITY;
      EXPECT_FALSE((q::fp8_kernels::quantize_rows_1x128<A, pact::fp8_e4m3>(x.data(), cols, cols, 0, rows, qa.data(), sa.data())));
    }
}

TYPED_TEST(QuantSimd, Fp8EncodeLanesEqualsScalarEncoderExhaustively) {
  // fp8_encode_lanes on a sweep of float32 bit patterns (all exponents, mantissas at and
  // around every FP8 rounding point, NaN, Inf) against types/fp8.hpp's scalar encoder.
  using A = TypeParam;
  constexpr std::size_t L = pact::simd::lanes<float, A>;
  std::vector<float> in;
  for (std::uint32_t e = 0; e < 256; ++e)
    for (std::uint32_t m : {0u, 1u, 0x7FFFFu, 0x80000u, 0x80001u, 0xFFFFFu, 0x100000u, 0x17FFFFu, 0x180000u, 0x180001u, 0x3FFFFFu, 0x400000u, 0x7FFFFFu})
      for (std::uint32_t s : {0u, 0x80000000u}) in.push_back(std::bit_cast<float>(s | (e << 23) | m));
  while (in.size() % L) in.push_back(0.0f);
  std::vector<std::uint8_t> o4(in.size()), o5(in.size());
  for (std::size_t i = 0; i < in.size(); i += L) {
    const auto v = pact::simd::load<A>(in.data() + i);
    pact::simd::store_i32_to_u8(o4.data() + i, q::detail::fp8_encode_lanes<pact::fp8_e4m3, A>(v));
    pact::simd::store_i32_to_u8(o5.data() + i, q::detail::fp8_encode_lanes<pact::fp8_e5m2, A>(v));
  }
  for (std::size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(o4[i], pact::float_to_fp8_e4m3_bits(in[i])) << std::bit_cast<std::uint32_t>(in[i]);
    ASSERT_EQ(o5[i], pact::float_to_fp8_e5m2_bits(in[i])) << std::bit_cast<std::uint32_t>(in[i]);
  }
  // Finite = true (no NaN selection): the same codes for every finite input.
  for (auto& v : in)
    if (!std::isfinite(v)) v = 0.0f;
  for (std::size_t i = 0; i < in.size(); i += L) {
    const auto v = pact::simd::load<A>(in.data() + i);
    pact::simd::store_i32_to_u8(o4.data() + i, q::detail::fp8_encode_lanes<pact::fp8_e4m3, A, true>(v));
    pact::simd::store_i32_to_u8(o5.data() + i, q::detail::fp8_encode_lanes<pact::fp8_e5m2, A, true>(v));
  }
  for (std::size_t i = 0; i < in.size(); ++i) {
    ASSERT_EQ(o4[i], pact::float_to_fp8_e4m3_bits(in[i])) << std::bit_cast<std::uint32_t>(in[i]);
    ASSERT_EQ(o5[i], pact::float_to_fp8_e5m2_bits(in[i])) << std::bit_cast<std::uint32_t>(in[i]);
  }
}

TYPED_TEST(QuantSimd, Store4NarrowsFourVectorsInOrder) {
  using A = TypeParam;
  constexpr std::size_t L = pact::simd::lanes<std::int32_t, A>;
  alignas(64) std::int32_t v[4][64];
  const std::int32_t specials[] = {-100000, -32769, -32768, -129, -1, 0, 1, 127, 128, 255, 256, 32767, 32768, 65535, 65536, 100000};
  for (int round = 0; round < 8; ++round) {
    for (std::size_t q = 0; q < 4; ++q)
      for (std::size_t i = 0; i < L; ++i)
        v[q][i] = round == 0 ? specials[(q * L + i) % 16] : static_cast<std::int32_t>((q * L + i) * 37 + round * 11) % 600 - 150;
    std::uint8_t out[4 * 64 + 1];
    out[4 * L] = 0x5A;  // guard: exactly 4 L bytes written
    pact::simd::store4_i32_to_u8(out, pact::simd::load<A>(v[0]), pact::simd::load<A>(v[1]), pact::simd::load<A>(v[2]),
                                 pact::simd::load<A>(v[3]));
    for (std::size_t q = 0; q < 4; ++q)
      for (std::size_t i = 0; i < L; ++i)
        ASSERT_EQ(out[q * L + i], static_cast<std::uint8_t>(std::clamp(v[q][i], 0, 255))) << A::name << " " << q << "," << i;
    ASSERT_EQ(out[4 * L], 0x5A);
  }
}

TYPED_TEST(QuantSimd, ByteConversionOps) {
  using A = TypeParam;
  constexpr std::size_t L = pact::simd::lanes<std::int32_t, A>;
  for (int start = -300; start < 300; start += static_cast<int>(L)) {
    alignas(64) std::int32_t v[64];
    for (std::size_t i = 0; i < L; ++i) v[i] = start + static_cast<int>(i) * 3;
    const auto x = pact::simd::load<A>(v);
    std::int8_t s8[64 + 1];
    std::uint8_t u8[64 + 1];
    s8[L] = 0x55;
    u8[L] = 0x55;
    pact::simd::store_i32_to_i8(s8, x);
    pact::simd::store_i32_to_u8(u8, x);
    EXPECT_EQ(s8[L], 0x55) << "wrote past lanes";
    EXPECT_EQ(u8[L], 0x55);
    for (std::size_t i = 0; i < L; ++i) {
      EXPECT_EQ(s8[i], std::clamp(v[i], -128, 127));
      EXPECT_EQ(u8[i], std::clamp(v[i], 0, 255));
    }
    const auto back = pact::simd::load_i8_to_i32<A>(s8);
    const auto backu = pact::simd::load_u8_to_i32<A>(u8);
    alignas(64) std::int32_t b[64], bu[64];
    pact::simd::store(b, back);
    pact::simd::store(bu, backu);
    for (std::size_t i = 0; i < L; ++i) {
      EXPECT_EQ(b[i], s8[i]);
      EXPECT_EQ(bu[i], u8[i]);
    }
  }
}
