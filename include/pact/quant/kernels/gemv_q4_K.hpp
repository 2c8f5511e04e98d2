#pragma once
// Quantized GEMV, y = W x, for ggml Q4_K weight rows against Q8_K activations:
//   y[n] = sum_sb d_x(sb) * ( d_w(n,sb) * sum_s sc_s * isum_s - dmin_w(n,sb) * sum_s m_s * xsum_s )
// over super-blocks sb of 256 elements, sub-blocks s of 32, with the exact integer sums
// isum_s = sum_j q_w(j) * q_x(j) (4-bit q_w, unsigned, so dot_u8s8 takes it as is) and
// xsum_s = sum_j q_x(j). The sub-block scales multiply the int32 lane sums before the one
// int->float conversion per super-block (simd::dot_u8s8_scaled; exact: a lane holds at
// most 16 * 4 * 15 * 128 * 63 < 2^23), so per super-block and row the f32 work is one
// conversion and one FMA, plus one multiply and FMA for the 8 mins (lanes 0..7 of a vector
// against the prepared -d_x * xsum_s; no horizontal sum until the row ends).
//
// Per call the activation is prepared once (q4k_activation): its bytes in the order the
// weight loads produce (load t of S bytes covers qs[tS .. tS+S); byte o's low nibble is
// element 64 * (o / 32) + o % 32, its high nibble the element 32 after that), d_x, and
// -d_x * xsum_s per sub-block, recomputed from the quants (the Q8_K bsums are not trusted).
// The row loop then streams weights only: 4 rows share the activation loads, the 12 scale
// bytes are unpacked with four 32-bit masks (ggml's packing, quant/formats/ggml_blocks.hpp),
// the lane scales come from simd::subblock_scales8, and the next row group is prefetched.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pact/core/aligned_buffer.hpp"
#include "pact/quant/formats/ggml_blocks.hpp"
#include "pact/quant/kernels/gemv_stream.hpp"
#include "pact/simd/ops_int4.hpp"
#include "pact/simd/ops_int8.hpp"
#include "pact/simd/ops_int8_gemv.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

/// Q8_K activations prepared for the Q4_K row kernel of arch A.
struct q4k_activation {
  aligned_buffer<std::int8_t> xq;  // per super-block: 256 bytes, load order (lo S, hi S per load)
  aligned_buffer<float> xd;        // per super-block: d_x
  aligned_buffer<float> xmin;      // per super-block: min_vectors * L lanes, -d_x * xsum_s in lane s (0 past 8)
  index_t nsb = 0;
  int min_vectors = 1;             // vectors that hold the 8 sub-block terms (1, or 2 on 4-lane archs)
};

template <class A>
void prepare_q4k_activation(const quant::block_q8_K* x, index_t nsb, q4k_activation& out) {
  constexpr int S = static_cast<int>(simd::lanes<std::uint8_t, A>);
  constexpr int L = static_cast<int>(simd::lanes<std::int32_t, A>);
  constexpr int MV = L >= 8 ? 1 : 8 / L;
  const auto n = static_cast<std::size_t>(std::max<index_t>(1, nsb));
  out.xq.reserve_discard(256 * n);
  out.xd.reserve_discard(n);
  out.xmin.reserve_discard(static_cast<std::size_t>(MV * L) * n);
  out.nsb = nsb;
  out.min_vectors = MV;
  for (index_t sb = 0; sb < nsb; ++sb) {
    const quant::block_q8_K& blk = x[sb];
    std::int8_t* q = out.xq.data() + 256 * sb;
    for (int t = 0; t < 128 / S; ++t)
      for (int o = 0; o < S; ++o) {
        const int byte = t * S + o;
        const int element = 64 * (byte / 32) + byte % 32;
        q[2 * S * t + o] = blk.qs[element];
        q[2 * S * t + S + o] = blk.qs[element + 32];
      }
    out.xd[static_cast<std::size_t>(sb)] = blk.d;
    float* m = out.xmin.data() + MV * L * sb;
    for (int lane = 0; lane < MV * L; ++lane) {
      std::int32_t sum = 0;
      if (lane < 8)
        for (int j = 0; j < 32; ++j) sum += blk.qs[32 * lane + j];
      m[lane] = -blk.d * static_cast<float>(sum);
    }
  }
}

/// The eight 6-bit sub-block scales and mins of a Q4_K block, one per byte (s = 0 lowest).
struct q4k_scales {
  std::uint64_t sc;
  std::uint64_t m;
};
PACT_ALWAYS_INLINE q4k_scales unpack_q4k_scales(const std::uint8_t* scales) noexcept {
  std::uint32_t w0, w1, w2;
  std::memcpy(&w0, scales, 4);
  std::memcpy(&w1, scales + 4, 4);
  std::memcpy(&w2, scales + 8, 4);
  // s < 4: the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); s >= 4: a nibble of
  // bytes 8..11 plus the top 2 bits of bytes 0..3 / 4..7 as bits 4-5.
  const std::uint32_t sc_lo = w0 & 0x3F3F3F3Fu, m_lo = w1 & 0x3F3F3F3Fu;
  const std::uint32_t sc_hi = (w2 & 0x0F0F0F0Fu) | ((w0 >> 2) & 0x30303030u);
  const std::uint32_t m_hi = ((w2 >> 4) & 0x0F0F0F0Fu) | ((w1 >> 2) & 0x30303030u);
  return {std::uint64_t{sc_lo} | std::uint64_t{sc_hi} << 32, std::uint64_t{m_lo} | std::uint64_t{m_hi} << 32};
}

/// y[r] = W_row(r) . x for R rows at once (the activation loads are shared).
template <class A, int R>
PACT_ALWAYS_INLINE void gemv_q4k_rows(const quant::block_q4_K* const* rows, const q4k_activation& x, float* y) noexcept {
  using VF = simd::vec<float, A>;
  using VI = simd::vec<std::int32_t, A>;
  constexpr int S = static_cast<int>(simd::lanes<std::uint8_t, A>);
  constexpr int T = 128 / S;  // vector loads per super-block
  constexpr int L = static_cast<int>(simd::lanes<std::int32_t, A>);
  constexpr int MV = L >= 8 ? 1 : 8 / L;  // vectors holding the 8 sub-block mins
  VF acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = simd::zero<float, A>();
  for (index_t sb = 0; sb < x.nsb; ++sb) {
    const std::int8_t* xq = x.xq.data() + 256 * sb;
    const float* xmin = x.xmin.data() + MV * L * sb;
    const float xd = x.xd[static_cast<std::size_t>(sb)];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const quant::block_q4_K& b = rows[r][sb];
      // gemv_prefetch_bytes ahead in the weight stream: a block spans <= 3 lines.
      const char* ahead = reinterpret_cast<const char*>(&b) + gemv_prefetch_bytes;
      simd::prefetch_l1(ahead);
      simd::prefetch_l1(ahead + 64);
      simd::prefetch_l1(ahead + 128);
      const q4k_scales sm = unpack_q4k_scales(b.scales);
      const auto lane_scale = simd::subblock_scales8<A>(sm.sc);
      VI sum = simd::zero<std::int32_t, A>();
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const auto w = simd::load<A>(b.qs + t * S);
        const auto x_lo = simd::load_aligned<A>(xq + 2 * S * t);
        const auto x_hi = simd::load_aligned<A>(xq + 2 * S * t + S);
        sum = simd::dot_u8s8_scaled(sum, simd::unpack_low_nibbles(w), x_lo, lane_scale[static_cast<std::size_t>(2 * t)]);
        sum = simd::dot_u8s8_scaled(sum, simd::unpack_high_nibbles(w), x_hi, lane_scale[static_cast<std::size_t>(2 * t + 1)]);
      }
      std::uint32_t dbits;
      std::memcpy(&dbits, reinterpret_cast<const unsigned char*>(&b), 4);  // d (low half), dmin (high half)
      const auto d = simd::fp16x2_to_float<A>(dbits);
      acc[r] = simd::fma(simd::to_float(sum), simd::broadcast<A>(d[0] * xd), acc[r]);
      // - dmin * d_x * sum_s m_s * xsum_s: lane s of xmin holds -d_x * xsum_s.
      const VF dmin = simd::broadcast<A>(d[1]);
#pragma GCC unroll 2
      for (int i = 0; i < MV; ++i) {
        const VF m = simd::to_float(simd::widen_u8x8<A>(sm.m >> (8 * L * i)));
        acc[r] = simd::fma(m * simd::load_aligned<A>(xmin + L * i), dmin, acc[r]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) y[r] = simd::reduce_add(acc[r]);
}

/// Rows [n0, n1) of y = W x (W: N rows of nsb super-blocks).
template <class A>
void gemv_q4k_row_range(const quant::block_q4_K* W, const q4k_activation& x, float* y, index_t n0, index_t n1) noexcept {
  // gemv_streams long sequential weight streams (quant/kernels/gemv_stream.hpp).
  const index_t nsb = x.nsb;
  for_each_in_streams(n0, n1, [&](auto count, const index_t* n) PACT_ALWAYS_INLINE_LAMBDA {
    constexpr int R = decltype(count)::value;
    const quant::block_q4_K* rows[R];
    float yr[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) rows[r] = W + n[r] * nsb;
    gemv_q4k_rows<A, R>(rows, x, yr);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) y[n[r]] = yr[r];
  });
}

}  // namespace quant_detail
PACT_NAMESPACE_END
