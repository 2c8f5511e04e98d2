#pragma once
// Batched quantized GEMM (M = 8..512 rows of activations), Q8_0 / Q4_0 / MXFP4 / MXINT8
// weights against Q8_0 or MXINT8 activations, f32 result:
//   Y(i, n) = sum_b d_x(i, b) * d_w(n, b) * sum_{j<32} x(i, b, j) * w(n, b, j)
// Weights are repacked once at load time into the int8 GEMM's VNNI layout (sliver of NR
// output rows, 4 k-values per int32 word), one 32-k block after another, as the UNSIGNED
// operand of dot_u8s8: Q4_0 nibbles as they are (0..15, offset 8), Q8_0 / MXINT8 bytes and
// the doubled MXFP4 values as w + 128 (offset 128); per block and column the pack stores
// d_w (f32: the fp16 d, or the E8M0 scale halved for MXFP4, times 2^-6 for MXINT8). Activations stay signed
// and their packing stores, per (row, block), -offset * sum_j x. The microkernel starts
// its int32 accumulators at that compensation (a broadcast load: no vector ALU work),
// accumulates 8 dot_u8s8 steps (one block), then adds float(acc) * (d_x(i, b) * d_w(n, b))
// to f32 accumulators: sum (w + off) x - off sum x = sum w x, so block sums are exact,
// the scale products and block sums are f32 in increasing block order (fixed for every
// tiling and thread count, so results are bitwise reproducible).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/error.hpp"
#include "pact/core/matrix_view.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/formats/ggml_blocks.hpp"
#include "pact/quant/formats/mx_blocks.hpp"
#include "pact/quant/ggml_scalar.hpp"
#include "pact/types/e8m0.hpp"
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
  // B slivers per L2 block (16 x 16 blocks x 1152 B = 288 KiB): the block in use and the
  // next one, prefetched while this one runs, fit a 1 MiB L2 with the A panel.
  static constexpr index_t NCS = 16;
  /// Bytes of one (sliver, 32-k block) record: 32 k x NR uint8, NR f32 d_w, and for
  /// formats with mins (Q4_K) NR f32 m_w.
  static constexpr index_t record_bytes(bool mins) noexcept { return 32 * NR + (mins ? 8 : 4) * NR; }
};

/// Weight formats whose 32 elements are small integers times one block scale: Q8_0, Q4_0,
/// ggml's MXFP4 and the OCP MXFP4 / MXINT8 blocks (doubled E2M1 values are the integers
/// 0, ±1, ±2, ±3, ±4, ±6, ±8, ±12; MXINT8 elements are int8 times 2^-6).
template <class Block>
inline constexpr bool is_int_weight_block_v =
    std::is_same_v<Block, quant::block_q8_0> || std::is_same_v<Block, quant::block_q4_0> ||
    std::is_same_v<Block, quant::block_mxfp4> || std::is_same_v<Block, quant::mx_block_fp4> ||
    std::is_same_v<Block, quant::mx_block_int8> || std::is_same_v<Block, quant::block_q4_K>;
/// Q4_K: 8 sub-blocks of 32 per 256-element super-block, each w = (d sc) q - (dmin m) with
/// q in 0..15, so a sub-block is an unsigned 32-k block with scale d sc plus a min term
/// -(dmin m) * sum(x) (exact products: fp16 times a 6-bit integer).
template <class Block>
inline constexpr bool has_mins_v = std::is_same_v<Block, quant::block_q4_K>;
/// Activation formats: int8 elements times one block scale.
template <class Block>
inline constexpr bool is_int_activation_block_v =
    std::is_same_v<Block, quant::block_q8_0> || std::is_same_v<Block, quant::mx_block_int8>;

/// The unsigned byte the kernel multiplies for element j (the element's integer plus the
/// format's offset), and the offset.
template <class Block>
inline constexpr std::int32_t weight_offset =
    std::is_same_v<Block, quant::block_q4_0> ? 8 : (std::is_same_v<Block, quant::block_q4_K> ? 0 : 128);
/// Element j (0 .. Block::elems) as the kernel's unsigned byte.
template <class Block>
PACT_ALWAYS_INLINE std::uint8_t weight_byte(const Block& b, int j) noexcept {
  if constexpr (std::is_same_v<Block, quant::block_q4_K>) {  // 64-element chunks: low nibbles, then high
    const std::uint8_t q = b.qs[32 * (j / 64) + j % 32];
    return static_cast<std::uint8_t>((j / 32) % 2 == 0 ? (q & 0x0F) : (q >> 4));
  } else if constexpr (std::is_same_v<Block, quant::block_q4_0>) {
    return static_cast<std::uint8_t>(j < 16 ? (b.qs[j] & 0x0F) : (b.qs[j - 16] >> 4));
  } else if constexpr (std::is_same_v<Block, quant::block_mxfp4>) {  // ggml: element j + 16 in the high nibble
    return static_cast<std::uint8_t>(quant::kvalues_mxfp4[j < 16 ? (b.qs[j] & 0x0F) : (b.qs[j - 16] >> 4)] + 128);
  } else if constexpr (std::is_same_v<Block, quant::mx_block_fp4>) {  // OCP: consecutive pairs
    return static_cast<std::uint8_t>(quant::kvalues_mxfp4[(b.packed[j / 2] >> (4 * (j % 2))) & 0x0F] + 128);
  } else if constexpr (std::is_same_v<Block, quant::mx_block_int8>) {
    return static_cast<std::uint8_t>(b.q[j] + 128);
  } else {
    return static_cast<std::uint8_t>(b.qs[j] + 128);
  }
}
/// The f32 factor of a block's integers (exact: 2^(e-127) halved or times 2^-6 is a float
/// for every e; the NaN scale 0xFF stays NaN).
template <class Block>
PACT_ALWAYS_INLINE float block_scale(const Block& b, [[maybe_unused]] int sub = 0) noexcept {
  if constexpr (std::is_same_v<Block, quant::block_q4_K>) {
    std::uint8_t sc, m;
    quant::scalar::q4_K_scale_min(sub, b.scales, sc, m);
    return static_cast<float>(b.d) * static_cast<float>(sc);
  } else if constexpr (std::is_same_v<Block, quant::block_mxfp4>) return e8m0_to_float(b.e) * 0.5f;
  else if constexpr (std::is_same_v<Block, quant::mx_block_fp4>) return e8m0_to_float(b.scale) * 0.5f;
  else if constexpr (std::is_same_v<Block, quant::mx_block_int8>) return e8m0_to_float(b.scale) * 0.015625f;
  else return static_cast<float>(b.d);
}
/// The min of sub-block `sub` (Q4_K: dmin m); the element is block_scale * byte - min.
template <class Block>
PACT_ALWAYS_INLINE float block_min(const Block& b, int sub) noexcept {
  std::uint8_t sc, m;
  quant::scalar::q4_K_scale_min(sub, b.scales, sc, m);
  return static_cast<float>(b.dmin) * static_cast<float>(m);
}
/// The 32 signed activation bytes of a block.
template <class Block>
PACT_ALWAYS_INLINE const std::int8_t* activation_codes(const Block& b) noexcept {
  if constexpr (std::is_same_v<Block, quant::mx_block_int8>) return b.q;
  else return b.qs;
}

/// The B records the block loop visits next: slivers [s_begin, s_end) x blocks [b, b + kb).
struct qgemm_next_block {
  index_t s_begin = 0, s_end = 0, b = 0, kb = 0;
};

/// After the L2 block of slivers ending at je: the next block of this row panel, else the
/// first block for the next row panel (more_rows), else the first block of the next
/// k-step (KB blocks), else nothing. ncs slivers per L2 block; the task owns [s_begin, s_end).
inline qgemm_next_block qgemm_next_after(index_t je, index_t s_begin, index_t s_end, bool more_rows, index_t b0, index_t kb,
                                         index_t nb, index_t KB, index_t ncs) noexcept {
  if (je < s_end) return {je, std::min(s_end, je + ncs), b0, kb};
  if (more_rows) return {s_begin, std::min(s_end, s_begin + ncs), b0, kb};
  if (b0 + kb < nb) return {s_begin, std::min(s_end, s_begin + ncs), b0 + kb, std::min<index_t>(KB, nb - b0 - kb)};
  return {};
}

/// How the block GEMM divides M x N among tasks. Threads split N (each streams its share
/// of the weights once) unless there are too few NR-column slivers for that; an M split
/// would make every thread stream all of the weights, which at M <= 128 costs more memory
/// time than the arithmetic it divides. Products under 2 MFLOP run as one task.
struct qgemm_task_grid {
  index_t M = 0, MR = 1, m_tiles = 0, slivers = 0, task_m = 1, task_n = 1;

  qgemm_task_grid(index_t M_, index_t N, index_t K, index_t MR_, index_t NR, int threads_) : M(M_), MR(MR_) {
    m_tiles = (M + MR - 1) / MR;
    slivers = (N + NR - 1) / NR;
    const index_t threads = std::max(1, threads_);
    const index_t tn = slivers >= 4 * threads ? threads : std::max<index_t>(1, std::min<index_t>(threads, slivers / 4));
    const index_t tm = std::min<index_t>(std::max<index_t>(threads / tn, 1), m_tiles);
    const bool tiny = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) < 2.0e6;
    task_m = tiny ? 1 : tm;
    task_n = tiny ? 1 : tn;
  }
  index_t tasks() const noexcept { return task_m * task_n; }
  /// Rows [row_begin, row_end) and slivers [s_begin, s_end) of task t (possibly empty).
  struct part {
    index_t row_begin, row_end, s_begin, s_end;
    bool empty() const noexcept { return row_begin >= row_end || s_begin >= s_end; }
  };
  part of(index_t t) const noexcept {
    const index_t ti = t % task_m, tj = t / task_m;
    return {m_tiles * ti / task_m * MR, std::min(M, m_tiles * (ti + 1) / task_m * MR), slivers * tj / task_n,
            slivers * (tj + 1) / task_n};
  }
};

/// Int32 tile, then f32 tile: the microkernel over kb blocks for Rows <= MR rows. `ahead`,
/// when given, steps once per block (kb steps per call).
template <class A, int Rows, int SliverRows, bool Mins = false>
PACT_ALWAYS_INLINE void qgemm_microkernel(index_t kb, const std::uint32_t* PACT_RESTRICT a, const float* PACT_RESTRICT da,
                                          const std::int32_t* PACT_RESTRICT comp, const std::uint8_t* PACT_RESTRICT rec,
                                          simd::vec<float, A> (&facc)[Rows][2],
                                          [[maybe_unused]] const float* PACT_RESTRICT xsum = nullptr,
                                          simd::prefetch_stream* ahead = nullptr) noexcept {
  using G = qgemm_geometry<A>;
  using VI = simd::vec<std::int32_t, A>;
  using VF = simd::vec<float, A>;
  using VB = simd::vec<std::uint8_t, A>;
  constexpr int L = G::L, NR = G::NR;
  VF f[Rows][2];
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
    for (int v = 0; v < 2; ++v) f[i][v] = facc[i][v];
  for (index_t b = 0; b < kb; ++b) {
    const std::uint8_t* wq = rec + b * G::record_bytes(Mins);
    const float* dw = reinterpret_cast<const float*>(wq + 32 * NR);
    VI acc[Rows][2];
#pragma GCC unroll 8
    for (int i = 0; i < Rows; ++i) {
      acc[i][0] = simd::broadcast<A>(comp[b * SliverRows + i]);
      acc[i][1] = acc[i][0];
    }
    const std::uint32_t* ab = a + b * 8 * SliverRows;
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const VB b0 = simd::load_aligned<A>(wq + g * NR * 4);
      const VB b1 = simd::load_aligned<A>(wq + g * NR * 4 + L * 4);
#pragma GCC unroll 8
      for (int i = 0; i < Rows; ++i) {
        const auto ai = simd::bitcast<std::int8_t>(simd::broadcast<A>(static_cast<std::int32_t>(ab[g * SliverRows + i])));
        acc[i][0] = simd::dot_u8s8(acc[i][0], b0, ai);
        acc[i][1] = simd::dot_u8s8(acc[i][1], b1, ai);
      }
    }
    if (ahead) ahead->step();  // between the dot products and the scaling (see the driver)
    const VF w0 = simd::load_aligned<A>(dw), w1 = simd::load_aligned<A>(dw + L);
#pragma GCC unroll 8
    for (int i = 0; i < Rows; ++i) {
      const VF s = simd::broadcast<A>(da[b * SliverRows + i]);
      f[i][0] = simd::fma(simd::to_float(acc[i][0]), s * w0, f[i][0]);
      f[i][1] = simd::fma(simd::to_float(acc[i][1]), s * w1, f[i][1]);
    }
    if constexpr (Mins) {  // f -= m_w * (d_x sum x): the sub-block mins, after the dot
      const VF m0 = simd::load_aligned<A>(dw + NR), m1 = simd::load_aligned<A>(dw + NR + L);
#pragma GCC unroll 8
      for (int i = 0; i < Rows; ++i) {
        const VF sx = simd::broadcast<A>(-xsum[b * SliverRows + i]);
        f[i][0] = simd::fma(m0, sx, f[i][0]);
        f[i][1] = simd::fma(m1, sx, f[i][1]);
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < Rows; ++i)
    for (int v = 0; v < 2; ++v) facc[i][v] = f[i][v];
}

/// Row tiles of an mc-row panel: ceil(mc / MR) tiles whose sizes differ by at most one row
/// (32 rows = 6+5+5+5+5+6, not 5 x 6 + 2). A tile of r rows runs 2r independent
/// accumulator chains; a 2-row tail (4 chains) cannot hide the dot product's latency and
/// cost as much as a full tile.
template <int MR>
constexpr index_t qgemm_row_tiles(index_t mc) noexcept {
  return (mc + MR - 1) / MR;
}
/// First row of tile t (t = tiles gives mc).
template <int MR>
constexpr index_t qgemm_row_tile_begin(index_t mc, index_t t) noexcept {
  return mc * t / qgemm_row_tiles<MR>(mc);
}

/// Calls run.template operator()<m>() for a run-time tile height m in 1..MR.
template <int MR, class Run>
PACT_ALWAYS_INLINE void dispatch_rows(int m, Run& run) {
  [&]<int... R>(std::integer_sequence<int, R...>) {
    (void)((m == R + 1 ? (run.template operator()<R + 1>(), true) : false) || ...);
  }(std::make_integer_sequence<int, MR>{});
}

/// Packs activation rows [i0, i0 + mc) x blocks [b0, b0 + kb) into one MR-row sliver per
/// row tile (qgemm_row_tile_begin; rows past a tile's end are zero):
/// per block 8 groups x MR words (the signed bytes), and per (block, row) the scale d_x and
/// the compensation -offset * sum(x) (separate arrays, same sliver order).
template <int MR, class XBlock>
void qgemm_pack_a(const XBlock* x, index_t nb, index_t i0, index_t mc, index_t b0, index_t kb,
                  std::int32_t offset, std::uint32_t* PACT_RESTRICT words, float* PACT_RESTRICT scales,
                  std::int32_t* PACT_RESTRICT comp, float* PACT_RESTRICT xsum = nullptr) noexcept {
  const index_t tiles = qgemm_row_tiles<MR>(mc);
  for (index_t t = 0; t < tiles; ++t) {
    const index_t r0 = qgemm_row_tile_begin<MR>(mc, t), m = qgemm_row_tile_begin<MR>(mc, t + 1) - r0;
    for (index_t b = 0; b < kb; ++b) {
      for (index_t i = 0; i < MR; ++i) {
        if (i < m) {
          const XBlock& blk = x[(i0 + r0 + i) * nb + b0 + b];
          const std::int8_t* qs = activation_codes(blk);
          std::int32_t sum = 0;
          for (int g = 0; g < 8; ++g) {
            std::uint32_t w;
            std::memcpy(&w, qs + 4 * g, 4);
            words[(b * 8 + g) * MR + i] = w;
          }
          for (int j = 0; j < 32; ++j) sum += qs[j];
          scales[b * MR + i] = block_scale(blk);
          comp[b * MR + i] = -offset * sum;
          if (xsum) xsum[b * MR + i] = scales[b * MR + i] * static_cast<float>(sum);  // exact: 11 x 12 bits
        } else {
          for (int g = 0; g < 8; ++g) words[(b * 8 + g) * MR + i] = 0;  // x = 0
          scales[b * MR + i] = 0.0f;
          comp[b * MR + i] = 0;
          if (xsum) xsum[b * MR + i] = 0.0f;
        }
      }
    }
    words += kb * 8 * MR;
    scales += kb * MR;
    comp += kb * MR;
    if (xsum) xsum += kb * MR;
  }
}

}  // namespace quant_detail

namespace quant {

/// Q8_0, Q4_0 or MXFP4 (ggml's block_mxfp4 or the OCP mx_block_fp4) or MXINT8 weights (N
/// output rows of K / 32 blocks) repacked once for quant::gemm. Memory: 1.125 bytes per
/// weight (one byte plus a per-block f32 scale).
template <class Block>
class packed_q_weights {
 public:
  static_assert(quant_detail::is_int_weight_block_v<Block>,
                "packed_q_weights: Block must be block_q8_0, block_q4_0, block_q4_K, block_mxfp4, mx_block_fp4 or mx_block_int8");
  using A = simd::native_arch;
  using G = quant_detail::qgemm_geometry<A>;
  static constexpr bool mins = quant_detail::has_mins_v<Block>;
  static constexpr index_t record_bytes = G::record_bytes(mins);

  packed_q_weights() = default;
  packed_q_weights(std::span<const Block> W, index_t N, index_t K) {
    constexpr index_t E = static_cast<index_t>(Block::elems), subs = E / 32;
    pact::detail::require(N >= 0 && K >= 0 && K % E == 0, errc::invalid_shape,
                          "packed_q_weights: K must be a non-negative multiple of the block size and N >= 0");
    nb_ = K / 32;
    const index_t row_blocks = K / E;
    pact::detail::require(W.size() == pact::detail::checked_mul(static_cast<std::size_t>(N), static_cast<std::size_t>(row_blocks), "packed_q_weights"),
                          errc::invalid_shape, "packed_q_weights: W.size() must equal N * K / Block::elems blocks");
    pact::detail::require(W.empty() || W.data() != nullptr, errc::null_pointer, "packed_q_weights: null W");
    n_ = N;
    k_ = K;
    slivers_ = (N + G::NR - 1) / G::NR;
    data_.resize(pact::detail::checked_mul(static_cast<std::size_t>(std::max<index_t>(1, slivers_ * nb_)),
                                           static_cast<std::size_t>(record_bytes), "packed_q_weights"));
    for (index_t s = 0; s < slivers_; ++s)
      for (index_t b = 0; b < nb_; ++b) {
        std::uint8_t* rec = data_.data() + (s * nb_ + b) * record_bytes;
        float* dw = reinterpret_cast<float*>(rec + 32 * G::NR);
        const int sub = static_cast<int>(b % subs);
        for (int j = 0; j < G::NR; ++j) {
          const index_t n = s * G::NR + j;
          const Block* blk = n < N ? &W[static_cast<std::size_t>(n * row_blocks + b / subs)] : nullptr;
          for (int k = 0; k < 32; ++k)  // padding columns: any bytes work, d_w = 0 zeroes them
            rec[((k / 4) * G::NR + j) * 4 + k % 4] = blk ? quant_detail::weight_byte(*blk, 32 * sub + k) : std::uint8_t(0);
          dw[j] = blk ? quant_detail::block_scale(*blk, sub) : 0.0f;
          if constexpr (mins) dw[G::NR + j] = blk ? quant_detail::block_min(*blk, sub) : 0.0f;
        }
      }
  }
  index_t rows() const noexcept { return n_; }
  index_t cols() const noexcept { return k_; }
  /// 32-k blocks per row (Q4_K: 8 per super-block).
  index_t blocks() const noexcept { return nb_; }
  /// Record of sliver s, block b.
  const std::uint8_t* record(index_t s, index_t b) const noexcept { return data_.data() + (s * nb_ + b) * record_bytes; }

 private:
  index_t n_ = 0, k_ = 0, nb_ = 0, slivers_ = 0;
  aligned_buffer<std::uint8_t> data_;
};

}  // namespace quant
PACT_NAMESPACE_END
