#pragma once
// pact::gemm — C = alpha * A * B + beta * C, then an optional fused epilogue.
//
//   pact::gemm(1.0f, A, B, 0.0f, C);                       // views: row/col-major, strided
//   pact::gemm(1.0f, A.t(), B, 0.0f, C, epilogue::relu{}, pact::thread_pool{2});
//
// Element types: f32 and f64 (computed in their own type); bf16 / fp16 inputs are
// converted while packing and accumulate in f32; C may be f32, f64, bf16 or fp16
// (a bf16/fp16 C is computed in f32 and rounded once, to nearest even).
// Rules (docs/gemm.md): beta == 0 never reads C (C may hold NaN); alpha == 0 or K == 0
// gives C = beta * C without reading A or B; otherwise NaN/Inf propagate as in IEEE
// arithmetic through the products and sums. The epilogue is applied to every element of
// the result in all cases. Errors: pact::error (see core/error.hpp) for shape mismatch,
// bad views and C overlapping A or B.
#include <algorithm>
#include <type_traits>

#include "pact/core/aligned_buffer.hpp"
#include "pact/core/error.hpp"
#include "pact/core/threading.hpp"
#include "pact/gemm/blocked_driver.hpp"
#include "pact/gemm/direct.hpp"
#include "pact/gemm/epilogue.hpp"
#include "pact/gemm/gemv.hpp"
#include "pact/tuning/gemm_defaults.hpp"
#include "pact/types/bf16.hpp"
#include "pact/types/fp16.hpp"

PACT_NAMESPACE_BEGIN

namespace gemm_detail {
template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, bf16> || std::is_same_v<T, fp16>;

template <class T>
concept gemm_input_type = std::is_same_v<T, float> || std::is_same_v<T, double> || is_half_v<T>;

/// f64 only when both inputs are f64; everything else accumulates in f32.
template <class TA, class TB>
using compute_t = std::conditional_t<std::is_same_v<TA, double> && std::is_same_v<TB, double>, double, float>;

template <class V>
struct view_traits;
template <class T, class L>
struct view_traits<matrix_view<T, L>> {
  using element = std::remove_cv_t<T>;
};
template <class V>
using element_of = typename view_traits<std::remove_cvref_t<V>>::element;

/// The policy to use: the caller's, or the tuned default for the compute type.
template <class P, class T>
using select_policy = std::conditional_t<std::is_void_v<P>, default_gemm_policy_t<T>, P>;

template <class T, class LA, class TB, class LB, class TC, class LC>
void validate_gemm(const matrix_view<T, LA>& A, const matrix_view<TB, LB>& B, const matrix_view<TC, LC>& C) {
  validate(A, "gemm: A");
  validate(B, "gemm: B");
  validate(C, "gemm: C");
  if (A.cols() != B.rows()) throw error(errc::invalid_shape, "gemm: A.cols() != B.rows() (inner dimensions differ)");
  if (C.rows() != A.rows()) throw error(errc::invalid_shape, "gemm: C.rows() != A.rows()");
  if (C.cols() != B.cols()) throw error(errc::invalid_shape, "gemm: C.cols() != B.cols()");
  if constexpr (std::is_same_v<LC, strided>) {
    // A strided C must not map two elements to one address.
    if (!C.empty() && C.rows() > 1 && C.cols() > 1 && C.row_stride() < C.cols() * C.col_stride() &&
        C.col_stride() < C.rows() * C.row_stride())
      throw error(errc::bad_stride, "gemm: C strides make elements overlap");
  }
  if (overlaps(C, A)) throw error(errc::aliasing, "gemm: C overlaps A");
  if (overlaps(C, B)) throw error(errc::aliasing, "gemm: C overlaps B");
}

/// C = beta * C (beta == 0 writes zeros without reading), then the epilogue.
template <class A, class T, class Ep>
void scale_c(index_t M, index_t N, T beta, c_ref<T> c, const Ep& ep) {
  constexpr index_t L = static_cast<index_t>(simd::lanes<T, A>);
  register_tile<A, T, 1, 1> tile;
  tile.acc[0][0] = simd::zero<T, A>();
  for (index_t i = 0; i < M; ++i)
    for (index_t j = 0; j < N; j += L) {
      const int n = static_cast<int>(std::min(L, N - j));
      store_tile(tile, 1, n, T(0), beta, beta != T(0), c, true, ep, i, j);
    }
}

/// Dispatch for C in the compute type T.
template <class P, class SA, class SB, class Ep, class Exec>
void gemm_compute(index_t M, index_t N, index_t K, typename P::compute_type alpha, strided_ref<SA> a,
                  strided_ref<SB> b, typename P::compute_type beta, c_ref<typename P::compute_type> c, const Ep& ep,
                  const Exec& exec) {
  using T = typename P::compute_type;
  using A = typename P::arch;
  if (M == 0 || N == 0) return;
  if (alpha == T(0) || K == 0) {
    scale_c<A>(M, N, beta, c, ep);
    return;
  }
  // M <= 4: matrix-vector products that stream B once at memory speed (bf16/fp16 B is
  // widened in registers: half the bytes of f32, so twice the speed when bandwidth-bound).
  if (try_gemv<P>(M, N, K, alpha, a, b, beta, c, ep, exec)) return;
  constexpr bool same_types = std::is_same_v<SA, T> && std::is_same_v<SB, T>;
  if constexpr (same_types) {
    // Small and mid-size products: packing would cost more than it saves (direct.hpp).
    if (b.cs == 1 && use_direct<T>(M, N, K, a.cs)) {
      gemm_direct<P>(M, N, K, alpha, a.p, a.rs, a.cs, b.p, b.rs, beta, c, ep, exec);
      return;
    }
  }
  aligned_buffer<T>& bbuf = thread_b_buffer<T>();
  const b_packer<P, SB> packer{b, bbuf};
  gemm_blocked<P>(M, N, K, alpha, a, packer, beta, c, ep, exec);
}

}  // namespace gemm_detail

/// C = alpha * A * B + beta * C, then `ep` on every element of C.
/// Policy: void (the tuned default for the compute type) or a gemm_policy.
template <class Policy = void, class TA, class LA, class TB, class LB, class TC, class LC,
          class Ep = epilogue::none, executor Exec = serial>
  requires gemm_detail::gemm_input_type<std::remove_cv_t<TA>> && gemm_detail::gemm_input_type<std::remove_cv_t<TB>> &&
           gemm_detail::gemm_input_type<TC>
void gemm(gemm_detail::compute_t<std::remove_cv_t<TA>, std::remove_cv_t<TB>> alpha, const matrix_view<TA, LA>& A,
          const matrix_view<TB, LB>& B, gemm_detail::compute_t<std::remove_cv_t<TA>, std::remove_cv_t<TB>> beta,
          const matrix_view<TC, LC>& C, const Ep& ep = {}, const Exec& exec = {}) {
  using namespace gemm_detail;
  using T = compute_t<std::remove_cv_t<TA>, std::remove_cv_t<TB>>;
  using P = select_policy<Policy, T>;
  static_assert(gemm_policy<P>, "gemm: Policy must be a GEMM policy (arch, compute_type, mr, nr, kc, mc, nc)");
  static_assert(detail::check_gemm_policy<P>());
  static_assert(std::is_same_v<typename P::compute_type, T>, "gemm: the policy's compute_type must match the inputs' (f64 for f64 x f64, else f32)");
  static_assert(epilogue_for<Ep, simd::vec<T, typename P::arch>>,
                "gemm: the epilogue must be callable as ep(vec, row, col, n) -> vec (see gemm/epilogue.hpp)");
  validate_gemm(A, B, C);
  if (epilogue_reads(ep, C)) throw error(errc::aliasing, "gemm: the epilogue reads C (residual_add over C: use beta = 1)");
  using SA = std::remove_cv_t<TA>;
  using SB = std::remove_cv_t<TB>;
  const strided_ref<SA> a{A.data(), A.row_stride(), A.col_stride()};
  const strided_ref<SB> b{B.data(), B.row_stride(), B.col_stride()};
  const index_t M = C.rows(), N = C.cols(), K = A.cols();
  if constexpr (std::is_same_v<TC, T>) {
    gemm_compute<P>(M, N, K, alpha, a, b, beta, c_ref<T>{C.data(), C.row_stride(), C.col_stride()}, ep, exec);
  } else {
    // Narrow or different-type C: compute into a T workspace, convert once at the end.
    aligned_buffer<T> work(detail::checked_mul(static_cast<std::size_t>(M), static_cast<std::size_t>(N), "gemm: C"));
    if (beta != T(0))
      for (index_t i = 0; i < M; ++i)
        for (index_t j = 0; j < N; ++j) work[static_cast<std::size_t>(i * N + j)] = to_compute<T>(C(i, j));
    gemm_compute<P>(M, N, K, alpha, a, b, beta, c_ref<T>{work.data(), N, 1}, ep, exec);
    for (index_t i = 0; i < M; ++i)
      for (index_t j = 0; j < N; ++j) C(i, j) = TC(work[static_cast<std::size_t>(i * N + j)]);
  }
}

PACT_NAMESPACE_END
