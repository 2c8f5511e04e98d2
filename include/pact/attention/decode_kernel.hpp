#pragma once
// Decode: few query rows per KV head (g * Sq <= decode_max_rows) over a long KV cache.
// Bandwidth-bound, so the layout flips relative to prefill: vectors run along the head
// dimension and along keys, every K/V element is converted once and used by all g * Sq
// rows of its head, and one work item walks *all* KV heads of a key range, so each K/V
// tile of the cache ([seq, kv_heads, dim]) is read once, in full, by one thread.
//
// Work item = (batch, KV split). Per K/V tile of block_kv keys and per KV head:
//   convert the head's K and V rows of the tile into an L1-sized f32 buffer, and ask for
//           half the rows of the head-tile decode_prefetch_heads ahead in this walk (software
//           prefetch: the rows of one head are kv_heads * dim elements apart, short runs the
//           hardware prefetcher picks up late)
//   scores  s[r][j] = q_r . k_j        (blocks of L keys, one transposing sum per block),
//           then ask for the other half of the rows prefetched above
//   softmax on s[r][0..n) with vectors along j (running max / sum per row)
//   output  o_r = alpha_r * o_r + sum_j p_rj v_j   (two rows of accumulators at a time)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "pact/attention/flash_driver.hpp"

PACT_NAMESPACE_BEGIN
namespace attention_detail {

/// Rows per KV head up to which the decode kernel is used.
inline constexpr index_t decode_max_rows = 16;

/// How far ahead the decode walk prefetches, in head-tiles of its (tile, head) order. The
/// fill buffers bound a core's software prefetches in flight, so a request pays only if it
/// is issued shortly before its rows are needed. A stand-alone probe of the access pattern
/// (16k tokens, 8 KV heads, 512-byte rows, 1 thread, Intel AMX VM) read 10.3 GB/s with the
/// former target (the same head one whole tile ahead) and 13.5-14 with this one; in the
/// kernel 3, 4 and 6 heads ahead measured within the noise of 2, and 1 was 1.1-1.4x slower
/// for the compact caches.
inline constexpr index_t decode_prefetch_heads = 2;

template <class A, index_t D, class QT, class KS, class VS, class OT>
struct decode_runner {
  using V = simd::vec<float, A>;
  static constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  static constexpr index_t DV = D > 0 ? (D + L - 1) / L : 0;  // vectors per head row (0 = runtime)

  const problem& p;
  tensor_view<const QT, 4> q;
  const KS& ks;
  const VS& vs;
  tensor_view<OT, 4> o;
  split_store parts;
  index_t block_kv;

  index_t items() const noexcept { return p.batch * p.splits; }

  /// s[r][j] = q_r . k_j for j < n and r < rows of one head (k rows of ldk floats, dv
  /// vectors each). Per row, each block of L keys accumulates in L registers (L
  /// independent FMA chains), and one transposing sum turns them into the L scores: no
  /// horizontal sum per key, which cost more than the dot product itself. Lanes past n
  /// of the last block are written as 0 (the caller masks them to -inf); s rows hold
  /// round_up(n, L) floats.
  PACT_ALWAYS_INLINE void scores(const float* kbuf, index_t ldk, index_t n, const float* qrows, index_t ldq, index_t rows,
                                 float* s, index_t lds, index_t dv_rt) const noexcept {
    const index_t dv = DV > 0 ? DV : dv_rt;
    // A compile-time key stride makes the L key rows one base register plus immediate
    // offsets; with a runtime stride GCC kept L row pointers and spilled them to vector
    // registers (a vmovq per load, measured as the hottest instructions of the loop).
    if constexpr (DV > 0) ldk = DV * L;
    for (index_t r = 0; r < rows; ++r) {
      const float* qr = qrows + r * ldq;
      for (index_t j0 = 0; j0 < n; j0 += L) {
        const float* kb = kbuf + j0 * ldk;
        const index_t nj = std::min(L, n - j0);
        V acc[L];
#pragma GCC unroll 16
        for (index_t j = 0; j < L; ++j) acc[j] = simd::zero<float, A>();
        if (nj == L) {
          for (index_t v = 0; v < dv; ++v) {
            const V qv = simd::load<A>(qr + v * L);
#pragma GCC unroll 16
            for (index_t j = 0; j < L; ++j) acc[j] = simd::fma(qv, simd::load<A>(kb + j * ldk + v * L), acc[j]);
          }
        } else {
          for (index_t v = 0; v < dv; ++v) {
            const V qv = simd::load<A>(qr + v * L);
            for (index_t j = 0; j < nj; ++j) acc[j] = simd::fma(qv, simd::load<A>(kb + j * ldk + v * L), acc[j]);
          }
        }
        simd::store(s + r * lds + j0, simd::reduce_add_each(acc));
      }
    }
  }

  /// int8_query: s[r][j] = qscale_r * (q8_r . k_j) for j < n, with q8 the rows' int8 codes
  /// stored as q + 128 (unsigned: dot_u8s8 is vpdpbusd) and k_j the cache's int8 codes
  /// (dim bytes each, contiguous). The + 128 is undone exactly by starting each key's
  /// accumulator at -128 * sum(k_j) per lane; every lane then holds an exact partial
  /// s8 x s8 sum, and |q8 . k| <= 127 * 128 * dim < 2^24 for dim <= 1024, so the float
  /// conversion and the transposing sum are exact too: the integer dot is the result up
  /// to the final multiply. Layout of s as in scores().
  PACT_ALWAYS_INLINE void scores_i8(const std::int8_t* kc, index_t n, const std::uint8_t* q8, index_t rows,
                                    const float* qscale, std::int32_t* corr, float* s, index_t lds,
                                    index_t dim_rt) const noexcept {
    using VI = simd::vec<std::int32_t, A>;
    constexpr index_t L8 = static_cast<index_t>(simd::lanes<std::int8_t, A>);
    const index_t dim = D > 0 ? D : dim_rt;  // a compile-time stride: immediate offsets
    const index_t nv = dim / L8;
    const auto flip = simd::broadcast<A>(std::uint8_t{0x80});
    for (index_t j0 = 0; j0 < n; j0 += L) {
      const index_t nj = std::min(L, n - j0);
      const std::int8_t* kb = kc + j0 * dim;
      for (index_t j = 0; j < nj; ++j) {
        VI c = simd::zero<std::int32_t, A>();
        for (index_t v = 0; v < nv; ++v) c = simd::dot_u8s8(c, flip, simd::load<A>(kb + j * dim + v * L8));
        simd::store(corr + j * L, simd::zero<std::int32_t, A>() - c);
      }
      for (index_t r = 0; r < rows; ++r) {
        const std::uint8_t* qr = q8 + r * dim;
        VI acc[L];
        V f[L];
        if (nj == L) {
#pragma GCC unroll 16
          for (index_t j = 0; j < L; ++j) acc[j] = simd::load<A>(corr + j * L);
          for (index_t v = 0; v < nv; ++v) {
            const auto qv = simd::load<A>(qr + v * L8);
#pragma GCC unroll 16
            for (index_t j = 0; j < L; ++j) acc[j] = simd::dot_u8s8(acc[j], qv, simd::load<A>(kb + j * dim + v * L8));
          }
        } else {
          for (index_t j = 0; j < L; ++j) acc[j] = j < nj ? simd::load<A>(corr + j * L) : simd::zero<std::int32_t, A>();
          for (index_t v = 0; v < nv; ++v) {
            const auto qv = simd::load<A>(qr + v * L8);
            for (index_t j = 0; j < nj; ++j) acc[j] = simd::dot_u8s8(acc[j], qv, simd::load<A>(kb + j * dim + v * L8));
          }
        }
#pragma GCC unroll 16
        for (index_t j = 0; j < L; ++j) f[j] = simd::to_float(acc[j]);
        simd::store(s + r * lds + j0, simd::reduce_add_each(f) * simd::broadcast<A>(qscale[r]));
      }
    }
  }

  /// o_r = alpha_r * o_r + sum_{j<n} p[r][j] * v_j for `rows` rows (1 or 2), dv vectors.
  template <index_t R>
  PACT_ALWAYS_INLINE void accumulate(const float* vbuf, index_t ldv, index_t n, const float* pr, index_t ldp, float* orows,
                                     index_t ldo, const float* alpha, index_t dv_rt) const noexcept {
    const index_t dv = DV > 0 ? DV : dv_rt;
    constexpr index_t C = 8;  // vectors per pass: R * 8 accumulators
    for (index_t c0 = 0; c0 < dv; c0 += C) {
      const index_t nc = std::min(C, dv - c0);
      V acc[R][C];
#pragma GCC unroll 2
      for (index_t r = 0; r < R; ++r) {
        const V a = simd::broadcast<A>(alpha[r]);
#pragma GCC unroll 8
        for (index_t c = 0; c < C; ++c)
          acc[r][c] = c < nc ? simd::load<A>(orows + r * ldo + (c0 + c) * L) * a : simd::zero<float, A>();
      }
      if (nc == C) {
        for (index_t j = 0; j < n; ++j) {
          const float* vj = vbuf + j * ldv + c0 * L;
#pragma GCC unroll 8
          for (index_t c = 0; c < C; ++c) {
            const V x = simd::load<A>(vj + c * L);
#pragma GCC unroll 2
            for (index_t r = 0; r < R; ++r) acc[r][c] = simd::fma(simd::broadcast<A>(pr[r * ldp + j]), x, acc[r][c]);
          }
        }
      } else {
        for (index_t j = 0; j < n; ++j) {
          const float* vj = vbuf + j * ldv + c0 * L;
          for (index_t c = 0; c < nc; ++c) {
            const V x = simd::load<A>(vj + c * L);
            for (index_t r = 0; r < R; ++r) acc[r][c] = simd::fma(simd::broadcast<A>(pr[r * ldp + j]), x, acc[r][c]);
          }
        }
      }
#pragma GCC unroll 2
      for (index_t r = 0; r < R; ++r)
        for (index_t c = 0; c < nc; ++c) simd::store(orows + r * ldo + (c0 + c) * L, acc[r][c]);
    }
  }

  /// int8_probs: o_r = alpha_r * o_r + pscale_r * sum_j p8[r][j] * v8_j for R rows (1 or 2),
  /// with p8 the rows' uint8 weight codes (read 4 keys at a time as one int32 lane pattern)
  /// and vint the tile's V codes four keys per int32 lane: quad q, column c at byte
  /// 4 * (q * dim + c) + t (interleave4_bytes16). The integer sums are exact: a lane adds at
  /// most 255 * 128 * bkv < 2^31 in magnitude, and the float conversion happens once per tile.
  template <index_t R>
  PACT_ALWAYS_INLINE void accumulate_i8(const std::int8_t* vint, index_t nq, const std::uint8_t* p8, index_t ldp8,
                                        float* orows, index_t ldo, const float* alpha, const float* pscale,
                                        index_t dim_rt) const noexcept {
    using VI = simd::vec<std::int32_t, A>;
    constexpr index_t L8 = static_cast<index_t>(simd::lanes<std::int8_t, A>);
    const index_t dim = D > 0 ? D : dim_rt;  // a compile-time stride: immediate offsets
    const index_t dv = dim / L;
    constexpr index_t C = 8;  // vectors per pass: R * 8 int32 accumulators
    for (index_t c0 = 0; c0 < dv; c0 += C) {
      const index_t nc = std::min(C, dv - c0);
      VI acc[R][C];
#pragma GCC unroll 2
      for (index_t r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (index_t c = 0; c < C; ++c) acc[r][c] = simd::zero<std::int32_t, A>();
      for (index_t q4 = 0; q4 < nq; ++q4) {
        const std::int8_t* vq = vint + q4 * 4 * dim + c0 * L8;
        simd::vec<std::uint8_t, A> w[R];
#pragma GCC unroll 2
        for (index_t r = 0; r < R; ++r) {
          std::uint32_t quad;
          std::memcpy(&quad, p8 + r * ldp8 + 4 * q4, sizeof quad);
          w[r] = simd::bitcast<std::uint8_t>(simd::broadcast<A>(quad));
        }
        if (nc == C) {
#pragma GCC unroll 8
          for (index_t c = 0; c < C; ++c) {
            const auto x = simd::load<A>(vq + c * L8);
#pragma GCC unroll 2
            for (index_t r = 0; r < R; ++r) acc[r][c] = simd::dot_u8s8(acc[r][c], w[r], x);
          }
        } else {
          for (index_t c = 0; c < nc; ++c) {
            const auto x = simd::load<A>(vq + c * L8);
            for (index_t r = 0; r < R; ++r) acc[r][c] = simd::dot_u8s8(acc[r][c], w[r], x);
          }
        }
      }
#pragma GCC unroll 2
      for (index_t r = 0; r < R; ++r) {
        const V a = simd::broadcast<A>(alpha[r]);
        const V ps = simd::broadcast<A>(pscale[r]);
        for (index_t c = 0; c < nc; ++c) {
          float* oc = orows + r * ldo + (c0 + c) * L;
          simd::store(oc, simd::fma(simd::to_float(acc[r][c]), ps, simd::load<A>(oc) * a));
        }
      }
    }
  }

  /// int8_probs: each row's tile weights s[r][0..n) (>= 0; zero in the padding up to
  /// round_up(n, L)) as uint8 codes p8[r][j] = round(w_j * 255 / max_j w_j), with
  /// pscale[r] = max_j w_j / 255; codes n..round_up(n, 4) are 0. A row holding NaN gets
  /// pscale NaN, so its output row turns NaN as on the f32 path.
  PACT_ALWAYS_INLINE void quantize_weights(const float* s, index_t lds, index_t n, index_t rows, std::uint8_t* p8,
                                           index_t ldp8, float* pscale) const noexcept {
    const index_t nl = round_up(n, L);
    for (index_t r = 0; r < rows; ++r) {
      const float* sr = s + r * lds;
      std::uint8_t* pr = p8 + r * ldp8;
      V mx = simd::zero<float, A>(), sum = simd::zero<float, A>();  // the sum carries NaN
      for (index_t j = 0; j < nl; j += L) {
        const V x = simd::load<A>(sr + j);
        mx = simd::max(mx, x);
        sum = sum + x;
      }
      const float wmax = simd::reduce_max(mx);
      if (std::isnan(simd::reduce_add(sum))) {
        pscale[r] = std::numeric_limits<float>::quiet_NaN();
        std::memset(pr, 0, static_cast<std::size_t>(round_up(n, index_t{4})));
        continue;
      }
      const V inv = simd::broadcast<A>(wmax > 0.0f ? 255.0f / wmax : 0.0f);
      pscale[r] = wmax / 255.0f;
      for (index_t j = 0; j < nl; j += L)
        simd::store_i32_to_u8(pr + j, simd::to_int32(simd::round_nearest(simd::load<A>(sr + j) * inv)));
      for (index_t j = nl; j < round_up(n, index_t{4}); ++j) pr[j] = 0;  // L < 4 (scalar builds)
    }
  }

  /// int8_query: q8[row][c] = round(q[row][c] * 127 / max|q[row]|) + 128 and qscale[row] =
  /// max|q[row]| / 127 (an all-zero row gets codes 128 and scale 0). Returns false, and the
  /// kernel keeps the f32 path, when a row holds NaN or Inf (their propagation rules then
  /// stay those of the f32 path).
  static bool quantize_query_rows(const float* q, index_t ldq, index_t rows, index_t dim, std::uint8_t* q8,
                                  float* qscale) noexcept {
    for (index_t row = 0; row < rows; ++row) {
      const float* qr = q + row * ldq;
      float amax = 0.0f;
      for (index_t c = 0; c < dim; ++c) {
        const float a = std::fabs(qr[c]);
        if (!(a <= std::numeric_limits<float>::max())) return false;  // NaN or Inf: the f32 path
        amax = std::max(amax, a);
      }
      const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
      qscale[row] = amax / 127.0f;
      for (index_t c = 0; c < dim; ++c) {
        const float code = std::clamp(std::nearbyint(qr[c] * inv), -127.0f, 127.0f);
        q8[row * dim + c] = static_cast<std::uint8_t>(static_cast<int>(code) + 128);
      }
    }
    return true;
  }

  void run(index_t item) const {
    // Local copies of the sources (views: a few pointers and strides). Through the members'
    // references every store to the scratch tiles may alias them, so GCC reloaded the strides
    // and redid the index products for every row of the per-row loops.
    const KS ks = this->ks;
    const VS vs = this->vs;
    const index_t split = item % p.splits;
    const index_t b = item / p.splits;
    const index_t R = p.group * p.sq;  // rows per KV head: r = hh * Sq + t
    const index_t rows_all = p.hkv * R;
    const index_t dpl = round_up(p.dim, L);
    const index_t dv = dpl / L;
    // Keys per tile: one head's converted K and V tile (2 x bkv x dpl floats, 16 KiB at
    // d = 128) stays in L1, and the 2 x bkv rows prefetched per head-tile stay few enough to
    // arrive in time (decode_prefetch_heads). On the Intel AMX VM (16k tokens, d = 128)
    // 16 keys and the new prefetch target took f32 decode from 13.2-13.6 to 10.8-11.7 ms on
    // 1 thread (6.1-7.1 -> 5.4-5.5 ms on 2), compact caches within the noise; 24 keys were
    // 1.2-1.4x slower, 8 keys (half a score vector) 1.5-2x, so a tile holds at least one
    // vector of keys. Converting all heads' tile first (key-major, one sequential stream)
    // measured 1.3-1.6x slower on a Zen 5 core: the 256 KiB f32 copy spilled to L2 and the
    // compute then re-read it from there.
    const index_t bkv = std::min(block_kv, std::max(round_up(L, index_t{8}), (index_t{2048} / dpl) / 8 * 8));
    const index_t lds = round_up(bkv, L);

    // Quantized caches: values are converted without their scales; a per-head scale is
    // folded into q (K) and into the output (V), per-token scales multiply the scores (K)
    // and the probabilities (V) once per key instead of once per value.
    constexpr bool k_scaled = KS::has_scales, v_scaled = VS::has_scales;
    // Unscaled rows come in units of unscaled_unit (FP8: value / 256); these factors (powers
    // of two, so every product below is exactly what the unit-1 rows would give) undo it.
    constexpr float k_unit_inv = [] { if constexpr (k_scaled) return 1.0f / KS::unscaled_unit; else return 1.0f; }();
    constexpr float v_unit_inv = [] { if constexpr (v_scaled) return 1.0f / VS::unscaled_unit; else return 1.0f; }();
    bool k_token_scales = false, v_token_scales = false;
    if constexpr (k_scaled) k_token_scales = !ks.scale_per_head();
    if constexpr (v_scaled) v_token_scales = !vs.scale_per_head();

    // scratch: q [rows_all][dpl], o [rows_all][dpl], m, l, qpos, lo, hi, slope [rows_all],
    // s [R][lds], k/v tile of one head [bkv][dpl], alpha and row sums [R] (room for
    // round_up(R, L)), k/v token scales [kv_heads][lds]
    // int8_query over int8 K codes: q rows as int8 (+ 128) with one scale each, the tile's
    // K codes of one head, and the per-key -128 * sum(k) correction lanes.
    constexpr bool int8_codes = requires(const KS& k) { k.code_row(index_t{}, index_t{}, index_t{}); };
    constexpr index_t L8 = static_cast<index_t>(simd::lanes<std::int8_t, A>);
    bool use_i8 = false;
    if constexpr (int8_codes)
      use_i8 = p.int8_query && ks.codes_contiguous() && p.dim % L8 == 0 && p.dim <= 1024 && (D == 0 || D == p.dim);
    constexpr bool int8_v_codes = requires(const VS& v) { v.code_row(index_t{}, index_t{}, index_t{}); };
    bool use_pv8 = false;
    if constexpr (int8_v_codes)
      use_pv8 = p.int8_probs && vs.codes_contiguous() && p.dim % 16 == 0 && p.dim % L == 0 && (D == 0 || D == p.dim);
    // int8_probs: the tile's V codes interleaved (bkv * dim bytes, bkv a multiple of 8), the
    // rows' weight codes [R][lds] and their scales [R].
    const index_t pv8_floats = use_pv8 ? 16 + ceil_div(bkv * p.dim, index_t{4}) + ceil_div(R * lds, index_t{4}) + R : 0;
    const index_t i8_floats =
        use_i8 ? 16 + round_up(rows_all, L) + bkv * L + ceil_div(bkv * p.dim, index_t{4}) + ceil_div(rows_all * p.dim, index_t{4})
               : 0;
    const index_t RL = round_up(R, L);
    const index_t need = 2 * rows_all * dpl + 6 * rows_all + R * lds + 2 * bkv * dpl + 2 * RL + 2 * p.hkv * lds + L + i8_floats + pv8_floats;
    auto& scratch = thread_scratch();
    scratch.reserve_discard(static_cast<std::size_t>(need));
    float* qbuf = scratch.data();
    float* obuf = qbuf + rows_all * dpl;
    float* m = obuf + rows_all * dpl;
    float* l = m + rows_all;
    float* qpos = l + rows_all;
    float* lo = qpos + rows_all;
    float* hi = lo + rows_all;
    float* slope = hi + rows_all;
    float* s = slope + rows_all;
    float* kbuf = s + R * lds;
    float* vbuf = kbuf + bkv * dpl;
    float* alpha = vbuf + bkv * dpl;
    float* row_sum = alpha + RL;
    float* kscale = row_sum + RL;
    float* vscale = kscale + p.hkv * lds;
    // int8_query buffers (64-byte aligned: the corrections are loaded as whole vectors).
    float* i8_base = vscale + p.hkv * lds;
    float* qscale = reinterpret_cast<float*>(round_up(reinterpret_cast<std::uintptr_t>(i8_base), std::uintptr_t{64}));
    std::int32_t* kcorr = reinterpret_cast<std::int32_t*>(qscale + round_up(rows_all, L));
    std::int8_t* kcodes = reinterpret_cast<std::int8_t*>(kcorr + bkv * L);
    std::uint8_t* q8 = reinterpret_cast<std::uint8_t*>(kcodes + bkv * p.dim);
    float* pv8_base = i8_base + i8_floats;
    std::int8_t* vint = reinterpret_cast<std::int8_t*>(round_up(reinterpret_cast<std::uintptr_t>(pv8_base), std::uintptr_t{64}));
    std::uint8_t* p8 = reinterpret_cast<std::uint8_t*>(vint + bkv * p.dim);
    float* pscale = reinterpret_cast<float*>(p8 + R * lds);  // R * lds is a multiple of 4

    const float inf = std::numeric_limits<float>::infinity();
    const float kv_offset = static_cast<float>(p.skv - p.sq);
    float lo_min = inf, lo_max = -inf, hi_min = inf, hi_max = -inf;
    for (index_t kvh = 0; kvh < p.hkv; ++kvh)
      for (index_t r = 0; r < R; ++r) {
        const index_t row = kvh * R + r;
        const index_t h = kvh * p.group + r / p.sq, t = r % p.sq;
        const float pos = static_cast<float>(t) + kv_offset;
        const bool sink = p.sinks != nullptr && split == 0;
        m[row] = sink ? p.sinks[h] : -inf;
        l[row] = sink ? 1.0f : 0.0f;
        qpos[row] = pos;
        lo[row] = p.win_left < 0 ? -inf : pos - p.win_left;
        hi[row] = p.win_right < 0 ? inf : pos + p.win_right;
        slope[row] = p.slopes ? p.slopes[h] : 0.0f;
        lo_min = std::min(lo_min, lo[row]);
        lo_max = std::max(lo_max, lo[row]);
        hi_min = std::min(hi_min, hi[row]);
        hi_max = std::max(hi_max, hi[row]);
        float* qr = qbuf + row * dpl;
        for (index_t c = 0; c < p.dim; ++c) qr[c] = to_f32(q(b, t, h, c));
        if (p.rope_q) p.rope_q->rotate(qr, static_cast<index_t>(pos));
        float qmul = p.scale;
        if constexpr (k_scaled)
          if (!k_token_scales) qmul *= ks.scale(b, kvh, 0) * k_unit_inv;
        for (index_t c = 0; c < p.dim; ++c) qr[c] *= qmul;
        for (index_t c = p.dim; c < dpl; ++c) qr[c] = 0.0f;
        std::fill(obuf + row * dpl, obuf + (row + 1) * dpl, 0.0f);
      }
    if (use_i8) use_i8 = quantize_query_rows(qbuf, dpl, rows_all, p.dim, q8, qscale);
    index_t s_lo = split * p.split_len, s_hi = std::min(p.skv, (split + 1) * p.split_len);
    if (lo_min > -inf) s_lo = std::max(s_lo, static_cast<index_t>(std::max(0.0f, lo_min)));
    if (hi_max < inf) s_hi = std::min(s_hi, static_cast<index_t>(std::max(-1.0f, hi_max)) + 1);

    row_block fake{};  // tile classification over all rows
    fake.lo_min = lo_min;
    fake.lo_max = lo_max;
    fake.hi_min = hi_min;
    fake.hi_max = hi_max;
    const V neg_inf = simd::broadcast<A>(-inf);
    V iota;
    {
      alignas(64) float ramp[64];
      for (index_t i = 0; i < L; ++i) ramp[i] = static_cast<float>(i);
      iota = simd::load<A>(ramp);
    }
    const V zero = simd::zero<float, A>();
    for (index_t j0 = s_lo; j0 < s_hi; j0 += bkv) {
      const index_t n = std::min(bkv, s_hi - j0);
      const tile_visibility vis = classify_tile(fake, j0, n);
      if (vis == tile_visibility::none) continue;
      const bool partial = vis == tile_visibility::partial;
      // Per-token scales of the tile, padded with 1 (padding scores stay -inf, not NaN).
      if constexpr (k_scaled)
        if (k_token_scales)
          for (index_t kvh = 0; kvh < p.hkv; ++kvh) {
            ks.token_scales(b, kvh, j0, n, kscale + kvh * lds);
            if constexpr (k_unit_inv != 1.0f)
              for (index_t j = 0; j < n; ++j) kscale[kvh * lds + j] *= k_unit_inv;
            std::fill(kscale + kvh * lds + n, kscale + (kvh + 1) * lds, 1.0f);
          }
      if constexpr (v_scaled)
        if (v_token_scales)
          for (index_t kvh = 0; kvh < p.hkv; ++kvh) {
            vs.token_scales(b, kvh, j0, n, vscale + kvh * lds);
            if constexpr (v_unit_inv != 1.0f)
              for (index_t j = 0; j < n; ++j) vscale[kvh * lds + j] *= v_unit_inv;
            std::fill(vscale + kvh * lds + n, vscale + (kvh + 1) * lds, 1.0f);
          }
      for (index_t kvh = 0; kvh < p.hkv; ++kvh) {
        // This head's rows of the tile, and a request for the rows of the head-tile
        // decode_prefetch_heads ahead (a later head of this tile, or an early head of the
        // next), which then arrive while this head and the next are computed.
        const index_t pf_ahead = kvh + decode_prefetch_heads;
        const index_t pf_h = pf_ahead % p.hkv, pf_j0 = j0 + (pf_ahead / p.hkv) * bkv;
        const index_t pf_n = pf_j0 < s_hi ? std::min(bkv, s_hi - pf_j0) : 0;
        // Half of those rows are requested beside this head's row copies, the other half
        // after its scores: one burst of all of them waited on the fill buffers in the copy
        // loop (stop 30: 16k tokens, cold, 1 thread, f32 10.8 -> 10.2 ms, bf16 6.9 -> 6.65,
        // int8 with both integer options 3.9 -> 3.6).
        const index_t pf_early = std::min(n, pf_n / 2);
        auto prefetch_rows = [&](index_t j_begin, index_t j_end) PACT_ALWAYS_INLINE_LAMBDA {
          for (index_t j = j_begin; j < j_end; ++j) {
            ks.prefetch_row(b, pf_h, pf_j0 + j);
            vs.prefetch_row(b, pf_h, pf_j0 + j);
          }
        };
        for (index_t j = 0; j < n; ++j) {
          if (j < pf_early) prefetch_rows(j, j + 1);
          bool copied = false;
          if constexpr (int8_codes) {
            if (use_i8) {
              // A compile-time size: an inline copy of two registers, not a libc call per row.
              constexpr std::size_t d_fixed = D > 0 ? static_cast<std::size_t>(D) : 0;
              std::memcpy(kcodes + j * p.dim, ks.code_row(b, kvh, j0 + j), d_fixed > 0 ? d_fixed : static_cast<std::size_t>(p.dim));
              copied = true;
            }
          }
          if (!copied) ks.template row<A, D, false>(b, kvh, j0 + j, kbuf + j * dpl, dpl);
          if (!use_pv8) vs.template row<A, D, false>(b, kvh, j0 + j, vbuf + j * dpl, dpl);
        }
        if constexpr (int8_v_codes) {
          // Quads of keys past n repeat key j0 (any valid row): their weight codes are 0.
          if (use_pv8)
            for (index_t q4 = 0; q4 * 4 < n; ++q4) {
              const std::int8_t* quad[4];
              for (index_t t = 0; t < 4; ++t) quad[t] = vs.code_row(b, kvh, j0 + (4 * q4 + t < n ? 4 * q4 + t : 0));
              index_t c = 0;
              for (; c + 64 <= p.dim; c += 64) {
                const std::int8_t* cols[4] = {quad[0] + c, quad[1] + c, quad[2] + c, quad[3] + c};
                simd::interleave4_bytes64<A>(cols, vint + q4 * 4 * p.dim + 4 * c);
              }
              for (; c < p.dim; c += 16) {
                const std::int8_t* cols[4] = {quad[0] + c, quad[1] + c, quad[2] + c, quad[3] + c};
                simd::interleave4_bytes16<A>(cols, vint + q4 * 4 * p.dim + 4 * c);
              }
            }
        }
        const f32_rows kt{kbuf, dpl};
        const f32_rows vt{vbuf, dpl};
        const index_t row0 = kvh * R;
        bool scored = false;
        if constexpr (int8_codes) {
          if (use_i8) {
            scores_i8(kcodes, n, q8 + row0 * p.dim, R, qscale + row0, kcorr, s, lds, p.dim);
            scored = true;
          }
        }
        if (!scored) scores(kt.ptr, kt.row_stride, n, qbuf + row0 * dpl, dpl, R, s, lds, dv);
        prefetch_rows(pf_early, pf_n);
        // Online softmax per row, vectors along keys.
        for (index_t r = 0; r < R; ++r) {
          const index_t row = row0 + r;
          const index_t h = kvh * p.group + r / p.sq, t = r % p.sq;
          float* sr = s + r * lds;
          for (index_t j = n; j < round_up(n, L); ++j) sr[j] = -inf;
          const bool transform = partial || p.logits.softcap > 0.0f || p.slopes || p.has_mask;
          V mx = neg_inf;
          const V cap = simd::broadcast<A>(p.logits.softcap);
          const V inv_cap = simd::broadcast<A>(p.logits.softcap > 0.0f ? 1.0f / p.logits.softcap : 0.0f);
          const float* mrow = p.has_mask ? &p.mask(p.mask.extent(0) == 1 ? 0 : b, p.mask.extent(1) == 1 ? 0 : h, t, 0) : nullptr;
          for (index_t j = 0; j < n; j += L) {
            V x = simd::load<A>(sr + j);
            if constexpr (k_scaled)
              if (k_token_scales) {
                x = x * simd::load<A>(kscale + kvh * lds + j);
                if (!transform) simd::store(sr + j, x);
              }
            if (transform) {
              const V kpos = iota + simd::broadcast<A>(static_cast<float>(j0 + j));
              if (p.logits.softcap > 0.0f) x = cap * simd::tanh(x * inv_cap);
              if (p.slopes) x = x - simd::broadcast<A>(slope[row]) * simd::abs(simd::broadcast<A>(qpos[row]) - kpos);
              if (mrow) {
                alignas(64) float mb[64];
                const index_t cnt = std::min(L, n - j);
                for (index_t e = 0; e < L; ++e) mb[e] = e < cnt ? mrow[(j0 + j + e) * p.mask.stride(3)] : 0.0f;
                x = x + simd::load<A>(mb);
              }
              if (partial) {
                x = simd::select(simd::cmp_lt(kpos, simd::broadcast<A>(lo[row])), neg_inf, x);
                x = simd::select(simd::cmp_gt(kpos, simd::broadcast<A>(hi[row])), neg_inf, x);
              }
              if (j + L > n) {  // keep the padding lanes at -inf
                const V limit = simd::broadcast<A>(static_cast<float>(j0 + n));
                x = simd::select(simd::cmp_ge(kpos, limit), neg_inf, x);
              }
              simd::store(sr + j, x);
            }
            mx = simd::max(mx, x);
          }
          const float m_old = m[row];
          const float m_new = std::max(m_old, simd::reduce_max(mx));
          // NaN scores: reduce_max may drop them; exp(NaN - m) below still carries them.
          const float m_use = m_new == -inf ? 0.0f : m_new;
          const V mu = simd::broadcast<A>(m_use);
          V sum = zero;
          for (index_t j = 0; j < n; j += L) {
            const V e = simd::exp(simd::load<A>(sr + j) - mu);
            sum = sum + e;
            if constexpr (v_scaled)
              if (v_token_scales) {
                simd::store(sr + j, e * simd::load<A>(vscale + kvh * lds + j));
                continue;
              }
            simd::store(sr + j, e);
          }
          alpha[r] = m_old - m_use;  // exponentiated for all rows at once below
          row_sum[r] = simd::reduce_add(sum);
          m[row] = m_new;
        }
        // One vector exp for the rows' rescale factors instead of a libm call per row and
        // tile, around which GCC spilled the live vector registers.
        for (index_t r = 0; r < R; r += L) {
          const auto cnt = static_cast<std::size_t>(std::min(L, R - r));
          simd::store_partial(alpha + r, simd::exp(simd::load_partial<A>(alpha + r, cnt)), cnt);
        }
        for (index_t r = 0; r < R; ++r) l[row0 + r] = l[row0 + r] * alpha[r] + row_sum[r];
        if (use_pv8) {
          quantize_weights(s, lds, n, R, p8, lds, pscale);
          const index_t nq = ceil_div(n, index_t{4});
          index_t r = 0;
          for (; r + 2 <= R; r += 2)
            accumulate_i8<2>(vint, nq, p8 + r * lds, lds, obuf + (row0 + r) * dpl, dpl, alpha + r, pscale + r, p.dim);
          if (r < R) accumulate_i8<1>(vint, nq, p8 + r * lds, lds, obuf + (row0 + r) * dpl, dpl, alpha + r, pscale + r, p.dim);
          continue;
        }
        index_t r = 0;
        for (; r + 2 <= R; r += 2)
          accumulate<2>(vt.ptr, vt.row_stride, n, s + r * lds, lds, obuf + (row0 + r) * dpl, dpl, alpha + r, dv);
        if (r < R) accumulate<1>(vt.ptr, vt.row_stride, n, s + r * lds, lds, obuf + (row0 + r) * dpl, dpl, alpha + r, dv);
      }
    }

    for (index_t row = 0; row < rows_all; ++row) {
      const index_t kvh = row / R, r = row % R;
      const index_t h = kvh * p.group + r / p.sq, t = r % p.sq;
      float* orow = obuf + row * dpl;
      if constexpr (v_scaled)
        if (!v_token_scales) {
          const float vs_head = vs.scale(b, kvh, 0) * v_unit_inv;
          for (index_t c = 0; c < p.dim; ++c) orow[c] *= vs_head;
        }
      if (p.splits == 1) {
        const float inv = l[row] == 0.0f ? 0.0f : 1.0f / l[row];
        for (index_t c = 0; c < p.dim; ++c) o(b, t, h, c) = from_f32<OT>(orow[c] * inv);
      } else {
        float* rec = parts.data + (((b * p.hq + h) * p.sq + t) * p.splits + split) * parts.stride;
        for (index_t c = 0; c < p.dim; ++c) rec[c] = orow[c];
        rec[p.dim] = m[row];
        rec[p.dim + 1] = l[row];
      }
    }
  }
};

}  // namespace attention_detail
PACT_NAMESPACE_END
