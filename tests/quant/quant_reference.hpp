#pragma once
// Test-only, independent references for pact's quantizers, written from the format
// descriptions (ggml-quants.c's reference quantizers, the OCP MX v1.0 text, DeepSeek-V3's
// FP8 recipe) as plain loops. Deliberately different from include/pact/quant:
//   - every float32 operation result is forced through `rnd()` (a volatile store), instead of
//     the library's asm barrier, so no FMA contraction can happen;
//   - fp16 / fp8 / fp6 / fp4 encodings come from tests/types/ref_float_formats.hpp (a sorted
//     table of every value, nearest by double distance, ties to the even code);
//   - MX elements are chosen by exhaustive nearest search over all codes in double;
//   - dequantization is done in double and rounded once where the library rounds once.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "types/ref_float_formats.hpp"

namespace qref {

// Where ggml's reference converts an out-of-range float to an integer (undefined in C), pact
// documents a saturating conversion: NaN -> 0, otherwise clamp into [lo, hi] first.
inline int saturate(float v, int lo, int hi, bool round_away) {
  if (std::isnan(v)) return std::clamp(0, lo, hi);
  if (v <= static_cast<float>(lo)) return lo;
  if (v >= static_cast<float>(hi)) return hi;
  return round_away ? static_cast<int>(std::lround(v)) : static_cast<int>(v);
}

inline float rnd(float v) {
  volatile float t = v;
  return t;
}
inline float mul(float a, float b) { return rnd(a * b); }
inline float add(float a, float b) { return rnd(a + b); }
inline float sub(float a, float b) { return rnd(a - b); }

inline std::uint16_t fp16_bits(float x) {
  static const ref::nearest_encoder table(ref::fp16_format);
  const auto r = ref::round_to_format(table, x);
  const std::uint32_t sign = r.negative ? 0x8000u : 0u;
  if (r.is_nan) return 0x7E00;
  if (r.code > ref::fp16_format.max_finite_code) return static_cast<std::uint16_t>(sign | 0x7C00u);
  return static_cast<std::uint16_t>(sign | r.code);
}
inline float fp16_value(std::uint16_t bits) {
  if ((bits & 0x7C00u) == 0x7C00u) return (bits & 0x3FF) ? NAN : ((bits & 0x8000) ? -INFINITY : INFINITY);
  return static_cast<float>(ref::value(ref::fp16_format, bits));
}
inline float fp16_round(float x) { return fp16_value(fp16_bits(x)); }

// Fixed-size byte writer (little-endian), so the block image is built by index.
struct writer {
  std::vector<std::uint8_t> bytes;
  std::size_t pos = 0;
  explicit writer(std::size_t n) : bytes(n, 0) {}
  void u8(unsigned v) { bytes.at(pos++) = static_cast<std::uint8_t>(v & 0xFF); }
  void u16(unsigned v) { u8(v); u8(v >> 8); }
};

// ---------------- Q8_0: 2 bytes fp16 d, 32 int8 ----------------
inline std::vector<std::uint8_t> q8_0(const float* x) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = rnd(amax / 127.0f);
  const float id = d != 0 ? rnd(1.0f / d) : 0.0f;
  writer w(34);
  w.u16(fp16_bits(d));
  for (int j = 0; j < 32; ++j) w.u8(static_cast<std::uint8_t>(static_cast<std::int8_t>(saturate(mul(x[j], id), -128, 127, true))));
  return w.bytes;
}

// ---------------- Q4_0 ----------------
inline int first_absmax_index(const float* x, int n) {
  int best = -1;
  float amax = 0;
  for (int j = 0; j < n; ++j)
    if (std::fabs(x[j]) > amax) { amax = std::fabs(x[j]); best = j; }
  return best;
}
inline std::vector<std::uint8_t> q4_0(const float* x) {
  const int i = first_absmax_index(x, 32);
  const float max = i < 0 ? 0.0f : x[i];
  const float d = rnd(max / -8.0f);
  const float id = d != 0 ? rnd(1.0f / d) : 0.0f;
  writer w(18);
  w.u16(fp16_bits(d));
  int q[32];
  for (int j = 0; j < 32; ++j) q[j] = saturate(add(mul(x[j], id), 8.5f), 0, 15, false);
  for (int j = 0; j < 16; ++j) w.u8(static_cast<unsigned>(q[j] + 16 * q[j + 16]));
  return w.bytes;
}

// ---------------- Q4_1 ----------------
inline std::vector<std::uint8_t> q4_1(const float* x) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < 32; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  const float d = rnd(sub(hi, lo) / 15.0f);
  const float id = d != 0 ? rnd(1.0f / d) : 0.0f;
  writer w(20);
  w.u16(fp16_bits(d));
  w.u16(fp16_bits(lo));
  int q[32];
  for (int j = 0; j < 32; ++j) q[j] = saturate(add(mul(sub(x[j], lo), id), 0.5f), 0, 15, false);
  for (int j = 0; j < 16; ++j) w.u8(static_cast<unsigned>(q[j] + 16 * q[j + 16]));
  return w.bytes;
}

// ---------------- MXFP4 (ggml) ----------------
inline constexpr int kv_doubled[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
inline std::vector<std::uint8_t> mxfp4_ggml(const float* x) {
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  int e = 0;
  if (amax > 0) e = static_cast<int>(std::floor(std::log2(amax))) - 2 + 127;
  if (e < 0) e = 0;
  const double d = std::ldexp(1.0, e - 128);
  auto code = [&](float v) {
    int best = 0;
    double best_err = std::fabs(kv_doubled[0] * d - v);
    for (int c = 1; c < 16; ++c) {
      const double err = std::fabs(kv_doubled[c] * d - v);
      if (err < best_err) { best = c; best_err = err; }
    }
    return best;
  };
  writer w(17);
  w.u8(static_cast<unsigned>(e));
  for (int j = 0; j < 16; ++j) w.u8(static_cast<unsigned>(code(x[j]) + 16 * code(x[j + 16])));
  return w.bytes;
}

// ---------------- Q8_K: float d, 256 int8, 16 int16 bsums ----------------
inline std::vector<std::uint8_t> q8_K(const float* x) {
  std::vector<std::uint8_t> out(292, 0);
  const int i = first_absmax_index(x, 256);
  if (i < 0) return out;
  const float iscale = rnd(-127.0f / x[i]);
  std::int8_t q[256];
  for (int j = 0; j < 256; ++j) {
    const float v = mul(iscale, x[j]);
    q[j] = static_cast<std::int8_t>(std::isnan(v) ? 0 : std::clamp(std::nearbyint(v), -128.0f, 127.0f));
  }
  const float d = rnd(1.0f / iscale);
  std::memcpy(out.data(), &d, 4);
  std::memcpy(out.data() + 4, q, 256);
  for (int g = 0; g < 16; ++g) {
    int s = 0;
    for (int k = 0; k < 16; ++k) s += q[16 * g + k];
    const auto s16 = static_cast<std::int16_t>(s);
    std::memcpy(out.data() + 260 + 2 * g, &s16, 2);
  }
  return out;
}

// ---------------- Q4_K ----------------
// ggml's nearest_int (round half to even); beyond its asserted range (|v| < 2^22, reached
// only when an fp16 scale overflowed or underflowed) pact saturates: NaN -> 0.
inline int nearest(float v) {
  if (std::isnan(v)) return 0;
  return static_cast<int>(std::nearbyint(std::clamp(v, -4194303.0f, 4194303.0f)));
}

// Least-squares fit x ~ scale * l + min over 21 trial inverse scales (ggml's
// make_qkx2_quants with rmin = -1, rdelta = 0.1, nstep = 20, squared error).
inline float fit_q4_K_sub(const float* x, const float* w, std::uint8_t* L, float* neg_min) {
  const int n = 32, nmax = 15;
  float mn = x[0], mx = x[0], sw = w[0], sx = mul(w[0], x[0]);
  for (int i = 1; i < n; ++i) {
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
    sw = add(sw, w[i]);
    sx = add(sx, mul(w[i], x[i]));
  }
  if (mn > 0) mn = 0;
  if (mx == mn) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *neg_min = -mn;
    return 0;
  }
  float iscale = rnd(nmax / sub(mx, mn));
  float scale = rnd(1 / iscale);
  float best = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<std::uint8_t>(std::clamp(nearest(mul(iscale, sub(x[i], mn))), 0, nmax));
    const float diff = sub(add(mul(scale, L[i]), mn), x[i]);
    best = add(best, mul(w[i], mul(diff, diff)));
  }
  std::uint8_t La[32];
  for (int is = 0; is <= 20; ++is) {
    iscale = rnd(add(add(-1.0f, mul(0.1f, static_cast<float>(is))), static_cast<float>(nmax)) / sub(mx, mn));
    float sl = 0, sl2 = 0, sxl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest(mul(iscale, sub(x[i], mn))), 0, nmax);
      La[i] = static_cast<std::uint8_t>(l);
      sl = add(sl, mul(w[i], static_cast<float>(l)));
      sl2 = add(sl2, mul(mul(w[i], static_cast<float>(l)), static_cast<float>(l)));
      sxl = add(sxl, mul(mul(w[i], static_cast<float>(l)), x[i]));
    }
    const float D = sub(mul(sw, sl2), mul(sl, sl));
    if (D > 0) {
      float s = rnd(sub(mul(sw, sxl), mul(sx, sl)) / D);
      float m = rnd(sub(mul(sl2, sx), mul(sl, sxl)) / D);
      if (m > 0) {
        m = 0;
        s = rnd(sxl / sl2);
      }
      float err = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = sub(add(mul(s, La[i]), m), x[i]);
        err = add(err, mul(w[i], mul(diff, diff)));
      }
      if (err < best) {
        std::memcpy(L, La, 32);
        best = err;
        scale = s;
        mn = m;
      }
    }
  }
  *neg_min = -mn;
  return scale;
}

inline std::vector<std::uint8_t> q4_K(const float* x) {
  std::uint8_t L[256];
  float scales[8], mins[8], w[32];
  float max_scale = 0, max_min = 0;
  for (int s = 0; s < 8; ++s) {
    float sum2 = 0;
    for (int l = 0; l < 32; ++l) sum2 = add(sum2, mul(x[32 * s + l], x[32 * s + l]));
    const float av = std::sqrt(rnd(sum2 / 32));
    for (int l = 0; l < 32; ++l) w[l] = add(av, std::fabs(x[32 * s + l]));
    scales[s] = fit_q4_K_sub(x + 32 * s, w, L + 32 * s, &mins[s]);
    if (scales[s] > max_scale) max_scale = scales[s];
    if (mins[s] > max_min) max_min = mins[s];
  }
  const float is = max_scale > 0 ? rnd(63.f / max_scale) : 0.f;
  const float im = max_min > 0 ? rnd(63.f / max_min) : 0.f;
  int ls[8], lm[8];
  for (int s = 0; s < 8; ++s) {
    ls[s] = std::min(63, nearest(mul(is, scales[s])) & 0xFF);
    lm[s] = std::min(63, nearest(mul(im, mins[s])) & 0xFF);
  }
  // 12 scale bytes: 6-bit (scale, min) pairs; sub-blocks 4..7 split into low nibbles in
  // bytes 8..11 and top 2 bits in bits 6..7 of bytes 0..7.
  std::uint8_t sc[12] = {};
  for (int s = 0; s < 4; ++s) {
    sc[s] = static_cast<std::uint8_t>(ls[s] | ((ls[s + 4] >> 4) << 6));
    sc[s + 4] = static_cast<std::uint8_t>(lm[s] | ((lm[s + 4] >> 4) << 6));
    sc[s + 8] = static_cast<std::uint8_t>((ls[s + 4] & 0xF) | ((lm[s + 4] & 0xF) << 4));
  }
  const std::uint16_t dbits = fp16_bits(rnd(max_scale / 63.f)), mbits = fp16_bits(rnd(max_min / 63.f));
  const float dd = fp16_value(dbits), dm = fp16_value(mbits);
  for (int s = 0; s < 8; ++s) {
    const float d = mul(dd, static_cast<float>(ls[s]));
    if (d == 0) continue;
    const float m = mul(dm, static_cast<float>(lm[s]));
    for (int i = 0; i < 32; ++i) L[32 * s + i] = static_cast<std::uint8_t>(std::clamp(nearest(rnd(add(x[32 * s + i], m) / d)), 0, 15));
  }
  writer out(144);
  out.u16(dbits);
  out.u16(mbits);
  for (int i = 0; i < 12; ++i) out.u8(sc[i]);
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) out.u8(static_cast<unsigned>(L[64 * c + l] + 16 * L[64 * c + 32 + l]));
  return out.bytes;
}

// ---------------- Q6_K ----------------
// ggml's make_qx_quants(16, 32, x, L, rmse_type = 1): weights x^2, 19 trial scales.
inline float fit_q6_K_sub(const float* x, int* L) {
  const int n = 16, nmax = 32;
  const int im = first_absmax_index(x, n);
  if (im < 0 || std::fabs(x[im]) < 1e-15f) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0;
  }
  const float max = x[im];
  auto eval = [&](float iscale, int* out, float& slx, float& sl2) {
    slx = sl2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(nearest(mul(iscale, x[i])), -nmax, nmax - 1);
      if (out) out[i] = l + nmax;
      const float w = mul(x[i], x[i]);
      slx = add(slx, mul(mul(w, x[i]), static_cast<float>(l)));
      sl2 = add(sl2, mul(mul(w, static_cast<float>(l)), static_cast<float>(l)));
    }
  };
  float slx, sl2;
  eval(rnd(-static_cast<float>(nmax) / max), L, slx, sl2);
  float scale = sl2 != 0 ? rnd(slx / sl2) : 0.0f;
  float best = mul(scale, slx);
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const float iscale = rnd(-add(static_cast<float>(nmax), mul(0.1f, static_cast<float>(is))) / max);
    eval(iscale, nullptr, slx, sl2);
    if (sl2 > 0 && mul(slx, slx) > mul(best, sl2)) {
      eval(iscale, L, slx, sl2);
      scale = rnd(slx / sl2);
      best = mul(scale, slx);
    }
  }
  return scale;
}

inline std::vector<std::uint8_t> q6_K(const float* x) {
  int L[256];
  float scales[16];
  float max_scale = 0, max_abs = 0;
  for (int s = 0; s < 16; ++s) {
    scales[s] = fit_q6_K_sub(x + 16 * s, L + 16 * s);
    if (std::fabs(scales[s]) > max_abs) { max_abs = std::fabs(scales[s]); max_scale = scales[s]; }
  }
  if (max_abs < 1e-15f) return std::vector<std::uint8_t>(210, 0);
  const float iscale = rnd(-128.f / max_scale);
  const std::uint16_t dbits = fp16_bits(rnd(1 / iscale));
  std::int8_t sc[16];
  for (int s = 0; s < 16; ++s) sc[s] = static_cast<std::int8_t>(std::min(127, nearest(mul(iscale, scales[s]))));
  const float dd = fp16_value(dbits);
  for (int s = 0; s < 16; ++s) {
    const float d = mul(dd, static_cast<float>(sc[s]));
    if (d == 0) continue;
    for (int i = 0; i < 16; ++i) L[16 * s + i] = std::clamp(nearest(rnd(x[16 * s + i] / d)), -32, 31) + 32;
  }
  std::vector<std::uint8_t> out(210, 0);
  // element e = 128 h + 32 k + l: low nibble in ql[64 h + 32 (k % 2) + l] at nibble k / 2,
  // high 2 bits in qh[32 h + l] at bits 2k.
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, k = (e % 128) / 32, l = e % 32;
    out[64 * h + 32 * (k % 2) + l] |= static_cast<std::uint8_t>((L[e] & 0xF) << (4 * (k / 2)));
    out[128 + 32 * h + l] |= static_cast<std::uint8_t>((L[e] >> 4) << (2 * k));
  }
  std::memcpy(out.data() + 192, sc, 16);
  out[208] = static_cast<std::uint8_t>(dbits & 0xFF);
  out[209] = static_cast<std::uint8_t>(dbits >> 8);
  return out;
}

}  // namespace qref
