// libFuzzer target: every decoder of pact's quantized formats on attacker-controlled bytes.
// Input layout: byte 0 picks the format, byte 1 the row count (1..4), byte 2 the blocks per
// row (0..7); the rest is the blob. The blob goes through the checked API twice: with the
// chosen shape (usually wrong: size errors) and with a shape derived from its length (usually
// right: scale validation, then decoding). Any pact::error is an acceptable outcome; a crash,
// a sanitizer report or any other exception is a bug. The same bytes, read as floats, also
// go through every quantizer.
#include <pact/quant.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace q = pact::quant;

namespace {

template <class F>
void expect_pact_error_or_success(F&& f) {
  try {
    f();
  } catch (const pact::error&) {
  }
}

std::size_t block_elems(q::format f) {
  return q::detail::with_block_type(f, [](auto b) { return decltype(b)::elems; });
}
std::size_t block_bytes(q::format f) {
  return q::detail::with_block_type(f, [](auto b) { return sizeof(b); });
}

void decode(q::format f, std::span<const std::byte> blob, std::size_t rows, std::size_t cols) {
  std::vector<float> out(rows * cols);
  expect_pact_error_or_success([&] { q::dequantize_bytes(f, blob, rows, cols, out); });
  expect_pact_error_or_success([&] { q::validate_blocks(f, blob, rows, cols); });
}

void quantizers(std::span<const std::uint8_t> raw) {
  std::vector<float> x(raw.size() / 4);
  if (!x.empty()) std::memcpy(x.data(), raw.data(), x.size() * 4);
  const std::size_t n32 = x.size() / 32 * 32, n256 = x.size() / 256 * 256;
  const std::span<const float> x32(x.data(), n32), x256(x.data(), n256);
  auto ggml = [&](auto tag, std::span<const float> in) {
    using Block = decltype(tag);
    std::vector<Block> b(in.size() / Block::elems);
    expect_pact_error_or_success([&] { q::quantize<Block>(in, b); });
    std::vector<float> y(in.size());
    q::dequantize<Block>(std::span<const Block>(b), y);  // always valid shapes
  };
  ggml(q::block_q8_0{}, x32);
  ggml(q::block_q4_0{}, x32);
  ggml(q::block_q4_1{}, x32);
  ggml(q::block_mxfp4{}, x32);
  ggml(q::block_q8_K{}, x256);
  ggml(q::block_q4_K{}, x256);
  ggml(q::block_q6_K{}, x256);
  std::vector<q::mx_block_fp6_e3m2> m(n32 / 32);
  q::quantize_mx<q::mx_block_fp6_e3m2>(x32, m);
  std::vector<q::mx_block_int8> mi(n32 / 32);
  q::quantize_mx<q::mx_block_int8>(x32, mi);
  if (!x.empty()) {
    expect_pact_error_or_success([&] { (void)q::quantize_fp8_1x128<pact::fp8_e4m3>(x.data(), 1, x.size(), x.size()); });
    expect_pact_error_or_success([&] {
      (void)q::quantize_int8(x.data(), 1, x.size(), x.size(), {q::int8_granularity::per_group, 32, q::int8_scheme::symmetric});
    });
    expect_pact_error_or_success([&] {
      (void)q::quantize_uint8(x.data(), 1, x.size(), x.size(), {q::int8_granularity::per_row, 0, q::int8_scheme::asymmetric});
    });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const auto f = static_cast<q::format>(data[0] % q::format_count);
  const std::size_t rows = 1 + data[1] % 4;
  const std::size_t cols = (data[2] % 8) * block_elems(f);
  // Copy into an exactly sized heap buffer so ASan sees any read past the end.
  std::vector<std::byte> blob(size - 3);
  if (!blob.empty()) std::memcpy(blob.data(), data + 3, blob.size());
  decode(f, blob, rows, cols);
  const std::size_t whole = blob.size() / block_bytes(f);
  decode(f, std::span<const std::byte>(blob).first(whole * block_bytes(f)), 1, whole * block_elems(f));
  // Zero-copy views at every alignment the blob offers.
  for (std::size_t off = 0; off < 4 && off <= blob.size(); ++off) {
    const auto sub = std::span<const std::byte>(blob).subspan(off);
    const std::size_t n = sub.size() / block_bytes(f);
    q::detail::with_block_type(f, [&](auto b) {
      using Block = decltype(b);
      expect_pact_error_or_success([&] { (void)q::view_blocks<Block>(sub.first(n * sizeof(Block)), n * Block::elems); });
    });
  }
  quantizers(std::span<const std::uint8_t>(data + 3, size - 3));
  return 0;
}
