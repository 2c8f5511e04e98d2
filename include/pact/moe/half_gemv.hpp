#pragma once
// Decode with bf16 / fp16 expert weights: C(M x N) = A(M x K) * W^T for M <= 4, W[N][K]
// half precision row-major (PyTorch's layout, B = W^T col-major). pact::gemm handles half
// B by converting it while packing, which for one token costs more than the product; here
// each weight is loaded once as half, widened in registers (simd::load_bf16 / load_fp16)
// and multiplied: decode reads 2 bytes per weight. Four output columns at a time (four
// concurrent weight streams). Threads split N; each C element is summed by one thread in
// a fixed order (lanes, then one horizontal sum), so results do not depend on the thread
// count.
#include <algorithm>
#include <cstring>

#include "pact/core/threading.hpp"
#include "pact/gemm/epilogue.hpp"
#include "pact/types/bf16.hpp"
#include "pact/types/fp16.hpp"

PACT_NAMESPACE_BEGIN
namespace moe_detail {

template <class A, class H>
PACT_ALWAYS_INLINE simd::vec<float, A> load_half(const H* p) noexcept {
  if constexpr (std::is_same_v<H, bf16>) return simd::load_bf16<A>(reinterpret_cast<const std::uint16_t*>(p));
  else return simd::load_fp16<A>(reinterpret_cast<const std::uint16_t*>(p));
}

/// Columns [j0, j1) of C for M rows (M <= 4), then the epilogue.
template <class A, int M, class H, class Ep>
void half_gemv_cols(index_t K, const float* a, index_t lda, const H* w, index_t ldw, float* c, index_t ldc, index_t j0,
                    index_t j1, const Ep& ep) {
  using V = simd::vec<float, A>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  const index_t k_full = K / L * L;
  auto columns = [&](index_t j, auto cols_c) {
    constexpr int C = decltype(cols_c)::value;
    V s[M][C];
    for (int r = 0; r < M; ++r)
      for (int q = 0; q < C; ++q) s[r][q] = simd::zero<float, A>();
    for (index_t k = 0; k < k_full; k += L) {
      V wv[C];
#pragma GCC unroll 4
      for (int q = 0; q < C; ++q) wv[q] = load_half<A>(w + (j + q) * ldw + k);
#pragma GCC unroll 4
      for (int r = 0; r < M; ++r) {
        const V xv = simd::load<A>(a + r * lda + k);
#pragma GCC unroll 4
        for (int q = 0; q < C; ++q) s[r][q] = simd::fma(wv[q], xv, s[r][q]);
      }
    }
    if (k_full < K) {  // tail: zero-padded copies (load_half reads whole vectors)
      const auto t = static_cast<std::size_t>(K - k_full);
      alignas(64) H buf[L] = {};
      for (int q = 0; q < C; ++q) {
        std::memcpy(buf, w + (j + q) * ldw + k_full, t * sizeof(H));
        const V wv = load_half<A>(buf);
        for (int r = 0; r < M; ++r) s[r][q] = simd::fma(wv, simd::load_partial<A>(a + r * lda + k_full, t), s[r][q]);
      }
    }
    for (int r = 0; r < M; ++r)
      for (int q = 0; q < C; ++q) c[r * ldc + j + q] = simd::reduce_add(s[r][q]);
  };
  index_t j = j0;
  for (; j + 4 <= j1; j += 4) columns(j, std::integral_constant<int, 4>{});
  for (; j < j1; ++j) columns(j, std::integral_constant<int, 1>{});
  if constexpr (!std::is_same_v<Ep, epilogue::none>) {
    for (int r = 0; r < M; ++r)
      for (index_t jj = j0; jj < j1; jj += L) {
        const index_t n = std::min(L, j1 - jj);
        float* p = c + r * ldc + jj;
        const V v = ep(simd::load_partial<A>(p, static_cast<std::size_t>(n)), r, jj, static_cast<int>(n));
        simd::store_partial(p, v, static_cast<std::size_t>(n));
      }
  }
}

/// C = A * W^T (+ epilogue) for M = A.rows() <= 4; threads split N in 64-byte aligned ranges.
template <class A, class H, class Ep, class Exec>
void half_gemv(index_t M, index_t N, index_t K, const float* a, index_t lda, const H* w, index_t ldw, float* c, index_t ldc,
               const Ep& ep, const Exec& exec) {
  constexpr index_t align = 16;
  const index_t tasks = 2.0 * M * N * K < 1.0e6 ? 1 : std::min<index_t>(std::max(1, exec.num_threads()), (N + align - 1) / align);
  auto task = [&](index_t t) {
    const index_t j0 = std::min(N, (N * t / tasks + align - 1) / align * align);
    const index_t j1 = t + 1 == tasks ? N : std::min(N, (N * (t + 1) / tasks + align - 1) / align * align);
    if (j0 >= j1) return;
    switch (M) {
      case 1: half_gemv_cols<A, 1>(K, a, lda, w, ldw, c, ldc, j0, j1, ep); break;
      case 2: half_gemv_cols<A, 2>(K, a, lda, w, ldw, c, ldc, j0, j1, ep); break;
      case 3: half_gemv_cols<A, 3>(K, a, lda, w, ldw, c, ldc, j0, j1, ep); break;
      default: half_gemv_cols<A, 4>(K, a, lda, w, ldw, c, ldc, j0, j1, ep); break;
    }
  };
  if (tasks <= 1) task(0);
  else exec.parallel_for(tasks, task);
}

}  // namespace moe_detail
PACT_NAMESPACE_END
