#pragma once
// kv_traits: what a checked entry point (pact::attention, pact::mla_decode) needs to know
// about a K / V / latent cache argument: its storage (validated and checked for overlap with
// the output), its logical shape [batch, seq, kv_heads, dim] and any extra checks
// (quantization scales, block tables). The kernels read the same argument through the
// source make_kv_source() builds from it.
#include <array>
#include <string>

#include "pact/attention/kv_source.hpp"
#include "pact/attention/paged_kv.hpp"
#include "pact/attention/paged_kv_source.hpp"
#include "pact/core/error.hpp"
#include "pact/core/tensor_view.hpp"

PACT_NAMESPACE_BEGIN
namespace attention_detail {

template <class T>
struct kv_traits;
template <class T>
struct kv_traits<tensor_view<T, 4>> {
  using value = std::remove_const_t<T>;
  static tensor_view<const value, 4> memory(const tensor_view<T, 4>& t) { return t; }
  static std::array<index_t, 4> shape(const tensor_view<T, 4>& t) { return t.extents(); }
  static void validate_extra(const tensor_view<T, 4>&, const char*) {}
};
template <class T>
struct kv_traits<quantized_kv<T>> {
  using value = T;
  static const tensor_view<const T, 4>& memory(const quantized_kv<T>& q) { return q.values; }
  static std::array<index_t, 4> shape(const quantized_kv<T>& q) { return q.values.extents(); }
  static void validate_extra(const quantized_kv<T>& q, const char* what) {
    using std::string;
    validate(q.scales, what);
    const auto& v = q.values;
    detail::require(q.block_tokens >= 0, errc::invalid_argument, "attention: quantized_kv block_tokens must be >= 0");
    const index_t blocks = q.block_tokens > 0 ? (v.extent(1) + q.block_tokens - 1) / q.block_tokens : 1;
    if (q.scales.extent(0) != v.extent(0) || q.scales.extent(1) != v.extent(2) ||
        (v.extent(1) > 0 && q.scales.extent(2) < blocks))
      throw error(errc::invalid_shape, string("attention: ") + what + " scales must be [batch, kv_heads, blocks]");
  }
};
template <>
struct kv_traits<q8_0_kv> {
  using value = quant::block_q8_0;
  static const tensor_view<const quant::block_q8_0, 4>& memory(const q8_0_kv& q) { return q.blocks; }
  static std::array<index_t, 4> shape(const q8_0_kv& q) {
    const auto& e = q.blocks.extents();
    return {e[0], e[1], e[2], e[3] * 32};  // extents were validated: e[3] * 32 fits (its bytes do)
  }
  static void validate_extra(const q8_0_kv& q, const char* what) {
    using std::string;
    if (q.blocks.extent(3) > 1 && q.blocks.stride(3) != 1)
      throw error(errc::bad_stride, string("attention: ") + what + " Q8_0 blocks of a row must be contiguous (stride 1)");
  }
};
/// A block table must cover seq_len tokens of every sequence with ids inside the pool.
inline void validate_block_table(const tensor_view<const std::int32_t, 2>& table, index_t seq_len, index_t block_size,
                                 index_t num_blocks, const char* what) {
  using std::string;
  validate(table, what);
  detail::require(seq_len >= 0, errc::invalid_shape, "attention: paged seq_len must be >= 0");
  if (seq_len == 0 || table.extent(0) == 0) return;
  detail::require(block_size > 0, errc::invalid_shape, "attention: paged pool has zero-sized blocks");
  const index_t used = (seq_len + block_size - 1) / block_size;
  if (table.extent(1) < used)
    throw error(errc::invalid_argument, string("attention: ") + what + " block table has fewer blocks than seq_len needs");
  for (index_t b = 0; b < table.extent(0); ++b)
    for (index_t i = 0; i < used; ++i) {
      const auto id = table(b, i);
      if (id < 0 || id >= num_blocks)
        throw error(errc::invalid_argument, string("attention: ") + what + " block table holds a block id outside the pool");
    }
}

template <class T>
struct kv_traits<paged_kv_view<T>> {
  using value = T;
  static const tensor_view<const T, 4>& memory(const paged_kv_view<T>& p) { return p.pool; }
  static std::array<index_t, 4> shape(const paged_kv_view<T>& p) {
    return {p.block_table.extent(0), p.seq_len, p.pool.extent(2), p.pool.extent(3)};
  }
  static void validate_extra(const paged_kv_view<T>& p, const char* what) {
    validate_block_table(p.block_table, p.seq_len, p.pool.extent(1), p.pool.extent(0), what);
  }
};
template <class T>
struct kv_traits<paged_quantized_kv<T>> {
  using value = T;
  static const tensor_view<const T, 4>& memory(const paged_quantized_kv<T>& p) { return p.pool; }
  static std::array<index_t, 4> shape(const paged_quantized_kv<T>& p) {
    return {p.block_table.extent(0), p.seq_len, p.pool.extent(2), p.pool.extent(3)};
  }
  static void validate_extra(const paged_quantized_kv<T>& p, const char* what) {
    using std::string;
    validate(p.scales, what);
    const index_t bs = p.pool.extent(1), tps = p.tokens_per_scale;
    if (tps < 1 || (bs > 0 && bs % tps != 0))
      throw error(errc::invalid_argument, string("attention: ") + what + " tokens_per_scale must be >= 1 and divide the block size");
    if (p.scales.extent(0) != p.pool.extent(0) || p.scales.extent(1) != (bs > 0 ? bs / tps : 0) || p.scales.extent(2) != p.pool.extent(2))
      throw error(errc::invalid_shape,
                  string("attention: ") + what + " scales must be [num_blocks, block_size / tokens_per_scale, kv_heads]");
    validate_block_table(p.block_table, p.seq_len, bs, p.pool.extent(0), what);
  }
};
template <>
struct kv_traits<paged_q8_0_kv> {
  using value = quant::block_q8_0;
  static const tensor_view<const quant::block_q8_0, 4>& memory(const paged_q8_0_kv& p) { return p.pool; }
  static std::array<index_t, 4> shape(const paged_q8_0_kv& p) {
    return {p.block_table.extent(0), p.seq_len, p.pool.extent(2), 32 * p.pool.extent(3)};
  }
  static void validate_extra(const paged_q8_0_kv& p, const char* what) {
    using std::string;
    if (p.pool.extent(3) > 1 && p.pool.stride(3) != 1)
      throw error(errc::bad_stride, string("attention: ") + what + " Q8_0 blocks of a row must be contiguous (stride 1)");
    validate_block_table(p.block_table, p.seq_len, p.pool.extent(1), p.pool.extent(0), what);
  }
};

template <class T>
concept kv_input = requires { typename kv_traits<T>::value; };

}  // namespace attention_detail
PACT_NAMESPACE_END
