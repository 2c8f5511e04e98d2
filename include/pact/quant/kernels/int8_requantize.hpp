#pragma once
// The int8 GEMM epilogue: exact int32 accumulators -> int32, f32, or requantized int8/u8.
//
//   acc(i, j)  = sum_k (a(i, k) - a_zero_point) * b(k, j)          exact (wrapping int32)
//   y(i, j)    = ((float(acc) * row_scale(i)) * col_scale(j)) + bias(j)      f32 ops, in this order
//   q(i, j)    = clamp(rne(y * (1 / out_scale)) + out_zero_point, lo, hi)   int8 / u8 C
// float(acc) rounds to nearest even (exact for |acc| <= 2^24); rne is round-half-to-even
// (cvtps2dq / frintn semantics); clamp saturates to [-128, 127] or [0, 255]; a NaN y gives
// out_zero_point (the quantized 0). The compiler may fuse the last multiply and the bias
// add into one FMA (g++ contracts by default), so y may differ from the unfused formula
// by one f32 rounding; q can then differ by 1 exactly at a rounding tie.
#include <cstdint>
#include <type_traits>

#include "pact/core/matrix_view.hpp"
#include "pact/quant/kernels/int8_gemm_microkernel.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN

/// Requantization parameters of an int8 GEMM (see the header comment for the formula).
struct int8_requantize {
  std::int32_t a_zero_point = 0;        ///< zero point of A (u8: 0..255, s8: -128..127)
  float a_scale = 1.0f;                 ///< per-tensor scale of A (used when a_row_scales is null)
  const float* a_row_scales = nullptr;  ///< per-row (token) scales of A, M values
  float b_scale = 1.0f;                 ///< per-tensor scale of B (used when b_col_scales is null)
  const float* b_col_scales = nullptr;  ///< per-column (output channel) scales of B, N values
  const float* bias = nullptr;          ///< N values added after scaling (f32 / int8 C)
  float out_scale = 1.0f;               ///< int8 / u8 C only: real value of one output step
  std::int32_t out_zero_point = 0;      ///< int8 / u8 C only
};

namespace quant_detail {

template <class T>
struct out_ref {
  T* p;
  index_t rs;
  index_t cs;
};

/// Per-call epilogue state, shared by all tiles.
struct int8_epilogue_state {
  const std::int32_t* comp;  ///< subtracted from acc, padded to N rounded up to NR
  const float* row_scales;
  float row_scale;
  const float* col_scales;
  float col_scale;
  const float* bias;
  float inv_out_scale;
  float out_zero_point;
  float lo, hi;
};

template <class A>
PACT_ALWAYS_INLINE simd::vec<float, A> load_floats(const float* p, int n) noexcept {
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  return n == L ? simd::load<A>(p) : simd::load_partial<A>(p, static_cast<std::size_t>(n));
}

/// Stores rows [0, m) x columns [0, n) of the finished tile into C (row0, col0).
template <class A, int Rows, int NV, class TC>
PACT_ALWAYS_INLINE void int8_store_tile(const int8_tile<A, Rows, NV>& tile, int m, int n, out_ref<TC> c,
                                        const int8_epilogue_state& st, index_t row0, index_t col0) noexcept {
  using VI = simd::vec<std::int32_t, A>;
  using VF = simd::vec<float, A>;
  constexpr int L = int8_tile<A, Rows, NV>::lanes;
  alignas(64) std::int32_t ibuf[L];
  alignas(64) float fbuf[L];
  for (int i = 0; i < m; ++i) {
    TC* crow = c.p + (row0 + i) * c.rs + col0 * c.cs;
    const float rs = st.row_scales ? st.row_scales[row0 + i] : st.row_scale;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const int j0 = v * L;
      if (j0 >= n) break;
      const int nv = n - j0 < L ? n - j0 : L;
      const VI x = tile.acc[i][v] - simd::load_aligned<A>(st.comp + col0 + j0);
      if constexpr (std::is_same_v<TC, std::int32_t>) {
        if (c.cs == 1) {
          if (nv == L) simd::store(crow + j0, x);
          else simd::store_partial(crow + j0, x, static_cast<std::size_t>(nv));
        } else {
          simd::store_aligned(ibuf, x);
          for (int j = 0; j < nv; ++j) crow[(j0 + j) * c.cs] = ibuf[j];
        }
      } else {
        VF y = simd::to_float(x) * simd::broadcast<A>(rs);
        y = y * (st.col_scales ? load_floats<A>(st.col_scales + col0 + j0, nv) : simd::broadcast<A>(st.col_scale));
        if (st.bias) y = y + load_floats<A>(st.bias + col0 + j0, nv);
        if constexpr (std::is_same_v<TC, float>) {
          if (c.cs == 1) {
            if (nv == L) simd::store(crow + j0, y);
            else simd::store_partial(crow + j0, y, static_cast<std::size_t>(nv));
          } else {
            simd::store_aligned(fbuf, y);
            for (int j = 0; j < nv; ++j) crow[(j0 + j) * c.cs] = fbuf[j];
          }
        } else {
          const VF zp = simd::broadcast<A>(st.out_zero_point);
          VF q = simd::round_nearest(y * simd::broadcast<A>(st.inv_out_scale)) + zp;
          q = simd::select(simd::is_nan(q), zp, q);
          q = simd::min(simd::max(q, simd::broadcast<A>(st.lo)), simd::broadcast<A>(st.hi));
          simd::store_aligned(ibuf, simd::to_int32(q));
          for (int j = 0; j < nv; ++j) crow[(j0 + j) * c.cs] = static_cast<TC>(ibuf[j]);
        }
      }
    }
  }
}

}  // namespace quant_detail
PACT_NAMESPACE_END
