#pragma once
// pact::attention — the checked entry point: validates shapes and options, resolves the
// head dimension to a compiled constant, and runs the flash driver.
#include <cmath>
#include <string>
#include <type_traits>

#include "pact/attention/kv_traits.hpp"
#include "pact/attention/rope.hpp"
#include "pact/attention/run_attention.hpp"
#include "pact/tuning/attention_defaults.hpp"

PACT_NAMESPACE_BEGIN
namespace attention_detail {

template <class P, class A, class QT, class KS, class VS, class OT, class E>
void dispatch_head_dim(problem& p, tensor_view<const QT, 4> q, const KS& ks, const VS& vs, tensor_view<OT, 4> o,
                       const E& exec) {
  auto go = [&](auto dim_tag) {
    constexpr index_t D = decltype(dim_tag)::value;
    run_flash<A, D>(p, P::block_q, P::block_kv, q, ks, vs, o, exec);
  };
  if constexpr (P::head_dim > 0) {
    go(std::integral_constant<index_t, P::head_dim>{});
  } else if constexpr (P::head_dim == any_head_dim) {
    go(std::integral_constant<index_t, 0>{});
  } else {
    switch (p.dim) {
      case 64: go(std::integral_constant<index_t, 64>{}); break;
      case 80: go(std::integral_constant<index_t, 80>{}); break;
      case 96: go(std::integral_constant<index_t, 96>{}); break;
      case 128: go(std::integral_constant<index_t, 128>{}); break;
      case 256: go(std::integral_constant<index_t, 256>{}); break;
      default: go(std::integral_constant<index_t, 0>{}); break;
    }
  }
}

template <class T, class U>
bool overlaps(const tensor_view<T, 4>& a, const tensor_view<U, 4>& b) {
  if (a.size() == 0 || b.size() == 0) return false;
  auto span = [](const auto& t) {
    std::size_t last = 0;
    for (std::size_t d = 0; d < 4; ++d) last += static_cast<std::size_t>((t.extent(d) - 1) * t.stride(d));
    const auto* lo = reinterpret_cast<const char*>(t.data());
    return std::pair{lo, lo + (last + 1) * sizeof(*t.data())};
  };
  const auto [a0, a1] = span(a);
  const auto [b0, b1] = span(b);
  return a0 < b1 && b0 < a1;
}

}  // namespace attention_detail

/// softmax(scale * Q K^T + masks) V for every (batch, query head), FlashAttention-2 style.
///   q [batch, Sq, q_heads, dim], k and v [batch, Skv, kv_heads, dim], o [batch, Sq, q_heads, dim];
///   any positive strides. q/o: float, bf16 or fp16; k/v: the same, or quantized_kv<int8_t /
///   fp8_e4m3>, or q8_0_kv (ggml Q8_0 blocks), or a paged cache: paged_kv_view<float / bf16 / fp16>, paged_quantized_kv<int8_t / fp8_e4m3>, paged_q8_0_kv. q_heads must be a multiple of kv_heads (GQA; kv_heads == 1 is MQA): query head
///   h reads KV head h / (q_heads / kv_heads). Extra memory is O(tile) per thread, plus
///   batch * q_heads * Sq * kv_splits * (dim + 2) floats when kv_splits > 1.
/// Errors: invalid_shape (extents disagree, heads not dividing, option sizes), null_pointer,
/// bad_stride, aliasing (o overlaps an input), invalid_argument (options out of range).
template <attention_policy Policy = default_attention_policy_t<>, class QT, class KIn, class VIn, class OT, executor E = serial>
  requires attention_detail::kv_input<KIn> && attention_detail::kv_input<VIn>
void attention(tensor_view<QT, 4> q, const KIn& k, const VIn& v, tensor_view<OT, 4> o, const attention_params& opt = {},
               const E& exec = {}) {
  static_assert(attention_detail::check_attention_policy<Policy>());
  using Q = std::remove_const_t<QT>;
  using namespace attention_detail;
  static_assert(is_attention_float<Q>, "attention: q must hold float, bf16 or fp16");
  static_assert(is_attention_float<OT>, "attention: o must hold float, bf16 or fp16 (and not be const)");
  const tensor_view<const typename kv_traits<KIn>::value, 4> kt = kv_traits<KIn>::memory(k);
  const tensor_view<const typename kv_traits<VIn>::value, 4> vt = kv_traits<VIn>::memory(v);
  const std::array<index_t, 4> ksh = kv_traits<KIn>::shape(k), vsh = kv_traits<VIn>::shape(v);
  validate(q, "attention: q");
  validate(kt, "attention: k");
  validate(vt, "attention: v");
  validate(o, "attention: o");
  kv_traits<KIn>::validate_extra(k, "k");
  kv_traits<VIn>::validate_extra(v, "v");
  using detail::require;
  const index_t B = q.extent(0), Sq = q.extent(1), Hq = q.extent(2), d = q.extent(3);
  const index_t Skv = ksh[1], Hkv = ksh[2];
  require(ksh[0] == B && vsh[0] == B && o.extent(0) == B, errc::invalid_shape,
          "attention: q, k, v and o must have the same batch");
  require(ksh[3] == d, errc::invalid_shape, "attention: k.extent(3) (head dim) must equal q.extent(3)");
  require(vsh[3] == d, errc::invalid_shape, "attention: v.extent(3) (head dim) must equal q.extent(3)");
  require(Policy::head_dim <= 0 || d == Policy::head_dim, errc::invalid_shape,
          "attention: the policy pins head_dim; q.extent(3) must equal it");
  require(vsh[1] == Skv && vsh[2] == Hkv, errc::invalid_shape,
          "attention: k and v must have the same [seq, kv_heads]");
  require(o.extent(1) == Sq && o.extent(2) == Hq && o.extent(3) == d, errc::invalid_shape,
          "attention: o must be [batch, Sq, q_heads, dim]");
  require(Hkv > 0 || Hq == 0, errc::invalid_shape, "attention: kv_heads must be positive");
  require(Hkv == 0 || Hq % Hkv == 0, errc::invalid_shape, "attention: q_heads must be a multiple of kv_heads");
  require(Skv < (index_t{1} << 24), errc::invalid_shape, "attention: Skv must be below 2^24 (positions are exact f32)");
  require(opt.alibi_slopes.empty() || static_cast<index_t>(opt.alibi_slopes.size()) == Hq, errc::invalid_shape,
          "attention: alibi_slopes must be empty or hold one slope per query head");
  require(opt.sinks.empty() || static_cast<index_t>(opt.sinks.size()) == Hq, errc::invalid_shape,
          "attention: sinks must be empty or hold one logit per query head");
  require(opt.kv_splits >= 1 && opt.kv_splits <= max_kv_splits, errc::invalid_argument,
          "attention: kv_splits must be in 1..64");
  require(opt.window_left >= -1 && opt.window_right >= -1, errc::invalid_argument,
          "attention: window_left / window_right must be -1 (unbounded) or >= 0");
  require(std::isfinite(opt.softcap) && opt.softcap >= 0.0f, errc::invalid_argument,
          "attention: softcap must be 0 (off) or a positive finite number");
  require(!opt.rope || d <= 1024, errc::invalid_argument, "attention: fused RoPE supports head dims up to 1024");
  require(std::isnan(opt.scale) || std::isfinite(opt.scale), errc::invalid_argument,
          "attention: scale must be finite (or NaN for 1/sqrt(dim))");
  const bool has_mask = opt.mask.data() != nullptr;
  if (has_mask) {
    validate(opt.mask, "attention: mask");
    const auto& m = opt.mask;
    require((m.extent(0) == 1 || m.extent(0) == B) && (m.extent(1) == 1 || m.extent(1) == Hq) && m.extent(2) == Sq &&
                m.extent(3) == Skv,
            errc::invalid_shape, "attention: mask must be [batch or 1, q_heads or 1, Sq, Skv]");
  }
  require(!overlaps(o, q) && !overlaps(o, kt) && !overlaps(o, vt), errc::aliasing,
          "attention: o overlaps q, k or v");
  if (B == 0 || Sq == 0 || Hq == 0 || d == 0) return;
  if (Skv == 0) {  // no keys: every row is fully masked -> zeros
    for (index_t b = 0; b < B; ++b)
      for (index_t i = 0; i < Sq; ++i)
        for (index_t h = 0; h < Hq; ++h)
          for (index_t c = 0; c < d; ++c) o(b, i, h, c) = from_f32<OT>(0.0f);
    return;
  }

  problem p{};
  p.batch = B;
  p.sq = Sq;
  p.skv = Skv;
  p.hq = Hq;
  p.hkv = Hkv;
  p.group = Hq / Hkv;
  p.dim = d;
  p.dim_padded = round_up(d, micro_shape<typename Policy::arch>::kv_rows);
  p.scale = std::isnan(opt.scale) ? 1.0f / std::sqrt(static_cast<float>(d)) : opt.scale;
  p.win_left = static_cast<float>(opt.window_left);
  p.win_right = opt.causal ? 0.0f : static_cast<float>(opt.window_right);
  p.logits.softcap = opt.softcap;
  p.slopes = opt.alibi_slopes.empty() ? nullptr : opt.alibi_slopes.data();
  p.sinks = opt.sinks.empty() ? nullptr : opt.sinks.data();
  p.mask = opt.mask;
  p.has_mask = has_mask;
  p.splits = opt.kv_splits;
  p.int8_query = opt.int8_query;
  p.int8_probs = opt.int8_probs;
  p.split_len = ceil_div(Skv, p.splits);
  // Fused RoPE: one table of cos/sin for every position a q or k row can have.
  std::vector<float> rope_cs;
  rope_angles angles;
  p.rope_q = nullptr;
  if (opt.rope) {
    const rope_table& rt = *opt.rope;
    require(rt.head_dim() == d, errc::invalid_shape, "attention: the rope table's head dim must equal q.extent(3)");
    require(!opt.rope_keys || std::is_same_v<KIn, tensor_view<typename kv_traits<KIn>::value, 4>> ||
                std::is_same_v<KIn, tensor_view<const typename kv_traits<KIn>::value, 4>> ||
                std::is_same_v<KIn, paged_kv_view<typename kv_traits<KIn>::value>>,
            errc::invalid_argument, "attention: fused RoPE on keys needs a dense or paged float/bf16/fp16 K");
    const index_t first = std::min<index_t>(0, Skv - Sq), count = std::max(Skv, Sq) - first;
    const index_t half = rt.rotary_dim() / 2;
    rope_cs.resize(static_cast<std::size_t>(count * 2 * half));
    for (index_t i = 0; i < count; ++i) {
      float* c = rope_cs.data() + i * 2 * half;
      rt.angles(static_cast<double>(first + i), c, c + half);
    }
    angles = {rope_cs.data(), first, half,
              [](const void* t, float* x, const float* c, const float* s) { static_cast<const rope_table*>(t)->rotate(x, c, s); },
              &rt};
    p.rope_q = &angles;
  }
  const rope_angles* rope_k = opt.rope && opt.rope_keys ? &angles : nullptr;
  const tensor_view<const Q, 4> qc = q;
  dispatch_head_dim<Policy, typename Policy::arch>(p, qc, make_kv_source(k, rope_k), make_kv_source(v), o, exec);
}

PACT_NAMESPACE_END
