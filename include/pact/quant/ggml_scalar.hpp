#pragma once
// Scalar quantizers and dequantizers for the ggml block formats: the specification the SIMD
// paths (quant/ggml.hpp) must reproduce bit for bit, and byte-identical to ggml's
// reference quantizers (quantize_row_*_ref in ggml-quants.c) evaluated in IEEE float32
// with every operation rounded separately (no FMA contraction; see detail/float_ops.hpp).
// The algorithms are re-derived from ggml's public source; the rules per format:
//
//   Q8_0   amax = max |x|; d = amax / 127; id = d ? 1/d : 0; q = roundf(x * id)
//          (round half away from zero). Stored d = fp16(d) (round to nearest even).
//   Q4_0   m = the first element of largest |x| (sign kept); d = m / -8; id = d ? 1/d : 0;
//          q = min(15, trunc(x * id + 8.5)).
//   Q4_1   lo = min x, hi = max x; d = (hi - lo) / 15; id = d ? 1/d : 0;
//          q = min(15, trunc((x - lo) * id + 0.5)); stored d = fp16(d), m = fp16(lo).
//   MXFP4  amax = max |x|; e = amax > 0 ? floor(log2f(amax)) - 2 + 127 : 0 (the platform's
//          log2f, as ggml); each element -> the code whose value kvalues[c] * 2^(e-128) is
//          nearest, the lowest code winning ties (so ties go toward the smaller magnitude,
//          +0 beats -0).
//   Q8_K   m = first element of largest |x|; all-zero block -> d = 0, q = 0, bsums = 0;
//          else iscale = -127 / m, q = min(127, nearest_even(iscale * x)), d = 1 / iscale,
//          bsums = sums of 16 consecutive q.
//   Q4_K   ggml's make_qkx2_quants per 32-element sub-block (weights av_x + |x|, 21 trial
//          scales from (nmax - 1 + 0.1 i) / (max - min)), 6-bit scales/mins relative to the
//          block maxima, then requantization against the stored fp16 d, dmin.
//   Q6_K   ggml's make_qx_quants(16, 32, rmse_type = 1) per 16-element sub-block (18 trial
//          scales), int8 sub-block scales relative to the block's largest |scale| (-128/max),
//          then requantization against the stored fp16 d.
//
// Non-finite input (NaN, +-Inf) never causes undefined behaviour here: every float->int
// step is clamped (NaN -> 0). The bytes produced for such blocks are unspecified; the
// checked entry points in quant/ggml.hpp reject non-finite input with errc::invalid_data.
// One deliberate deviation from ggml, where ggml's own behaviour is undefined (a float
// outside the target range converted to an integer): MXFP4 blocks with amax < 2^-125 get
// e = 0 (clamped) instead of a wrapped exponent byte.

#include <pact/quant/detail/float_ops.hpp>
#include <pact/quant/formats/ggml_blocks.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

PACT_NAMESPACE_BEGIN
namespace quant::scalar {

using detail::no_contract;

// ---------------------------------------------------------------- Q8_0

inline void quantize_block(const float* x, block_q8_0& y) noexcept {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;
  }
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  y.d = fp16(d);
  for (int j = 0; j < 32; ++j) {
    y.qs[j] = static_cast<std::int8_t>(detail::round_away_clamp(x[j] * id, -128, 127));
  }
}

inline void dequantize_block(const block_q8_0& b, float* y) noexcept {
  const float d = static_cast<float>(b.d);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(b.qs[j]) * d;
}

// ---------------------------------------------------------------- Q4_0

/// The first element of largest magnitude, sign kept (0 for an all-zero block).
inline float signed_absmax(const float* x, int n) noexcept {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < n; ++j) {
    const float a = std::fabs(x[j]);
    if (amax < a) {
      amax = a;
      max = x[j];
    }
  }
  return max;
}

inline void quantize_block(const float* x, block_q4_0& y) noexcept {
  const float max = signed_absmax(x, 32);
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  y.d = fp16(d);
  for (int j = 0; j < 16; ++j) {
    const int lo = detail::trunc_clamp(no_contract(x[j] * id) + 8.5f, 0, 15);
    const int hi = detail::trunc_clamp(no_contract(x[j + 16] * id) + 8.5f, 0, 15);
    y.qs[j] = static_cast<std::uint8_t>(lo | (hi << 4));
  }
}

inline void dequantize_block(const block_q4_0& b, float* y) noexcept {
  const float d = static_cast<float>(b.d);
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>((b.qs[j] & 0xF) - 8) * d;
    y[j + 16] = static_cast<float>((b.qs[j] >> 4) - 8) * d;
  }
}

// ---------------------------------------------------------------- Q4_1

inline void quantize_block(const float* x, block_q4_1& y) noexcept {
  float lo = 3.402823466e+38f;
  float hi = -3.402823466e+38f;
  for (int j = 0; j < 32; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  const float d = (hi - lo) / 15.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  y.d = fp16(d);
  y.m = fp16(lo);
  for (int j = 0; j < 16; ++j) {
    const int q0 = detail::trunc_clamp(no_contract((x[j] - lo) * id) + 0.5f, 0, 15);
    const int q1 = detail::trunc_clamp(no_contract((x[j + 16] - lo) * id) + 0.5f, 0, 15);
    y.qs[j] = static_cast<std::uint8_t>(q0 | (q1 << 4));
  }
}

inline void dequantize_block(const block_q4_1& b, float* y) noexcept {
  const float d = static_cast<float>(b.d);
  const float m = static_cast<float>(b.m);
  for (int j = 0; j < 16; ++j) {
    y[j] = no_contract(static_cast<float>(b.qs[j] & 0xF) * d) + m;
    y[j + 16] = no_contract(static_cast<float>(b.qs[j] >> 4) * d) + m;
  }
}

// ---------------------------------------------------------------- MXFP4 (ggml)

/// 2^(e - 128) exactly (ggml's GGML_E8M0_TO_FP32_HALF).
constexpr float e8m0_half(std::uint8_t e) noexcept { return detail::exp2_int(static_cast<int>(e) - 128); }

/// Code c in [0, 16) minimizing |kvalues[c] * d - v|, the lowest c on ties.
inline std::uint8_t nearest_mxfp4_code(float v, float d) noexcept {
  int best = 0;
  float best_err = std::fabs(no_contract(static_cast<float>(kvalues_mxfp4[0]) * d) - v);
  for (int c = 1; c < 16; ++c) {
    const float err = std::fabs(no_contract(static_cast<float>(kvalues_mxfp4[c]) * d) - v);
    if (err < best_err) {
      best = c;
      best_err = err;
    }
  }
  return static_cast<std::uint8_t>(best);
}

/// ggml's exponent byte for a block maximum.
inline std::uint8_t mxfp4_exponent(float amax) noexcept {
  if (!(amax > 0.0f)) return 0;
  if (!(amax <= 3.402823466e+38f)) return 0xFF;  // Inf (never for finite input)
  const float e = std::floor(std::log2(amax)) - 2.0f + 127.0f;
  return static_cast<std::uint8_t>(e < 0.0f ? 0.0f : e);  // e <= 252 for finite amax
}

inline void quantize_block(const float* x, block_mxfp4& y) noexcept {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) {
    const float a = std::fabs(x[j]);
    if (amax < a) amax = a;
  }
  const std::uint8_t e = mxfp4_exponent(amax);
  const float d = e8m0_half(e == 0xFF ? std::uint8_t{254} : e);
  y.e = e8m0::from_bits(e);
  for (int j = 0; j < 16; ++j) {
    y.qs[j] = static_cast<std::uint8_t>(nearest_mxfp4_code(x[j], d) |
                                        (nearest_mxfp4_code(x[j + 16], d) << 4));
  }
}

inline void dequantize_block(const block_mxfp4& b, float* y) noexcept {
  // 0xFF (NaN scale) decodes to NaN, like an OCP MX block.
  const float d = b.e.is_nan() ? std::bit_cast<float>(0x7FC00000u) : e8m0_half(b.e.bits);
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>(kvalues_mxfp4[b.qs[j] & 0xF]) * d;
    y[j + 16] = static_cast<float>(kvalues_mxfp4[b.qs[j] >> 4]) * d;
  }
}

// ---------------------------------------------------------------- Q8_K

inline void quantize_block(const float* x, block_q8_K& y) noexcept {
  const float max = signed_absmax(x, 256);
  if (max == 0.0f) {
    y.d = 0.0f;
    std::memset(y.qs, 0, sizeof y.qs);
    std::memset(y.bsums, 0, sizeof y.bsums);
    return;
  }
  const float iscale = -127.0f / max;
  for (int j = 0; j < 256; ++j) {
    const int v = detail::nearest_int_magic(no_contract(iscale * x[j]));
    y.qs[j] = static_cast<std::int8_t>(v > 127 ? 127 : (v < -128 ? -128 : v));
  }
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += y.qs[16 * g + i];
    y.bsums[g] = static_cast<std::int16_t>(sum);
  }
  y.d = 1.0f / iscale;
}

inline void dequantize_block(const block_q8_K& b, float* y) noexcept {
  for (int j = 0; j < 256; ++j) y[j] = b.d * static_cast<float>(b.qs[j]);
}

// ---------------------------------------------------------------- Q4_K

/// Sub-block s's 6-bit scale and min from the packed 12 bytes (layout in ggml_blocks.hpp).
inline void q4_K_scale_min(int s, const std::uint8_t* q, std::uint8_t& sc, std::uint8_t& m) noexcept {
  if (s < 4) {
    sc = static_cast<std::uint8_t>(q[s] & 63);
    m = static_cast<std::uint8_t>(q[s + 4] & 63);
  } else {
    sc = static_cast<std::uint8_t>((q[s + 4] & 0xF) | ((q[s - 4] >> 6) << 4));
    m = static_cast<std::uint8_t>((q[s + 4] >> 4) | ((q[s] >> 6) << 4));
  }
}

namespace detail_k {

inline int clamp_int(int v, int lo, int hi) noexcept { return v < lo ? lo : (v > hi ? hi : v); }

/// nearest_int(v) for a value the quantizer may have pushed out of range (NaN/Inf input,
/// or a degenerate block): clamp first so the magic-number trick stays defined.
inline int nearest_int_safe(float v) noexcept {
  if (!(v == v)) return 0;
  if (v > 4194303.f) v = 4194303.f;
  if (v < -4194303.f) v = -4194303.f;
  return pact::quant::detail::nearest_int_magic(v);
}

/// ggml's make_qkx2_quants: fit x ~ scale * L + min (min <= 0) with L in [0, nmax],
/// weighted least squares over nstep + 1 trial inverse scales. Returns scale, sets
/// *the_min = -min.
inline float make_qkx2_quants(int n, int nmax, const float* x, const float* weights,
                              std::uint8_t* L, float* the_min, std::uint8_t* Laux, float rmin,
                              float rdelta, int nstep) noexcept {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = no_contract(sum_w * x[0]);
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += no_contract(w * x[i]);
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.f;
  }
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int_safe(no_contract(iscale * (x[i] - min)));
    L[i] = static_cast<std::uint8_t>(clamp_int(l, 0, nmax));
    float diff = no_contract(scale * static_cast<float>(L[i])) + min - x[i];
    diff = diff * diff;
    best_error += no_contract(weights[i] * diff);
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + no_contract(rdelta * static_cast<float>(is)) + static_cast<float>(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int_safe(no_contract(iscale * (x[i] - min))), 0, nmax);
      Laux[i] = static_cast<std::uint8_t>(l);
      const float w = weights[i];
      const float fl = static_cast<float>(l);
      sum_l += no_contract(w * fl);
      sum_l2 += no_contract(w * fl * fl);
      sum_xl += no_contract(w * fl * x[i]);
    }
    const float D = no_contract(sum_w * sum_l2) - no_contract(sum_l * sum_l);
    if (D > 0) {
      float this_scale = (no_contract(sum_w * sum_xl) - no_contract(sum_x * sum_l)) / D;
      float this_min = (no_contract(sum_l2 * sum_x) - no_contract(sum_l * sum_xl)) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = no_contract(this_scale * static_cast<float>(Laux[i])) + this_min - x[i];
        diff = diff * diff;
        cur_error += no_contract(weights[i] * diff);
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

/// ggml's make_qx_quants with rmse_type = 1 and no importance weights: symmetric
/// L in [0, 2 nmax) (stored with +nmax), weights x^2, 19 trial scales.
inline float make_qx_quants_rmse1(int n, int nmax, const float* x, std::int8_t* L) noexcept {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < 1e-15f) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  const float fnmax = static_cast<float>(nmax);
  float iscale = -fnmax / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest_int_safe(no_contract(iscale * x[i])), -nmax, nmax - 1);
    L[i] = static_cast<std::int8_t>(l + nmax);
    const float w = x[i] * x[i];
    const float fl = static_cast<float>(l);
    sumlx += no_contract(w * x[i] * fl);
    suml2 += no_contract(w * fl * fl);
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(fnmax + no_contract(0.1f * static_cast<float>(is))) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int_safe(no_contract(iscale * x[i])), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      const float fl = static_cast<float>(l);
      sumlx += no_contract(w * x[i] * fl);
      suml2 += no_contract(w * fl * fl);
    }
    if (suml2 > 0 && no_contract(sumlx * sumlx) > no_contract(best * suml2)) {
      for (int i = 0; i < n; ++i) {
        const int l = clamp_int(nearest_int_safe(no_contract(iscale * x[i])), -nmax, nmax - 1);
        L[i] = static_cast<std::int8_t>(nmax + l);
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

}  // namespace detail_k

inline void quantize_block(const float* x, block_q4_K& y) noexcept {
  std::uint8_t L[256];
  std::uint8_t Laux[32];
  float weights[32];
  float mins[8];
  float scales[8];
  float max_scale = 0;
  float max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += no_contract(xs[l] * xs[l]);
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = detail_k::make_qkx2_quants(32, 15, xs, weights, L + 32 * j, &mins[j], Laux, -1.f,
                                           0.1f, 20);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  std::memset(y.scales, 0, sizeof y.scales);
  for (int j = 0; j < 8; ++j) {
    // ggml stores nearest_int into a uint8_t (wrapping) before clamping to 63.
    auto ls = static_cast<std::uint8_t>(detail_k::nearest_int_safe(no_contract(inv_scale * scales[j])));
    auto lm = static_cast<std::uint8_t>(detail_k::nearest_int_safe(no_contract(inv_min * mins[j])));
    ls = ls < 63 ? ls : 63;
    lm = lm < 63 ? lm : 63;
    if (j < 4) {
      y.scales[j] = ls;
      y.scales[j + 4] = lm;
    } else {
      y.scales[j + 4] = static_cast<std::uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      y.scales[j - 4] = static_cast<std::uint8_t>(y.scales[j - 4] | ((ls >> 4) << 6));
      y.scales[j] = static_cast<std::uint8_t>(y.scales[j] | ((lm >> 4) << 6));
    }
  }
  y.d = fp16(max_scale / 63.f);
  y.dmin = fp16(max_min / 63.f);
  const float dd = static_cast<float>(y.d);
  const float dmin = static_cast<float>(y.dmin);
  for (int j = 0; j < 8; ++j) {
    std::uint8_t sc, m;
    q4_K_scale_min(j, y.scales, sc, m);
    const float d = dd * static_cast<float>(sc);
    if (d == 0.0f) continue;
    const float dm = no_contract(dmin * static_cast<float>(m));
    for (int i = 0; i < 32; ++i) {
      const int l = detail_k::nearest_int_safe((x[32 * j + i] + dm) / d);
      L[32 * j + i] = static_cast<std::uint8_t>(detail_k::clamp_int(l, 0, 15));
    }
  }
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      y.qs[32 * c + l] = static_cast<std::uint8_t>(L[64 * c + l] | (L[64 * c + l + 32] << 4));
    }
  }
}

inline void dequantize_block(const block_q4_K& b, float* y) noexcept {
  const float d = static_cast<float>(b.d);
  const float dmin = static_cast<float>(b.dmin);
  for (int c = 0; c < 4; ++c) {
    std::uint8_t sc, m;
    q4_K_scale_min(2 * c, b.scales, sc, m);
    const float d1 = d * static_cast<float>(sc);
    const float m1 = dmin * static_cast<float>(m);
    q4_K_scale_min(2 * c + 1, b.scales, sc, m);
    const float d2 = d * static_cast<float>(sc);
    const float m2 = dmin * static_cast<float>(m);
    const std::uint8_t* q = b.qs + 32 * c;
    for (int l = 0; l < 32; ++l) y[64 * c + l] = no_contract(d1 * static_cast<float>(q[l] & 0xF)) - m1;
    for (int l = 0; l < 32; ++l) y[64 * c + 32 + l] = no_contract(d2 * static_cast<float>(q[l] >> 4)) - m2;
  }
}

// ---------------------------------------------------------------- Q6_K

inline void quantize_block(const float* x, block_q6_K& y) noexcept {
  std::int8_t L[256];
  float scales[16];
  float max_scale = 0;
  float max_abs_scale = 0;
  for (int ib = 0; ib < 16; ++ib) {
    const float scale = detail_k::make_qx_quants_rmse1(16, 32, x + 16 * ib, L + 16 * ib);
    scales[ib] = scale;
    const float abs_scale = std::fabs(scale);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scale;
    }
  }
  if (max_abs_scale < 1e-15f) {
    std::memset(&y, 0, sizeof y);
    return;
  }
  const float iscale = -128.f / max_scale;
  y.d = fp16(1 / iscale);
  for (int ib = 0; ib < 16; ++ib) {
    const int s = detail_k::nearest_int_safe(no_contract(iscale * scales[ib]));
    y.scales[ib] = static_cast<std::int8_t>(detail_k::clamp_int(s, -128, 127));
  }
  const float dd = static_cast<float>(y.d);
  for (int j = 0; j < 16; ++j) {
    const float d = dd * static_cast<float>(y.scales[j]);
    if (d == 0.0f) continue;
    for (int i = 0; i < 16; ++i) {
      const int l = detail_k::clamp_int(detail_k::nearest_int_safe(x[16 * j + i] / d), -32, 31);
      L[16 * j + i] = static_cast<std::int8_t>(l + 32);
    }
  }
  for (int h = 0; h < 2; ++h) {
    const std::int8_t* Lh = L + 128 * h;
    std::uint8_t* ql = y.ql + 64 * h;
    std::uint8_t* qh = y.qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      const int q1 = Lh[l] & 0xF, q2 = Lh[l + 32] & 0xF, q3 = Lh[l + 64] & 0xF, q4 = Lh[l + 96] & 0xF;
      ql[l] = static_cast<std::uint8_t>(q1 | (q3 << 4));
      ql[l + 32] = static_cast<std::uint8_t>(q2 | (q4 << 4));
      qh[l] = static_cast<std::uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                        ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
    }
  }
}

inline void dequantize_block(const block_q6_K& b, float* y) noexcept {
  const float d = static_cast<float>(b.d);
  for (int h = 0; h < 2; ++h) {
    const std::uint8_t* ql = b.ql + 64 * h;
    const std::uint8_t* qh = b.qh + 32 * h;
    const std::int8_t* sc = b.scales + 8 * h;
    float* yh = y + 128 * h;
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      yh[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      yh[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      yh[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      yh[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
  }
}

// ---------------------------------------------------------------- rows

/// Quantize n_blocks consecutive blocks from x (n_blocks * Block::elems floats).
template <class Block>
void quantize_blocks(const float* x, Block* y, std::size_t n_blocks) noexcept {
  for (std::size_t b = 0; b < n_blocks; ++b) quantize_block(x + b * Block::elems, y[b]);
}
template <class Block>
void dequantize_blocks(const Block* x, float* y, std::size_t n_blocks) noexcept {
  for (std::size_t b = 0; b < n_blocks; ++b) dequantize_block(x[b], y + b * Block::elems);
}

}  // namespace quant::scalar
PACT_NAMESPACE_END
