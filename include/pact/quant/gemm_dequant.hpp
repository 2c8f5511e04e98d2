#pragma once
// pact::quant::gemm_dequant — W4A16 / W4A32-style GEMM: float (or bf16 / fp16) activations
// against weights in any ggml or OCP MX block format, dequantized on the fly:
//
//   pact::quant::gemm_dequant<pact::quant::block_q4_K>(X, W, N, Y, pool);      // Y = X W^T
//   pact::quant::gemm_dequant<pact::quant::mx_block_fp4>(X, W, N, Y, pool);    // MXFP4 weights
//   pact::quant::gemm_dequant(Xq, M, W, N, Y, pool);   // MX (or ggml) activation blocks too
//
// X: M x K activations (any layout) or M rows of K / XBlock::elems blocks; W: N rows of
// K / Block::elems blocks (the GGUF layout for ggml blocks, pact's MX layout for MX blocks);
// Y: M x N float. The only rounding is that of the f32 GEMM over the exactly dequantized
// operands (the MX spec's dot product, X_a X_b sum(P_a P_b), in f32 arithmetic). The panel
// driver (quant/kernels/dequant_panels.hpp) decodes W one L2-sized panel at a time, so the
// cost is N K conversions against 2 M N K flops (worthwhile from M ~ 8; for M = 1 use
// quant::gemv, which reads ggml blocks directly).
//
// Threads split the panels' columns of Y; Y is bitwise identical for every executor. NaN /
// Inf in X or in a block's scales (the MX NaN scale 0xFF included) propagate through the
// products (validate untrusted blobs with quant/untrusted.hpp first). Errors (pact::error):
// invalid_shape (K not a multiple of the block size, W.size() != N K / Block::elems, X's
// size not M K / XBlock::elems, Y not M x N), null_pointer, bad_stride, aliasing (Y overlaps
// X or W).
#include <algorithm>
#include <cstdint>
#include <span>

#include "pact/core/error.hpp"
#include "pact/core/matrix_view.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/ggml.hpp"
#include "pact/quant/kernels/dequant_panels.hpp"
#include "pact/quant/kernels/mx_dequantize.hpp"
#include "pact/quant/mx.hpp"

PACT_NAMESPACE_BEGIN
namespace quant {

/// A block type gemm_dequant can decode: one of the ggml blocks or one of the MX blocks.
template <class Block>
concept dequantizable_block = is_ggml_block_v<Block> || mx_block<Block>;

namespace dequant_detail {
/// n_blocks consecutive blocks -> 32 / 256 floats each, with the arch's SIMD decoder.
template <class A, class Block>
void dequantize_row_blocks(const Block* x, float* y, std::size_t n_blocks) noexcept {
  if constexpr (is_ggml_block_v<Block>) dequantize_blocks<A>(x, y, n_blocks);
  else mx_detail::dequantize_mx_blocks<A>(x, y, n_blocks);
}

/// The checks both forms share; returns K / Block::elems.
template <class Block, class LY>
index_t check_weights(std::span<const Block> W, index_t N, index_t K, index_t M, const matrix_view<float, LY>& Y) {
  using pact::detail::require;
  constexpr index_t E = static_cast<index_t>(Block::elems);
  require(N >= 0, errc::invalid_shape, "quant::gemm_dequant: N must be >= 0");
  require(K % E == 0, errc::invalid_shape, "quant::gemm_dequant: K must be a multiple of the block size");
  const index_t kb = K / E;
  require(W.size() == pact::detail::checked_mul(static_cast<std::size_t>(N), static_cast<std::size_t>(kb), "quant::gemm_dequant: W"),
          errc::invalid_shape, "quant::gemm_dequant: W must hold N * K / Block::elems blocks");
  require(Y.rows() == M && Y.cols() == N, errc::invalid_shape, "quant::gemm_dequant: Y must be M x N");
  require(W.empty() || W.data() != nullptr, errc::null_pointer, "quant::gemm_dequant: null W");
  require(!overlaps_bytes(Y, W.data(), W.size_bytes()), errc::aliasing, "quant::gemm_dequant: Y overlaps W");
  return kb;
}

/// weight_row for a block matrix: row n, columns [k0, k0 + kc) (k0, kc multiples of elems).
template <class A, class Block>
auto block_rows(const Block* W, index_t kb) noexcept {
  return [W, kb](index_t n, index_t k0, index_t kc, float* out) {
    constexpr index_t E = static_cast<index_t>(Block::elems);
    dequantize_row_blocks<A>(W + n * kb + k0 / E, out, static_cast<std::size_t>(kc / E));
  };
}
}  // namespace dequant_detail

/// Y = X W^T with float (bf16 / fp16) activations X (M x K, any layout).
template <dequantizable_block Block, class TX, class LX, class LY, executor Exec = serial>
void gemm_dequant(const matrix_view<TX, LX>& X, std::span<const Block> W, index_t N, const matrix_view<float, LY>& Y,
                  const Exec& exec = {}) {
  using pact::detail::require;
  using namespace dequant_detail;
  validate(X, "quant::gemm_dequant: X");
  validate(Y, "quant::gemm_dequant: Y");
  const index_t M = X.rows(), K = X.cols();
  const index_t kb = check_weights(W, N, K, M, Y);
  require(!overlaps(Y, X), errc::aliasing, "quant::gemm_dequant: Y overlaps X");
  if (M == 0 || N == 0) return;
  if (K == 0) return zero_fill(Y);
  gemm_panels(X, N, Y, exec, block_rows<simd::native_arch>(W.data(), kb));
}

/// Y = X W^T with block-quantized activations: X holds M rows of K / XBlock::elems blocks
/// (e.g. MXFP8 / MXINT8 activations against MXFP4 weights: the MX GEMM). K is taken from
/// X's size. Rows of X are widened to f32 512 at a time.
template <dequantizable_block XBlock, dequantizable_block Block, class LY, executor Exec = serial>
void gemm_dequant(std::span<const XBlock> X, index_t M, std::span<const Block> W, index_t N, const matrix_view<float, LY>& Y,
                  const Exec& exec = {}) {
  using pact::detail::require;
  using namespace dequant_detail;
  validate(Y, "quant::gemm_dequant: Y");
  require(M >= 0, errc::invalid_shape, "quant::gemm_dequant: M must be >= 0");
  require(M > 0 || X.empty(), errc::invalid_shape, "quant::gemm_dequant: X must be empty when M == 0");
  if (M == 0) {  // K is unknown (X is empty); only Y's shape can be checked
    require(Y.rows() == 0 && Y.cols() == N && N >= 0, errc::invalid_shape, "quant::gemm_dequant: Y must be M x N");
    return;
  }
  const index_t xkb = static_cast<index_t>(X.size()) / M;
  require(static_cast<std::size_t>(xkb) * static_cast<std::size_t>(M) == X.size(), errc::invalid_shape,
          "quant::gemm_dequant: X must hold M rows of K / XBlock::elems blocks");
  const auto K = static_cast<index_t>(
      pact::detail::checked_mul(static_cast<std::size_t>(xkb), XBlock::elems, "quant::gemm_dequant: K"));
  const index_t kb = check_weights(W, N, K, M, Y);
  require(X.empty() || X.data() != nullptr, errc::null_pointer, "quant::gemm_dequant: null X");
  require(!overlaps_bytes(Y, X.data(), X.size_bytes()), errc::aliasing, "quant::gemm_dequant: Y overlaps X");
  if (N == 0) return;
  if (K == 0) return zero_fill(Y);
  using A = simd::native_arch;
  const auto x_rows = block_rows<A>(X.data(), xkb);
  gemm_rows_then_panels(M, K, N, Y, exec, [&](index_t m, float* out) { x_rows(m, 0, K, out); }, block_rows<A>(W.data(), kb));
}

}  // namespace quant
PACT_NAMESPACE_END
