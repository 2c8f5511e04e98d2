#pragma once
// Batched quantized GEMM (M = 8..512 rows of activations), Q8_0 / Q4_0 weights against
// Q8_0 activations, f32 result:
//   Y(i, n) = sum_b d_x(i, b) * d_w(n, b) * sum_{j<32} x(i, b, j) * w(n, b, j)
// Weights are repacked once at load time into the int8 GEMM's VNNI layout (sliver of NR
// output rows, 4 k-values per int32 word), one 32-k block after another; Q4_0 nibbles
// become the exact signed bytes q - 8, so both formats share one kernel. Per block and
// column the pack stores d_w (f32) and -128 * sum_j w (the compensation for activations
// packed as unsigned x + 128). The microkernel accumulates 8 dot_u8s8 steps (one block)
// in int32 accumulators that start at the compensation, then adds
// float(acc) * (d_x(i, b) * d_w(n, b)) to f32 accumulators: integer block sums are exact,
// the scale products and block sums are f32 in increasing block order (fixed for every
// tiling and thread count, so results are bitwise reproducible).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/error.hpp"
#include "pact/core/matrix_view.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/formats/ggml_blocks.hpp"
#include "pact/simd/ops_int8.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

/// Geometry of the block GEMM for arch A: MR rows x NR = 2 vectors of int32 lanes.
template <class A>
struct qgemm_geometry {
  static constexpr int L = static_cast<int>(simd::lanes<std::int32_t, A>);
  static constexpr int NV = 2;
  static constexpr int NR = NV * L;
  // int accumulators + f32 accumulators + B vectors + broadcast must fit the registers.
  static constexpr bool wide = std::is_same_v<A, simd::scalar> || A::bytes >= 64
#if defined(__aarch64__)
                               || std::is_base_of_v<simd::neon64, A>
#endif
      ;
  static constexpr int MR = wide ? 6 : 2;
  static constexpr index_t KB = 16;  // 32-k blocks per k-step (KC = 512): B sliver in L1
  static constexpr index_t MC = 96 * MR;
  static constexpr index_t NCS = 32;  // B slivers per L2 block (32 x 16 blocks x 1280 B = 640 KiB)
  /// Bytes of one (sliver, block) record: 32 k x NR int8, NR f32 d_w, NR int32 compensation.
  static constexpr index_t record = 32 * NR + 4 * NR + 4 * NR;
};

template <class Block>
PACT_ALWAYS_INLINE std::int8_t weight_value(const Block& b, int j) noexcept {
  if constexpr (std::is_same_v<Block, quant::block_q4_0>) {
    const int q = j < 16 ? (b.qs[j] & 0x0F) : (b.qs[j - 16] >> 4);
    return static_cast<std::int8_t>(q - 8);
  } else {
    return b.qs[j];
  }
}

/// Int32 tile, then f32 tile: the microkernel over kb blocks for Rows <= MR rows.
template <class A, int Rows, int SliverRows>
PACT_ALWAYS_INLINE void qgemm_microkernel(index_t kb, const std::uint32_t* PACT_RESTRICT a, const float* PACT_RESTRICT da,
                                          const std::int8_t* PACT_RESTRICT rec, simd::vec<float, A> (&facc)[Rows][2]) noexcept {
  using G = qgemm_geometry<A>;
  using VI = simd::vec<std::int32_t, A>;
  using VF = simd::vec<float, A>;
  using VB = simd::vec<std::int8_t, A>;
  constexpr int L = G::L, NR = G::NR;
  VF f[Rows][2];
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
    for (int v = 0; v < 2; ++v) f[i][v] = facc[i][v];
  for (index_t b = 0; b < kb; ++b) {
    const std::int8_t* wq = rec + b * G::record;
    const float* dw = reinterpret_cast<const float*>(wq + 32 * NR);
    const std::int32_t* comp = reinterpret_cast<const std::int32_t*>(wq + 36 * NR);
    VI acc[Rows][2];
    const VI c0 = simd::load_aligned<A>(comp), c1 = simd::load_aligned<A>(comp + L);
#pragma GCC unroll 8
    for (int i = 0; i < Rows; ++i) {
      acc[i][0] = c0;
      acc[i][1] = c1;
    }
    const std::uint32_t* ab = a + b * 8 * SliverRows;
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const VB b0 = simd::load_aligned<A>(wq + g * NR * 4);
      const VB b1 = simd::load_aligned<A>(wq + g * NR * 4 + L * 4);
#pragma GCC unroll 8
      for (int i = 0; i < Rows; ++i) {
        const auto ai = simd::bitcast<std::uint8_t>(simd::broadcast<A>(static_cast<std::int32_t>(ab[g * SliverRows + i])));
        acc[i][0] = simd::dot_u8s8(acc[i][0], ai, b0);
        acc[i][1] = simd::dot_u8s8(acc[i][1], ai, b1);
      }
    }
    const VF w0 = simd::load_aligned<A>(dw), w1 = simd::load_aligned<A>(dw + L);
#pragma GCC unroll 8
    for (int i = 0; i < Rows; ++i) {
      const VF s = simd::broadcast<A>(da[b * SliverRows + i]);
      f[i][0] = simd::fma(simd::to_float(acc[i][0]), s * w0, f[i][0]);
      f[i][1] = simd::fma(simd::to_float(acc[i][1]), s * w1, f[i][1]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
    for (int v = 0; v < 2; ++v) facc[i][v] = f[i][v];
}

/// Packs activation rows [i0, i0 + mc) x blocks [b0, b0 + kb) into MR-row slivers:
/// per block 8 groups x MR words (bytes x + 128), then per block MR scales (separate array).
template <int MR>
void qgemm_pack_a(const quant::block_q8_0* x, index_t nb, index_t i0, index_t mc, index_t b0, index_t kb,
                  std::uint32_t* PACT_RESTRICT words, float* PACT_RESTRICT scales) noexcept {
  for (index_t r0 = 0; r0 < mc; r0 += MR) {
    const index_t m = std::min<index_t>(MR, mc - r0);
    for (index_t b = 0; b < kb; ++b) {
      for (index_t i = 0; i < MR; ++i) {
        if (i < m) {
          const quant::block_q8_0& blk = x[(i0 + r0 + i) * nb + b0 + b];
          for (int g = 0; g < 8; ++g) {
            std::uint32_t w;
            std::memcpy(&w, blk.qs + 4 * g, 4);
            words[(b * 8 + g) * MR + i] = w ^ 0x80808080u;
          }
          scales[b * MR + i] = static_cast<float>(blk.d);
        } else {
          for (int g = 0; g < 8; ++g) words[(b * 8 + g) * MR + i] = 0x80808080u;  // x = 0
          scales[b * MR + i] = 0.0f;
        }
      }
    }
    words += kb * 8 * MR;
    scales += kb * MR;
  }
}

}  // namespace quant_detail

namespace quant {

/// Q8_0 or Q4_0 weights (N output rows of K / 32 blocks, GGUF order) repacked once for
/// quant::gemm. Memory: about 1.25 bytes per weight (int8 values plus per-block f32
/// scale and int32 compensation per output row).
template <class Block>
class packed_q_weights {
 public:
  static_assert(std::is_same_v<Block, block_q8_0> || std::is_same_v<Block, block_q4_0>,
                "packed_q_weights: Block must be block_q8_0 or block_q4_0");
  using A = simd::native_arch;
  using G = quant_detail::qgemm_geometry<A>;

  packed_q_weights() = default;
  packed_q_weights(std::span<const Block> W, index_t N, index_t K) {
    pact::detail::require(N >= 0 && K >= 0 && K % 32 == 0, errc::invalid_shape,
                          "packed_q_weights: K must be a non-negative multiple of 32 and N >= 0");
    nb_ = K / 32;
    pact::detail::require(W.size() == pact::detail::checked_mul(static_cast<std::size_t>(N), static_cast<std::size_t>(nb_), "packed_q_weights"),
                          errc::invalid_shape, "packed_q_weights: W.size() must equal N * K / 32 blocks");
    pact::detail::require(W.empty() || W.data() != nullptr, errc::null_pointer, "packed_q_weights: null W");
    n_ = N;
    k_ = K;
    slivers_ = (N + G::NR - 1) / G::NR;
    data_.resize(pact::detail::checked_mul(static_cast<std::size_t>(std::max<index_t>(1, slivers_ * nb_)),
                                           static_cast<std::size_t>(G::record), "packed_q_weights"));
    for (index_t s = 0; s < slivers_; ++s)
      for (index_t b = 0; b < nb_; ++b) {
        std::int8_t* rec = data_.data() + (s * nb_ + b) * G::record;
        float* dw = reinterpret_cast<float*>(rec + 32 * G::NR);
        std::int32_t* comp = reinterpret_cast<std::int32_t*>(rec + 36 * G::NR);
        for (int j = 0; j < G::NR; ++j) {
          const index_t n = s * G::NR + j;
          std::int32_t sum = 0;
          for (int k = 0; k < 32; ++k) {
            const std::int8_t v = n < N ? quant_detail::weight_value(W[static_cast<std::size_t>(n * nb_ + b)], k) : std::int8_t(0);
            rec[((k / 4) * G::NR + j) * 4 + k % 4] = v;
            sum += v;
          }
          dw[j] = n < N ? static_cast<float>(W[static_cast<std::size_t>(n * nb_ + b)].d) : 0.0f;
          comp[j] = -128 * sum;
        }
      }
  }
  index_t rows() const noexcept { return n_; }
  index_t cols() const noexcept { return k_; }
  index_t blocks() const noexcept { return nb_; }
  /// Record of sliver s, block b.
  const std::int8_t* record(index_t s, index_t b) const noexcept { return data_.data() + (s * nb_ + b) * G::record; }

 private:
  index_t n_ = 0, k_ = 0, nb_ = 0, slivers_ = 0;
  aligned_buffer<std::int8_t> data_;
};

}  // namespace quant
PACT_NAMESPACE_END
