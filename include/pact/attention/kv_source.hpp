#pragma once
// Where K and V rows come from, and how a tile of them becomes f32 rows for the
// microkernels. Dense f32 rows with a unit element stride are read in place; everything
// else (bf16/fp16, int8 or FP8 E4M3 with scales, Q8_0 blocks, partial tiles) is converted into an
// O(tile) buffer of block_kv rows while the tile is loaded — never a full-size copy.
#include <array>
#include <cstdint>
#include <type_traits>

#include "pact/core/tensor_view.hpp"
#include "pact/quant/formats/ggml_blocks.hpp"
#include "pact/simd/ops_int8_gemv.hpp"
#include "pact/simd/ops_kv.hpp"
#include "pact/simd/simd.hpp"
#include "pact/types/bf16.hpp"
#include "pact/types/fp16.hpp"
#include "pact/types/fp8.hpp"

PACT_NAMESPACE_BEGIN

/// A quantized K or V cache: values [batch, seq, kv_heads, head_dim] of int8_t or
/// fp8_e4m3, with symmetric fp32 scales [batch, kv_heads, blocks]: one scale per
/// (batch, head) when block_tokens == 0 (blocks == 1), else one per block_tokens
/// consecutive tokens (blocks == ceil(seq / block_tokens)). value = scale * stored.
template <class T>
struct quantized_kv {
  static_assert(std::is_same_v<T, std::int8_t> || std::is_same_v<T, fp8_e4m3>,
                "quantized_kv holds int8_t or fp8_e4m3 values");
  tensor_view<const T, 4> values{};
  tensor_view<const float, 3> scales{};
  index_t block_tokens = 0;
};

/// A K or V cache in ggml's Q8_0 blocks (llama.cpp's `q8_0` cache type): blocks
/// [batch, seq, kv_heads, head_dim / 32] of quant::block_q8_0, each 32 consecutive values
/// of a row sharing one fp16 scale (value = d * qs[j]). The head dim is 32 * extent(3);
/// a row's blocks must be contiguous (stride 1 along the last extent).
struct q8_0_kv {
  tensor_view<const quant::block_q8_0, 4> blocks{};
};

namespace attention_detail {

template <class T>
inline constexpr bool is_attention_float = std::is_same_v<T, float> || std::is_same_v<T, bf16> || std::is_same_v<T, fp16>;

template <class T>
PACT_ALWAYS_INLINE float to_f32(T x) noexcept {
  if constexpr (std::is_same_v<T, float>) return x;
  else return static_cast<float>(x);
}
template <class T>
PACT_ALWAYS_INLINE T from_f32(float x) noexcept {
  if constexpr (std::is_same_v<T, float>) return x;
  else return T(x);
}

/// The 256 FP8 E4M3 codes as floats: a load from a 1 KiB table beats decoding bits.
inline const std::array<float, 256>& fp8_e4m3_table() noexcept {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (unsigned c = 0; c < 256; ++c) t[c] = fp8_e4m3_bits_to_float(static_cast<std::uint8_t>(c));
    return t;
  }();
  return table;
}

/// lanes<float, A> values of src as f32 (exact: every stored type widens exactly).
template <class A, class T>
PACT_ALWAYS_INLINE simd::vec<float, A> load_as_f32(const T* src) noexcept {
  if constexpr (std::is_same_v<T, float>) return simd::load<A>(src);
  else if constexpr (std::is_same_v<T, bf16>) return simd::load_bf16<A>(reinterpret_cast<const std::uint16_t*>(src));
  else if constexpr (std::is_same_v<T, fp16>) return simd::load_fp16<A>(reinterpret_cast<const std::uint16_t*>(src));
  else if constexpr (std::is_same_v<T, std::int8_t>) return simd::load_i8_f32<A>(src);
  else return simd::load_fp8_e4m3_f32<A>(reinterpret_cast<const std::uint8_t*>(src));
}
template <class T>
PACT_ALWAYS_INLINE float scalar_as_f32(T x) noexcept {
  if constexpr (std::is_same_v<T, fp8_e4m3>) return fp8_e4m3_table()[x.bits];
  else return static_cast<float>(x);
}

/// What an unscaled row (row<A, D, false>(), the decode kernel's, which applies the scales
/// itself) holds per unit of stored value: FP8 E4M3 rows come as value / 256, so their
/// conversion is the fp16 route without its multiply and per-vector NaN select (about
/// half the instructions; the NaN codes are tested once per row on the bytes), and the
/// kernel multiplies its scales by 256 instead, exactly (a power of two).
template <class T>
inline constexpr float unscaled_row_unit = std::is_same_v<T, fp8_e4m3> ? 1.0f / 256.0f : 1.0f;

/// dst[0..n) = E4M3 codes src[0..n) as value / 256 (exact). A row holding a NaN code
/// (S.1111.111), which the fast load turns into a finite number, is converted again
/// exactly, so its NaNs reach the scores or the output as in the scaled path.
template <class A, index_t D = 0>
PACT_ALWAYS_INLINE void convert_fp8_e4m3_row_div256(const fp8_e4m3* src, index_t n_rt, float* dst) noexcept {
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  constexpr index_t LB = static_cast<index_t>(simd::lanes<std::uint8_t, A>);
  const index_t n = D > 0 ? D : n_rt;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(src);
  constexpr float unit = 1.0f / 256.0f;
  index_t c = 0;
#pragma GCC unroll 16
  for (; c + L <= n; c += L) simd::store(dst + c, simd::load_fp8_e4m3_f32_div256<A>(bytes + c));
  for (; c < n; ++c) dst[c] = scalar_as_f32(src[c]) * unit;
  // NaN codes are exactly the bytes whose low 7 bits are all set: the largest b & 0x7F.
  const auto low7 = simd::broadcast<A>(std::uint8_t{0x7F});
  auto top = simd::zero<std::uint8_t, A>();
  index_t k = 0;
#pragma GCC unroll 8
  for (; k + LB <= n; k += LB) top = simd::max(top, simd::load<A>(bytes + k) & low7);
  bool nan = simd::any(simd::cmp_eq(top, low7));
  for (; k < n; ++k) nan = nan || (bytes[k] & 0x7F) == 0x7F;
  if (nan) [[unlikely]]
    for (c = 0; c < n; ++c) dst[c] = scalar_as_f32(src[c]) * unit;
}

/// dst[0..n) = src[0..n) as f32, times scale when Scaled. D > 0 is n known at compile
/// time (the head dim of the policy), so the loop unrolls into straight-line code: the
/// decode kernel converts every K/V row it streams, and in a callgrind count of the AVX2
/// build the loop's control instructions were a large share of that conversion.
template <class A, bool Scaled = true, index_t D = 0, class T>
PACT_ALWAYS_INLINE void convert_row(const T* src, index_t n_rt, float* dst, float scale) noexcept {
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  const index_t n = D > 0 ? D : n_rt;
  if constexpr (!Scaled && std::is_same_v<T, fp8_e4m3>) {  // value / 256: unscaled_row_unit
    convert_fp8_e4m3_row_div256<A, D>(src, n, dst);
    return;
  }
  const auto s = simd::broadcast<A>(scale);
  index_t c = 0;
#pragma GCC unroll 16
  for (; c + L <= n; c += L) {
    auto x = load_as_f32<A>(src + c);
    if constexpr (Scaled) x = x * s;
    simd::store(dst + c, x);
  }
  for (; c < n; ++c) dst[c] = Scaled ? scale * scalar_as_f32(src[c]) : scalar_as_f32(src[c]);
}

/// Row of d values at src (element stride `stride`) as f32 into dst[0..ldb), times scale
/// when Scaled, columns d..ldb-1 zero: the row() of every dense, quantized and paged source.
template <class A, bool Scaled, index_t D = 0, class T>
PACT_ALWAYS_INLINE void convert_padded_row(const T* src, index_t stride, index_t d_rt, float scale, float* dst,
                                           index_t ldb) noexcept {
  const index_t d = D > 0 ? D : d_rt;
  if (stride == 1) {
    convert_row<A, Scaled, D>(src, d, dst, scale);
  } else {
    for (index_t c = 0; c < d; ++c) dst[c] = Scaled ? scale * scalar_as_f32(src[c * stride]) : scalar_as_f32(src[c * stride]);
  }
  for (index_t c = d; c < ldb; ++c) dst[c] = 0.0f;
}

/// nb Q8_0 blocks (one row) as f32 into dst[0..ldb): each block widened and multiplied by
/// its fp16 scale; columns 32 * nb..ldb-1 zero. D > 0: the row length known at compile time.
template <class A, index_t D = 0>
PACT_ALWAYS_INLINE void convert_q8_0_row(const quant::block_q8_0* blk, index_t nb_rt, float* dst, index_t ldb) noexcept {
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  static_assert(32 % L == 0, "Q8_0: a block must be a whole number of float vectors");
  const index_t nb = D > 0 ? D / 32 : nb_rt;
#pragma GCC unroll 8
  for (index_t i = 0; i < nb; ++i) {
    const auto d = simd::broadcast<A>(simd::fp16x2_to_float<A>(blk[i].d.bits)[0]);
#pragma GCC unroll 8
    for (index_t c = 0; c < 32; c += L) simd::store(dst + 32 * i + c, simd::load_i8_f32<A>(blk[i].qs + c) * d);
  }
  for (index_t c = 32 * nb; c < ldb; ++c) dst[c] = 0.0f;
}

/// Hint the cache to fetch `bytes` bytes at p (the decode kernel requests a tile ahead).
PACT_ALWAYS_INLINE void prefetch_bytes(const void* p, index_t bytes) noexcept {
  const auto* c = static_cast<const char*>(p);
  for (index_t off = 0; off < bytes; off += 64) simd::prefetch_l2(c + off);
}

/// Precomputed RoPE angles for positions [first, first + count): cos then sin, `half`
/// values each per position; rotate(x, pos) applies the table's layout.
struct rope_angles {
  const float* cs = nullptr;
  index_t first = 0, half = 0;
  void (*rotate_fn)(const void* table, float* x, const float* c, const float* s) = nullptr;
  const void* table = nullptr;
  PACT_ALWAYS_INLINE void rotate(float* x, index_t pos) const noexcept {
    const float* c = cs + (pos - first) * 2 * half;
    rotate_fn(table, x, c, c + half);
  }
};

/// A tile of K or V rows as f32: row j of the tile is at ptr + j * row_stride.
struct f32_rows {
  const float* ptr;
  index_t row_stride;
};

/// Rows [j0, j0 + n) of (b, h) converted by src.row() into buf (ldb floats per row), rows
/// n..rows-1 zero: the tile of every source that cannot be read in place.
template <class A, class Source>
PACT_ALWAYS_INLINE f32_rows convert_tile(const Source& src, index_t b, index_t h, index_t j0, index_t n, index_t rows, float* buf,
                                         index_t ldb) noexcept {
  for (index_t j = 0; j < n; ++j) src.template row<A>(b, h, j0 + j, buf + j * ldb, ldb);
  for (index_t j = n; j < rows; ++j)
    for (index_t c = 0; c < ldb; ++c) buf[j * ldb + c] = 0.0f;
  return {buf, ldb};
}

/// Dense K or V of f32 / bf16 / fp16: [batch, seq, kv_heads, head_dim].
template <class T>
struct dense_kv {
  tensor_view<const T, 4> t;
  const rope_angles* rope = nullptr;  ///< K only: rotate rows at their positions

  index_t batch() const noexcept { return t.extent(0); }
  index_t seq() const noexcept { return t.extent(1); }
  index_t heads() const noexcept { return t.extent(2); }
  index_t dim() const noexcept { return t.extent(3); }
  static constexpr std::size_t bytes_per_value = sizeof(T);

  /// Hint the cache to fetch row `pos` of head h (used one tile ahead by the decode kernel).
  PACT_ALWAYS_INLINE void prefetch_row(index_t b, index_t h, index_t pos) const noexcept {
    prefetch_bytes(&t(b, pos, h, 0), dim() * t.stride(3) * static_cast<index_t>(bytes_per_value));
  }

  static constexpr bool has_scales = false;  ///< values are the numbers themselves

  /// Row `pos` of head h as f32 into dst[0..ldb), columns dim..ldb-1 zero. D: the head
  /// dim when known at compile time (0 = runtime). Scaled is meaningless here (no scales).
  template <class A, index_t D = 0, bool Scaled = true>
  PACT_ALWAYS_INLINE void row(index_t b, index_t h, index_t pos, float* dst, index_t ldb) const noexcept {
    convert_padded_row<A, false, D>(&t(b, pos, h, 0), t.stride(3), dim(), 1.0f, dst, ldb);
    if (rope) rope->rotate(dst, pos);
  }

  /// Rows [j0, j0 + n) of (b, h). `rows` (>= n) rows must be readable; rows n..rows-1 of a
  /// converted tile are zero and columns dim..ldb-1 are zero. In-place when allowed.
  template <class A>
  f32_rows tile(index_t b, index_t h, index_t j0, index_t n, index_t rows, bool need_padded_cols, float* buf, index_t ldb) const noexcept {
    const index_t d = dim();
    if constexpr (std::is_same_v<T, float>) {
      // In place only for densely packed rows: rows of one head inside [seq, heads, dim]
      // sit heads * dim floats apart (often a multiple of 4 KiB), so the microkernels'
      // 8 broadcast rows would map to one L1 set; a copy costs 1/block_q of the math.
      if (rope == nullptr && rows == n && t.stride(3) == 1 && t.stride(1) == d && (!need_padded_cols || d == ldb))
        return {&t(b, j0, h, 0), t.stride(1)};
    }
    return convert_tile<A>(*this, b, h, j0, n, rows, buf, ldb);
  }
};

/// int8 / FP8 E4M3 K or V with fp32 scales, dequantized row by row into the tile buffer.
template <class T>
struct quantized_kv_source {
  quantized_kv<T> q;

  index_t batch() const noexcept { return q.values.extent(0); }
  index_t seq() const noexcept { return q.values.extent(1); }
  index_t heads() const noexcept { return q.values.extent(2); }
  index_t dim() const noexcept { return q.values.extent(3); }
  static constexpr std::size_t bytes_per_value = sizeof(T);

  /// Hint the cache to fetch row `pos` of head h (used one tile ahead by the decode kernel).
  PACT_ALWAYS_INLINE void prefetch_row(index_t b, index_t h, index_t pos) const noexcept {
    prefetch_bytes(&q.values(b, pos, h, 0), dim() * q.values.stride(3) * static_cast<index_t>(bytes_per_value));
  }

  static constexpr bool has_scales = true;
  static constexpr float unscaled_unit = unscaled_row_unit<T>;  ///< of row<A, D, false>()
  /// One scale per (batch, head): the decode kernel folds it into q (K) and the output (V).
  bool scale_per_head() const noexcept { return q.block_tokens == 0; }
  /// The scale of token `pos` of head h.
  PACT_ALWAYS_INLINE float scale(index_t b, index_t h, index_t pos) const noexcept {
    return q.scales(b, h, q.block_tokens > 0 ? pos / q.block_tokens : 0);
  }
  /// out[j] = scale(b, h, j0 + j) for j < n: one division per call, not one per token.
  PACT_ALWAYS_INLINE void token_scales(index_t b, index_t h, index_t j0, index_t n, float* out) const noexcept {
    const index_t bt = q.block_tokens > 0 ? q.block_tokens : n + 1;
    index_t blk = q.block_tokens > 0 ? j0 / bt : 0, left = bt - (q.block_tokens > 0 ? j0 % bt : 0);
    for (index_t j = 0; j < n; ++j) {
      out[j] = q.scales(b, h, blk);
      if (--left == 0) ++blk, left = bt;
    }
  }

  /// Row `pos` of head h as f32 (times its scale when Scaled; the decode kernel applies
  /// the scale to scores and probabilities instead, once per key rather than per value,
  /// and reads the unscaled row in units of unscaled_unit).
  template <class A, index_t D = 0, bool Scaled = true>
  PACT_ALWAYS_INLINE void row(index_t b, index_t h, index_t pos, float* dst, index_t ldb) const noexcept {
    const float s = Scaled ? scale(b, h, pos) : 1.0f;
    convert_padded_row<A, Scaled, D>(&q.values(b, pos, h, 0), q.values.stride(3), dim(), s, dst, ldb);
  }

  template <class A>
  f32_rows tile(index_t b, index_t h, index_t j0, index_t n, index_t rows, bool, float* buf, index_t ldb) const noexcept {
    return convert_tile<A>(*this, b, h, j0, n, rows, buf, ldb);
  }

  /// int8 caches: the raw codes of row `pos` of head h, for integer q.k (int8_query).
  /// Valid when codes_contiguous().
  bool codes_contiguous() const noexcept { return q.values.stride(3) == 1; }
  PACT_ALWAYS_INLINE const std::int8_t* code_row(index_t b, index_t h, index_t pos) const noexcept
    requires std::is_same_v<T, std::int8_t>
  {
    return &q.values(b, pos, h, 0);
  }
};

/// Q8_0 K or V: each row's blocks are widened and multiplied by their fp16 scale while
/// the tile is loaded (the scale varies along the row, so it cannot be folded into q or
/// the scores as the per-token int8 scales are).
struct q8_0_kv_source {
  q8_0_kv q;

  index_t batch() const noexcept { return q.blocks.extent(0); }
  index_t seq() const noexcept { return q.blocks.extent(1); }
  index_t heads() const noexcept { return q.blocks.extent(2); }
  index_t dim() const noexcept { return 32 * q.blocks.extent(3); }

  PACT_ALWAYS_INLINE void prefetch_row(index_t b, index_t h, index_t pos) const noexcept {
    prefetch_bytes(&q.blocks(b, pos, h, 0), q.blocks.extent(3) * static_cast<index_t>(sizeof(quant::block_q8_0)));
  }

  static constexpr bool has_scales = false;  ///< the block scales are applied in row()

  template <class A, index_t D = 0, bool Scaled = true>
  PACT_ALWAYS_INLINE void row(index_t b, index_t h, index_t pos, float* dst, index_t ldb) const noexcept {
    convert_q8_0_row<A, D>(&q.blocks(b, pos, h, 0), q.blocks.extent(3), dst, ldb);
  }

  template <class A>
  f32_rows tile(index_t b, index_t h, index_t j0, index_t n, index_t rows, bool, float* buf, index_t ldb) const noexcept {
    return convert_tile<A>(*this, b, h, j0, n, rows, buf, ldb);
  }
};

template <class T>
auto make_kv_source(const tensor_view<T, 4>& t, const rope_angles* rope = nullptr) {
  return dense_kv<std::remove_const_t<T>>{tensor_view<const std::remove_const_t<T>, 4>(t), rope};
}
template <class T>
auto make_kv_source(const quantized_kv<T>& q, const rope_angles* = nullptr) {
  return quantized_kv_source<T>{q};
}
inline auto make_kv_source(const q8_0_kv& q, const rope_angles* = nullptr) { return q8_0_kv_source{q}; }

}  // namespace attention_detail
PACT_NAMESPACE_END
