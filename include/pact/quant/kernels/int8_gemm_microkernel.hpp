#pragma once
// The int8 GEMM microkernel: a Rows x NR tile of int32 accumulators, one dot_u8s8
// (vpdpbusd on AVX512-VNNI) per (row, B vector) per 4 k-values.
//
//   acc[i][v] += sum_{g < groups} sum_{t<4} a_u8(i, 4g+t) * b_s8(4g+t, v*L + lane)
//
// A sliver word [g*MR + i] is broadcast to every int32 lane (4 bytes of row i), B sliver
// words [g*NR .. g*NR + NR) are loaded as NV vectors. Integer sums are exact (wrapping
// int32), so the result never depends on tiling or threads.
#include <cstdint>

#include "pact/core/matrix_view.hpp"
#include "pact/simd/ops_int8.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

template <class A, int Rows, int NV>
struct int8_tile {
  using VI = simd::vec<std::int32_t, A>;
  static constexpr int lanes = static_cast<int>(simd::lanes<std::int32_t, A>);
  VI acc[Rows][NV];
};

/// acc += A_sliver * B_sliver over `groups` 4-k groups. SliverRows is the packed A
/// sliver's row count (the policy MR); Rows <= SliverRows rows are computed.
template <class A, int Rows, int NV, int SliverRows>
PACT_ALWAYS_INLINE void int8_microkernel(index_t groups, const std::uint32_t* PACT_RESTRICT a,
                                         const std::int8_t* PACT_RESTRICT b, int8_tile<A, Rows, NV>& tile) noexcept {
  using VB = simd::vec<std::int8_t, A>;
  constexpr int L = int8_tile<A, Rows, NV>::lanes;
  constexpr int NR = NV * L;
  // Local copy: g++ keeps a reference-reached tile in memory otherwise.
  int8_tile<A, Rows, NV> t = tile;
  auto step = [&](const std::uint32_t* ag, const std::int8_t* bg) PACT_ALWAYS_INLINE_LAMBDA {
    VB bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = simd::load_aligned<A>(bg + v * L * 4);
#pragma GCC unroll 32
    for (int i = 0; i < Rows; ++i) {
      const auto ai = simd::bitcast<std::uint8_t>(simd::broadcast<A>(static_cast<std::int32_t>(ag[i])));
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) t.acc[i][v] = simd::dot_u8s8(t.acc[i][v], ai, bv[v]);
    }
  };
  index_t g = 0;
  // Two groups per iteration: shares the loop overhead, keeps the front end ahead.
  for (; g + 2 <= groups; g += 2) {
    step(a, b);
    step(a + SliverRows, b + NR * 4);
    a += 2 * SliverRows;
    b += 2 * NR * 4;
  }
  if (g < groups) step(a, b);
  tile = t;
}

}  // namespace quant_detail
PACT_NAMESPACE_END
