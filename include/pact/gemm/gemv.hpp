#pragma once
// M = 1: y(1 x N) = alpha * x(1 x K) * B(K x N) + beta * y. Bandwidth-bound: every byte of
// B is used once, so the goal is to stream B at DRAM speed, not to block for cache.
//   row-major B: y += x[k] * B[k, :] four rows at a time, y accumulating in L1;
//   col-major B (B^T row-major, the "weights W[N][K]" case): y[j] = dot(B[:, j], x),
//               four columns at a time, each with its own accumulators.
// Threads split N; each y element is summed in the same order for any thread count.
#include <algorithm>

#include "pact/core/aligned_buffer.hpp"
#include "pact/gemm/blocked_driver.hpp"
#include "pact/gemm/policy.hpp"
#include "pact/gemm/store_tile.hpp"

PACT_NAMESPACE_BEGIN
namespace gemm_detail {

/// acc[0 : j1-j0] = sum_k x[k] * B[k, j0:j1] for row-major B. Eight rows per step: eight
/// concurrent sequential streams keep enough cache misses in flight for one core to
/// approach DRAM bandwidth, and y is loaded/stored once per eight rows instead of per row.
template <class A, class T>
void gemv_rows(index_t K, const T* x, index_t x_stride, const T* b, index_t b_ld, index_t j0, index_t j1, T* acc) {
  using V = simd::vec<T, A>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<T, A>);
  constexpr int R = 8;
  const index_t n = j1 - j0;
  std::fill(acc, acc + n, T(0));
  index_t k = 0;
  for (; k + R <= K; k += R) {
    V xs[R];
    const T* rows[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      xs[r] = simd::broadcast<A>(x[(k + r) * x_stride]);
      rows[r] = b + (k + r) * b_ld + j0;
    }
    index_t j = 0;
    for (; j + L <= n; j += L) {
      V y = simd::load<A>(acc + j);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) y = simd::fma(xs[r], simd::load<A>(rows[r] + j), y);
      simd::store(acc + j, y);
    }
    if (j < n) {
      const auto t = static_cast<std::size_t>(n - j);
      V y = simd::load_partial<A>(acc + j, t);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) y = simd::fma(xs[r], simd::load_partial<A>(rows[r] + j, t), y);
      simd::store_partial(acc + j, y, t);
    }
  }
  for (; k < K; ++k) {
    const V xk = simd::broadcast<A>(x[k * x_stride]);
    const T* r = b + k * b_ld + j0;
    index_t j = 0;
    for (; j + L <= n; j += L) simd::store(acc + j, simd::fma(xk, simd::load<A>(r + j), simd::load<A>(acc + j)));
    if (j < n) {
      const auto t = static_cast<std::size_t>(n - j);
      simd::store_partial(acc + j, simd::fma(xk, simd::load_partial<A>(r + j, t), simd::load_partial<A>(acc + j, t)), t);
    }
  }
}

/// dot(B[:, j], x) for j in [j0, j1), col-major B (column j contiguous, stride b_ld).
template <class A, class T>
void gemv_cols(index_t K, const T* x, const T* b, index_t b_ld, index_t j0, index_t j1, T* acc) {
  using V = simd::vec<T, A>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<T, A>);
  index_t j = j0;
  for (; j + 4 <= j1; j += 4) {
    const T* c0 = b + j * b_ld;
    V s0 = simd::zero<T, A>(), s1 = s0, s2 = s0, s3 = s0;
    index_t k = 0;
    for (; k + L <= K; k += L) {
      const V xv = simd::load<A>(x + k);
      s0 = simd::fma(simd::load<A>(c0 + k), xv, s0);
      s1 = simd::fma(simd::load<A>(c0 + b_ld + k), xv, s1);
      s2 = simd::fma(simd::load<A>(c0 + 2 * b_ld + k), xv, s2);
      s3 = simd::fma(simd::load<A>(c0 + 3 * b_ld + k), xv, s3);
    }
    if (k < K) {
      const auto t = static_cast<std::size_t>(K - k);
      const V xv = simd::load_partial<A>(x + k, t);
      s0 = simd::fma(simd::load_partial<A>(c0 + k, t), xv, s0);
      s1 = simd::fma(simd::load_partial<A>(c0 + b_ld + k, t), xv, s1);
      s2 = simd::fma(simd::load_partial<A>(c0 + 2 * b_ld + k, t), xv, s2);
      s3 = simd::fma(simd::load_partial<A>(c0 + 3 * b_ld + k, t), xv, s3);
    }
    acc[j - j0] = simd::reduce_add(s0);
    acc[j - j0 + 1] = simd::reduce_add(s1);
    acc[j - j0 + 2] = simd::reduce_add(s2);
    acc[j - j0 + 3] = simd::reduce_add(s3);
  }
  for (; j < j1; ++j) {
    const T* c0 = b + j * b_ld;
    V s = simd::zero<T, A>();
    index_t k = 0;
    for (; k + L <= K; k += L) s = simd::fma(simd::load<A>(c0 + k), simd::load<A>(x + k), s);
    if (k < K) {
      const auto t = static_cast<std::size_t>(K - k);
      s = simd::fma(simd::load_partial<A>(c0 + k, t), simd::load_partial<A>(x + k, t), s);
    }
    acc[j - j0] = simd::reduce_add(s);
  }
}

/// The M = 1 product for unit-stride rows or columns of B (caller checks). x must be
/// contiguous for col-major B.
template <gemm_policy P, class Ep, class Exec>
void gemv(index_t N, index_t K, typename P::compute_type alpha, const typename P::compute_type* x, index_t x_stride,
          const typename P::compute_type* b, index_t b_rs, index_t b_cs, typename P::compute_type beta,
          c_ref<typename P::compute_type> c, const Ep& ep, const Exec& exec) {
  using A = typename P::arch;
  using T = typename P::compute_type;
  constexpr index_t L = static_cast<index_t>(simd::lanes<T, A>);
  // Each task owns a contiguous column range (cache-line aligned) and streams whole row
  // segments of B: long sequential runs are what the hardware prefetchers need to reach
  // DRAM bandwidth. y for the range (16 KiB for 4096 columns) stays in L1/L2.
  constexpr index_t align = 64 / sizeof(T);
  const index_t tasks = std::min<index_t>(std::max(1, exec.num_threads()), ceil_div(N, align));
  auto task = [&](index_t t) {
    const index_t j0 = std::min(N, ceil_div(N * t / tasks, align) * align);
    const index_t j1 = t + 1 == tasks ? N : std::min(N, ceil_div(N * (t + 1) / tasks, align) * align);
    if (j0 >= j1) return;
    aligned_buffer<T>& acc = thread_a_buffer<T>();
    acc.reserve_discard(static_cast<std::size_t>(j1 - j0));
    if (b_cs == 1) gemv_rows<A, T>(K, x, x_stride, b, b_rs, j0, j1, acc.data());
    else gemv_cols<A, T>(K, x, b, b_cs, j0, j1, acc.data());
    register_tile<A, T, 1, 1> tile;
    for (index_t j = j0; j < j1; j += L) {
      const int n = static_cast<int>(std::min(L, j1 - j));
      tile.acc[0][0] = simd::load_partial<A>(acc.data() + (j - j0), static_cast<std::size_t>(n));
      store_tile(tile, 1, n, alpha, beta, beta != T(0), c, true, ep, 0, j);
    }
  };
  if (tasks <= 1 || 2.0 * N * K < 1.0e6) {
    for (index_t t = 0; t < tasks; ++t) task(t);
  } else {
    exec.parallel_for(tasks, task);
  }
}

}  // namespace gemm_detail
PACT_NAMESPACE_END
