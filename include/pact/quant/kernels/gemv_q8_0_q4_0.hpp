#pragma once
// Quantized GEMV, y = W x, for ggml Q8_0 / Q4_0 weight rows against Q8_0 activations:
//   y[n] = sum_b d_w(n, b) * d_x(b) * sum_{j<32} q_w(n, b, j) * q_x(b, j)
// The integer block sums are exact (dot_u8s8: vpdpbusd / pmaddwd / widening NEON); the
// scales are applied per block in f32 and summed per lane, one horizontal sum per row.
//
// Signed-by-unsigned trick (exact): dot_u8s8 multiplies an unsigned and a signed byte, so
//   Q8_0: the weight byte is used as w + 128 (xor 0x80) and 128 * sum(x of the lane's 4
//         k-values) is subtracted;
//   Q4_0: the nibble 0..15 is the unsigned byte directly and 8 * sum(x) is subtracted
//         (value = nibble - 8).
// Those per-lane corrections, the per-lane activation scales and the activation bytes in
// the order the weight loads produce are prepared once per call (q8_activation below),
// so the per-row loop only streams weights: it is bandwidth-bound by design.
// Weight bytes per 16-byte segment: Q8_0 block = 2 segments (qs[0..15], qs[16..31]);
// Q4_0 block = 1 segment whose low nibbles are elements 0..15, high nibbles 16..31.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/matrix_view.hpp"
#include "pact/quant/formats/ggml_blocks.hpp"
#include "pact/simd/ops_int4.hpp"
#include "pact/simd/ops_int8.hpp"
#include "pact/simd/ops_int8_gemv.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

template <class Block>
inline constexpr bool is_q4_0_v = std::is_same_v<Block, quant::block_q4_0>;

/// Geometry of the vectorized part of a row: G 16-byte weight segments per vector.
template <class A, class Block>
struct gemv_geometry {
  static constexpr int S = static_cast<int>(simd::lanes<std::uint8_t, A>);  // bytes per vector
  static constexpr int G = S / 16;                                          // segments per vector
  static constexpr int L = S / 4;                                           // int32 lanes
  static constexpr int segs_per_block = is_q4_0_v<Block> ? 1 : 2;
  /// Full vectors in a row of nb blocks, and the blocks they cover (the rest is scalar).
  static constexpr index_t vectors(index_t nb) noexcept { return nb * segs_per_block / G; }
  static constexpr index_t covered_blocks(index_t nb) noexcept { return vectors(nb) * G / segs_per_block; }
  static constexpr index_t block_of_segment(index_t s) noexcept { return s / segs_per_block; }
};

/// Activations prepared for one weight format and arch (see the header comment).
struct q8_activation {
  aligned_buffer<std::int8_t> xq;    // per vector: S bytes (Q8_0) or 2 S bytes (Q4_0: lo, hi)
  aligned_buffer<std::int32_t> corr; // per vector: L lanes
  aligned_buffer<float> xs;          // per vector: L lanes, d_x of the lane's block
  const quant::block_q8_0* blocks = nullptr;  // the original blocks (scalar tail)
  index_t nb = 0;
};

template <class A, class Block>
void prepare_q8_activation(const quant::block_q8_0* x, index_t nb, q8_activation& out) {
  using Geo = gemv_geometry<A, Block>;
  constexpr int S = Geo::S, G = Geo::G, L = Geo::L;
  const index_t nv = Geo::vectors(nb);
  constexpr int xq_per_vec = is_q4_0_v<Block> ? 2 * S : S;
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
      if constexpr (is_q4_0_v<Block>) {
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
        if constexpr (is_q4_0_v<Block>) sum += q[S + 4 * l + t];
      }
      out.corr[static_cast<std::size_t>(v * L + l)] = (is_q4_0_v<Block> ? 8 : 128) * sum;
      const index_t s = v * G + (4 * l) / 16;
      out.xs[static_cast<std::size_t>(v * L + l)] = static_cast<float>(x[Geo::block_of_segment(s)].d);
    }
  }
}

/// Integer dot of one weight block with one activation block (scalar tail path).
template <class Block>
PACT_ALWAYS_INLINE std::int32_t block_dot(const Block& w, const quant::block_q8_0& x) noexcept {
  std::int32_t s = 0;
  if constexpr (is_q4_0_v<Block>) {
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
template <class A, class Block, int R, int PrefetchRows = R>
PACT_ALWAYS_INLINE void gemv_rows(const Block* const* rows, const q8_activation& x, float* y) noexcept {
  using Geo = gemv_geometry<A, Block>;
  using VF = simd::vec<float, A>;
  using VI = simd::vec<std::int32_t, A>;
  constexpr int S = Geo::S, G = Geo::G, L = Geo::L;
  constexpr int xq_per_vec = is_q4_0_v<Block> ? 2 * S : S;
  const index_t nv = Geo::vectors(x.nb);
  VF acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = simd::zero<float, A>();
  const auto flip = simd::broadcast<A>(std::uint8_t{0x80});
  for (index_t v = 0; v < nv; ++v) {
    const auto x0 = simd::load_aligned<A>(x.xq.data() + v * xq_per_vec);
    const VI corr = simd::load_aligned<A>(x.corr.data() + v * L);
    const VF xs = simd::load_aligned<A>(x.xs.data() + v * L);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* ptrs[G];
      const std::uint16_t* dptrs[G];
#pragma GCC unroll 4
      for (int i = 0; i < G; ++i) {
        const index_t s = v * G + i;
        const Block& blk = rows[r][Geo::block_of_segment(s)];
        if constexpr (is_q4_0_v<Block>) ptrs[i] = blk.qs;
        else ptrs[i] = reinterpret_cast<const std::uint8_t*>(blk.qs) + 16 * (s % 2);
        dptrs[i] = &blk.d.bits;
      }
      const auto w = simd::load_segments16<A>(ptrs);
      // Prefetch the same place of the next row group (R rows further, a few KB ahead):
      // the rows are short (2-5 KB) interleaved streams the hardware prefetcher tracks
      // late. Past the end of W this is a harmless hint.
      if constexpr (PrefetchRows > 0) {
        const char* ahead = reinterpret_cast<const char*>(ptrs[0]) + PrefetchRows * x.nb * static_cast<index_t>(sizeof(Block));
        simd::prefetch_l1(ahead);
        simd::prefetch_l1(ahead + 64);
      }
      VI isum;
      if constexpr (is_q4_0_v<Block>) {
        const auto x1 = simd::load_aligned<A>(x.xq.data() + v * xq_per_vec + S);
        isum = simd::dot_u8s8(simd::zero<std::int32_t, A>(), simd::unpack_low_nibbles(w), x0);
        isum = simd::dot_u8s8(isum, simd::unpack_high_nibbles(w), x1);
      } else {
        isum = simd::dot_u8s8(simd::zero<std::int32_t, A>(), w ^ flip, x0);
      }
      const VF scale = simd::load_fp16_spread4<A>(dptrs) * xs;
      acc[r] = simd::fma(simd::to_float(isum - corr), scale, acc[r]);
    }
  }
  const index_t b0 = Geo::covered_blocks(x.nb);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float t = simd::reduce_add(acc[r]);
    for (index_t b = b0; b < x.nb; ++b)
      t += static_cast<float>(rows[r][b].d) * static_cast<float>(x.blocks[b].d) *
           static_cast<float>(block_dot(rows[r][b], x.blocks[b]));
    y[r] = t;
  }
}

/// Rows [n0, n1) of y = W x (W: N rows of nb blocks).
template <class A, class Block>
void gemv_row_range(const Block* W, index_t nb, const q8_activation& x, float* y, index_t n0, index_t n1) noexcept {
  constexpr int R = 4;
  index_t n = n0;
  for (; n + R <= n1; n += R) {
    const Block* rows[R] = {W + n * nb, W + (n + 1) * nb, W + (n + 2) * nb, W + (n + 3) * nb};
    gemv_rows<A, Block, R>(rows, x, y + n);
  }
  for (; n < n1; ++n) {
    const Block* rows[1] = {W + n * nb};
    gemv_rows<A, Block, 1>(rows, x, y + n);
  }
}

}  // namespace quant_detail
PACT_NAMESPACE_END
