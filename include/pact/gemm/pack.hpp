#pragma once
// Packing: copy a block of A or B into the microkernel's sliver layout, converting the
// element type to the compute type on the way (bf16 / fp16 inputs become float here, so
// the microkernel only ever sees its own type).
//   A block (mc x kc)  -> ceil(mc/MR) slivers, sliver s holds a(s*MR + i, k) at [k*MR + i]
//   B block (kc x nc)  -> ceil(nc/NR) slivers, sliver s holds b(k, s*NR + j) at [k*NR + j]
// Rows/columns past the block edge are written as zeros, so the microkernel can always
// run a full MR x NR tile (the store step writes only the valid corner).
#include <cstring>
#include <type_traits>

#include "pact/core/matrix_view.hpp"
#include "pact/simd/ops_transpose.hpp"
#include "pact/types/bf16.hpp"
#include "pact/types/fp16.hpp"

PACT_NAMESPACE_BEGIN
namespace gemm_detail {

/// Element conversion into the compute type.
template <class T, class S>
PACT_ALWAYS_INLINE T to_compute(const S& x) noexcept {
  if constexpr (std::is_same_v<S, bf16> || std::is_same_v<S, fp16>) {
    return static_cast<T>(static_cast<float>(x));
  } else {
    return static_cast<T>(x);
  }
}

/// A strided source matrix: element (i, j) at p[i*rs + j*cs].
template <class S>
struct strided_ref {
  const S* p;
  index_t rs;
  index_t cs;
  PACT_ALWAYS_INLINE const S& operator()(index_t i, index_t j) const noexcept { return p[i * rs + j * cs]; }
};

template <int MR, class T, class S>
void pack_a_block(strided_ref<S> a, index_t mc, index_t kc, T* PACT_RESTRICT dst) noexcept {
  for (index_t i0 = 0; i0 < mc; i0 += MR) {
    const index_t m = mc - i0 < MR ? mc - i0 : MR;
    if (a.cs == 1 && m == MR) {
      // Row-major A, full sliver: walk k outermost so the MR source rows are read as MR
      // sequential streams and the sliver is written strictly sequentially.
      const S* rows[MR];
      for (int i = 0; i < MR; ++i) rows[i] = &a(i0 + i, 0);
      for (index_t k = 0; k < kc; ++k) {
#pragma GCC unroll 32
        for (int i = 0; i < MR; ++i) dst[k * MR + i] = to_compute<T>(rows[i][k]);
      }
    } else {
      for (index_t k = 0; k < kc; ++k)
        for (index_t i = 0; i < m; ++i) dst[k * MR + i] = to_compute<T>(a(i0 + i, k));
    }
    for (index_t i = m; i < MR; ++i)
      for (index_t k = 0; k < kc; ++k) dst[k * MR + i] = T(0);
    dst += MR * kc;
  }
}

/// Packs B slivers [s_begin, s_end) of a kc x nc block. Arch (the policy's) enables the
/// transposing path for a column-major float B; void keeps the element copies.
template <int NR, class Arch = void, class T, class S>
void pack_b_slivers(strided_ref<S> b, index_t kc, index_t nc, index_t s_begin, index_t s_end, T* PACT_RESTRICT dst) noexcept {
  if constexpr (!std::is_void_v<Arch> && std::is_same_v<S, float> && std::is_same_v<T, float>) {
    constexpr index_t L = static_cast<index_t>(simd::lanes<float, Arch>);
    if constexpr (L >= 8 && NR % L == 0) {  // AVX2 / AVX-512 transposes (intrinsics)
      if (b.rs == 1) {
        // Column-major B (a linear layer's W[N][K] passed as its transpose): column j is
        // a run of kc floats. L x L transposes of L columns by L k-values write the sliver
        // L rows at a time; one element at a time, every k step wrote one float per 128-byte
        // sliver row (M = 32 x 4096 x 4096: 2x slower than with a row-major B).
        for (index_t s = s_begin; s < s_end; ++s) {
          const index_t j0 = s * NR;
          const index_t n = nc - j0 < NR ? nc - j0 : NR;
          T* out = dst + s * NR * kc;
          index_t k0 = 0;
          if (n == NR)
            for (; k0 + L <= kc; k0 += L)
              for (index_t c = 0; c < NR; c += L) simd::transpose_tile<Arch>(&b(k0, j0 + c), b.cs, out + k0 * NR + c, NR);
          for (index_t j = 0; j < n; ++j) {
            const S* col = &b(0, j0 + j);
            for (index_t k = k0; k < kc; ++k) out[k * NR + j] = col[k];
          }
          for (index_t k = k0; k < kc; ++k)
            for (index_t j = n; j < NR; ++j) out[k * NR + j] = T(0);
        }
        return;
      }
    }
  }
  if (b.cs == 1) {
    // Row-major B: row by row, each row's share of the slivers read as one sequential run.
    // Sliver by sliver, every step down k moved a whole row of B ahead (a new 4 KiB page
    // for N >= 1024 floats) to read 128 bytes, a walk no hardware prefetcher follows.
    for (index_t k = 0; k < kc; ++k) {
      const S* row = &b(k, 0);
      for (index_t s = s_begin; s < s_end; ++s) {
        const index_t j0 = s * NR;
        const index_t n = nc - j0 < NR ? nc - j0 : NR;
        T* out = dst + s * NR * kc + k * NR;
        if (n == NR && std::is_same_v<S, T>) {
          std::memcpy(out, row + j0, sizeof(T) * NR);
        } else {
          for (index_t j = 0; j < n; ++j) out[j] = to_compute<T>(row[j0 + j]);
          for (index_t j = n; j < NR; ++j) out[j] = T(0);
        }
      }
    }
    return;
  }
  for (index_t s = s_begin; s < s_end; ++s) {
    // Column-major (transposed) B: read each column contiguously.
    const index_t j0 = s * NR;
    const index_t n = nc - j0 < NR ? nc - j0 : NR;
    T* out = dst + s * NR * kc;
    for (index_t j = 0; j < n; ++j) {
      const S* col = &b(0, j0 + j);
      for (index_t k = 0; k < kc; ++k) out[k * NR + j] = to_compute<T>(col[k * b.rs]);
    }
    for (index_t k = 0; k < kc; ++k)
      for (index_t j = n; j < NR; ++j) out[k * NR + j] = T(0);
  }
}

}  // namespace gemm_detail
PACT_NAMESPACE_END
