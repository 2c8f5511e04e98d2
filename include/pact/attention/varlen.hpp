#pragma once
// pact::attention_varlen — a batch of sequences of different lengths in one call, in the
// packed "varlen" layout of FlashAttention: the tokens of every sequence back to back, and
// cumulative offsets saying where each sequence starts. No padding is stored or computed.
#include <span>
#include <string>

#include "pact/attention/flash_attention.hpp"

PACT_NAMESPACE_BEGIN
namespace attention_detail {

/// Checks one cumulative-offset array: batch + 1 entries, 0 first, non-decreasing, the last
/// equal to the packed length. Everything the per-sequence views are built from.
inline void validate_cu_seqlens(std::span<const index_t> cu, index_t batch, index_t total, const char* what) {
  using std::string;
  if (cu.data() == nullptr && !cu.empty()) throw error(errc::null_pointer, string("attention_varlen: ") + what + " is null");
  if (static_cast<index_t>(cu.size()) != batch + 1)
    throw error(errc::invalid_shape, string("attention_varlen: ") + what + " must hold batch + 1 offsets");
  if (cu[0] != 0) throw error(errc::invalid_argument, string("attention_varlen: ") + what + "[0] must be 0");
  for (index_t b = 0; b < batch; ++b)
    if (cu[static_cast<std::size_t>(b + 1)] < cu[static_cast<std::size_t>(b)])
      throw error(errc::invalid_argument, string("attention_varlen: ") + what + " must be non-decreasing");
  if (cu[static_cast<std::size_t>(batch)] != total)
    throw error(errc::invalid_shape,
                string("attention_varlen: the last entry of ") + what + " must equal the packed token count");
}

/// Rows [first, first + len) of a packed [tokens, heads, dim] view as a [1, len, heads, dim]
/// view (the batch stride is never used with one batch).
template <class T>
tensor_view<T, 4> sequence_rows(const tensor_view<T, 3>& t, index_t first, index_t len) {
  return tensor_view<T, 4>(t.data() + first * t.stride(0), {1, len, t.extent(1), t.extent(2)},
                           {std::max<index_t>(len, 1) * t.stride(0), t.stride(0), t.stride(1), t.stride(2)});
}

}  // namespace attention_detail

/// softmax(scale * Q K^T + masks) V for a batch of sequences of different lengths, packed:
///   q [total_q, q_heads, dim], k and v [total_kv, kv_heads, dim], o [total_q, q_heads, dim];
///   sequence b owns q/o rows cu_seqlens_q[b] .. cu_seqlens_q[b+1] and k/v rows
///   cu_seqlens_kv[b] .. cu_seqlens_kv[b+1]. Both offset arrays hold batch + 1 entries.
/// Each sequence is attended as pact::attention would with batch 1: the causal mask and
/// RoPE positions align its own Sq_b queries to the end of its own Skv_b keys, ALiBi
/// slopes and sinks are per query head as there. A sequence with no keys gives zeros.
/// The additive mask is not supported here (its shape depends on each sequence); pass
/// opt.mask empty. Sequences run one after another, each spread over the executor; the
/// result is bitwise identical for any thread count (as pact::attention's).
/// Errors: those of pact::attention, plus invalid_shape / invalid_argument for offset
/// arrays that are the wrong size, do not start at 0, decrease or do not end at the
/// packed length, and invalid_argument for a mask.
template <attention_policy Policy = default_attention_policy_t<>, class QT, class KT, class VT, class OT, executor E = serial>
void attention_varlen(tensor_view<QT, 3> q, tensor_view<KT, 3> k, tensor_view<VT, 3> v, tensor_view<OT, 3> o,
                      std::span<const index_t> cu_seqlens_q, std::span<const index_t> cu_seqlens_kv,
                      const attention_params& opt = {}, const E& exec = {}) {
  using namespace attention_detail;
  using detail::require;
  validate(q, "attention_varlen: q");
  validate(k, "attention_varlen: k");
  validate(v, "attention_varlen: v");
  validate(o, "attention_varlen: o");
  require(opt.mask.data() == nullptr, errc::invalid_argument,
          "attention_varlen: an additive mask is not supported (use causal, windows, ALiBi or sinks)");
  const index_t batch = static_cast<index_t>(cu_seqlens_q.size()) - 1;
  require(!cu_seqlens_q.empty(), errc::invalid_shape, "attention_varlen: cu_seqlens_q must hold batch + 1 offsets");
  validate_cu_seqlens(cu_seqlens_q, batch, q.extent(0), "cu_seqlens_q");
  validate_cu_seqlens(cu_seqlens_kv, batch, k.extent(0), "cu_seqlens_kv");
  require(v.extent(0) == k.extent(0), errc::invalid_shape, "attention_varlen: k and v must hold the same tokens");
  require(o.extent(0) == q.extent(0), errc::invalid_shape, "attention_varlen: o must hold as many tokens as q");
  // Aliasing and the remaining shape rules are per sequence in pact::attention; check o
  // against the whole packed inputs once, so an overlap outside one sequence is caught too.
  auto as4 = [](auto t) { return sequence_rows(t, 0, t.extent(0)); };
  require(!overlaps(as4(o), as4(q)) && !overlaps(as4(o), as4(k)) && !overlaps(as4(o), as4(v)), errc::aliasing,
          "attention_varlen: o overlaps q, k or v");
  for (index_t b = 0; b < batch; ++b) {
    const auto qb = static_cast<std::size_t>(b);
    const index_t q0 = cu_seqlens_q[qb], sq = cu_seqlens_q[qb + 1] - q0;
    const index_t k0 = cu_seqlens_kv[qb], skv = cu_seqlens_kv[qb + 1] - k0;
    attention<Policy>(sequence_rows(q, q0, sq), sequence_rows(k, k0, skv), sequence_rows(v, k0, skv),
                      sequence_rows(o, q0, sq), opt, exec);
  }
}

PACT_NAMESPACE_END
