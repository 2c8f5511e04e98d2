#pragma once
// pact::quant::gemv — y = W x for ggml weight rows (N rows of K / Block::elems blocks, the
// GGUF row-major tensor layout) against quantized activations, f32 result:
//
//   weights                      activations (gemv_activation_t<Block>)
//   Q8_0, Q4_0, MXFP4 (ggml)     Q8_0 (K / 32 blocks)
//   Q4_K                         Q8_K (K / 256 blocks; its bsums are not read)
//
//   pact::quant::gemv<pact::quant::block_q4_K>(W, N, K, x_f32, y);         // quantizes x
//   pact::quant::gemv<pact::quant::block_q4_0>(W, N, K, x_q8_0, y, pool);  // x already Q8_0
//
//   32-element blocks: y[n] = sum_b d_w(n, b) * d_x(b) * isum(n, b)
//   Q4_K: y[n] = sum_sb d_x * (d_w * sum_s sc_s * isum_s - dmin_w * sum_s m_s * xsum_s)
// with exact integer block sums isum and f32 scale products / sums (order: per-lane partial
// sums, then one horizontal sum, then any blocks past the last full vector).
// Threads split the rows of W (N); each row's arithmetic is fixed, so results are bitwise
// identical for any executor. W is trusted here: validate GGUF bytes first (view_blocks /
// load_blocks in quant/untrusted.hpp reject NaN/Inf scales and the E8M0 NaN code).
// Errors: K not a multiple of the block size or sizes that disagree -> errc::invalid_shape;
// null data -> errc::null_pointer; x with NaN/Inf (float overload) -> errc::invalid_data.
#include <span>
#include <type_traits>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/error.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/ggml.hpp"
#include "pact/quant/kernels/gemv_blocks32.hpp"
#include "pact/quant/kernels/gemv_q4_K.hpp"

PACT_NAMESPACE_BEGIN
namespace quant {

/// Weight block formats gemv accepts.
template <class Block>
concept gemv_weight = std::is_same_v<Block, block_q8_0> || std::is_same_v<Block, block_q4_0> ||
                      std::is_same_v<Block, block_mxfp4> || std::is_same_v<Block, block_q4_K>;

/// The activation block a weight format is multiplied with.
template <gemv_weight Block>
using gemv_activation_t = std::conditional_t<std::is_same_v<Block, block_q4_K>, block_q8_K, block_q8_0>;

/// y = W x with quantized activations (K / gemv_activation_t<Block>::elems blocks).
template <gemv_weight Block, executor Exec = serial>
void gemv(std::span<const Block> W, index_t N, index_t K, std::span<const gemv_activation_t<Block>> x, std::span<float> y,
          const Exec& exec = {}) {
  using A = simd::native_arch;
  constexpr index_t QK = static_cast<index_t>(Block::elems);
  pact::detail::require(N >= 0 && K >= 0, errc::invalid_shape, "quant::gemv: N and K must be >= 0");
  pact::detail::require(K % QK == 0, errc::invalid_shape,
                        QK == 32 ? "quant::gemv: K must be a multiple of the block size 32"
                                 : "quant::gemv: K must be a multiple of the super-block size 256");
  const index_t nb = K / QK;
  pact::detail::require(W.size() == pact::detail::checked_mul(static_cast<std::size_t>(N), static_cast<std::size_t>(nb), "quant::gemv: W"),
                        errc::invalid_shape, "quant::gemv: W.size() must equal N * K / Block::elems blocks");
  pact::detail::require(x.size() == static_cast<std::size_t>(nb), errc::invalid_shape,
                        "quant::gemv: x.size() must equal K / Block::elems blocks");
  pact::detail::require(y.size() == static_cast<std::size_t>(N), errc::invalid_shape, "quant::gemv: y.size() must equal N");
  if (N == 0) return;
  pact::detail::require(y.data() != nullptr && (nb == 0 || (W.data() != nullptr && x.data() != nullptr)),
                        errc::null_pointer, "quant::gemv: null data");
  // The caller's scratch, named by reference: inside the task lambda a thread_local name
  // would resolve to the *worker's* (empty) instance.
  using activation = std::conditional_t<std::is_same_v<Block, block_q4_K>, quant_detail::q4k_activation, quant_detail::q8_activation>;
  thread_local activation scratch;
  const activation& act = scratch;
  if constexpr (std::is_same_v<Block, block_q4_K>) quant_detail::prepare_q4k_activation<A>(x.data(), nb, scratch);
  else quant_detail::prepare_q8_activation<A, Block>(x.data(), nb, scratch);
  // Tasks of >= 64 rows (a task hand-off costs about as much as a few rows).
  const index_t threads = std::max(1, exec.num_threads());
  const index_t tasks = std::max<index_t>(1, std::min<index_t>(threads, N / 64));
  auto task = [&](index_t t) {
    const index_t n0 = N * t / tasks, n1 = N * (t + 1) / tasks;
    if constexpr (std::is_same_v<Block, block_q4_K>) quant_detail::gemv_q4k_row_range<A>(W.data(), act, y.data(), n0, n1);
    else quant_detail::gemv_row_range<A, Block>(W.data(), nb, act, y.data(), n0, n1);
  };
  if (tasks == 1) task(0);
  else exec.parallel_for(tasks, task);
}

/// y = W x with float activations, quantized first to gemv_activation_t<Block> (ggml's
/// rule, quant::quantize).
template <gemv_weight Block, executor Exec = serial>
void gemv(std::span<const Block> W, index_t N, index_t K, std::span<const float> x, std::span<float> y,
          const Exec& exec = {}) {
  using XBlock = gemv_activation_t<Block>;
  constexpr index_t QK = static_cast<index_t>(Block::elems);
  pact::detail::require(K >= 0 && K % QK == 0, errc::invalid_shape,
                        QK == 32 ? "quant::gemv: K must be a multiple of the block size 32"
                                 : "quant::gemv: K must be a multiple of the super-block size 256");
  pact::detail::require(x.size() == static_cast<std::size_t>(K), errc::invalid_shape, "quant::gemv: x.size() must equal K");
  thread_local std::vector<XBlock> xq;
  xq.resize(static_cast<std::size_t>(K / QK));
  quantize<XBlock>(x, std::span<XBlock>(xq));
  gemv<Block>(W, N, K, std::span<const XBlock>(xq), y, exec);
}

}  // namespace quant
PACT_NAMESPACE_END
