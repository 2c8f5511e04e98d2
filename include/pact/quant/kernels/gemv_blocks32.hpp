#pragma once
// Quantized GEMV, y = W x, for ggml's 32-element weight blocks (Q8_0, Q4_0, MXFP4) against
// Q8_0 activations:
//   y[n] = sum_b d_w(n, b) * d_x(b) * sum_{j<32} q_w(n, b, j) * q_x(b, j)
// The integer block sums are exact (dot_u8s8: vpdpbusd / pmaddwd / widening NEON); the
// scales are applied per block in f32 and summed per lane, one horizontal sum per row.
//
// Signed-by-unsigned trick (exact): dot_u8s8 multiplies an unsigned and a signed byte, so
//   Q8_0: the weight byte is used as w + 128 (xor 0x80) and 128 * sum(x of the lane's 4
//         k-values) is subtracted;
//   Q4_0: the nibble 0..15 is the unsigned byte directly and 8 * sum(x) is subtracted
//         (value = nibble - 8);
//   MXFP4: a byte table lookup (simd::lookup16) maps the E2M1 code to ggml's doubled value
//         plus 12 (0..24, unsigned) and 12 * sum(x) is subtracted; the doubling is undone
//         by halving d_x (exact), and d_w = 2^(e - 127) is built from the E8M0 byte in the
//         lanes (0xFF, NaN, gives NaN as quant::dequantize does).
// Those per-lane corrections, the per-lane activation scales and the activation bytes in
// the order the weight loads produce are prepared once per call (q8_activation below),
// so the per-row loop only streams weights: it is bandwidth-bound by design.
// Weight bytes per 16-byte segment: Q8_0 block = 2 segments (qs[0..15], qs[16..31]);
// Q4_0 / MXFP4 block = 1 segment whose low nibbles are elements 0..15, high nibbles 16..31.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/matrix_view.hpp"
#include "pact/quant/formats/ggml_blocks.hpp"
#include "pact/quant/kernels/gemv_stream.hpp"
#include "pact/simd/ops_int4.hpp"
#include "pact/simd/ops_int8.hpp"
#include "pact/simd/ops_int8_gemv.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

/// 4-bit formats: one 16-byte segment of nibbles per block.
template <class Block>
inline constexpr bool is_nibble_block_v = std::is_same_v<Block, quant::block_q4_0> || std::is_same_v<Block, quant::block_mxfp4>;
template <class Block>
inline constexpr bool is_mxfp4_v = std::is_same_v<Block, quant::block_mxfp4>;

/// The unsigned byte a weight code is fed to dot_u8s8 as is value + offset<Block>.
template <class Block>
inline constexpr int code_offset = is_mxfp4_v<Block> ? 12 : (is_nibble_block_v<Block> ? 8 : 128);
/// d_x is multiplied by this (MXFP4: ggml's table holds doubled values).
template <class Block>
inline constexpr float activation_scale_factor = is_mxfp4_v<Block> ? 0.5f : 1.0f;

/// MXFP4 code -> ggml's doubled E2M1 value + 12.
inline constexpr std::uint8_t mxfp4_offset_table[16] = {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0};

/// Scale of a weight block as a float (scalar tail; the vector path builds it in lanes).
template <class Block>
PACT_ALWAYS_INLINE float weight_scale(const Block& b) noexcept {
  if constexpr (is_mxfp4_v<Block>) return e8m0_to_float(b.e);
  else return static_cast<float>(b.d);
}

/// Float lane j = d_w of blocks[j / 4].
template <class A, class Block>
PACT_ALWAYS_INLINE simd::vec<float, A> weight_scale_lanes(const Block* const* blocks) noexcept {
  constexpr int n = static_cast<int>(simd::lanes<float, A>) / 4;
  if constexpr (is_mxfp4_v<Block>) {
    const std::uint8_t* e[n];
#pragma GCC unroll 4
    for (int i = 0; i < n; ++i) e[i] = &blocks[i]->e.bits;
    const auto bits = simd::load_u8_spread4<A>(e);
    // 2^(e - 127) is the float with exponent field e; e = 0 is the subnormal 2^-127.
    auto f = simd::max(bits << 23, simd::broadcast<A>(std::int32_t{0x00400000}));
    f = simd::select(simd::cmp_eq(bits, simd::broadcast<A>(std::int32_t{0xFF})), simd::broadcast<A>(std::int32_t{0x7FC00000}), f);
    return simd::bitcast<float>(f);
  } else {
    const std::uint16_t* d[n];
#pragma GCC unroll 4
    for (int i = 0; i < n; ++i) d[i] = &blocks[i]->d.bits;
    return simd::load_fp16_spread4<A>(d);
  }
}

/// Geometry of the vectorized part of a row: G 16-byte weight segments per vector.
template <class A, class Block>
struct gemv_geometry {
  static constexpr int S = static_cast<int>(simd::lanes<std::uint8_t, A>);  // bytes per vector
  static constexpr int G = S / 16;                                          // segments per vector
  static constexpr int L = S / 4;                                           // int32 lanes
  static constexpr int segs_per_block = is_nibble_block_v<Block> ? 1 : 2;
  /// Full vectors in a row of nb blocks, and the blocks they cover (the rest is scalar).
  static constexpr index_t vectors(index_t nb) noexcept { return nb * segs_per_block / G; }
  static constexpr index_t covered_blocks(index_t nb) noexcept { return vectors(nb) * G / segs_per_block; }
  static constexpr index_t block_of_segment(index_t s) noexcept { return s / segs_per_block; }
};

/// Activations prepared for one weight format and arch (see the header comment).
struct q8_activation {
  aligned_buffer<std::int8_t> xq;    // per vector: S bytes (Q8_0) or 2 S bytes (4-bit: lo, hi)
  aligned_buffer<std::int32_t> corr; // per vector: L lanes
  aligned_buffer<float> xs;          // per vector: L lanes, d_x of the lane's block (times activation_scale_factor)
  const quant::block_q8_0* blocks = nullptr;  // the original blocks (scalar tail)
  index_t nb = 0;
};

template <class A, class Block>
void prepare_q8_activation(const quant::block_q8_0* x, index_t nb, q8_activation& out) {
  using Geo = gemv_geometry<A, Block>;
  constexpr int S = Geo::S, G = Geo::G, L = Geo::L;
  const index_t nv = Geo::vectors(nb);
  constexpr int xq_per_vec = is_nibble_block_v<Block> ? 2 * S : S;
  out.xq.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, nv * xq_per_vec)));
  out.corr.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, nv * L)));
  out.xs.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, nv * L)));
  out.blocks = x;
  out.nb = nb;
  for (index_t v = 0; v < nv; ++v) {
    std::int8_t* q = out.xq.data() + v * xq_per_vec;
    for (int i = 0; i < G; ++i) {
      const index_t s = v * G + i;  // weight segment
      const quant::block_q8_0& blk = x[Geo::block_of_segment(s)];
      if constexpr (is_nibble_block_v<Block>) {
        std::memcpy(q + 16 * i, blk.qs, 16);          // low nibbles: elements 0..15
        std::memcpy(q + S + 16 * i, blk.qs + 16, 16); // high nibbles: elements 16..31
      } else {
        std::memcpy(q + 16 * i, blk.qs + 16 * (s % 2), 16);
      }
    }
    for (int l = 0; l < L; ++l) {
      std::int32_t sum = 0;
      for (int t = 0; t < 4; ++t) {
        sum += q[4 * l + t];
        if constexpr (is_nibble_block_v<Block>) sum += q[S + 4 * l + t];
      }
      out.corr[static_cast<std::size_t>(v * L + l)] = code_offset<Block> * sum;
      const index_t s = v * G + (4 * l) / 16;
      out.xs[static_cast<std::size_t>(v * L + l)] =
          static_cast<float>(x[Geo::block_of_segment(s)].d) * activation_scale_factor<Block>;
    }
  }
}

/// Integer dot of one weight block with one activation block (scalar tail path).
template <class Block>
PACT_ALWAYS_INLINE std::int32_t block_dot(const Block& w, const quant::block_q8_0& x) noexcept {
  std::int32_t s = 0;
  if constexpr (is_mxfp4_v<Block>) {
    for (int j = 0; j < 16; ++j) {
      s += quant::kvalues_mxfp4[w.qs[j] & 0x0F] * x.qs[j];
      s += quant::kvalues_mxfp4[w.qs[j] >> 4] * x.qs[j + 16];
    }
  } else if constexpr (is_nibble_block_v<Block>) {
    for (int j = 0; j < 16; ++j) {
      s += (static_cast<std::int32_t>(w.qs[j] & 0x0F) - 8) * x.qs[j];
      s += (static_cast<std::int32_t>(w.qs[j] >> 4) - 8) * x.qs[j + 16];
    }
  } else {
    for (int j = 0; j < 32; ++j) s += static_cast<std::int32_t>(w.qs[j]) * x.qs[j];
  }
  return s;
}

/// y[r] = W_row(r) . x for R rows at once (the activation loads are shared).
template <class A, class Block, int R, index_t PrefetchBytes = gemv_prefetch_bytes>
PACT_ALWAYS_INLINE void gemv_rows(const Block* const* rows, const q8_activation& x, float* y) noexcept {
  using Geo = gemv_geometry<A, Block>;
  using VF = simd::vec<float, A>;
  using VI = simd::vec<std::int32_t, A>;
  constexpr int S = Geo::S, G = Geo::G, L = Geo::L;
  constexpr int xq_per_vec = is_nibble_block_v<Block> ? 2 * S : S;
  const index_t nv = Geo::vectors(x.nb);
  VF acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = simd::zero<float, A>();
  const auto flip = simd::broadcast<A>(std::uint8_t{0x80});
  [[maybe_unused]] const auto table = simd::load_table16<A>(mxfp4_offset_table);
  for (index_t v = 0; v < nv; ++v) {
    const auto x0 = simd::load_aligned<A>(x.xq.data() + v * xq_per_vec);
    const VI corr = simd::load_aligned<A>(x.corr.data() + v * L);
    const VF xs = simd::load_aligned<A>(x.xs.data() + v * L);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* ptrs[G];
      const Block* blks[G];
#pragma GCC unroll 4
      for (int i = 0; i < G; ++i) {
        const index_t s = v * G + i;
        const Block& blk = rows[r][Geo::block_of_segment(s)];
        if constexpr (is_nibble_block_v<Block>) ptrs[i] = blk.qs;
        else ptrs[i] = reinterpret_cast<const std::uint8_t*>(blk.qs) + 16 * (s % 2);
        blks[i] = &blk;
      }
      const auto w = simd::load_segments16<A>(ptrs);
      // Prefetch PrefetchBytes ahead in the (sequential) weight stream: the hardware
      // prefetcher alone ramps up too late for DRAM speed. Past the end of W this is a
      // harmless hint.
      if constexpr (PrefetchBytes > 0) {
        const char* ahead = reinterpret_cast<const char*>(ptrs[0]) + PrefetchBytes;
        simd::prefetch_l1(ahead);
        simd::prefetch_l1(ahead + 64);
      }
      VI isum;
      if constexpr (is_mxfp4_v<Block>) {
        const auto x1 = simd::load_aligned<A>(x.xq.data() + v * xq_per_vec + S);
        isum = simd::dot_u8s8(simd::zero<std::int32_t, A>(), simd::lookup16(table, simd::unpack_low_nibbles(w)), x0);
        isum = simd::dot_u8s8(isum, simd::lookup16(table, simd::unpack_high_nibbles(w)), x1);
      } else if constexpr (is_nibble_block_v<Block>) {
        const auto x1 = simd::load_aligned<A>(x.xq.data() + v * xq_per_vec + S);
        isum = simd::dot_u8s8(simd::zero<std::int32_t, A>(), simd::unpack_low_nibbles(w), x0);
        isum = simd::dot_u8s8(isum, simd::unpack_high_nibbles(w), x1);
      } else {
        isum = simd::dot_u8s8(simd::zero<std::int32_t, A>(), w ^ flip, x0);
      }
      const VF scale = weight_scale_lanes<A, Block>(blks) * xs;
      acc[r] = simd::fma(simd::to_float(isum - corr), scale, acc[r]);
    }
  }
  const index_t b0 = Geo::covered_blocks(x.nb);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float t = simd::reduce_add(acc[r]);
    for (index_t b = b0; b < x.nb; ++b)
      t += weight_scale(rows[r][b]) * (static_cast<float>(x.blocks[b].d) * activation_scale_factor<Block>) *
           static_cast<float>(block_dot(rows[r][b], x.blocks[b]));
    y[r] = t;
  }
}

/// Rows [n0, n1) of y = W x (W: N rows of nb blocks).
template <class A, class Block>
void gemv_row_range(const Block* W, index_t nb, const q8_activation& x, float* y, index_t n0, index_t n1) noexcept {
  // gemv_streams long sequential weight streams (quant/kernels/gemv_stream.hpp).
  for_each_in_streams(n0, n1, [&](auto count, const index_t* n) PACT_ALWAYS_INLINE_LAMBDA {
    constexpr int R = decltype(count)::value;
    const Block* rows[R];
    float yr[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) rows[r] = W + n[r] * nb;
    gemv_rows<A, Block, R>(rows, x, yr);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) y[n[r]] = yr[r];
  });
}

}  // namespace quant_detail
PACT_NAMESPACE_END
