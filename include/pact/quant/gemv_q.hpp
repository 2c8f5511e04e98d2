#pragma once
// pact::quant::gemv — y = W x with ggml Q8_0 or Q4_0 weights (N rows of K/32 blocks, the
// GGUF row-major tensor layout) and Q8_0 activations, f32 result:
//
//   pact::quant::gemv<pact::quant::block_q4_0>(W, N, K, x_f32, y);           // quantizes x
//   pact::quant::gemv<pact::quant::block_q4_0>(W, N, K, x_q8_0, y, pool);     // x already Q8_0
//
//   y[n] = sum_b d_w(n, b) * d_x(b) * isum(n, b)   with exact integer block sums isum and
//   f32 scale products / sums (order: per-lane partial sums, then one horizontal sum, then
//   the blocks past the last full vector).
// Threads split the rows of W (N); each row's arithmetic is fixed, so results are bitwise
// identical for any executor. W is trusted here: validate GGUF bytes first (formats side).
// Errors: K not a multiple of 32 or sizes that disagree -> errc::invalid_shape; null
// data -> errc::null_pointer; x with NaN/Inf (float overload) -> errc::invalid_data.
#include <span>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/error.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/ggml.hpp"
#include "pact/quant/kernels/gemv_q8_0_q4_0.hpp"

PACT_NAMESPACE_BEGIN
namespace quant {

template <class Block>
concept gemv_q8_weight = std::is_same_v<Block, block_q8_0> || std::is_same_v<Block, block_q4_0>;

/// y = W x with Q8_0 activations (K / 32 blocks).
template <gemv_q8_weight Block, executor Exec = serial>
void gemv(std::span<const Block> W, index_t N, index_t K, std::span<const block_q8_0> x, std::span<float> y,
          const Exec& exec = {}) {
  using A = simd::native_arch;
  pact::detail::require(N >= 0 && K >= 0, errc::invalid_shape, "quant::gemv: N and K must be >= 0");
  pact::detail::require(K % 32 == 0, errc::invalid_shape, "quant::gemv: K must be a multiple of the block size 32");
  const index_t nb = K / 32;
  pact::detail::require(W.size() == pact::detail::checked_mul(static_cast<std::size_t>(N), static_cast<std::size_t>(nb), "quant::gemv: W"),
                        errc::invalid_shape, "quant::gemv: W.size() must equal N * K / 32 blocks");
  pact::detail::require(x.size() == static_cast<std::size_t>(nb), errc::invalid_shape,
                        "quant::gemv: x.size() must equal K / 32 blocks");
  pact::detail::require(y.size() == static_cast<std::size_t>(N), errc::invalid_shape, "quant::gemv: y.size() must equal N");
  if (N == 0) return;
  pact::detail::require(y.data() != nullptr && (nb == 0 || (W.data() != nullptr && x.data() != nullptr)),
                        errc::null_pointer, "quant::gemv: null data");
  // The caller's scratch, named by reference: inside the task lambda a thread_local name
  // would resolve to the *worker's* (empty) instance.
  thread_local quant_detail::q8_activation scratch;
  const quant_detail::q8_activation& act = scratch;
  quant_detail::prepare_q8_activation<A, Block>(x.data(), nb, scratch);
  // Tasks of >= 64 rows (a task hand-off costs about as much as a few rows).
  const index_t threads = std::max(1, exec.num_threads());
  const index_t tasks = std::max<index_t>(1, std::min<index_t>(threads, N / 64));
  auto task = [&](index_t t) {
    const index_t n0 = N * t / tasks, n1 = N * (t + 1) / tasks;
    quant_detail::gemv_row_range<A, Block>(W.data(), nb, act, y.data(), n0, n1);
  };
  if (tasks == 1) task(0);
  else exec.parallel_for(tasks, task);
}

/// y = W x with float activations, quantized to Q8_0 first (ggml's rule, quant::quantize).
template <gemv_q8_weight Block, executor Exec = serial>
void gemv(std::span<const Block> W, index_t N, index_t K, std::span<const float> x, std::span<float> y,
          const Exec& exec = {}) {
  pact::detail::require(K >= 0 && K % 32 == 0, errc::invalid_shape, "quant::gemv: K must be a multiple of the block size 32");
  pact::detail::require(x.size() == static_cast<std::size_t>(K), errc::invalid_shape, "quant::gemv: x.size() must equal K");
  thread_local std::vector<block_q8_0> xq;
  xq.resize(static_cast<std::size_t>(K / 32));
  quantize<block_q8_0>(x, std::span<block_q8_0>(xq));
  gemv<Block>(W, N, K, std::span<const block_q8_0>(xq), y, exec);
}

}  // namespace quant
PACT_NAMESPACE_END
