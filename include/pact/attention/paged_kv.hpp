#pragma once
// Paged KV cache (vLLM PagedAttention): K and V rows live in fixed-size blocks of a shared
// pool, and a per-sequence block table maps token position p to (block_table[p / B], p % B).
// Sequences grow by appending rows; blocks are taken from a free list, so a sequence's
// blocks are anywhere in the pool. The attention kernels read the pool through the table
// directly (paged_kv_view), converting rows into their O(tile) buffers as for a dense cache.
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "pact/attention/kv_source.hpp"
#include "pact/core/error.hpp"
#include "pact/core/tensor_view.hpp"

PACT_NAMESPACE_BEGIN

/// What the kernels read: a pool [num_blocks, block_size, kv_heads, dim] and a block table
/// [batch, max_blocks] (int32 block ids); every sequence of the batch holds seq_len tokens.
template <class T>
struct paged_kv_view {
  tensor_view<const T, 4> pool{};
  tensor_view<const std::int32_t, 2> block_table{};
  index_t seq_len = 0;
};

/// An owning paged cache for one layer: K and V pools plus per-sequence block lists.
template <class T>
class paged_kv_cache {
 public:
  /// num_blocks blocks of block_size tokens x kv_heads x dim values, for K and for V.
  paged_kv_cache(index_t num_blocks, index_t block_size, index_t kv_heads, index_t dim)
      : blocks_(num_blocks), block_size_(block_size), heads_(kv_heads), dim_(dim) {
    detail::require(num_blocks > 0 && block_size > 0 && kv_heads > 0 && dim > 0, errc::invalid_shape,
                    "paged_kv_cache: num_blocks, block_size, kv_heads and dim must be positive");
    const std::size_t n = detail::checked_mul(
        detail::checked_mul(static_cast<std::size_t>(num_blocks), static_cast<std::size_t>(block_size), "paged_kv_cache"),
        detail::checked_mul(static_cast<std::size_t>(kv_heads), static_cast<std::size_t>(dim), "paged_kv_cache"),
        "paged_kv_cache");
    k_.resize(n);
    v_.resize(n);
    free_.resize(static_cast<std::size_t>(num_blocks));
    // Hand out high ids first: a fresh cache already gives non-contiguous tables.
    std::iota(free_.begin(), free_.end(), 0);
  }

  /// Reorders the free list (tests use it to scatter blocks through the pool).
  template <class URBG>
  void shuffle_free_blocks(URBG&& g) {
    for (std::size_t i = free_.size(); i > 1; --i) std::swap(free_[i - 1], free_[static_cast<std::size_t>(g() % i)]);
  }

  /// A new empty sequence; returns its id.
  index_t add_sequence() {
    seqs_.emplace_back();
    return static_cast<index_t>(seqs_.size() - 1);
  }
  index_t length(index_t seq) const { return sequence(seq).length; }
  index_t block_size() const noexcept { return block_size_; }

  /// Appends rows [n, kv_heads, dim] of K and V to sequence `seq`.
  /// Errors: invalid_shape (row shapes), invalid_argument (unknown sequence, pool exhausted).
  template <class U>
  void append(index_t seq, tensor_view<U, 3> k_rows, tensor_view<U, 3> v_rows) {
    auto& s = sequence(seq);
    validate(k_rows, "paged_kv_cache::append: k_rows");
    validate(v_rows, "paged_kv_cache::append: v_rows");
    detail::require(k_rows.extent(1) == heads_ && k_rows.extent(2) == dim_ && v_rows.extent(0) == k_rows.extent(0) &&
                        v_rows.extent(1) == heads_ && v_rows.extent(2) == dim_,
                    errc::invalid_shape, "paged_kv_cache::append: rows must be [n, kv_heads, dim] for K and V");
    const index_t n = k_rows.extent(0);
    const index_t needed = (s.length + n + block_size_ - 1) / block_size_ - static_cast<index_t>(s.blocks.size());
    detail::require(needed <= static_cast<index_t>(free_.size()), errc::invalid_argument,
                    "paged_kv_cache::append: the block pool is exhausted");
    for (index_t i = 0; i < needed; ++i) {
      s.blocks.push_back(free_.back());
      free_.pop_back();
    }
    for (index_t r = 0; r < n; ++r, ++s.length) {
      for (index_t h = 0; h < heads_; ++h)
        for (index_t c = 0; c < dim_; ++c) {
          k_[offset(s, s.length, h) + static_cast<std::size_t>(c)] = static_cast<T>(k_rows(r, h, c));
          v_[offset(s, s.length, h) + static_cast<std::size_t>(c)] = static_cast<T>(v_rows(r, h, c));
        }
    }
  }

  /// Lookup: K / V row of token `pos` for KV head h (dim values).
  const T* k_row(index_t seq, index_t pos, index_t h) const { return k_.data() + checked_offset(seq, pos, h); }
  const T* v_row(index_t seq, index_t pos, index_t h) const { return v_.data() + checked_offset(seq, pos, h); }

  /// Block table of a batch of equally long sequences, and the K / V views over it.
  struct batch {
    std::vector<std::int32_t> table;
    index_t rows = 0, cols = 0, seq_len = 0;
    const paged_kv_cache* cache = nullptr;
    paged_kv_view<T> keys() const { return {cache->pool_view(cache->k_), {table.data(), {rows, cols}}, seq_len}; }
    paged_kv_view<T> values() const { return {cache->pool_view(cache->v_), {table.data(), {rows, cols}}, seq_len}; }
  };
  batch make_batch(std::span<const index_t> seq_ids) const {
    batch out;
    out.cache = this;
    out.rows = static_cast<index_t>(seq_ids.size());
    for (index_t id : seq_ids) out.cols = std::max<index_t>(out.cols, static_cast<index_t>(sequence(id).blocks.size()));
    out.seq_len = seq_ids.empty() ? 0 : sequence(seq_ids[0]).length;
    out.table.assign(static_cast<std::size_t>(out.rows * std::max<index_t>(out.cols, 1)), 0);
    if (out.cols == 0) out.cols = 1;
    for (std::size_t b = 0; b < seq_ids.size(); ++b) {
      const auto& s = sequence(seq_ids[b]);
      detail::require(s.length == out.seq_len, errc::invalid_shape, "paged_kv_cache::make_batch: sequences must have equal length");
      for (std::size_t i = 0; i < s.blocks.size(); ++i) out.table[b * static_cast<std::size_t>(out.cols) + i] = s.blocks[i];
    }
    return out;
  }

 private:
  struct seq_state {
    std::vector<std::int32_t> blocks;
    index_t length = 0;
  };
  const seq_state& sequence(index_t id) const {
    detail::require(id >= 0 && id < static_cast<index_t>(seqs_.size()), errc::invalid_argument, "paged_kv_cache: unknown sequence id");
    return seqs_[static_cast<std::size_t>(id)];
  }
  seq_state& sequence(index_t id) { return const_cast<seq_state&>(static_cast<const paged_kv_cache&>(*this).sequence(id)); }
  std::size_t offset(const seq_state& s, index_t pos, index_t h) const {
    const auto blk = static_cast<std::size_t>(s.blocks[static_cast<std::size_t>(pos / block_size_)]);
    return ((blk * static_cast<std::size_t>(block_size_) + static_cast<std::size_t>(pos % block_size_)) * static_cast<std::size_t>(heads_) +
            static_cast<std::size_t>(h)) *
           static_cast<std::size_t>(dim_);
  }
  std::size_t checked_offset(index_t seq, index_t pos, index_t h) const {
    const auto& s = sequence(seq);
    detail::require(pos >= 0 && pos < s.length && h >= 0 && h < heads_, errc::invalid_argument,
                    "paged_kv_cache: position or head out of range");
    return offset(s, pos, h);
  }
  tensor_view<const T, 4> pool_view(const std::vector<T>& p) const { return {p.data(), {blocks_, block_size_, heads_, dim_}}; }

  index_t blocks_, block_size_, heads_, dim_;
  std::vector<T> k_, v_;
  std::vector<std::int32_t> free_;
  std::vector<seq_state> seqs_;
};

namespace attention_detail {

/// Kernel-side reader of a paged view (the table was validated by the entry point).
template <class T>
struct paged_kv_source {
  static_assert(is_attention_float<T>, "paged KV caches hold float, bf16 or fp16 values");
  paged_kv_view<T> pv;
  const rope_angles* rope = nullptr;

  index_t batch() const noexcept { return pv.block_table.extent(0); }
  index_t seq() const noexcept { return pv.seq_len; }
  index_t heads() const noexcept { return pv.pool.extent(2); }
  index_t dim() const noexcept { return pv.pool.extent(3); }
  static constexpr std::size_t bytes_per_value = sizeof(T);

  PACT_ALWAYS_INLINE const T* at(index_t b, index_t h, index_t pos) const noexcept {
    const index_t bs = pv.pool.extent(1);
    return &pv.pool(pv.block_table(b, pos / bs), pos % bs, h, 0);
  }
  PACT_ALWAYS_INLINE void prefetch_row(index_t b, index_t h, index_t pos) const noexcept {
    const auto* p = reinterpret_cast<const char*>(at(b, h, pos));
    const index_t bytes = dim() * pv.pool.stride(3) * static_cast<index_t>(sizeof(T));
    for (index_t off = 0; off < bytes; off += 64) simd::prefetch_l2(p + off);
  }
  static constexpr bool has_scales = false;
  template <class A, index_t D = 0, bool Scaled = true>
  PACT_ALWAYS_INLINE void row(index_t b, index_t h, index_t pos, float* dst, index_t ldb) const noexcept {
    const index_t d = D > 0 ? D : dim();
    const T* src = at(b, h, pos);
    if (pv.pool.stride(3) == 1) {
      convert_row<A, false, D>(src, d, dst, 1.0f);
    } else {
      for (index_t c = 0; c < d; ++c) dst[c] = to_f32(src[c * pv.pool.stride(3)]);
    }
    if (rope) rope->rotate(dst, pos);
    for (index_t c = d; c < ldb; ++c) dst[c] = 0.0f;
  }
  template <class A>
  f32_rows tile(index_t b, index_t h, index_t j0, index_t n, index_t rows, bool, float* buf, index_t ldb) const noexcept {
    return convert_tile<A>(*this, b, h, j0, n, rows, buf, ldb);
  }
};

template <class T>
auto make_kv_source(const paged_kv_view<T>& v, const rope_angles* rope = nullptr) {
  return paged_kv_source<T>{v, rope};
}

}  // namespace attention_detail
PACT_NAMESPACE_END
