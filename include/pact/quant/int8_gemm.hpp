#pragma once
// pact::int8_gemm — W8A8 integer GEMM: C = epilogue(A * B) with A u8 or s8 (activations),
// B s8 (weights), exact int32 accumulation and a requantize epilogue.
//
//   pact::int8_gemm(A, B, C32);                           // int32 C: exact sums
//   pact::int8_packed_b W(B);                            // pack weights once
//   pact::int8_gemm(A, W, Cf, {.a_zero_point = 128, .a_row_scales = sa, .b_col_scales = sb,
//                              .bias = bias}, pact::thread_pool{2});   // f32 C
//   pact::int8_gemm(A, W, Cq, {.b_col_scales = sb, .out_scale = 0.05f, .out_zero_point = 3});
//
// A: M x K (uint8_t or int8_t, any layout); B: K x N int8_t (any layout) or int8_packed_b;
// C: M x N of int32_t, float, int8_t or uint8_t. The formula, rounding and saturation rules
// are in quant/kernels/int8_requantize.hpp and docs/quant.md. int32 results are exact
// whenever the true sum fits int32 (the arithmetic wraps modulo 2^32 otherwise). Results
// are bitwise identical for every executor / thread count.
// Errors (pact::error): shape mismatch, bad views, C overlapping A or B, zero points out
// of range, non-finite or non-positive per-tensor scales, scales/bias given for an int32 C.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/error.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/kernels/int8_gemm_amx.hpp"
#include "pact/quant/kernels/int8_gemv.hpp"
#include "pact/quant/kernels/int8_gemm_driver.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

template <class T>
concept int8_activation = std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int8_t>;
template <class T>
concept int8_gemm_output = std::is_same_v<T, std::int32_t> || std::is_same_v<T, float> ||
                           std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>;

template <class TA, class TC>
int8_epilogue_state make_int8_epilogue(const int8_requantize& rq, index_t M, index_t N) {
  (void)M;
  (void)N;
  constexpr std::int32_t zp_lo = std::is_same_v<TA, std::uint8_t> ? 0 : -128;
  constexpr std::int32_t zp_hi = std::is_same_v<TA, std::uint8_t> ? 255 : 127;
  detail::require(rq.a_zero_point >= zp_lo && rq.a_zero_point <= zp_hi, errc::invalid_argument,
                  "int8_gemm: a_zero_point outside the range of A's element type");
  if constexpr (std::is_same_v<TC, std::int32_t>) {
    detail::require(rq.a_scale == 1.0f && rq.b_scale == 1.0f && !rq.a_row_scales && !rq.b_col_scales && !rq.bias &&
                        rq.out_scale == 1.0f && rq.out_zero_point == 0,
                    errc::invalid_argument, "int8_gemm: an int32 C takes only a_zero_point (scales and bias need a float or int8 C)");
  } else {
    detail::require(std::isfinite(rq.a_scale) && std::isfinite(rq.b_scale), errc::invalid_argument,
                    "int8_gemm: a_scale and b_scale must be finite");
  }
  int8_epilogue_state st{};
  st.row_scales = rq.a_row_scales;
  st.row_scale = rq.a_scale;
  st.col_scales = rq.b_col_scales;
  st.col_scale = rq.b_scale;
  st.bias = rq.bias;
  st.inv_out_scale = 1.0f;
  st.out_zero_point = 0.0f;
  if constexpr (std::is_same_v<TC, std::int8_t> || std::is_same_v<TC, std::uint8_t>) {
    detail::require(std::isfinite(rq.out_scale) && rq.out_scale > 0.0f, errc::invalid_argument,
                    "int8_gemm: out_scale must be finite and positive");
    constexpr std::int32_t lo = std::numeric_limits<TC>::min(), hi = std::numeric_limits<TC>::max();
    detail::require(rq.out_zero_point >= lo && rq.out_zero_point <= hi, errc::invalid_argument,
                    "int8_gemm: out_zero_point outside the range of C's element type");
    st.inv_out_scale = 1.0f / rq.out_scale;
    st.out_zero_point = static_cast<float>(rq.out_zero_point);
    st.lo = static_cast<float>(lo);
    st.hi = static_cast<float>(hi);
  } else {
    detail::require(rq.out_scale == 1.0f && rq.out_zero_point == 0, errc::invalid_argument,
                    "int8_gemm: out_scale / out_zero_point need an int8 or uint8 C");
  }
  return st;
}

template <class P, class TA, class LA, class TC, class LC, class Exec>
void int8_gemm_packed(const matrix_view<TA, LA>& A, const int8_packed_b<P>& B, const matrix_view<TC, LC>& C,
                      const int8_requantize& rq, const Exec& exec) {
  using SA = std::remove_cv_t<TA>;
  validate(A, "int8_gemm: A");
  validate(C, "int8_gemm: C");
  if (A.cols() != B.rows()) throw error(errc::invalid_shape, "int8_gemm: A.cols() != B.rows() (inner dimensions differ)");
  if (C.rows() != A.rows()) throw error(errc::invalid_shape, "int8_gemm: C.rows() != A.rows()");
  if (C.cols() != B.cols()) throw error(errc::invalid_shape, "int8_gemm: C.cols() != B.cols()");
  if constexpr (std::is_same_v<LC, strided>) {
    if (!C.empty() && C.rows() > 1 && C.cols() > 1 && C.row_stride() < C.cols() * C.col_stride() &&
        C.col_stride() < C.rows() * C.row_stride())
      throw error(errc::bad_stride, "int8_gemm: C strides make elements overlap");
  }
  if (overlaps(C, A)) throw error(errc::aliasing, "int8_gemm: C overlaps A");
  int8_epilogue_state st = make_int8_epilogue<SA, TC>(rq, C.rows(), C.cols());
  const index_t M = C.rows(), N = C.cols(), K = A.cols();
  if (M == 0 || N == 0) return;
  // Compensation subtracted from every accumulator: the kernel sees A in the unsigned
  // domain (s8 stored as a + 128) and the zero point is folded in: (shift + zp) * colsum.
  const std::int32_t shift = std::is_same_v<SA, std::int8_t> ? 128 : 0;
  const std::uint32_t factor = static_cast<std::uint32_t>(shift + rq.a_zero_point);
  thread_local aligned_buffer<std::int32_t> comp;
  comp.reserve_discard(static_cast<std::size_t>(B.padded_cols()));
  for (index_t j = 0; j < B.padded_cols(); ++j)
    comp[static_cast<std::size_t>(j)] = static_cast<std::int32_t>(factor * static_cast<std::uint32_t>(B.col_sums()[j]));
  st.comp = comp.data();
  const std::uint32_t flip = shift ? 0x80808080u : 0u;
  const byte_ref<SA> a{A.data(), A.row_stride(), A.col_stride()};
  const out_ref<TC> c{C.data(), C.row_stride(), C.col_stride()};
#if defined(PACT_HAS_AMX_INT8)
  // AMX tiles compute 16 rows at a time: below that the vector kernel wastes less.
  if constexpr (int8_amx_tiles_of<typename int8_packed_b<P>::policy>) {
    if (M >= int8_amx_min_rows && simd::amx::tiles_ready()) return int8_gemm_amx<P>(M, N, K, a, flip, B, c, st, exec);
  }
#endif
  if (M == 1) return int8_gemv_packed<P>(N, K, a, flip, B, c, st, exec);
  int8_gemm_blocked<P>(M, N, K, a, flip, B, c, st, exec);
}

}  // namespace quant_detail

/// C = requantize(A * B) with B pre-packed (see the header comment).
template <class TA, class LA, class Policy, class TC, class LC, executor Exec = serial>
  requires quant_detail::int8_activation<std::remove_cv_t<TA>> && quant_detail::int8_gemm_output<TC>
void int8_gemm(const matrix_view<TA, LA>& A, const int8_packed_b<Policy>& B, const matrix_view<TC, LC>& C,
               const int8_requantize& rq = {}, const Exec& exec = {}) {
  quant_detail::int8_gemm_packed(A, B, C, rq, exec);
}

/// C = requantize(A * B): packs B (in parallel on `exec`), then multiplies.
template <class Policy = void, class TA, class LA, class TB, class LB, class TC, class LC, executor Exec = serial>
  requires quant_detail::int8_activation<std::remove_cv_t<TA>> && std::is_same_v<std::remove_cv_t<TB>, std::int8_t> &&
           quant_detail::int8_gemm_output<TC>
void int8_gemm(const matrix_view<TA, LA>& A, const matrix_view<TB, LB>& B, const matrix_view<TC, LC>& C,
               const int8_requantize& rq = {}, const Exec& exec = {}) {
  using P = select_int8_gemm_policy<Policy>;
  static_assert(int8_gemm_policy<P>, "int8_gemm: Policy must be an int8 GEMM policy (arch, mr, nr, kc, mc, nc)");
  static_assert(quant_detail::check_int8_gemm_policy<P>());
  validate(B, "int8_gemm: B");
  if (A.cols() != B.rows()) throw error(errc::invalid_shape, "int8_gemm: A.cols() != B.rows() (inner dimensions differ)");
  if (overlaps(C, B)) throw error(errc::aliasing, "int8_gemm: C overlaps B");
  // A per-thread packed B, reused across calls (its memory is already mapped).
  thread_local int8_packed_b<P> packed;
  packed.repack(matrix_view<const std::int8_t, LB>(B), exec);
  quant_detail::int8_gemm_packed(A, packed, C, rq, exec);
}

PACT_NAMESPACE_END
