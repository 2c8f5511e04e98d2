#pragma once
// FP8 GEMV, y = W x, for DeepSeek-V3-style weights (N x K FP8 codes, one f32 scale per
// 128 x 128 block) against f32 activations:
//   y[n] = sum_kb scale(n / 128, kb) * sum_{k in group kb} fp8(w[n, k]) * x[k]
// Each group of 128 k is summed in f32 lanes (FMA of the widened codes), then scaled and
// added to the row's lanes: one horizontal sum per row at the end.
//
// Widening (simd/ops_kv.hpp): E5M2 is the top byte of an fp16; E4M3 goes through the same
// fp16 conversion with its exponent bias off by 8 (load_fp8_e4m3_f32_div256), so the 256
// is folded into the group's scale. That load does not decode the E4M3 NaN codes 0x7F /
// 0xFF; instead the row's bytes are tested for them once per S bytes (a running byte
// maximum of b | 0x80 reaches 0xFF only for those codes), and a row that holds one gives
// NaN, as the exact product would. Rows run gemv_streams at a time, from spread parts of
// the range (gemv_stream.hpp).
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "pact/quant/formats/fp8_block_scaled.hpp"
#include "pact/quant/kernels/gemv_stream.hpp"
#include "pact/simd/ops_kv.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN
namespace quant_detail {

template <class Fp8>
inline constexpr bool is_e4m3_v = std::is_same_v<Fp8, fp8_e4m3>;

/// The f32 value of one code (exact, NaN codes included): the scalar tail.
template <class Fp8>
PACT_ALWAYS_INLINE float fp8_value(std::uint8_t code) noexcept {
  if constexpr (is_e4m3_v<Fp8>) return fp8_e4m3_bits_to_float(code);
  else return fp8_e5m2_bits_to_float(code);
}

/// 2 * lanes<float, A> codes widened; E4M3 comes out divided by 256 (see the header comment).
template <class A, class Fp8>
PACT_ALWAYS_INLINE std::array<simd::vec<float, A>, 2> load_fp8_lanes2(const std::uint8_t* p) noexcept {
  if constexpr (is_e4m3_v<Fp8>) return simd::load2_fp8_e4m3_f32_div256<A>(p);
  else return simd::load2_fp8_e5m2_f32<A>(p);
}

/// y[r] = W_row(r) . x for R rows; w[r] points at row r's K codes, scales[r] at its
/// block row's ceil(K / 128) scales.
template <class A, class Fp8, int R>
PACT_ALWAYS_INLINE void gemv_fp8_rows(const std::uint8_t* const* w, const float* const* scales, const float* x, index_t K,
                                      float* y) noexcept {
  using VF = simd::vec<float, A>;
  using VB = simd::vec<std::uint8_t, A>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  constexpr index_t S = static_cast<index_t>(simd::lanes<std::uint8_t, A>);  // = 4 L
  constexpr float unit = is_e4m3_v<Fp8> ? 256.0f : 1.0f;
  VF acc[R];
  [[maybe_unused]] VB nan_bits[R];
  float tail[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    acc[r] = simd::zero<float, A>();
    if constexpr (is_e4m3_v<Fp8>) nan_bits[r] = simd::zero<std::uint8_t, A>();
    tail[r] = 0.0f;
  }
  [[maybe_unused]] const VB top = simd::broadcast<A>(std::uint8_t{0x80});
  for (index_t k0 = 0, g = 0; k0 < K; k0 += 128, ++g) {
    const index_t k1 = std::min<index_t>(K, k0 + 128);
    const index_t kv = k0 + (k1 - k0) / S * S;  // end of the full S-byte steps
    VF part[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) part[r] = simd::zero<float, A>();
    for (index_t k = k0; k < kv; k += S) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        if constexpr (is_e4m3_v<Fp8>) nan_bits[r] = simd::max(nan_bits[r], simd::load<A>(w[r] + k) | top);
        // gemv_prefetch_bytes ahead in the weight stream.
        simd::prefetch_l1(w[r] + k + gemv_prefetch_bytes);
      }
#pragma GCC unroll 4
      for (index_t j = 0; j < S; j += 2 * L) {
        const VF x0 = simd::load<A>(x + k + j), x1 = simd::load<A>(x + k + j + L);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          const auto wv = load_fp8_lanes2<A, Fp8>(w[r] + k + j);
          part[r] = simd::fma(wv[1], x1, simd::fma(wv[0], x0, part[r]));
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const float s = scales[r][g];
      acc[r] = simd::fma(part[r], simd::broadcast<A>(s * unit), acc[r]);
      float t = 0.0f;
      for (index_t k = kv; k < k1; ++k) t += fp8_value<Fp8>(w[r][k]) * x[k];
      tail[r] += s * t;
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float v = simd::reduce_add(acc[r]) + tail[r];
    if constexpr (is_e4m3_v<Fp8>) {
      alignas(64) std::uint8_t bits[S];
      simd::store_aligned(bits, nan_bits[r]);
      std::uint8_t most = 0;
      for (index_t i = 0; i < S; ++i) most = std::max(most, bits[i]);
      if (most == 0xFF) v = std::numeric_limits<float>::quiet_NaN();
    }
    y[r] = v;
  }
}

/// Rows [n0, n1) of y = W x.
template <class A, class Fp8>
void gemv_fp8_row_range(const quant::fp8_weights_128x128<Fp8>& W, const float* x, float* y, index_t n0, index_t n1) noexcept {
  const auto K = static_cast<index_t>(W.cols);
  const auto* codes = reinterpret_cast<const std::uint8_t*>(W.data.data());
  const index_t bc = static_cast<index_t>(W.block_cols());
  auto row = [&](index_t n) { return codes + n * K; };
  auto srow = [&](index_t n) { return W.scales.data() + (n / 128) * bc; };
  // gemv_streams long sequential weight streams (quant/kernels/gemv_stream.hpp).
  for_each_in_streams(n0, n1, [&](auto count, const index_t* n) PACT_ALWAYS_INLINE_LAMBDA {
    constexpr int R = decltype(count)::value;
    const std::uint8_t* w[R];
    const float* s[R];
    float yr[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      w[r] = row(n[r]);
      s[r] = srow(n[r]);
    }
    gemv_fp8_rows<A, Fp8, R>(w, s, x, K, yr);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) y[n[r]] = yr[r];
  });
}

}  // namespace quant_detail
PACT_NAMESPACE_END
