#pragma once
// Writes a finished register tile into C:  C = alpha * acc + beta * C  (then the
// epilogue on the last K block). read_c == false means C is write-only (beta == 0 on the
// first K block): C is never read, so it may hold NaN. Only the m x n corner is stored;
// partial vectors use masked stores, so nothing outside C is touched.
// The epilogue runs on the stored corner right after, while it is in L1.
#include <type_traits>

#include "pact/gemm/epilogue.hpp"
#include "pact/gemm/microkernel.hpp"

PACT_NAMESPACE_BEGIN
namespace gemm_detail {

template <class T>
struct c_ref {
  T* p;
  index_t rs;
  index_t cs;
};

/// C(row, j0 .. j0 + nv) as a vector: a (masked) load when unit-stride, else a gather
/// through a lane buffer. Lanes >= nv are 0.
template <class A, class T>
PACT_ALWAYS_INLINE simd::vec<T, A> load_c(const T* crow, index_t cs, int j0, int nv) {
  constexpr int L = static_cast<int>(simd::lanes<T, A>);
  if (cs == 1) return nv == L ? simd::load<A>(crow + j0) : simd::load_partial<A>(crow + j0, static_cast<std::size_t>(nv));
  alignas(64) T buf[L];
  for (int j = 0; j < L; ++j) buf[j] = j < nv ? crow[(j0 + j) * cs] : T(0);
  return simd::load_aligned<A>(buf);
}

/// Stores the first nv lanes of x to C(row, j0 ..): nothing past them is touched.
template <class A, class T>
PACT_ALWAYS_INLINE void store_c(T* crow, index_t cs, int j0, int nv, simd::vec<T, A> x) {
  constexpr int L = static_cast<int>(simd::lanes<T, A>);
  if (cs == 1) {
    if (nv == L) simd::store(crow + j0, x);
    else simd::store_partial(crow + j0, x, static_cast<std::size_t>(nv));
    return;
  }
  alignas(64) T buf[L];
  simd::store_aligned(buf, x);
  for (int j = 0; j < nv; ++j) crow[(j0 + j) * cs] = buf[j];
}

/// The epilogue over the m x n corner of C at (row0, col0), just stored by store_tile and
/// still in L1. Not inlined and rolled: one copy per (arch, type, epilogue) instead of one
/// per tile row and vector of every tile kernel. Inlined into the unrolled stores, a GELU
/// was copied MR * NV times per kernel, 5 kernels per GEMM and 2-3 per direct path (a TU
/// with the MoE layer: 2.2 MB of code, 71 s to compile at -O3). The cost, one L1 load and
/// store per vector, once per tile on the last K block, is small against the epilogue itself.
template <class A, class T, class Ep>
PACT_NOINLINE void apply_epilogue_stored(int m, int n, c_ref<T> c, const Ep& ep, index_t row0, index_t col0) {
  constexpr int L = static_cast<int>(simd::lanes<T, A>);
  auto pass = [&](index_t cs) PACT_ALWAYS_INLINE_LAMBDA {
    for (int i = 0; i < m; ++i) {
      T* crow = c.p + (row0 + i) * c.rs + col0 * cs;
      for (int j0 = 0; j0 < n; j0 += L) {
        const int nv = n - j0 < L ? n - j0 : L;
        store_c<A>(crow, cs, j0, nv, ep(load_c<A>(crow, cs, j0, nv), row0 + i, col0 + j0, nv));
      }
    }
  };
  if (c.cs == 1) pass(1);  // the literal stride: plain vector loads and stores
  else pass(c.cs);
}

template <class A, class T, int MR, int NV, class Ep>
PACT_ALWAYS_INLINE void store_tile(const register_tile<A, T, MR, NV>& tile, int m, int n, T alpha, T beta, bool read_c,
                                   c_ref<T> c, bool apply_epilogue, const Ep& ep, index_t row0, index_t col0) {
  using V = simd::vec<T, A>;
  constexpr int L = register_tile<A, T, MR, NV>::lanes;
  const V alpha_v = simd::broadcast<A>(alpha);
  const V beta_v = simd::broadcast<A>(beta);
  // Row i, vector v; cs is the literal 1 on the unit-stride path, so its loads and stores
  // are plain (masked) vector moves there.
  auto store_vector = [&](int i, int v, index_t cs) PACT_ALWAYS_INLINE_LAMBDA {
    const int j0 = v * L;
    const int nv = n - j0 < L ? n - j0 : L;
    T* crow = c.p + (row0 + i) * c.rs + col0 * cs;
    V x = tile.acc[i][v] * alpha_v;
    if (read_c) x = simd::fma(beta_v, load_c<A>(crow, cs, j0, nv), x);
    store_c<A>(crow, cs, j0, nv, x);
  };
  if (c.cs == 1) {
    // Unrolled: with a compile-time m the rolled loop was a copy of the tile, which g++
    // turned into a spill of the tile to the stack and a libc memcpy call.
#pragma GCC unroll 32
    for (int i = 0; i < m; ++i) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        if (v * L >= n) break;
        store_vector(i, v, 1);
      }
    }
  } else {
    for (int i = 0; i < m; ++i)
      for (int v = 0; v < NV; ++v) {
        if (v * L >= n) break;
        store_vector(i, v, c.cs);
      }
  }
  // The epilogue reads the stored values back (C is never read before it is written, so
  // beta = 0 still ignores NaN in C). An epilogue must not read C itself.
  if constexpr (!std::is_same_v<Ep, epilogue::none>)
    if (apply_epilogue) apply_epilogue_stored<A>(m, n, c, ep, row0, col0);
}

}  // namespace gemm_detail
PACT_NAMESPACE_END
