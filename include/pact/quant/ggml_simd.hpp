#pragma once
// SIMD quantizers / dequantizers for the ggml blocks, written once against pact::simd and
// instantiated per arch. Each one reproduces quant/ggml_scalar.hpp bit for bit for finite
// input (tests/quant/test_quant_simd.cpp checks every compiled arch):
//   - products that feed an addition go through simd::opaque (no FMA contraction);
//   - amax / min / max come from exact lane reductions, then the scalar tie rules (first
//     element of largest magnitude, sign of zero) are re-applied on the block;
//   - blocks whose inverse scale overflows to Inf (amax below ~1e-36) take the scalar path,
//     so the SIMD arithmetic only ever sees finite values.
// Every quantizer also returns whether its input was all finite (acc += x * 0 stays 0
// unless some x is NaN or Inf), so the checked API can reject bad input without a
// second pass over memory.

#include <pact/quant/ggml_scalar.hpp>
#include <pact/quant/kernels/gemv_stream.hpp>
#include <pact/simd/ops_quant.hpp>
#include <pact/simd/simd.hpp>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

PACT_NAMESPACE_BEGIN
namespace quant::simd_kernels {

namespace detail {

template <class A>
using vf = simd::vec<float, A>;
template <class A>
using vi = simd::vec<std::int32_t, A>;

inline bool finite_float(float v) noexcept { return v - v == 0.0f; }

/// Clamp to [lo, hi] before any float->int conversion. Finite lanes are unchanged where the
/// scalar path would not clamp; a NaN lane (NaN input only, whose bytes are unspecified and
/// which the checked API rejects) either becomes a bound or reaches an intrinsic conversion
/// with defined behaviour; never the scalar arch's static_cast.
template <class A>
PACT_ALWAYS_INLINE vf<A> clamp(const vf<A>& p, float lo, float hi) noexcept {
  return simd::min(simd::max(p, simd::broadcast<A>(lo)), simd::broadcast<A>(hi));
}

/// roundf (half away from zero) for |p| <= 2^23: trunc(p + copysign(0.5 - 2^-25, p)).
/// Adding just under one half rounds the sum up to the next integer exactly when p's
/// fraction is >= 0.5 (the sum's own rounding, ties to even, resolves the p = k + 0.5 - ulp
/// cases downward because the addend is 2^-25 short of one half); truncation finishes it.
template <class A>
PACT_ALWAYS_INLINE vi<A> round_half_away(const vf<A>& p) noexcept {
  const vi<A> sign = simd::bitcast<std::int32_t>(p) & simd::broadcast<A>(static_cast<std::int32_t>(0x80000000u));
  const vf<A> half = simd::bitcast<float>(sign | simd::broadcast<A>(std::int32_t{0x3EFFFFFF}));  // +-0.49999997
  return simd::to_int32(p + half);
}

/// First element of x[0..n) with |x| == amax, sign kept; +0 when amax == 0.
inline float first_with_magnitude(const float* x, int n, float amax) noexcept {
  if (amax == 0.0f) return 0.0f;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) == amax) return x[j];
  }
  return 0.0f;
}

/// Lane-wise max |x| over N floats (N a multiple of the lane count), plus the finiteness
/// accumulator.
template <class A, int N>
PACT_ALWAYS_INLINE vf<A> block_abs_lanes(const float* x, vf<A>& finite_acc) noexcept {
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  static_assert(N % L == 0);
  const vf<A> zero = simd::zero<float, A>();
  vf<A> m = zero;
#pragma GCC unroll 16
  for (int k = 0; k < N; k += L) {
    const vf<A> v = simd::load<A>(x + k);
    finite_acc = finite_acc + v * zero;
    m = simd::max(m, simd::abs(v));
  }
  return m;
}
/// Max |x| over N floats (N a multiple of the lane count), plus the finiteness accumulator.
template <class A, int N>
PACT_ALWAYS_INLINE float block_amax(const float* x, vf<A>& finite_acc) noexcept {
  return simd::reduce_max(block_abs_lanes<A, N>(x, finite_acc)) + 0.0f;  // + 0: an abs() that keeps -0 (scalar arch) must not leak a -0
}

/// The first element of x[0..N) with |x| == amax, sign kept (+0 when amax == 0). Only the
/// sign is unknown: if just one of +amax / -amax occurs it is that one (two vector compares
/// per register); only a block holding both falls back to the ordered scan.
template <class A, int N>
PACT_ALWAYS_INLINE float signed_absmax(const float* x, float amax) noexcept {
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  const vf<A> pos = simd::broadcast<A>(amax);
  const vf<A> neg = simd::broadcast<A>(-amax);
  bool has_pos = false, has_neg = false;  // bitwise |=, not ||: no data-dependent branches
  for (int k = 0; k < N; k += L) {
    const vf<A> v = simd::load<A>(x + k);
    has_pos |= simd::any(simd::cmp_eq(v, pos));
    has_neg |= simd::any(simd::cmp_eq(v, neg));
  }
  if (has_pos && has_neg) [[unlikely]] return first_with_magnitude(x, N, amax);  // also amax == 0
  // Only -amax occurs: flip the sign bit (branch-free; the sign is random data).
  const std::uint32_t sign = static_cast<std::uint32_t>(has_neg) << 31;
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(amax) | sign);
}

template <class A>
PACT_ALWAYS_INLINE bool all_finite(const vf<A>& finite_acc) noexcept {
  return simd::reduce_add(finite_acc) == 0.0f;  // NaN if any lane saw NaN/Inf
}

}  // namespace detail

// ---------------------------------------------------------------- Q8_0

template <class A>
PACT_ALWAYS_INLINE void quantize_q8_0_block(const float* xb, float id, block_q8_0& y) noexcept {
  using namespace detail;
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  const vf<A> vid = simd::broadcast<A>(id);
#pragma GCC unroll 8
  for (int k = 0; k < 32; k += L) {
    const vf<A> p = clamp<A>(simd::opaque(simd::load<A>(xb + k) * vid), -128.0f, 127.0f);
    simd::store_i32_to_i8(y.qs + k, round_half_away<A>(p));
  }
}

/// Blocks are handled in chunks of one register's worth (L blocks): the per-block scale
/// arithmetic (two divisions and the fp16 conversion) then runs as vector ops, once per
/// chunk, instead of as scalar code per block. Same IEEE operations, so the same bits.
/// The chunks are walked as quant_detail::gemv_streams spread streams (for_each_in_streams),
/// each prefetched ahead, for the reason the GEMVs are: one stream stalls at every 4 KiB
/// page boundary (Q8_0 of 512 MiB on the Intel VM: see docs/quant.md).
template <class A>
bool quantize_blocks(const float* x, block_q8_0* y, std::size_t n_blocks) noexcept {
  using namespace detail;
  constexpr std::size_t L = simd::lanes<float, A>;
  vf<A> finite_acc = simd::zero<float, A>();
  auto chunk = [&](std::size_t b) PACT_ALWAYS_INLINE_LAMBDA {
    alignas(64) float ids[L];
    alignas(64) std::uint16_t dbits[L];
    vf<A> m[L];
    for (std::size_t i = 0; i < L; ++i) {
      const char* ahead = reinterpret_cast<const char*>(x + 32 * (b + i)) + quant_detail::quantize_prefetch_bytes;
      simd::prefetch_l1(ahead);
      simd::prefetch_l1(ahead + 64);
      m[i] = block_abs_lanes<A, 32>(x + 32 * (b + i), finite_acc);
    }
    // The L block maxima in one register: one transposing reduction instead of L.
    const vf<A> d = (simd::reduce_max_each(m) + simd::zero<float, A>()) / simd::broadcast<A>(127.0f);
    const vf<A> zero = simd::zero<float, A>();
    const vf<A> id = simd::select(simd::cmp_neq(d, zero), simd::broadcast<A>(1.0f) / d, zero);
    simd::store_aligned(ids, id);
    simd::store_fp16(dbits, d);
    for (std::size_t i = 0; i < L; ++i) {
      if (!finite_float(ids[i])) {  // 1/d overflowed (amax below ~1e-36): the scalar rule
        scalar::quantize_block(x + 32 * (b + i), y[b + i]);
        continue;
      }
      y[b + i].d = fp16::from_bits(dbits[i]);
      quantize_q8_0_block<A>(x + 32 * (b + i), ids[i], y[b + i]);
    }
  };
  const std::size_t chunks = n_blocks / L;
  quant_detail::for_each_in_streams(0, static_cast<index_t>(chunks), [&](auto streams, const index_t* c) PACT_ALWAYS_INLINE_LAMBDA {
    for (int s = 0; s < streams; ++s) chunk(static_cast<std::size_t>(c[s]) * L);
  });
  std::size_t b = chunks * L;
  for (; b < n_blocks; ++b) {
    const float* xb = x + 32 * b;
    const float amax = block_amax<A, 32>(xb, finite_acc);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (!finite_float(id)) {
      scalar::quantize_block(xb, y[b]);
      continue;
    }
    y[b].d = fp16(d);
    quantize_q8_0_block<A>(xb, id, y[b]);
  }
  return all_finite<A>(finite_acc);
}

template <class A>
void dequantize_blocks(const block_q8_0* x, float* y, std::size_t n_blocks) noexcept {
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const auto d = simd::broadcast<A>(static_cast<float>(x[b].d));
#pragma GCC unroll 8
    for (int k = 0; k < 32; k += L) {
      simd::store(y + 32 * b + k, simd::to_float(simd::load_i8_to_i32<A>(x[b].qs + k)) * d);
    }
  }
}

// ---------------------------------------------------------------- Q4_0

template <class A>
PACT_ALWAYS_INLINE void quantize_q4_0_block(const float* xb, float id, block_q4_0& y) noexcept {
  using namespace detail;
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  const vf<A> vid = simd::broadcast<A>(id);
  const vf<A> half8 = simd::broadcast<A>(8.5f);
#pragma GCC unroll 4
  for (int k = 0; k < 16; k += L) {
    const vf<A> plo = clamp<A>(simd::opaque(simd::load<A>(xb + k) * vid) + half8, 0.0f, 15.0f);
    const vf<A> phi = clamp<A>(simd::opaque(simd::load<A>(xb + 16 + k) * vid) + half8, 0.0f, 15.0f);
    const vi<A> lo = simd::to_int32(plo);  // truncation, like ggml's (int8_t) cast
    const vi<A> hi = simd::to_int32(phi);
    simd::store_i32_to_u8(y.qs + k, lo | (hi << 4));
  }
}

/// Chunks of L blocks, scale arithmetic as vector ops (see the Q8_0 quantizer).
template <class A>
bool quantize_blocks(const float* x, block_q4_0* y, std::size_t n_blocks) noexcept {
  using namespace detail;
  constexpr std::size_t L = simd::lanes<float, A>;
  vf<A> finite_acc = simd::zero<float, A>();
  std::size_t b = 0;
  for (; b + L <= n_blocks; b += L) {
    alignas(64) float maxs[L];
    alignas(64) float ids[L];
    alignas(64) std::uint16_t dbits[L];
    for (std::size_t i = 0; i < L; ++i) {
      const float* xb = x + 32 * (b + i);
      maxs[i] = signed_absmax<A, 32>(xb, block_amax<A, 32>(xb, finite_acc));
    }
    const vf<A> d = simd::load_aligned<A>(maxs) / simd::broadcast<A>(-8.0f);
    const vf<A> zero = simd::zero<float, A>();
    const vf<A> id = simd::select(simd::cmp_neq(d, zero), simd::broadcast<A>(1.0f) / d, zero);
    simd::store_aligned(ids, id);
    simd::store_fp16(dbits, d);
    for (std::size_t i = 0; i < L; ++i) {
      if (!finite_float(ids[i]) || !finite_float(maxs[i])) {
        scalar::quantize_block(x + 32 * (b + i), y[b + i]);
        continue;
      }
      y[b + i].d = fp16::from_bits(dbits[i]);
      quantize_q4_0_block<A>(x + 32 * (b + i), ids[i], y[b + i]);
    }
  }
  for (; b < n_blocks; ++b) {
    const float* xb = x + 32 * b;
    const float max = signed_absmax<A, 32>(xb, block_amax<A, 32>(xb, finite_acc));
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (!finite_float(id) || !finite_float(max)) {
      scalar::quantize_block(xb, y[b]);
      continue;
    }
    y[b].d = fp16(d);
    quantize_q4_0_block<A>(xb, id, y[b]);
  }
  return all_finite<A>(finite_acc);
}

template <class A>
void dequantize_blocks(const block_q4_0* x, float* y, std::size_t n_blocks) noexcept {
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  const auto mask = simd::broadcast<A>(std::int32_t{15});
  const auto eight = simd::broadcast<A>(std::int32_t{8});
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const auto d = simd::broadcast<A>(static_cast<float>(x[b].d));
    float* yb = y + 32 * b;
#pragma GCC unroll 4
    for (int k = 0; k < 16; k += L) {
      const auto q = simd::load_u8_to_i32<A>(x[b].qs + k);
      simd::store(yb + k, simd::to_float((q & mask) - eight) * d);
      simd::store(yb + 16 + k, simd::to_float((q >> 4) - eight) * d);
    }
  }
}

// ---------------------------------------------------------------- Q8_K

template <class A>
bool quantize_blocks(const float* x, block_q8_K* y, std::size_t n_blocks) noexcept {
  using namespace detail;
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  vf<A> finite_acc = simd::zero<float, A>();
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float* xb = x + 256 * b;
    const float amax = block_amax<A, 256>(xb, finite_acc);
    const float max = signed_absmax<A, 256>(xb, amax);
    const float iscale = max != 0.0f ? -127.0f / max : 0.0f;
    if (max == 0.0f || !finite_float(iscale) || !finite_float(max)) {
      scalar::quantize_block(xb, y[b]);
      continue;
    }
    const vf<A> vs = simd::broadcast<A>(iscale);
    static_assert(16 % L == 0, "a register must not straddle two bsums groups");
    for (int g = 0; g < 16; ++g) {
      vi<A> sum = simd::broadcast<A>(std::int32_t{0});
#pragma GCC unroll 4
      for (int k = 16 * g; k < 16 * g + 16; k += L) {
        // nearest_int == round to nearest even for |p| <= 2^22; |p| <= 127 here.
        const vf<A> p = simd::round_nearest(clamp<A>(simd::opaque(simd::load<A>(xb + k) * vs), -128.0f, 127.0f));
        const vi<A> qi = simd::to_int32(p);
        simd::store_i32_to_i8(y[b].qs + k, qi);
        sum = sum + qi;
      }
      y[b].bsums[g] = static_cast<std::int16_t>(simd::reduce_add(sum));
    }
    y[b].d = 1.0f / iscale;
  }
  return all_finite<A>(finite_acc);
}

// ---------------------------------------------------------------- MXFP4 (ggml), dequantize

/// E2M1 value of the low 3 bits of each lane (0, 0.5, 1, 1.5, 2, 3, 4, 6), built from bits:
/// exponent field e = m >> 1, mantissa bit m & 1; e == 0 is the subnormal 0 / 0.5.
template <class A>
PACT_ALWAYS_INLINE detail::vf<A> e2m1_magnitude(const detail::vi<A>& m) noexcept {
  using namespace detail;
  const vi<A> e = m >> 1;
  const vi<A> mb = m & simd::broadcast<A>(std::int32_t{1});
  const vf<A> normal = simd::bitcast<float>(((e + simd::broadcast<A>(std::int32_t{126})) << 23) | (mb << 22));
  const vf<A> sub = simd::to_float(mb) * simd::broadcast<A>(0.5f);
  return simd::select(simd::cmp_eq(simd::to_float(e), simd::zero<float, A>()), sub, normal);
}

template <class A>
void dequantize_blocks(const block_mxfp4* x, float* y, std::size_t n_blocks) noexcept {
  using namespace detail;
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  const vi<A> mask = simd::broadcast<A>(std::int32_t{15});
  const vi<A> seven = simd::broadcast<A>(std::int32_t{7});
  const vf<A> zero = simd::zero<float, A>();
  auto value = [&](const vi<A>& nib, const vf<A>& scale) {
    const vf<A> mag = e2m1_magnitude<A>(nib & seven);
    // e2m1(c) * 2^(e-127) == kvalues[c] * 2^(e-128) exactly; the sign bit comes from
    // nibble bit 3, except that a zero magnitude stays +0 (kvalues[8] is 0, not -0).
    const vf<A> sign = simd::bitcast<float>((nib >> 3) << 31);
    const vf<A> signed_mag = simd::bitcast<float>(simd::bitcast<std::int32_t>(mag) | simd::bitcast<std::int32_t>(sign));
    return simd::select(simd::cmp_eq(mag, zero), zero, signed_mag) * scale;
  };
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float s = x[b].e.is_nan() ? std::bit_cast<float>(0x7FC00000u) : e8m0_to_float(x[b].e);
    const vf<A> scale = simd::broadcast<A>(s);
    float* yb = y + 32 * b;
#pragma GCC unroll 4
    for (int k = 0; k < 16; k += L) {
      const vi<A> q = simd::load_u8_to_i32<A>(x[b].qs + k);
      simd::store(yb + k, value(q & mask, scale));
      simd::store(yb + 16 + k, value(q >> 4, scale));
    }
  }
}

// ---------------------------------------------------------------- Q4_K, dequantize

template <class A>
void dequantize_blocks(const block_q4_K* x, float* y, std::size_t n_blocks) noexcept {
  using namespace detail;
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  const vi<A> mask = simd::broadcast<A>(std::int32_t{15});
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float d = static_cast<float>(x[b].d);
    const float dmin = static_cast<float>(x[b].dmin);
    for (int c = 0; c < 4; ++c) {
      std::uint8_t sc, m;
      scalar::q4_K_scale_min(2 * c, x[b].scales, sc, m);
      const vf<A> d1 = simd::broadcast<A>(d * static_cast<float>(sc));
      const vf<A> m1 = simd::broadcast<A>(dmin * static_cast<float>(m));
      scalar::q4_K_scale_min(2 * c + 1, x[b].scales, sc, m);
      const vf<A> d2 = simd::broadcast<A>(d * static_cast<float>(sc));
      const vf<A> m2 = simd::broadcast<A>(dmin * static_cast<float>(m));
      const std::uint8_t* q = x[b].qs + 32 * c;
      float* yc = y + 256 * b + 64 * c;
#pragma GCC unroll 8
      for (int l = 0; l < 32; l += L) {
        const vi<A> v = simd::load_u8_to_i32<A>(q + l);
        simd::store(yc + l, simd::opaque(d1 * simd::to_float(v & mask)) - m1);
        simd::store(yc + 32 + l, simd::opaque(d2 * simd::to_float(v >> 4)) - m2);
      }
    }
  }
}

// ---------------------------------------------------------------- Q6_K, dequantize

template <class A>
void dequantize_blocks(const block_q6_K* x, float* y, std::size_t n_blocks) noexcept {
  using namespace detail;
  constexpr int L = static_cast<int>(simd::lanes<float, A>);
  static_assert(16 % L == 0, "a register must not straddle two Q6_K sub-blocks");
  const vi<A> m15 = simd::broadcast<A>(std::int32_t{15});
  const vi<A> m3 = simd::broadcast<A>(std::int32_t{3});
  const vi<A> off = simd::broadcast<A>(std::int32_t{32});
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float d = static_cast<float>(x[b].d);
    for (int h = 0; h < 2; ++h) {
      const std::uint8_t* ql = x[b].ql + 64 * h;
      const std::uint8_t* qh = x[b].qh + 32 * h;
      const std::int8_t* sc = x[b].scales + 8 * h;
      float* yh = y + 256 * b + 128 * h;
#pragma GCC unroll 4
      for (int l = 0; l < 32; l += L) {
        const int is = l / 16;
        const vi<A> a = simd::load_u8_to_i32<A>(ql + l);
        const vi<A> c = simd::load_u8_to_i32<A>(ql + l + 32);
        const vi<A> hb = simd::load_u8_to_i32<A>(qh + l);
        const vi<A> q1 = ((a & m15) | ((hb & m3) << 4)) - off;
        const vi<A> q2 = ((c & m15) | (((hb >> 2) & m3) << 4)) - off;
        const vi<A> q3 = ((a >> 4) | (((hb >> 4) & m3) << 4)) - off;
        const vi<A> q4 = ((c >> 4) | (((hb >> 6) & m3) << 4)) - off;
        simd::store(yh + l, simd::broadcast<A>(d * static_cast<float>(sc[is])) * simd::to_float(q1));
        simd::store(yh + l + 32, simd::broadcast<A>(d * static_cast<float>(sc[is + 2])) * simd::to_float(q2));
        simd::store(yh + l + 64, simd::broadcast<A>(d * static_cast<float>(sc[is + 4])) * simd::to_float(q3));
        simd::store(yh + l + 96, simd::broadcast<A>(d * static_cast<float>(sc[is + 6])) * simd::to_float(q4));
      }
    }
  }
}

}  // namespace quant::simd_kernels
PACT_NAMESPACE_END
