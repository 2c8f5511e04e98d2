#pragma once
// Kernel-side readers of the paged views (paged_kv.hpp): the same row / tile / prefetch /
// scale interface as the dense sources in kv_source.hpp, with a row's address looked up in
// the block table. Tables and scales were validated by the entry point (kv_traits.hpp).
#include <algorithm>
#include <cstdint>

#include "pact/attention/kv_source.hpp"
#include "pact/attention/paged_kv.hpp"

PACT_NAMESPACE_BEGIN
namespace attention_detail {

/// Token pos of sequence b lives at (block, slot) of the pool. Power-of-two block sizes (all
/// that vLLM and llama.cpp use) shift and mask: the decode kernel locates every K and V row
/// it reads and prefetches, and with a division per lookup a 16k-token int8 decode on one
/// Zen 4 core took 10.6 ms against 7.7 ms for the dense cache (the f32 one hides it behind
/// DRAM stalls).
struct paged_slot {
  index_t block, slot;
};
struct paged_addressing {
  tensor_view<const std::int32_t, 2> table;
  index_t block_size = 1;
  int shift = -1;  ///< log2(block_size) when a power of two, else -1
  static paged_addressing make(const tensor_view<const std::int32_t, 2>& t, index_t bs) noexcept {
    int sh = -1;
    if (bs > 0 && (bs & (bs - 1)) == 0)
      for (sh = 0; (index_t{1} << sh) < bs;) ++sh;
    return {t, bs, sh};
  }
  PACT_ALWAYS_INLINE paged_slot locate(index_t b, index_t pos) const noexcept {
    if (shift >= 0) return {table(b, pos >> shift), pos & (block_size - 1)};
    return {table(b, pos / block_size), pos % block_size};
  }
};

/// What every paged source shares: the view, its addressing, the shape and row lookups.
/// Row elements are values, codes or Q8_0 blocks (View::pool's element type T).
template <class T, class View>
struct paged_pool_rows {
  View pv;
  paged_addressing addr;

  index_t batch() const noexcept { return pv.block_table.extent(0); }
  index_t seq() const noexcept { return pv.seq_len; }
  index_t heads() const noexcept { return pv.pool.extent(2); }
  index_t row_elems() const noexcept { return pv.pool.extent(3); }

  PACT_ALWAYS_INLINE const T* at(index_t b, index_t h, index_t pos) const noexcept {
    const auto [blk, slot] = addr.locate(b, pos);
    return &pv.pool(blk, slot, h, 0);
  }
  /// Hint the cache to fetch row `pos` of head h (used one tile ahead by the decode kernel).
  PACT_ALWAYS_INLINE void prefetch_row(index_t b, index_t h, index_t pos) const noexcept {
    prefetch_bytes(at(b, h, pos), row_elems() * pv.pool.stride(3) * static_cast<index_t>(sizeof(T)));
  }
};

/// float / bf16 / fp16 pool.
template <class T>
struct paged_kv_source : paged_pool_rows<T, paged_kv_view<T>> {
  static_assert(is_attention_float<T>, "paged_kv_view holds float, bf16 or fp16 values");
  using base = paged_pool_rows<T, paged_kv_view<T>>;
  using base::at;
  using base::pv;
  const rope_angles* rope = nullptr;  ///< K only: rotate rows at their positions

  index_t dim() const noexcept { return pv.pool.extent(3); }
  static constexpr std::size_t bytes_per_value = sizeof(T);
  static constexpr bool has_scales = false;
  template <class A, index_t D = 0, bool Scaled = true>
  PACT_ALWAYS_INLINE void row(index_t b, index_t h, index_t pos, float* dst, index_t ldb) const noexcept {
    convert_padded_row<A, false, D>(at(b, h, pos), pv.pool.stride(3), dim(), 1.0f, dst, ldb);
    if (rope) rope->rotate(dst, pos);
  }
  template <class A>
  f32_rows tile(index_t b, index_t h, index_t j0, index_t n, index_t rows, bool, float* buf, index_t ldb) const noexcept {
    return convert_tile<A>(*this, b, h, j0, n, rows, buf, ldb);
  }
};

/// int8 / FP8 E4M3 pool with per-(token run, head) scales: like quantized_kv_source with
/// per-token scales (the decode kernel applies them to scores and probabilities).
template <class T>
struct paged_quantized_kv_source : paged_pool_rows<T, paged_quantized_kv<T>> {
  using base = paged_pool_rows<T, paged_quantized_kv<T>>;
  using base::addr;
  using base::at;
  using base::pv;

  index_t dim() const noexcept { return pv.pool.extent(3); }
  static constexpr std::size_t bytes_per_value = sizeof(T);
  static constexpr bool has_scales = true;
  static constexpr float unscaled_unit = unscaled_row_unit<T>;  ///< of row<A, D, false>()
  static constexpr bool scale_per_head() noexcept { return false; }
  PACT_ALWAYS_INLINE float scale(index_t b, index_t h, index_t pos) const noexcept {
    const auto [blk, slot] = addr.locate(b, pos);
    return pv.scales(blk, slot / pv.tokens_per_scale, h);
  }
  /// out[j] = scale(b, h, j0 + j) for j < n, walking the block table once per block.
  PACT_ALWAYS_INLINE void token_scales(index_t b, index_t h, index_t j0, index_t n, float* out) const noexcept {
    const index_t bs = pv.pool.extent(1), tps = pv.tokens_per_scale;
    index_t entry = j0 / bs, slot = j0 % bs;
    for (index_t j = 0; j < n;) {
      const index_t blk = pv.block_table(b, entry);
      const index_t run = std::min(n - j, bs - slot);
      if (tps == 1) {
        for (index_t i = 0; i < run; ++i) out[j + i] = pv.scales(blk, slot + i, h);
      } else {
        for (index_t i = 0; i < run; ++i) out[j + i] = pv.scales(blk, (slot + i) / tps, h);
      }
      j += run;
      ++entry;
      slot = 0;
    }
  }
  template <class A, index_t D = 0, bool Scaled = true>
  PACT_ALWAYS_INLINE void row(index_t b, index_t h, index_t pos, float* dst, index_t ldb) const noexcept {
    const float s = Scaled ? scale(b, h, pos) : 1.0f;
    convert_padded_row<A, Scaled, D>(at(b, h, pos), pv.pool.stride(3), dim(), s, dst, ldb);
  }
  template <class A>
  f32_rows tile(index_t b, index_t h, index_t j0, index_t n, index_t rows, bool, float* buf, index_t ldb) const noexcept {
    return convert_tile<A>(*this, b, h, j0, n, rows, buf, ldb);
  }

  /// int8 pools: the raw codes of row `pos` of head h, for integer q.k (int8_query).
  bool codes_contiguous() const noexcept { return pv.pool.stride(3) == 1; }
  PACT_ALWAYS_INLINE const std::int8_t* code_row(index_t b, index_t h, index_t pos) const noexcept
    requires std::is_same_v<T, std::int8_t>
  {
    return at(b, h, pos);
  }
};

/// Q8_0 pool: rows converted block by block as q8_0_kv_source does.
struct paged_q8_0_kv_source : paged_pool_rows<quant::block_q8_0, paged_q8_0_kv> {
  index_t dim() const noexcept { return 32 * pv.pool.extent(3); }
  static constexpr bool has_scales = false;  ///< the block scales are applied in row()
  template <class A, index_t D = 0, bool Scaled = true>
  PACT_ALWAYS_INLINE void row(index_t b, index_t h, index_t pos, float* dst, index_t ldb) const noexcept {
    convert_q8_0_row<A, D>(at(b, h, pos), pv.pool.extent(3), dst, ldb);
  }
  template <class A>
  f32_rows tile(index_t b, index_t h, index_t j0, index_t n, index_t rows, bool, float* buf, index_t ldb) const noexcept {
    return convert_tile<A>(*this, b, h, j0, n, rows, buf, ldb);
  }
};

template <class T>
auto make_kv_source(const paged_kv_view<T>& v, const rope_angles* rope = nullptr) {
  return paged_kv_source<T>{{v, paged_addressing::make(v.block_table, v.pool.extent(1))}, rope};
}
template <class T>
auto make_kv_source(const paged_quantized_kv<T>& v, const rope_angles* = nullptr) {
  return paged_quantized_kv_source<T>{{v, paged_addressing::make(v.block_table, v.pool.extent(1))}};
}
inline auto make_kv_source(const paged_q8_0_kv& v, const rope_angles* = nullptr) {
  return paged_q8_0_kv_source{{v, paged_addressing::make(v.block_table, v.pool.extent(1))}};
}

}  // namespace attention_detail
PACT_NAMESPACE_END
