#pragma once
// Run-time attention options: scale, masks and logit variants. Every mask composes with
// every other (they are applied in the order listed in docs/attention.md):
//   s = scale * q.k ; s = softcap * tanh(s / softcap) ; s += alibi + additive mask ;
//   keys outside the causal / sliding window -> -inf ; softmax with an optional sink logit.
#include <cmath>
#include <limits>
#include <span>

#include "pact/core/tensor_view.hpp"

PACT_NAMESPACE_BEGIN
class rope_table;
PACT_NAMESPACE_END

PACT_NAMESPACE_BEGIN

struct attention_params {
  /// Multiplies q.k. NaN (the default) means 1/sqrt(head_dim).
  float scale = std::numeric_limits<float>::quiet_NaN();
  /// Causal mask, aligned to the bottom right: query i (of Sq) sits at key position
  /// i + (Skv - Sq), so the last query sees every key (decode with a KV cache).
  bool causal = false;
  /// Sliding window: query at position p sees keys in [p - window_left, p + window_right].
  /// -1 = unbounded on that side. causal == true forces window_right = 0.
  index_t window_left = -1;
  index_t window_right = -1;
  /// Logit soft-capping (Gemma 2): s -> softcap * tanh(s / softcap). 0 = off.
  float softcap = 0.0f;
  /// ALiBi: one slope per query head; adds -slope * |p_q - p_k|. Empty = off.
  std::span<const float> alibi_slopes{};
  /// Attention sinks: one logit per query head that joins the softmax denominator
  /// (exp(sink - max) is added to the sum) but has no value row. Empty = off.
  std::span<const float> sinks{};
  /// Additive mask [batch or 1, q_heads or 1, Sq, Skv] (extent 1 broadcasts). data() == nullptr = off.
  /// -inf entries mask a key out.
  tensor_view<const float, 4> mask{};
  /// Flash-decoding: the K/V length is cut into this many equal chunks, each computed on
  /// its own and merged with log-sum-exp in a fixed order. Part of the call's policy:
  /// the result is bitwise identical for any thread count, but depends on kv_splits.
  /// Use it for decode (few query rows), where the (batch, KV head) items alone cannot
  /// keep every thread busy. Must be >= 1.
  index_t kv_splits = 1;
  /// Fused RoPE (rope.hpp): when set, q rows are rotated at their positions (Skv - Sq + t)
  /// while they are packed, and, if rope_keys, every K row at its position j while its tile
  /// is converted (dense and paged f32/bf16/fp16 K only; a cache of already rotated keys
  /// uses rope_keys = false). The table's head dim must equal q's.
  const rope_table* rope = nullptr;
  bool rope_keys = true;
  /// Decode over an int8 K cache (quantized_kv<int8_t>, paged_quantized_kv<int8_t> or a
  /// paged_kv_cache<int8_t>): quantize each scaled query row to int8 (one fp32 scale per
  /// row: max |q| -> 127, round to nearest even) and compute q.k with exact integer dot
  /// products (VNNI vpdpbusd on x86, widening multiplies elsewhere) instead of widening
  /// every key to f32. Faster (docs/attention.md has the measured table) at the price of
  /// the query's rounding error (|error of q.k| <= 0.5 * max|q| / 127 * sum |k|); the
  /// result then no longer equals the f32 cache's. Applies to head dims that are a
  /// multiple of 64 and at most 1024; prefill, other caches and query rows holding NaN/Inf
  /// use the f32 path.
  bool int8_query = false;
  /// Decode over an int8 V cache (the same caches as int8_query): per query row and K/V
  /// tile, the softmax weights w_j (probabilities, times the per-token V scales) are
  /// quantized to uint8 (max_j w_j -> 255, round to nearest even) and P.V is computed with
  /// exact integer dot products over the V codes, four keys per int32 lane (VNNI vpdpbusd
  /// on x86), instead of widening every value row to f32. The softmax sum uses the
  /// unrounded weights; the error of a tile's contribution to the output numerator is at
  /// most 0.5 * max_j w_j / 255 * sum_j |v_j| per column. A row whose weights hold NaN gives
  /// NaN, as on the f32 path. Applies to head dims that are a multiple of 16 (and of the
  /// float vector width); prefill and other caches use the f32 path. Independent of
  /// int8_query (both together make decode all-integer).
  bool int8_probs = false;
};

PACT_NAMESPACE_END
