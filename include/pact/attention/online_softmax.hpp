#pragma once
// One FlashAttention-2 online-softmax step for a block of query rows against one K/V
// tile, on the transposed score tile S^T (keys x queries, queries in the lanes):
//   s      <- logit variants (softcap, ALiBi, additive mask) and window/causal masking
//   m_new   = max(m_old, max_j s_j)            (running max, per query lane)
//   alpha   = exp(m_old - m_new)               (rescales the running sum and O^T)
//   p_j     = exp(s_j - m_new),  l = alpha * l + sum_j p_j
// A row that has seen only masked keys keeps m = -inf; the exponent then uses 0 instead
// of m so exp(-inf - -inf) never forms a NaN: p = 0, alpha = 0, and the final O = 0.
#include <limits>

#include "pact/core/matrix_view.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace attention_detail {

/// Per-row state of a block of query rows; every array has `ld` (padded rows) entries.
struct row_block {
  index_t rows = 0;        ///< valid rows
  index_t ld = 0;          ///< padded rows (multiple of the microkernel chunk)
  float* qt = nullptr;     ///< Q^T, [dim][ld], pre-multiplied by the scale
  float* ot = nullptr;     ///< O^T accumulator, [dim_padded][ld]
  float* m = nullptr;      ///< running max
  float* l = nullptr;      ///< running sum
  float* alpha = nullptr;  ///< this step's rescale factor
  float* qpos = nullptr;   ///< query position (key coordinates)
  float* lo = nullptr;     ///< first visible key position (may be -inf)
  float* hi = nullptr;     ///< last visible key position (may be +inf)
  float* slope = nullptr;  ///< ALiBi slope per row, or nullptr
  const float** mask_rows = nullptr;  ///< additive-mask row per query row, or nullptr
  float lo_min = 0, lo_max = 0, hi_min = 0, hi_max = 0;  ///< window bounds over valid rows
};

struct logit_options {
  float softcap = 0.0f;
};

/// How a key tile [j0, j0 + n) relates to the block's windows.
enum class tile_visibility { none, partial, full };

inline tile_visibility classify_tile(const row_block& blk, index_t j0, index_t n) noexcept {
  const float first = static_cast<float>(j0), last = static_cast<float>(j0 + n - 1);
  if (last < blk.lo_min || first > blk.hi_max) return tile_visibility::none;
  if (first >= blk.lo_max && last <= blk.hi_min) return tile_visibility::full;
  return tile_visibility::partial;
}

/// Applies the logit variants and masks to st (n rows of blk.ld floats) in place, updates
/// m, l, alpha and turns st into P^T. mask_t (n x blk.ld) holds the additive mask tile when
/// blk.mask_rows is set.
template <class A>
void online_softmax_tile(row_block& blk, float* st, index_t n, index_t j0, bool positional_mask, const float* mask_t,
                         const logit_options& opt) noexcept {
  using V = simd::vec<float, A>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  const index_t ld = blk.ld;
  const V neg_inf = simd::broadcast<A>(-std::numeric_limits<float>::infinity());
  const V zero = simd::zero<float, A>();
  const bool transform = opt.softcap > 0.0f || blk.slope != nullptr || mask_t != nullptr || positional_mask;
  const V cap = simd::broadcast<A>(opt.softcap);
  const V inv_cap = simd::broadcast<A>(opt.softcap > 0.0f ? 1.0f / opt.softcap : 0.0f);
  for (index_t i = 0; i < ld; i += L) {
    const V m_old = simd::load<A>(blk.m + i);
    V mx = m_old;
    if (transform) {
      const V qpos = simd::load<A>(blk.qpos + i);
      const V lo = simd::load<A>(blk.lo + i);
      const V hi = simd::load<A>(blk.hi + i);
      const V slope = blk.slope ? simd::load<A>(blk.slope + i) : zero;
      for (index_t j = 0; j < n; ++j) {
        V s = simd::load<A>(st + j * ld + i);
        const V kpos = simd::broadcast<A>(static_cast<float>(j0 + j));
        if (opt.softcap > 0.0f) s = cap * simd::tanh(s * inv_cap);
        if (blk.slope) s = s - slope * simd::abs(qpos - kpos);
        if (mask_t) s = s + simd::load<A>(mask_t + j * ld + i);
        if (positional_mask) {
          s = simd::select(simd::cmp_lt(kpos, lo), neg_inf, s);
          s = simd::select(simd::cmp_gt(kpos, hi), neg_inf, s);
        }
        simd::store(st + j * ld + i, s);
        mx = simd::max(mx, s);
      }
    } else {
      for (index_t j = 0; j < n; ++j) mx = simd::max(mx, simd::load<A>(st + j * ld + i));
    }
    // Only fully masked rows keep -inf; use 0 there so no (-inf) - (-inf) appears.
    const V m_use = simd::select(simd::cmp_eq(mx, neg_inf), zero, mx);
    const V alpha = simd::exp(m_old - m_use);
    V sum = zero;
    for (index_t j = 0; j < n; ++j) {
      const V p = simd::exp(simd::load<A>(st + j * ld + i) - m_use);
      simd::store(st + j * ld + i, p);
      sum = sum + p;
    }
    simd::store(blk.alpha + i, alpha);
    simd::store(blk.l + i, simd::fma(simd::load<A>(blk.l + i), alpha, sum));
    simd::store(blk.m + i, mx);
  }
}

}  // namespace attention_detail
PACT_NAMESPACE_END
