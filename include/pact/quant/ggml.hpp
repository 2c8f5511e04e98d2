#pragma once
// Checked entry points for the ggml block formats:
//
//   quant::quantize(std::span<const float> x, std::span<Block> y, exec = serial{})
//   quant::dequantize(std::span<const Block> x, std::span<float> y, exec = serial{})
//
// for Block in {block_q8_0, block_q4_0, block_q4_1, block_q4_K, block_q6_K, block_q8_K,
// block_mxfp4}. x.size() must equal y.size() * Block::elems (errc::invalid_shape otherwise);
// quantize rejects NaN / Inf input with errc::invalid_data (the output is then unspecified).
// Bytes are identical to ggml's reference quantizer (rules in quant/ggml_scalar.hpp).
//
// Quantize uses the SIMD path of simd::native_arch for Q8_0, Q4_0 and Q8_K (bit-identical to
// the scalar path); dequantize for Q8_0, Q4_0, Q4_K, Q6_K and MXFP4. The others run the
// scalar code. Work is split into chunks of whole blocks, so any executor gives the same bytes.
// The arch-templated forms quantize_blocks<A>() / dequantize_blocks<A>() are for tests and
// kernels that pick the arch themselves (no checks).

#include <pact/core/error.hpp>
#include <pact/core/threading.hpp>
#include <pact/quant/ggml_scalar.hpp>
#include <pact/quant/ggml_simd.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <span>
#include <type_traits>

PACT_NAMESPACE_BEGIN
namespace quant {

template <class Block>
inline constexpr bool is_ggml_block_v =
    std::is_same_v<Block, block_q8_0> || std::is_same_v<Block, block_q4_0> ||
    std::is_same_v<Block, block_q4_1> || std::is_same_v<Block, block_q4_K> ||
    std::is_same_v<Block, block_q6_K> || std::is_same_v<Block, block_q8_K> ||
    std::is_same_v<Block, block_mxfp4>;

namespace detail {

template <class Block>
inline constexpr bool has_simd_quantize_v = std::is_same_v<Block, block_q8_0> ||
                                            std::is_same_v<Block, block_q4_0> ||
                                            std::is_same_v<Block, block_q8_K>;
template <class Block>
inline constexpr bool has_simd_dequantize_v =
    std::is_same_v<Block, block_q8_0> || std::is_same_v<Block, block_q4_0> ||
    std::is_same_v<Block, block_q4_K> || std::is_same_v<Block, block_q6_K> ||
    std::is_same_v<Block, block_mxfp4>;

/// Blocks per task: an equal share per thread, at least ~64 KiB of floats (to amortize a
/// task hand-off) and at most ~2 MiB. Large tasks let the Q8_0 quantizer's four input
/// streams (ggml_simd.hpp) run long: 64 KiB tasks cut them into 16 KiB pieces, which was
/// slower than one stream (512 MiB, 1 thread: 60 ms against 53 ms; 2 MiB tasks 50 ms).
template <class Block>
std::size_t blocks_per_task(std::size_t n_blocks, int threads) noexcept {
  constexpr std::size_t lo = std::max<std::size_t>(1, 16384 / Block::elems);
  constexpr std::size_t hi = std::max<std::size_t>(1, 524288 / Block::elems);
  const auto t = static_cast<std::size_t>(std::max(1, threads));
  return std::clamp((n_blocks + t - 1) / t, lo, hi);
}

inline bool all_finite_scalar(const float* x, std::size_t n) noexcept {
  float acc = 0.0f;
  for (std::size_t i = 0; i < n; ++i) acc += x[i] * 0.0f;
  return acc == 0.0f;
}

}  // namespace detail

/// Quantize n_blocks blocks with arch A's kernel (scalar code where A has none). Returns
/// false if the input held NaN or Inf. No checks.
template <class A, class Block>
bool quantize_blocks(const float* x, Block* y, std::size_t n_blocks) noexcept {
  if constexpr (detail::has_simd_quantize_v<Block>) {
    return simd_kernels::quantize_blocks<A>(x, y, n_blocks);
  } else {
    scalar::quantize_blocks(x, y, n_blocks);
    return detail::all_finite_scalar(x, n_blocks * Block::elems);
  }
}

/// Dequantize n_blocks blocks with arch A's kernel (scalar code where A has none).
template <class A, class Block>
void dequantize_blocks(const Block* x, float* y, std::size_t n_blocks) noexcept {
  if constexpr (detail::has_simd_dequantize_v<Block>) {
    simd_kernels::dequantize_blocks<A>(x, y, n_blocks);
  } else {
    scalar::dequantize_blocks(x, y, n_blocks);
  }
}

template <class Block, executor E = serial>
void quantize(std::span<const float> x, std::span<Block> y, const E& exec = E{}) {
  static_assert(is_ggml_block_v<Block>, "quant::quantize: Block must be one of the ggml block types");
  pact::detail::require(x.size() == pact::detail::checked_mul(y.size(), Block::elems, "quantize"),
                        errc::invalid_shape,
                        "quant::quantize: x.size() must equal y.size() * Block::elems");
  if (y.empty()) return;
  pact::detail::require(x.data() != nullptr && y.data() != nullptr, errc::null_pointer,
                        "quant::quantize: null data");
  const std::size_t chunk = detail::blocks_per_task<Block>(y.size(), exec.num_threads());
  const std::size_t tasks = (y.size() + chunk - 1) / chunk;
  std::atomic<bool> finite{true};
  exec.parallel_for(static_cast<index_t>(tasks), [&](index_t t) {
    const std::size_t b0 = static_cast<std::size_t>(t) * chunk;
    const std::size_t nb = std::min(chunk, y.size() - b0);
    if (!quantize_blocks<simd::native_arch>(x.data() + b0 * Block::elems, y.data() + b0, nb)) {
      finite.store(false, std::memory_order_relaxed);
    }
  });
  pact::detail::require(finite.load(), errc::invalid_data,
                        "quant::quantize: input holds NaN or Inf (block formats need finite values)");
}

template <class Block, executor E = serial>
void dequantize(std::span<const Block> x, std::span<float> y, const E& exec = E{}) {
  static_assert(is_ggml_block_v<Block>, "quant::dequantize: Block must be one of the ggml block types");
  pact::detail::require(y.size() == pact::detail::checked_mul(x.size(), Block::elems, "dequantize"),
                        errc::invalid_shape,
                        "quant::dequantize: y.size() must equal x.size() * Block::elems");
  if (x.empty()) return;
  pact::detail::require(x.data() != nullptr && y.data() != nullptr, errc::null_pointer,
                        "quant::dequantize: null data");
  const std::size_t chunk = detail::blocks_per_task<Block>(x.size(), exec.num_threads());
  const std::size_t tasks = (x.size() + chunk - 1) / chunk;
  exec.parallel_for(static_cast<index_t>(tasks), [&](index_t t) {
    const std::size_t b0 = static_cast<std::size_t>(t) * chunk;
    const std::size_t nb = std::min(chunk, x.size() - b0);
    dequantize_blocks<simd::native_arch>(x.data() + b0, y.data() + b0 * Block::elems, nb);
  });
}

}  // namespace quant
PACT_NAMESPACE_END
