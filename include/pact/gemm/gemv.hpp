#pragma once
// Very small M (1..4 rows): Y(M x N) = alpha * X(M x K) * B(K x N) + beta * Y.
// Bandwidth-bound: every byte of B is used M times at most, so the goal is to stream B
// once at DRAM speed, not to block for cache (the packed path would read B three times:
// read, write the packed copy, read it again).
//   row-major B: y_r += x_r[k] * B[k, :] four rows of B at a time, y accumulating in L1;
//   col-major B (B = W^T with W[N][K] row-major, the usual weights layout):
//               y_r[j] = dot(W[j, :], x_r), four columns at a time.
// Threads split N; each y element is summed in the same order for any thread count.
#include <algorithm>

#include "pact/core/aligned_buffer.hpp"
#include "pact/gemm/blocked_driver.hpp"
#include "pact/gemm/policy.hpp"
#include "pact/gemm/store_tile.hpp"

PACT_NAMESPACE_BEGIN
namespace gemm_detail {

/// Largest M handled by the GEMV path.
inline constexpr index_t gemv_max_rows = 4;

/// L consecutive elements of type S as a vec<T, A>: bf16/fp16 are widened in registers, so a
/// half-precision weight matrix streams at 2 bytes per element and is never copied.
template <class A, class T, class S>
PACT_ALWAYS_INLINE simd::vec<T, A> load_widened(const S* p) noexcept {
  if constexpr (std::is_same_v<S, T>) return simd::load<A>(p);
  else if constexpr (std::is_same_v<S, bf16>) return simd::load_bf16<A>(reinterpret_cast<const std::uint16_t*>(p));
  else return simd::load_fp16<A>(reinterpret_cast<const std::uint16_t*>(p));
}
/// The first t < L elements, the rest zero (tails only).
template <class A, class T, class S>
PACT_ALWAYS_INLINE simd::vec<T, A> load_widened_partial(const S* p, std::size_t t) noexcept {
  if constexpr (std::is_same_v<S, T>) {
    return simd::load_partial<A>(p, t);
  } else {
    S tmp[simd::lanes<T, A>] = {};
    for (std::size_t i = 0; i < t; ++i) tmp[i] = p[i];
    return load_widened<A, T>(tmp);
  }
}

/// acc[r][0 : j1-j0] = sum_k x(r, k) * B[k, j0:j1] for row-major B, r < M (acc row stride
/// n = j1 - j0). Four rows of B per step (four concurrent sequential streams, y loaded and
/// stored once per four FMAs): on a Zen 5 core 4 streams read 1x4096x4096 cold at 84-89% of
/// DRAM bandwidth, 8 streams at 77% and 16 at 64%, 2 at 72% (measured on Cascade Lake, 8
/// streams reached 90%: the best count is the core's prefetcher's, see docs/gemm.md).
template <class A, class T, int M, class SA, class SB>
void gemv_rows(index_t K, strided_ref<SA> x, const SB* b, index_t b_ld, index_t j0, index_t j1, T* acc) {
  using V = simd::vec<T, A>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<T, A>);
  constexpr int R = 4;
  const index_t n = j1 - j0;
  std::fill(acc, acc + M * n, T(0));
  auto step = [&](index_t k, auto rows_c) {
    constexpr int rows = decltype(rows_c)::value;
    V xs[M][rows];
    const SB* brow[rows];
#pragma GCC unroll 8
    for (int q = 0; q < rows; ++q) {
      brow[q] = b + (k + q) * b_ld + j0;
#pragma GCC unroll 4
      for (int r = 0; r < M; ++r) xs[r][q] = simd::broadcast<A>(to_compute<T>(x(r, k + q)));
    }
    for (index_t j = 0; j < n; j += L) {
      const auto t = static_cast<std::size_t>(std::min(L, n - j));
      V bv[rows];
#pragma GCC unroll 8
      for (int q = 0; q < rows; ++q)
        bv[q] = t == static_cast<std::size_t>(L) ? load_widened<A, T>(brow[q] + j) : load_widened_partial<A, T>(brow[q] + j, t);
#pragma GCC unroll 4
      for (int r = 0; r < M; ++r) {
        T* y = acc + r * n + j;
        V yv = t == static_cast<std::size_t>(L) ? simd::load<A>(y) : simd::load_partial<A>(y, t);
#pragma GCC unroll 8
        for (int q = 0; q < rows; ++q) yv = simd::fma(xs[r][q], bv[q], yv);
        if (t == static_cast<std::size_t>(L)) simd::store(y, yv);
        else simd::store_partial(y, yv, t);
      }
    }
  };
  index_t k = 0;
  for (; k + R <= K; k += R) step(k, std::integral_constant<int, R>{});
  for (; k < K; ++k) step(k, std::integral_constant<int, 1>{});
}

/// acc[r][j - j0] = dot(B[:, j], x(r, :)) for j in [j0, j1), col-major B (column j
/// contiguous, stride b_ld), x rows contiguous (x.cs == 1).
template <class A, class T, int M, class SA, class SB>
void gemv_cols(index_t K, strided_ref<SA> x, const SB* b, index_t b_ld, index_t j0, index_t j1, T* acc) {
  using V = simd::vec<T, A>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<T, A>);
  const index_t n = j1 - j0;
  auto columns = [&](index_t j, auto cols_c) {
    constexpr int C = decltype(cols_c)::value;
    V s[M][C];
#pragma GCC unroll 4
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 4
      for (int q = 0; q < C; ++q) s[r][q] = simd::zero<T, A>();
    for (index_t k = 0; k < K; k += L) {
      const auto t = static_cast<std::size_t>(std::min(L, K - k));
      const bool full = t == static_cast<std::size_t>(L);
      V bv[C];
#pragma GCC unroll 4
      for (int q = 0; q < C; ++q) {
        const SB* col = b + (j + q) * b_ld + k;
        bv[q] = full ? load_widened<A, T>(col) : load_widened_partial<A, T>(col, t);
      }
#pragma GCC unroll 4
      for (int r = 0; r < M; ++r) {
        const SA* xr = &x(r, k);
        const V xv = full ? load_widened<A, T>(xr) : load_widened_partial<A, T>(xr, t);
#pragma GCC unroll 4
        for (int q = 0; q < C; ++q) s[r][q] = simd::fma(bv[q], xv, s[r][q]);
      }
    }
    for (int r = 0; r < M; ++r)
      for (int q = 0; q < C; ++q) acc[r * n + (j - j0) + q] = simd::reduce_add(s[r][q]);
  };
  index_t j = j0;
  for (; j + 4 <= j1; j += 4) columns(j, std::integral_constant<int, 4>{});
  for (; j < j1; ++j) columns(j, std::integral_constant<int, 1>{});
}

/// The M <= gemv_max_rows product for B with unit column stride (row-major) or unit row
/// stride with contiguous X rows (col-major). The caller checks those conditions.
template <gemm_policy P, int M, class SA, class SB, class Ep, class Exec>
void gemv(index_t N, index_t K, typename P::compute_type alpha, strided_ref<SA> x, strided_ref<SB> b,
          typename P::compute_type beta,
          c_ref<typename P::compute_type> c, const Ep& ep, const Exec& exec) {
  using A = typename P::arch;
  using T = typename P::compute_type;
  constexpr index_t L = static_cast<index_t>(simd::lanes<T, A>);
  // Each task owns a contiguous, cache-line aligned column range and streams whole row
  // segments of B: long sequential runs are what the hardware prefetchers need.
  constexpr index_t align = 64 / sizeof(T);
  const index_t tasks = 2.0 * M * N * K < 1.0e6 ? 1 : std::min<index_t>(std::max(1, exec.num_threads()), ceil_div(N, align));
  auto task = [&](index_t t) {
    const index_t j0 = std::min(N, ceil_div(N * t / tasks, align) * align);
    const index_t j1 = t + 1 == tasks ? N : std::min(N, ceil_div(N * (t + 1) / tasks, align) * align);
    if (j0 >= j1) return;
    const index_t n = j1 - j0;
    aligned_buffer<T>& acc = thread_a_buffer<T>();
    acc.reserve_discard(static_cast<std::size_t>(M * n));
    if (b.cs == 1) gemv_rows<A, T, M>(K, x, b.p, b.rs, j0, j1, acc.data());
    else gemv_cols<A, T, M>(K, x, b.p, b.cs, j0, j1, acc.data());
    register_tile<A, T, 1, 1> tile;
    for (int r = 0; r < M; ++r)
      for (index_t j = j0; j < j1; j += L) {
        const int nv = static_cast<int>(std::min(L, j1 - j));
        tile.acc[0][0] = simd::load_partial<A>(acc.data() + r * n + (j - j0), static_cast<std::size_t>(nv));
        store_tile(tile, 1, nv, alpha, beta, beta != T(0), c, true, ep, r, j);
      }
  };
  if (tasks <= 1) task(0);
  else exec.parallel_for(tasks, task);
}

/// Runs the GEMV path if it applies (M <= 4, B unit-stride in one direction); false if not.
template <gemm_policy P, class SA, class SB, class Ep, class Exec>
bool try_gemv(index_t M, index_t N, index_t K, typename P::compute_type alpha, strided_ref<SA> a, strided_ref<SB> b,
              typename P::compute_type beta, c_ref<typename P::compute_type> c, const Ep& ep, const Exec& exec) {
  using T = typename P::compute_type;
  constexpr auto widenable = [](auto* s) {
    using S = std::remove_pointer_t<decltype(s)>;
    return std::is_same_v<S, T> || (std::is_same_v<T, float> && (std::is_same_v<S, bf16> || std::is_same_v<S, fp16>));
  };
  if constexpr (!widenable(static_cast<SA*>(nullptr)) || !widenable(static_cast<SB*>(nullptr))) {
    return false;  // other mixes (e.g. f32 x f64) take the packed path, which converts while packing
  } else {
  if (M > gemv_max_rows || !(b.cs == 1 || (b.rs == 1 && a.cs == 1))) return false;
  switch (M) {
    case 1: gemv<P, 1>(N, K, alpha, a, b, beta, c, ep, exec); break;
    case 2: gemv<P, 2>(N, K, alpha, a, b, beta, c, ep, exec); break;
    case 3: gemv<P, 3>(N, K, alpha, a, b, beta, c, ep, exec); break;
    default: gemv<P, 4>(N, K, alpha, a, b, beta, c, ep, exec); break;
  }
  return true;
  }
}

}  // namespace gemm_detail
PACT_NAMESPACE_END
