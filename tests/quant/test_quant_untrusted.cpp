// Untrusted bytes: sizes, alignment, NaN/Inf scales, E8M0 NaN, Q8_K bsums, truncation.
#include <pact/quant.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "quant/quant_inputs.hpp"

namespace q = pact::quant;

namespace {
template <class Block>
std::vector<std::byte> blob_of(const std::vector<Block>& b) {
  std::vector<std::byte> out(b.size() * sizeof(Block));
  std::memcpy(out.data(), b.data(), out.size());
  return out;
}
pact::errc code_of(auto&& f) {
  try {
    f();
  } catch (const pact::error& e) {
    return e.code();
  }
  return static_cast<pact::errc>(255);
}
}  // namespace

TEST(QuantUntrusted, ValidBlobsRoundTrip) {
  const auto rows = qin::random_rows(1, 512, 3);
  std::vector<q::block_q4_K> b(2);
  q::quantize<q::block_q4_K>(rows[0].x, b);
  const auto blob = blob_of(b);
  const auto loaded = q::load_blocks<q::block_q4_K>(blob, 512);
  EXPECT_EQ(std::memcmp(loaded.data(), b.data(), blob.size()), 0);
  const auto view = q::view_blocks<q::block_q4_K>(blob, 512);  // std::vector storage is aligned
  EXPECT_EQ(view.size(), 2u);
  std::vector<float> y(512), want(512);
  q::dequantize_bytes(q::format::q4_K, blob, 2, 256, y);
  q::dequantize<q::block_q4_K>(b, want);
  EXPECT_EQ(std::memcmp(y.data(), want.data(), 512 * 4), 0);
}

TEST(QuantUntrusted, SizeErrors) {
  std::vector<std::byte> blob(34 * 4);
  EXPECT_EQ(code_of([&] { q::load_blocks<q::block_q8_0>(blob, 100); }), pact::errc::invalid_shape);  // not a multiple of 32
  EXPECT_EQ(code_of([&] { q::load_blocks<q::block_q8_0>(std::span(blob).first(34 * 4 - 1), 128); }), pact::errc::invalid_shape);  // truncated
  EXPECT_EQ(code_of([&] { q::load_blocks<q::block_q8_0>(blob, 96); }), pact::errc::invalid_shape);  // trailing bytes
  EXPECT_EQ(code_of([&] { q::view_blocks<q::block_q8_0>(std::span(blob).subspan(1, 34 * 3), 96); }), pact::errc::invalid_argument);  // misaligned
  std::vector<float> out(128);
  EXPECT_EQ(code_of([&] { q::dequantize_bytes(q::format::q8_0, blob, 2, 48, std::span(out).first(96)); }), pact::errc::invalid_shape);
  EXPECT_EQ(code_of([&] { q::dequantize_bytes(q::format::q8_0, blob, std::size_t{1} << 40, std::size_t{1} << 40, out); }), pact::errc::size_overflow);
  EXPECT_EQ(code_of([&] { q::dequantize_bytes(static_cast<q::format>(99), blob, 1, 128, out); }), pact::errc::invalid_argument);
}

TEST(QuantUntrusted, BadScalesAreInvalidData) {
  std::vector<float> x(256, 0.25f);
  auto expect_invalid = [&](q::format f, std::vector<std::byte> blob, std::size_t scale_offset, std::uint16_t bits) {
    std::memcpy(blob.data() + scale_offset, &bits, 2);
    std::vector<float> out(256);
    EXPECT_EQ(code_of([&] { q::dequantize_bytes(f, blob, 1, 256, out); }), pact::errc::invalid_data) << q::to_string(f) << " " << bits;
  };
  {
    std::vector<q::block_q8_0> b(8);
    q::quantize<q::block_q8_0>(x, b);
    expect_invalid(q::format::q8_0, blob_of(b), 34 * 5, 0x7C00);  // +Inf d in block 5
    expect_invalid(q::format::q8_0, blob_of(b), 0, 0xFE00);       // NaN d
  }
  {
    std::vector<q::block_q4_1> b(8);
    q::quantize<q::block_q4_1>(x, b);
    expect_invalid(q::format::q4_1, blob_of(b), 20 * 7 + 2, 0xFC00);  // -Inf m
  }
  {
    std::vector<q::block_q4_K> b(1);
    q::quantize<q::block_q4_K>(x, b);
    expect_invalid(q::format::q4_K, blob_of(b), 2, 0x7C01);  // NaN dmin
  }
  {
    std::vector<q::block_q6_K> b(1);
    q::quantize<q::block_q6_K>(x, b);
    expect_invalid(q::format::q6_K, blob_of(b), 208, 0x7C00);
  }
  {
    std::vector<q::block_q8_K> b(1);
    q::quantize<q::block_q8_K>(x, b);
    auto blob = blob_of(b);
    blob[4 + 17] = std::byte{0x11};  // a quant changes: bsums[1] no longer matches
    std::vector<float> out(256);
    EXPECT_EQ(code_of([&] { q::dequantize_bytes(q::format::q8_K, blob, 1, 256, out); }), pact::errc::invalid_data);
    auto nan_d = blob_of(b);
    const float nan = NAN;
    std::memcpy(nan_d.data(), &nan, 4);
    EXPECT_EQ(code_of([&] { q::dequantize_bytes(q::format::q8_K, nan_d, 1, 256, out); }), pact::errc::invalid_data);
  }
  {
    std::vector<q::block_mxfp4> b(8);
    q::quantize<q::block_mxfp4>(x, b);
    auto blob = blob_of(b);
    blob[17 * 3] = std::byte{0xFF};
    std::vector<float> out(256);
    EXPECT_EQ(code_of([&] { q::dequantize_bytes(q::format::mxfp4, blob, 1, 256, out); }), pact::errc::invalid_data);
  }
  for (auto f : {q::format::mx_fp8_e4m3, q::format::mx_fp8_e5m2, q::format::mx_fp6_e2m3, q::format::mx_fp6_e3m2,
                 q::format::mx_fp4, q::format::mx_int8}) {
    const std::size_t rb = q::row_bytes(f, 256);
    std::vector<std::byte> blob(rb, std::byte{0x12});
    std::vector<float> out(256);
    EXPECT_NO_THROW(q::dequantize_bytes(f, blob, 1, 256, out)) << q::to_string(f);
    blob[rb / 8 * 5] = std::byte{0xFF};  // the scale byte of block 5 (8 blocks per row)
    EXPECT_EQ(code_of([&] { q::dequantize_bytes(f, blob, 1, 256, out); }), pact::errc::invalid_data) << q::to_string(f);
  }
}
