#pragma once
// Paged KV cache (vLLM PagedAttention): K and V rows live in fixed-size blocks of a shared
// pool, and a per-sequence block table maps token position p to (block_table[p / B], p % B).
// Sequences grow by appending rows; blocks are taken from a free list, so a sequence's
// blocks are anywhere in the pool. The attention kernels read the pool through the table
// directly (paged_kv_source.hpp), converting rows into their O(tile) buffers as for a dense
// cache. Pools hold float / bf16 / fp16 values, int8 / FP8 E4M3 codes with one fp32 scale
// per (token, head) or per run of tokens, or ggml Q8_0 blocks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "pact/attention/kv_quantize.hpp"
#include "pact/core/error.hpp"
#include "pact/core/huge_page_buffer.hpp"
#include "pact/core/tensor_view.hpp"
#include "pact/quant/formats/ggml_blocks.hpp"
#include "pact/quant/ggml.hpp"
#include "pact/simd/simd.hpp"
#include "pact/types/bf16.hpp"
#include "pact/types/fp16.hpp"
#include "pact/types/fp8.hpp"

PACT_NAMESPACE_BEGIN

/// What the kernels read: a pool [num_blocks, block_size, kv_heads, dim] and a block table
/// [batch, max_blocks] (int32 block ids); every sequence of the batch holds seq_len tokens.
template <class T>
struct paged_kv_view {
  tensor_view<const T, 4> pool{};
  tensor_view<const std::int32_t, 2> block_table{};
  index_t seq_len = 0;
};

/// A paged int8 / FP8 E4M3 cache: codes [num_blocks, block_size, kv_heads, dim] and fp32
/// scales [num_blocks, block_size / tokens_per_scale, kv_heads]; token p of a sequence has
/// the scale scales(block, (p % block_size) / tokens_per_scale, head), value = scale * code.
/// tokens_per_scale = 1 (what paged_kv_cache writes) gives every appended row its own scale;
/// tokens_per_scale = block_size gives one scale per block and head. It must divide block_size.
template <class T>
struct paged_quantized_kv {
  static_assert(std::is_same_v<T, std::int8_t> || std::is_same_v<T, fp8_e4m3>,
                "paged_quantized_kv holds int8_t or fp8_e4m3 codes");
  tensor_view<const T, 4> pool{};
  tensor_view<const float, 3> scales{};
  tensor_view<const std::int32_t, 2> block_table{};
  index_t seq_len = 0;
  index_t tokens_per_scale = 1;
};

/// A paged cache of ggml Q8_0 blocks: pool [num_blocks, block_size, kv_heads, dim / 32] of
/// quant::block_q8_0 (a row's blocks contiguous), block table and seq_len as paged_kv_view.
struct paged_q8_0_kv {
  tensor_view<const quant::block_q8_0, 4> pool{};
  tensor_view<const std::int32_t, 2> block_table{};
  index_t seq_len = 0;
};

namespace attention_detail {
template <class T>
inline constexpr bool is_paged_float = std::is_same_v<T, float> || std::is_same_v<T, bf16> || std::is_same_v<T, fp16>;
template <class T>
inline constexpr bool is_paged_code = std::is_same_v<T, std::int8_t> || std::is_same_v<T, fp8_e4m3>;

/// The view type of a paged pool of T.
template <class T>
struct paged_view_of {
  using type = paged_kv_view<T>;
};
template <class T>
  requires is_paged_code<T>
struct paged_view_of<T> {
  using type = paged_quantized_kv<T>;
};
template <>
struct paged_view_of<quant::block_q8_0> {
  using type = paged_q8_0_kv;
};
}  // namespace attention_detail

/// An owning paged cache for one layer: K and V pools plus per-sequence block lists.
/// T is what a pool stores: float / bf16 / fp16 (appended values are converted), int8_t or
/// fp8_e4m3 (each appended (token, head) row quantized with its own fp32 scale by
/// quantize_kv_row), or quant::block_q8_0 (each row quantized to dim / 32 Q8_0 blocks).
template <class T>
class paged_kv_cache {
 public:
  static constexpr bool has_scales = attention_detail::is_paged_code<T>;
  static constexpr bool is_q8_0 = std::is_same_v<T, quant::block_q8_0>;
  static_assert(attention_detail::is_paged_float<T> || has_scales || is_q8_0,
                "paged_kv_cache stores float, bf16, fp16, int8_t, fp8_e4m3 or quant::block_q8_0");
  using view_type = typename attention_detail::paged_view_of<T>::type;

  /// num_blocks blocks of block_size tokens x kv_heads x dim values, for K and for V.
  /// Errors: invalid_shape (a non-positive size; dim not a multiple of 32 for Q8_0).
  paged_kv_cache(index_t num_blocks, index_t block_size, index_t kv_heads, index_t dim)
      : blocks_(num_blocks), block_size_(block_size), heads_(kv_heads), dim_(dim) {
    detail::require(num_blocks > 0 && block_size > 0 && kv_heads > 0 && dim > 0, errc::invalid_shape,
                    "paged_kv_cache: num_blocks, block_size, kv_heads and dim must be positive");
    if constexpr (is_q8_0) detail::require(dim % 32 == 0, errc::invalid_shape, "paged_kv_cache: a Q8_0 cache needs dim % 32 == 0");
    row_elems_ = is_q8_0 ? dim / 32 : dim;
    const std::size_t rows = detail::checked_mul(
        detail::checked_mul(static_cast<std::size_t>(num_blocks), static_cast<std::size_t>(block_size), "paged_kv_cache"),
        static_cast<std::size_t>(kv_heads), "paged_kv_cache");
    const std::size_t n = detail::checked_mul(rows, static_cast<std::size_t>(row_elems_), "paged_kv_cache");
    k_ = huge_page_buffer<T>(n);
    v_ = huge_page_buffer<T>(n);
    if constexpr (has_scales) {
      k_scales_.assign(rows, 0.0f);
      v_scales_.assign(rows, 0.0f);
    }
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
  index_t free_blocks() const noexcept { return static_cast<index_t>(free_.size()); }
  /// Bytes of one pool (K or V) including its scales: what a decode step streams at most.
  std::size_t pool_bytes() const noexcept { return k_.size() * sizeof(T) + k_scales_.size() * sizeof(float); }

  /// Appends rows [n, kv_heads, dim] of K and V (float, bf16 or fp16) to sequence `seq`.
  /// Either all rows are appended or, on an error, none.
  /// Errors: invalid_shape (row shapes), invalid_argument (unknown sequence, pool exhausted),
  /// invalid_data (NaN or Inf in a row of a quantized cache: no scale represents it).
  template <class U>
  void append(index_t seq, tensor_view<U, 3> k_rows, tensor_view<U, 3> v_rows) {
    using value = std::remove_const_t<U>;
    static_assert(attention_detail::is_paged_float<value>, "paged_kv_cache::append takes float, bf16 or fp16 rows");
    auto& s = sequence(seq);
    validate(k_rows, "paged_kv_cache::append: k_rows");
    validate(v_rows, "paged_kv_cache::append: v_rows");
    detail::require(k_rows.extent(1) == heads_ && k_rows.extent(2) == dim_ && v_rows.extent(0) == k_rows.extent(0) &&
                        v_rows.extent(1) == heads_ && v_rows.extent(2) == dim_,
                    errc::invalid_shape, "paged_kv_cache::append: rows must be [n, kv_heads, dim] for K and V");
    const index_t n = k_rows.extent(0);
    if constexpr (has_scales || is_q8_0) {
      const auto finite = [&](const tensor_view<U, 3>& t) {
        for (index_t r = 0; r < n; ++r)
          for (index_t h = 0; h < heads_; ++h)
            for (index_t c = 0; c < dim_; ++c)
              if (!std::isfinite(static_cast<float>(t(r, h, c)))) return false;
        return true;
      };
      detail::require(finite(k_rows) && finite(v_rows), errc::invalid_data,
                      "paged_kv_cache::append: a quantized cache cannot store NaN or Inf");
    }
    const index_t needed = (s.length + n + block_size_ - 1) / block_size_ - static_cast<index_t>(s.blocks.size());
    detail::require(needed <= static_cast<index_t>(free_.size()), errc::invalid_argument,
                    "paged_kv_cache::append: the block pool is exhausted");
    for (index_t i = 0; i < needed; ++i) {
      s.blocks.push_back(free_.back());
      free_.pop_back();
    }
    std::vector<float> row(static_cast<std::size_t>(dim_));
    for (index_t r = 0; r < n; ++r, ++s.length)
      for (index_t h = 0; h < heads_; ++h) {
        const std::size_t at = row_index(s, s.length, h);
        store_row(k_rows, r, h, at, k_, k_scales_, row);
        store_row(v_rows, r, h, at, v_, v_scales_, row);
      }
  }

  /// Lookup: the stored K / V row of token `pos` for KV head h (dim values, or dim / 32
  /// Q8_0 blocks). Errors: invalid_argument (unknown sequence, position or head).
  const T* k_row(index_t seq, index_t pos, index_t h) const { return k_.data() + checked_row(seq, pos, h) * row_elems_; }
  const T* v_row(index_t seq, index_t pos, index_t h) const { return v_.data() + checked_row(seq, pos, h) * row_elems_; }
  /// The scale of a K / V row (int8 / FP8 caches only).
  float k_scale(index_t seq, index_t pos, index_t h) const
    requires has_scales
  {
    return k_scales_[checked_row(seq, pos, h)];
  }
  float v_scale(index_t seq, index_t pos, index_t h) const
    requires has_scales
  {
    return v_scales_[checked_row(seq, pos, h)];
  }
  /// The values a kernel reads for a K / V row, as f32 (out.size() must be dim).
  void read_k(index_t seq, index_t pos, index_t h, std::span<float> out) const { read_row(k_, k_scales_, seq, pos, h, out); }
  void read_v(index_t seq, index_t pos, index_t h, std::span<float> out) const { read_row(v_, v_scales_, seq, pos, h, out); }

  /// Block table of a batch of equally long sequences, and the K / V views over it.
  struct batch {
    std::vector<std::int32_t> table;
    index_t rows = 0, cols = 0, seq_len = 0;
    const paged_kv_cache* cache = nullptr;
    view_type keys() const { return cache->view(cache->k_, cache->k_scales_, *this); }
    view_type values() const { return cache->view(cache->v_, cache->v_scales_, *this); }
  };
  /// Errors: invalid_argument (unknown sequence), invalid_shape (lengths differ).
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
  /// Index of the (token, head) row in units of rows: block, slot, head.
  std::size_t row_index(const seq_state& s, index_t pos, index_t h) const {
    const auto blk = static_cast<std::size_t>(s.blocks[static_cast<std::size_t>(pos / block_size_)]);
    return (blk * static_cast<std::size_t>(block_size_) + static_cast<std::size_t>(pos % block_size_)) * static_cast<std::size_t>(heads_) +
           static_cast<std::size_t>(h);
  }
  std::size_t checked_row(index_t seq, index_t pos, index_t h) const {
    const auto& s = sequence(seq);
    detail::require(pos >= 0 && pos < s.length && h >= 0 && h < heads_, errc::invalid_argument,
                    "paged_kv_cache: position or head out of range");
    return row_index(s, pos, h);
  }
  template <class U>
  void store_row(const tensor_view<U, 3>& src, index_t r, index_t h, std::size_t at, huge_page_buffer<T>& pool, std::vector<float>& scales,
                 std::vector<float>& row) const {
    T* dst = pool.data() + at * static_cast<std::size_t>(row_elems_);
    if constexpr (attention_detail::is_paged_float<T>) {
      for (index_t c = 0; c < dim_; ++c) dst[c] = static_cast<T>(static_cast<float>(src(r, h, c)));
    } else {
      for (index_t c = 0; c < dim_; ++c) row[static_cast<std::size_t>(c)] = static_cast<float>(src(r, h, c));
      if constexpr (has_scales)
        scales[at] = quantize_kv_row_unchecked<T>(row, std::span<T>(dst, static_cast<std::size_t>(dim_)));
      else
        (void)quant::quantize_blocks<simd::native_arch>(row.data(), dst, static_cast<std::size_t>(row_elems_));  // finite: checked
    }
  }
  void read_row(const huge_page_buffer<T>& pool, const std::vector<float>& scales, index_t seq, index_t pos, index_t h,
                std::span<float> out) const {
    detail::require(out.size() == static_cast<std::size_t>(dim_), errc::invalid_shape, "paged_kv_cache::read_k/read_v: out must hold dim floats");
    const std::size_t at = checked_row(seq, pos, h);
    const T* src = pool.data() + at * static_cast<std::size_t>(row_elems_);
    if constexpr (attention_detail::is_paged_float<T>) {
      for (index_t c = 0; c < dim_; ++c) out[static_cast<std::size_t>(c)] = static_cast<float>(src[c]);
    } else if constexpr (has_scales) {
      for (index_t c = 0; c < dim_; ++c) out[static_cast<std::size_t>(c)] = scales[at] * static_cast<float>(src[c]);
    } else {
      quant::dequantize_blocks<simd::native_arch>(src, out.data(), static_cast<std::size_t>(row_elems_));
    }
  }
  view_type view(const huge_page_buffer<T>& pool, const std::vector<float>& scales, const batch& bt) const {
    const tensor_view<const T, 4> p{pool.data(), {blocks_, block_size_, heads_, row_elems_}};
    const tensor_view<const std::int32_t, 2> table{bt.table.data(), {bt.rows, bt.cols}};
    if constexpr (has_scales)
      return {p, tensor_view<const float, 3>{scales.data(), {blocks_, block_size_, heads_}}, table, bt.seq_len, 1};
    else
      return {p, table, bt.seq_len};
  }

  index_t blocks_, block_size_, heads_, dim_, row_elems_ = 0;
  // Pools on 2 MiB pages where the OS allows: a decode step jumps from block to block, and
  // with 4 KiB pages a shuffled 16k-token int8 pool decoded 1.2x slower than an unshuffled one.
  huge_page_buffer<T> k_, v_;
  std::vector<float> k_scales_, v_scales_;  // [num_blocks, block_size, kv_heads], int8 / FP8 only
  std::vector<std::int32_t> free_;
  std::vector<seq_state> seqs_;
};

PACT_NAMESPACE_END
