#pragma once
// pact::mla_decode — DeepSeek-V2/V3 multi-head latent attention (MLA) for decode, in the
// absorbed form: the up-projection of the keys is folded into the query (q_latent =
// q_nope W_UK per head) and that of the values into the output projection, so every head
// attends over one shared cache of latent vectors c_kv (rank Dl, 512 in DeepSeek-V3) plus
// one shared decoupled RoPE key k_rope (Dr, 64):
//
//   s(h, j)  = scale * (q_latent(h) . c_kv(j) + q_rope(h) . k_rope(j))   (K head dim Dl + Dr = 576)
//   out(h)   = sum_j softmax_j(s(h, .)) c_kv(j)                           (V head dim Dl = 512)
//
// Shapes: q_latent [B, Sq, H, Dl], q_rope [B, Sq, H, Dr], c_kv [B, Skv, Dl],
// k_rope [B, Skv, Dr], out [B, Sq, H, Dl] (the latent output; apply W_UV · W_O after).
// The caches may hold float, bf16 or fp16 ([B, Skv, D] views), or be any cache that
// pact::attention takes as K with one KV head ([B, Skv, 1, D]): a dense 4-d view,
// quantized_kv<int8_t / fp8_e4m3>, q8_0_kv (Dl a multiple of 32) or a paged view (paged_kv_view, paged_quantized_kv, paged_q8_0_kv). Each
// KV tile is converted (an f32 one copied) to f32 once per work item into O(kv_block x
// (Dl + Dr)) scratch, so a bf16 or quantized cache gives bitwise the result of the f32
// cache that holds the same (dequantized) values.
// Sq > 1 (multi-token prediction, speculative decode) with causal = true aligns the
// queries to the end of the cache: query i sees keys 0 .. i + Skv - Sq. A query that sees
// no key gets zeros.
//
// How: all H * Sq query rows of a batch share the cache, so MLA decode is GEMMs per KV
// tile (scores S^T = C Q_latent^T + R Q_rope^T, then O += P C) with an online softmax
// in between (FlashAttention-2 in row-major form), on pact::gemm's packed kernels. Work
// items are fixed chunks of rows_per_item query rows of one batch entry; each item runs
// its GEMMs serially, so results are bitwise identical for any thread count. Extra memory
// per item: rows_per_item x (kv_block + Dl + Dr) floats.
//
// Errors (pact::error): extents that disagree, or a 4-d cache with more than one head
// (invalid_shape); null data (null_pointer); a non-contiguous last dimension of c_kv /
// k_rope or non-positive strides (bad_stride); bad quantization scales or block tables
// (as for pact::attention);
// out overlapping an input (aliasing); a scale that is not finite and positive, or
// kv_block / rows_per_item < 1 (invalid_argument). DeepSeek-V3's scale is
// 1 / sqrt(qk_nope_head_dim + qk_rope_head_dim) = 1 / sqrt(192) (times the YaRN mscale^2),
// not 1 / sqrt(576), so it has no default.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "pact/attention/kv_traits.hpp"
#include "pact/core/aligned_buffer.hpp"
#include "pact/core/error.hpp"
#include "pact/core/tensor_view.hpp"
#include "pact/core/threading.hpp"
#include "pact/gemm/gemm.hpp"
#include "pact/gemm/prepacked.hpp"
#include "pact/simd/simd.hpp"

PACT_NAMESPACE_BEGIN

struct mla_params {
  /// Multiplies the scores. Required (see the header comment).
  float scale = std::numeric_limits<float>::quiet_NaN();
  /// Queries aligned to the end of the cache (only matters for Sq > 1).
  bool causal = true;
  /// Keys per tile: the score tile rows_per_item x kv_block stays in L1/L2 (128 and 256
  /// measured alike, 512 slower).
  index_t kv_block = 128;
  /// Query rows (heads x query positions) per work item: the N of the score GEMM and the
  /// M of the value GEMM. More rows use the packed kernels better (128 heads x 4096 keys,
  /// 1 thread: 63 / 75 / 85 GFLOP/s at 32 / 64 / 128 rows); 64 keeps two items for 128
  /// heads, one per core.
  index_t rows_per_item = 64;
};

namespace attention_detail {

template <class T, std::size_t R1, class U, std::size_t R2>
bool views_overlap(const tensor_view<T, R1>& a, const tensor_view<U, R2>& b) {
  if (a.size() == 0 || b.size() == 0) return false;
  auto span = [](const auto& t, std::size_t rank) {
    std::size_t last = 0;
    for (std::size_t d = 0; d < rank; ++d) last += static_cast<std::size_t>((t.extent(d) - 1) * t.stride(d));
    const auto* lo = reinterpret_cast<const char*>(t.data());
    return std::pair{lo, lo + (last + 1) * sizeof(*t.data())};
  };
  const auto [a0, a1] = span(a, R1);
  const auto [b0, b1] = span(b, R2);
  return a0 < b1 && b0 < a1;
}

/// A [B, Skv, D] latent cache as the one-head [B, Skv, 1, D] view the KV sources read.
template <class T>
tensor_view<const T, 4> as_one_head(const tensor_view<const T, 3>& t) noexcept {
  return {t.data(), {t.extent(0), t.extent(1), 1, t.extent(2)}, {t.stride(0), t.stride(1), t.stride(1), t.stride(2)}};
}

/// Rows [j0, j0 + n) of a one-head latent cache as f32 in buf (ld = dim). An f32 cache is
/// copied too: the tile is then hot and dense for the two GEMMs that read it (Zen 4, 128
/// heads x 4096 keys, 1 thread: 17.0 / 17.6 ms copied vs 20.6 / 18.3 ms read in place, two
/// runs of medians).
template <class A, class Source>
f32_rows latent_tile(const Source& src, index_t b, index_t j0, index_t n, float* buf) noexcept {
  return convert_tile<A>(src, b, 0, j0, n, n, buf, src.dim());
}

/// Scratch of one work item.
struct mla_scratch {
  aligned_buffer<float> qn, qr, s, o, m, l, ct, rt;  // ct / rt: converted cache tiles
};

/// One online-softmax step on the row-major score tile s (rows x n, ld): masks keys past
/// last[r], updates m and l, rescales the o rows (ld_o = Dl) and turns s into P.
template <class A>
void mla_softmax_tile(float* s, index_t ld, index_t rows, index_t n, index_t j0, const index_t* last, float* m, float* l,
                      float* o, index_t dl) noexcept {
  using V = simd::vec<float, A>;
  constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
  constexpr float neg_inf = -std::numeric_limits<float>::infinity();
  for (index_t r = 0; r < rows; ++r) {
    float* row = s + r * ld;
    const index_t visible = std::clamp<index_t>(last[r] - j0 + 1, 0, n);  // keys j0 .. j0 + visible - 1
    for (index_t j = visible; j < n; ++j) row[j] = neg_inf;
    float mx = m[r];
    // A NaN score sticks in mx (std::max would drop it), so the row's output becomes NaN.
    for (index_t j = 0; j < visible; ++j) mx = (row[j] > mx || row[j] != row[j]) ? row[j] : mx;
    // A row that has seen only masked keys keeps m = -inf; exp then uses 0 so that
    // exp(-inf - -inf) never forms a NaN (p = 0, alpha = 0, final O = 0).
    const float base = mx == neg_inf ? 0.0f : mx;
    const float alpha = std::exp(m[r] - base);
    const V vb = simd::broadcast<A>(base);
    V sum = simd::zero<float, A>();
    index_t j = 0;
    for (; j + L <= n; j += L) {
      const V p = simd::exp(simd::load<A>(row + j) - vb);
      simd::store(row + j, p);
      sum = sum + p;
    }
    float tail = 0.0f;
    for (; j < n; ++j) {
      row[j] = std::exp(row[j] - base);
      tail += row[j];
    }
    l[r] = l[r] * alpha + (simd::reduce_add(sum) + tail);
    m[r] = mx;
    if (alpha != 1.0f) {
      float* orow = o + r * dl;
      for (index_t c = 0; c < dl; ++c) orow[c] *= alpha;
    }
  }
}

}  // namespace attention_detail

namespace attention_detail {

template <class T>
struct is_latent_view3 : std::false_type {};
template <class T>
struct is_latent_view3<tensor_view<T, 3>> : std::bool_constant<is_attention_float<std::remove_const_t<T>>> {};

/// A latent cache argument of mla_decode: a [B, Skv, D] view of float / bf16 / fp16, or any
/// K cache pact::attention takes, with one head.
template <class T>
concept latent_cache = kv_input<T> || is_latent_view3<T>::value;

template <class T>
auto as_kv_input(const T& x) {
  if constexpr (is_latent_view3<T>::value) return as_one_head(tensor_view<const std::remove_const_t<typename T::element_type>, 3>(x));
  else return x;
}

template <class CKV, class KR, class Exec>
void mla_decode_checked(tensor_view<const float, 4> q_latent, tensor_view<const float, 4> q_rope, const CKV& c_kv_in,
                        const KR& k_rope_in, tensor_view<float, 4> out, const mla_params& p, const Exec& exec) {
  using pact::detail::require;
  using A = simd::native_arch;
  const auto cmem = kv_traits<CKV>::memory(c_kv_in);
  const auto rmem = kv_traits<KR>::memory(k_rope_in);
  validate(q_latent, "mla_decode: q_latent");
  validate(q_rope, "mla_decode: q_rope");
  validate(cmem, "mla_decode: c_kv");
  validate(rmem, "mla_decode: k_rope");
  validate(out, "mla_decode: out");
  kv_traits<CKV>::validate_extra(c_kv_in, "c_kv");
  kv_traits<KR>::validate_extra(k_rope_in, "k_rope");
  const std::array<index_t, 4> csh = kv_traits<CKV>::shape(c_kv_in), rsh = kv_traits<KR>::shape(k_rope_in);
  const index_t B = q_latent.extent(0), Sq = q_latent.extent(1), H = q_latent.extent(2), Dl = q_latent.extent(3);
  const index_t Skv = csh[1], Dr = q_rope.extent(3);
  require(csh[2] == 1 && rsh[2] == 1, errc::invalid_shape, "mla_decode: a 4-d latent cache must have one head: [batch, Skv, 1, D]");
  require(q_rope.extent(0) == B && q_rope.extent(1) == Sq && q_rope.extent(2) == H, errc::invalid_shape,
          "mla_decode: q_rope must be [batch, Sq, heads, Dr] like q_latent");
  require(csh[0] == B && csh[3] == Dl, errc::invalid_shape, "mla_decode: c_kv must be [batch, Skv, Dl]");
  require(rsh[0] == B && rsh[1] == Skv && rsh[3] == Dr, errc::invalid_shape,
          "mla_decode: k_rope must be [batch, Skv, Dr] (Dr = q_rope's last extent)");
  require(out.extent(0) == B && out.extent(1) == Sq && out.extent(2) == H && out.extent(3) == Dl, errc::invalid_shape,
          "mla_decode: out must be [batch, Sq, heads, Dl] like q_latent");
  require(std::isfinite(p.scale) && p.scale > 0.0f, errc::invalid_argument, "mla_decode: scale must be finite and > 0");
  require(p.kv_block >= 1 && p.rows_per_item >= 1, errc::invalid_argument, "mla_decode: kv_block and rows_per_item must be >= 1");
  require((cmem.extent(3) <= 1 || cmem.stride(3) == 1) && (rmem.extent(3) <= 1 || rmem.stride(3) == 1), errc::bad_stride,
          "mla_decode: the last dimension of c_kv and k_rope must be contiguous (stride 1)");
  require(!views_overlap(out, q_latent) && !views_overlap(out, q_rope) && !views_overlap(out, cmem) && !views_overlap(out, rmem),
          errc::aliasing, "mla_decode: out overlaps an input");
  if (out.size() == 0) return;
  const auto c_src = make_kv_source(c_kv_in);
  const auto r_src = make_kv_source(k_rope_in);

  const index_t rows_total = Sq * H, RB = std::min(p.rows_per_item, rows_total), T = std::min(p.kv_block, std::max<index_t>(1, Skv));
  const index_t chunks = (rows_total + RB - 1) / RB;
  auto item = [&](index_t it) {
    thread_local attention_detail::mla_scratch ws;
    const index_t b = it / chunks, r0 = (it % chunks) * RB, rows = std::min(RB, rows_total - r0);
    ws.qn.reserve_discard(static_cast<std::size_t>(RB * Dl));
    ws.qr.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, RB * Dr)));
    ws.s.reserve_discard(static_cast<std::size_t>(RB * T));
    ws.o.reserve_discard(static_cast<std::size_t>(RB * Dl));
    ws.m.reserve_discard(static_cast<std::size_t>(RB));
    ws.l.reserve_discard(static_cast<std::size_t>(RB));
    ws.ct.reserve_discard(static_cast<std::size_t>(T * Dl));
    ws.rt.reserve_discard(static_cast<std::size_t>(std::max<index_t>(1, T * Dr)));
    std::vector<index_t> last(static_cast<std::size_t>(rows));
    index_t max_last = -1;
    for (index_t r = 0; r < rows; ++r) {
      const index_t s = (r0 + r) / H, h = (r0 + r) % H;
      for (index_t c = 0; c < Dl; ++c) ws.qn[static_cast<std::size_t>(r * Dl + c)] = p.scale * q_latent(b, s, h, c);
      for (index_t c = 0; c < Dr; ++c) ws.qr[static_cast<std::size_t>(r * Dr + c)] = p.scale * q_rope(b, s, h, c);
      last[static_cast<std::size_t>(r)] = p.causal ? s + Skv - Sq : Skv - 1;
      max_last = std::max(max_last, last[static_cast<std::size_t>(r)]);
      ws.m[static_cast<std::size_t>(r)] = -std::numeric_limits<float>::infinity();
      ws.l[static_cast<std::size_t>(r)] = 0.0f;
    }
    std::fill(ws.o.data(), ws.o.data() + rows * Dl, 0.0f);
    // The scores are computed transposed, S^T = C Q^T (keys as the GEMM's M): the cache tile
    // is then the row-major A operand and the few query rows the B operand, packed once per
    // item (with S = Q C^T, C^T is re-packed from a transposed view every tile: 128 heads x
    // 4096 keys on 1 thread went from 53 to 63 GFLOP/s at 32 rows per item, 128-key tiles).
    // S^T is stored column-major, i.e. S row-major.
    const packed_b<float> QnT(make_row_major<const float>(ws.qn.data(), rows, Dl).t());
    const packed_b<float> QrT(make_row_major<const float>(ws.qr.data(), rows, Dr).t());
    const auto O = make_row_major(ws.o.data(), rows, Dl);
    const index_t kv_end = std::min(Skv, max_last + 1);  // keys no row sees are never read
    for (index_t j0 = 0; j0 < kv_end; j0 += T) {
      const index_t n = std::min(T, kv_end - j0);
      const f32_rows ct = latent_tile<A>(c_src, b, j0, n, ws.ct.data());
      const auto C = make_row_major<const float>(ct.ptr, n, Dl, ct.row_stride);  // n x Dl
      const auto St = make_col_major(ws.s.data(), n, rows, T);
      gemm(1.0f, C, QnT, 0.0f, St);
      if (Dr > 0) {
        const f32_rows rt = latent_tile<A>(r_src, b, j0, n, ws.rt.data());
        gemm(1.0f, make_row_major<const float>(rt.ptr, n, Dr, rt.row_stride), QrT, 1.0f, St);
      }
      attention_detail::mla_softmax_tile<A>(ws.s.data(), T, rows, n, j0, last.data(), ws.m.data(), ws.l.data(), ws.o.data(), Dl);
      gemm(1.0f, make_row_major<const float>(ws.s.data(), rows, n, T), C, 1.0f, O);
    }
    for (index_t r = 0; r < rows; ++r) {
      const index_t s = (r0 + r) / H, h = (r0 + r) % H;
      const float l = ws.l[static_cast<std::size_t>(r)];
      // l == 0: the query saw no key (zeros); a NaN l (NaN input) makes the row NaN.
      const float inv = 1.0f / l;
      for (index_t c = 0; c < Dl; ++c) out(b, s, h, c) = l == 0.0f ? 0.0f : ws.o[static_cast<std::size_t>(r * Dl + c)] * inv;
    }
  };
  exec.parallel_for(B * chunks, item);
}

}  // namespace attention_detail

/// Absorbed MLA decode (see the header comment): c_kv and k_rope are each a [B, Skv, D]
/// view of float / bf16 / fp16 or a one-head cache of any type pact::attention takes as K.
template <attention_detail::latent_cache CKV, attention_detail::latent_cache KR, executor Exec = serial>
void mla_decode(tensor_view<const float, 4> q_latent, tensor_view<const float, 4> q_rope, const CKV& c_kv, const KR& k_rope,
                tensor_view<float, 4> out, const mla_params& p, const Exec& exec = {}) {
  attention_detail::mla_decode_checked(q_latent, q_rope, attention_detail::as_kv_input(c_kv), attention_detail::as_kv_input(k_rope),
                                       out, p, exec);
}

PACT_NAMESPACE_END
