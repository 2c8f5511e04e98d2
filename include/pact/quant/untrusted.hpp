#pragma once
// Quantized weights from untrusted bytes (a GGUF tensor blob, a file, the network): every
// size, alignment and scale is checked before a kernel sees the data, and every problem is a
// pact::error, never undefined behaviour.
//
//   view_blocks<Block>(bytes, n_elems)   zero-copy span of blocks; needs bytes aligned to
//                                        alignof(Block) (2 for fp16-scaled blocks, 4 for Q8_K)
//   load_blocks<Block>(bytes, n_elems)   copy into an aligned_buffer (any alignment)
//   validate_blocks(format, bytes, rows, cols)
//   dequantize_bytes(format, bytes, rows, cols, out)   validate, then decode to float
//
// Errors:
//   errc::invalid_shape  n_elems (or cols) not a multiple of the block size, or the byte count
//                        is not exactly n_blocks * sizeof(Block) (truncated or trailing bytes)
//   errc::size_overflow  rows * cols or the byte count overflows size_t
//   errc::invalid_argument  bytes misaligned for a zero-copy view
//   errc::null_pointer   null data with a non-zero size
//   errc::invalid_data   a scale is NaN or Inf (fp16 d / m / dmin, float32 d of Q8_K), an
//                        E8M0 scale is the NaN code 0xFF, or Q8_K's bsums disagree with its
//                        quants
// Element codes are never rejected: every 4/6/8-bit pattern decodes to some value (FP8 NaN
// codes decode to NaN; callers that need finite outputs check those themselves).

#include <pact/core/aligned_buffer.hpp>
#include <pact/core/error.hpp>
#include <pact/quant/ggml.hpp>
#include <pact/quant/mx.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

PACT_NAMESPACE_BEGIN
namespace quant {

/// Every block format the untrusted-bytes API decodes.
enum class format : std::uint8_t {
  q8_0, q4_0, q4_1, q4_K, q6_K, q8_K, mxfp4,                             // ggml / GGUF
  mx_fp8_e4m3, mx_fp8_e5m2, mx_fp6_e2m3, mx_fp6_e3m2, mx_fp4, mx_int8,  // OCP MX
};
inline constexpr int format_count = 13;

inline const char* to_string(format f) noexcept {
  switch (f) {
    case format::q8_0: return "q8_0";
    case format::q4_0: return "q4_0";
    case format::q4_1: return "q4_1";
    case format::q4_K: return "q4_K";
    case format::q6_K: return "q6_K";
    case format::q8_K: return "q8_K";
    case format::mxfp4: return "mxfp4";
    case format::mx_fp8_e4m3: return "mx_fp8_e4m3";
    case format::mx_fp8_e5m2: return "mx_fp8_e5m2";
    case format::mx_fp6_e2m3: return "mx_fp6_e2m3";
    case format::mx_fp6_e3m2: return "mx_fp6_e3m2";
    case format::mx_fp4: return "mx_fp4";
    case format::mx_int8: return "mx_int8";
  }
  return "unknown";
}

namespace detail {

inline bool fp16_finite(fp16 h) noexcept { return (h.bits & 0x7C00u) != 0x7C00u; }

/// Scale checks of one block (the element codes need none).
inline const char* block_problem(const block_q8_0& b) noexcept { return fp16_finite(b.d) ? nullptr : "scale d is NaN or Inf"; }
inline const char* block_problem(const block_q4_0& b) noexcept { return fp16_finite(b.d) ? nullptr : "scale d is NaN or Inf"; }
inline const char* block_problem(const block_q4_1& b) noexcept {
  return fp16_finite(b.d) && fp16_finite(b.m) ? nullptr : "scale d or min m is NaN or Inf";
}
inline const char* block_problem(const block_q4_K& b) noexcept {
  return fp16_finite(b.d) && fp16_finite(b.dmin) ? nullptr : "super-scale d or dmin is NaN or Inf";
}
inline const char* block_problem(const block_q6_K& b) noexcept { return fp16_finite(b.d) ? nullptr : "scale d is NaN or Inf"; }
inline const char* block_problem(const block_q8_K& b) noexcept {
  if (!(b.d - b.d == 0.0f)) return "scale d is NaN or Inf";
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += b.qs[16 * g + i];
    if (sum != b.bsums[g]) return "bsums disagree with the quants";
  }
  return nullptr;
}
inline const char* block_problem(const block_mxfp4& b) noexcept { return b.e.is_nan() ? "E8M0 scale is the NaN code 0xFF" : nullptr; }
template <mx_block Block>
const char* block_problem(const Block& b) noexcept {
  return b.scale.is_nan() ? "E8M0 scale is the NaN code 0xFF" : nullptr;
}

template <class Block>
std::size_t checked_block_count(std::span<const std::byte> bytes, std::size_t n_elems, const char* who) {
  if (n_elems % Block::elems != 0) {
    throw error(errc::invalid_shape, std::string(who) + ": element count " + std::to_string(n_elems) +
                                         " is not a multiple of the block size " + std::to_string(Block::elems));
  }
  const std::size_t n_blocks = n_elems / Block::elems;
  const std::size_t need = pact::detail::checked_mul(n_blocks, sizeof(Block), who);
  if (bytes.size() != need) {
    throw error(errc::invalid_shape, std::string(who) + ": expected " + std::to_string(need) + " bytes for " +
                                         std::to_string(n_blocks) + " blocks, got " + std::to_string(bytes.size()) +
                                         (bytes.size() < need ? " (truncated)" : " (trailing bytes)"));
  }
  pact::detail::require(need == 0 || bytes.data() != nullptr, errc::null_pointer, "quant: null bytes");
  return n_blocks;
}

template <class Block>
void check_blocks(const Block* blocks, std::size_t n_blocks, const char* who) {
  for (std::size_t i = 0; i < n_blocks; ++i) {
    if (const char* why = block_problem(blocks[i])) {
      throw error(errc::invalid_data, std::string(who) + ": block " + std::to_string(i) + ": " + why);
    }
  }
}

}  // namespace detail

/// Zero-copy, validated view of n_elems elements' worth of blocks.
template <class Block>
std::span<const Block> view_blocks(std::span<const std::byte> bytes, std::size_t n_elems) {
  const std::size_t n = detail::checked_block_count<Block>(bytes, n_elems, "quant::view_blocks");
  if (n == 0) return {};
  pact::detail::require(reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(Block) == 0, errc::invalid_argument,
                        "quant::view_blocks: bytes are not aligned for this block type (use load_blocks)");
  // The block types are trivially copyable aggregates of bytes: every bit pattern is a valid
  // object representation, so reading the buffer through them is well defined in practice
  // (implicit-lifetime types; C++23 spells this std::start_lifetime_as_array).
  const auto* blocks = reinterpret_cast<const Block*>(bytes.data());
  detail::check_blocks(blocks, n, "quant::view_blocks");
  return {blocks, n};
}

/// Validated copy (any alignment of `bytes`).
template <class Block>
aligned_buffer<Block> load_blocks(std::span<const std::byte> bytes, std::size_t n_elems) {
  const std::size_t n = detail::checked_block_count<Block>(bytes, n_elems, "quant::load_blocks");
  aligned_buffer<Block> out(n);
  if (n != 0) std::memcpy(out.data(), bytes.data(), bytes.size());
  detail::check_blocks(out.data(), n, "quant::load_blocks");
  return out;
}

namespace detail {
template <class F>
decltype(auto) with_block_type(format f, F&& fn) {
  switch (f) {
    case format::q8_0: return fn(block_q8_0{});
    case format::q4_0: return fn(block_q4_0{});
    case format::q4_1: return fn(block_q4_1{});
    case format::q4_K: return fn(block_q4_K{});
    case format::q6_K: return fn(block_q6_K{});
    case format::q8_K: return fn(block_q8_K{});
    case format::mxfp4: return fn(block_mxfp4{});
    case format::mx_fp8_e4m3: return fn(mx_block_fp8_e4m3{});
    case format::mx_fp8_e5m2: return fn(mx_block_fp8_e5m2{});
    case format::mx_fp6_e2m3: return fn(mx_block_fp6_e2m3{});
    case format::mx_fp6_e3m2: return fn(mx_block_fp6_e3m2{});
    case format::mx_fp4: return fn(mx_block_fp4{});
    case format::mx_int8: return fn(mx_block_int8{});
  }
  throw error(errc::invalid_argument, "quant: unknown format");
}
}  // namespace detail

/// Bytes per row of `cols` elements in format f (cols must be a multiple of the block size).
inline std::size_t row_bytes(format f, std::size_t cols) {
  return detail::with_block_type(f, [&](auto b) -> std::size_t {
    using Block = decltype(b);
    pact::detail::require(cols % Block::elems == 0, errc::invalid_shape, "quant::row_bytes: cols is not a multiple of the block size");
    return pact::detail::checked_mul(cols / Block::elems, sizeof(Block), "quant::row_bytes");
  });
}

/// Throws unless `bytes` is exactly a (rows, cols) matrix of format f with valid scales.
inline void validate_blocks(format f, std::span<const std::byte> bytes, std::size_t rows, std::size_t cols) {
  const std::size_t n_elems = pact::detail::checked_mul(rows, cols, "quant::validate_blocks");
  detail::with_block_type(f, [&](auto b) {
    using Block = decltype(b);
    pact::detail::require(rows == 0 || cols % Block::elems == 0, errc::invalid_shape,
                          "quant::validate_blocks: cols is not a multiple of the block size");
    (void)load_blocks<Block>(bytes, n_elems);
  });
}

/// Validate, then decode a (rows, cols) matrix of format f into out (rows * cols floats).
inline void dequantize_bytes(format f, std::span<const std::byte> bytes, std::size_t rows, std::size_t cols,
                             std::span<float> out) {
  const std::size_t n_elems = pact::detail::checked_mul(rows, cols, "quant::dequantize_bytes");
  pact::detail::require(out.size() == n_elems, errc::invalid_shape, "quant::dequantize_bytes: out.size() != rows * cols");
  detail::with_block_type(f, [&](auto b) {
    using Block = decltype(b);
    pact::detail::require(rows == 0 || cols % Block::elems == 0, errc::invalid_shape,
                          "quant::dequantize_bytes: cols is not a multiple of the block size");
    const auto blocks = load_blocks<Block>(bytes, n_elems);
    const std::span<const Block> view(blocks.data(), blocks.size());
    if constexpr (mx_block<Block>) dequantize_mx<Block>(view, out);
    else dequantize<Block>(view, out);
  });
}

}  // namespace quant
PACT_NAMESPACE_END
