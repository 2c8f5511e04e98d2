#pragma once
// The flash-attention driver: splits the problem into independent work items, runs the
// tile loop of each item (FlashAttention-2: Q block resident, K/V tiles streamed, online
// softmax), and merges flash-decoding splits with log-sum-exp.
//
// Work item = (batch, KV head, query tile, head pass, KV split). A query tile holds rows
// of every query head of the KV head's group, so each K/V tile is loaded (and converted)
// once and used by the whole group (GQA/MQA). Rows of one "row block" share a pass of the
// microkernels: a prefill block is block_q consecutive queries of one head; a decode block
// packs all (head, token) pairs of the group, so a 4:1 GQA decode fills 4 lanes instead of 1.
//
// Determinism: every output element is produced by one item (or by the fixed-order merge
// of kv_splits items) with an operation order that does not depend on the thread, so the
// result is bitwise identical for any executor and thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "pact/attention/kv_source.hpp"
#include "pact/attention/microkernels.hpp"
#include "pact/attention/online_softmax.hpp"
#include "pact/attention/params.hpp"
#include "pact/attention/policy.hpp"
#include "pact/core/aligned_buffer.hpp"
#include "pact/core/threading.hpp"

PACT_NAMESPACE_BEGIN
namespace attention_detail {

inline index_t round_up(index_t x, index_t m) noexcept { return (x + m - 1) / m * m; }
inline index_t ceil_div(index_t x, index_t m) noexcept { return (x + m - 1) / m; }

/// Validated, resolved problem description shared by all work items.
struct problem {
  index_t batch, sq, skv, hq, hkv, group, dim, dim_padded;
  float scale;
  float win_left, win_right;  ///< -1 -> infinite
  logit_options logits;
  const float* slopes;        ///< per q head or nullptr
  const float* sinks;         ///< per q head or nullptr
  tensor_view<const float, 4> mask;
  bool has_mask;
  index_t splits, split_len;
  const rope_angles* rope_q;  ///< rotate q rows (nullptr = no RoPE)
  bool int8_query;            ///< decode: integer q.k over int8 K codes (attention_params)
  bool int8_probs;            ///< decode: integer P.V over int8 V codes (attention_params)
  // row blocking
  index_t rows_q;        ///< queries per block (<= sq)
  index_t heads_per_block;
  index_t q_tiles, head_blocks, blocks_per_pass, passes;
};

/// Block geometry: prefill blocks hold block_q queries of one head; short query counts
/// (decode) pack several heads of the group into one block.
inline void plan_blocks(problem& p, index_t block_q, index_t block_kv, index_t chunk) {
  if (p.sq * p.group <= block_q) {
    p.rows_q = p.sq;
    p.heads_per_block = p.group;
  } else if (p.sq >= block_q) {
    p.rows_q = block_q;
    p.heads_per_block = 1;
  } else {
    p.rows_q = p.sq;
    p.heads_per_block = std::max<index_t>(1, block_q / p.sq);
  }
  p.q_tiles = ceil_div(p.sq, p.rows_q);
  p.head_blocks = ceil_div(p.group, p.heads_per_block);
  // Keep one pass's Q^T and O^T (2 x dim x rows floats per block) within ~512 KiB of L2.
  const index_t ld = round_up(p.rows_q * p.heads_per_block, chunk);
  const index_t block_bytes = 2 * p.dim_padded * ld * static_cast<index_t>(sizeof(float));
  p.blocks_per_pass = std::clamp<index_t>((index_t{512} << 10) / std::max<index_t>(block_bytes, 1), 1, p.head_blocks);
  p.passes = ceil_div(p.head_blocks, p.blocks_per_pass);
  (void)block_kv;
}

/// Per-thread scratch, grown on demand and reused across items and calls.
inline aligned_buffer<float>& thread_scratch() {
  thread_local aligned_buffer<float> buf;
  return buf;
}

/// Partial result of one split: unnormalized O (dim floats), then m and l, per row.
struct split_store {
  float* data = nullptr;
  index_t stride = 0;  ///< floats per (row, split) record = dim + 2
};

template <class A, index_t D, class QT, class KS, class VS, class OT>
struct flash_item_runner {
  const problem& p;
  tensor_view<const QT, 4> q;
  const KS& ks;
  const VS& vs;
  tensor_view<OT, 4> o;
  split_store parts;
  index_t block_q, block_kv;

  static constexpr index_t chunk = micro_shape<A>::chunk;
  static constexpr index_t L = micro_shape<A>::lanes;

  index_t items() const noexcept { return p.batch * p.hkv * p.q_tiles * p.passes * p.splits; }

  void run(index_t item) const {
    // Heavy query tiles (late, causal) first so dynamic scheduling balances the tail.
    index_t rest = item;
    const index_t split = rest % p.splits;
    rest /= p.splits;
    const index_t pass = rest % p.passes;
    rest /= p.passes;
    const index_t qt_idx = p.q_tiles - 1 - rest % p.q_tiles;
    rest /= p.q_tiles;
    const index_t kvh = rest % p.hkv;
    const index_t b = rest / p.hkv;

    const index_t q0 = qt_idx * p.rows_q;
    const index_t nq = std::min(p.rows_q, p.sq - q0);
    const index_t hb0 = pass * p.blocks_per_pass;
    const index_t nblocks = std::min(p.blocks_per_pass, p.head_blocks - hb0);
    const index_t ld = round_up(nq * p.heads_per_block, chunk);
    const index_t dp = p.dim_padded;
    const index_t bkv = block_kv;

    // Scratch: per block [qt dp*ld][ot dp*ld][8 row arrays * ld]; shared [st][mask_t][kbuf][vbuf].
    const index_t per_block = 2 * dp * ld + 8 * ld;
    const index_t shared = 2 * bkv * ld + 2 * bkv * dp;
    auto& scratch = thread_scratch();
    scratch.reserve_discard(static_cast<std::size_t>(nblocks * per_block + shared));
    float* base = scratch.data();
    float* st = base + nblocks * per_block;
    float* mask_t = st + bkv * ld;
    float* kbuf = mask_t + bkv * ld;
    float* vbuf = kbuf + bkv * dp;
    thread_local std::vector<const float*> mask_row_store;
    if (p.has_mask) mask_row_store.assign(static_cast<std::size_t>(nblocks * ld), nullptr);

    const float inf = std::numeric_limits<float>::infinity();
    const float kv_offset = static_cast<float>(p.skv - p.sq);  // bottom-right alignment
    row_block blocks[64];
    index_t visible_lo = p.skv, visible_hi = 0;  // key range any row can see
    for (index_t bi = 0; bi < nblocks; ++bi) {
      row_block& blk = blocks[bi];
      float* mem = base + bi * per_block;
      blk.rows = 0;
      blk.ld = ld;
      blk.qt = mem;
      blk.ot = mem + dp * ld;
      float* arr = blk.ot + dp * ld;
      blk.m = arr;
      blk.l = arr + ld;
      blk.alpha = arr + 2 * ld;
      blk.qpos = arr + 3 * ld;
      blk.lo = arr + 4 * ld;
      blk.hi = arr + 5 * ld;
      blk.slope = p.slopes ? arr + 6 * ld : nullptr;
      blk.mask_rows = p.has_mask ? mask_row_store.data() + bi * ld : nullptr;
      std::fill(blk.qt, blk.qt + dp * ld, 0.0f);
      std::fill(blk.ot, blk.ot + dp * ld, 0.0f);
      blk.lo_min = blk.hi_min = inf;
      blk.lo_max = blk.hi_max = -inf;
      const index_t h_first = kvh * p.group + (hb0 + bi) * p.heads_per_block;
      const index_t nh = std::min(p.heads_per_block, kvh * p.group + p.group - h_first);
      for (index_t r = 0; r < ld; ++r) {
        const index_t hh = r / nq, qq = r % nq;
        const bool valid = hh < nh;
        const index_t h = h_first + (valid ? hh : 0);
        const index_t qi = q0 + qq;
        const float pos = static_cast<float>(qi) + kv_offset;
        // The sink joins the softmax as an extra logit with no value row; only split 0
        // carries it, so the merge counts it once.
        const bool sink = valid && p.sinks != nullptr && split == 0;
        blk.m[r] = sink ? p.sinks[h] : -inf;
        blk.l[r] = sink ? 1.0f : 0.0f;
        blk.alpha[r] = 1.0f;
        blk.qpos[r] = pos;
        blk.lo[r] = valid ? (p.win_left < 0 ? -inf : pos - p.win_left) : inf;
        blk.hi[r] = valid ? (p.win_right < 0 ? inf : pos + p.win_right) : -inf;
        if (blk.slope) blk.slope[r] = valid ? p.slopes[h] : 0.0f;
        if (blk.mask_rows) {
          blk.mask_rows[r] = valid ? &p.mask(p.mask.extent(0) == 1 ? 0 : b, p.mask.extent(1) == 1 ? 0 : h,
                                             qi, 0)
                                   : nullptr;
        }
        if (!valid) continue;
        blk.rows = r + 1;
        blk.lo_min = std::min(blk.lo_min, blk.lo[r]);
        blk.lo_max = std::max(blk.lo_max, blk.lo[r]);
        blk.hi_min = std::min(blk.hi_min, blk.hi[r]);
        blk.hi_max = std::max(blk.hi_max, blk.hi[r]);
        if (p.rope_q) {
          float row[1024];
          for (index_t c = 0; c < p.dim; ++c) row[c] = to_f32(q(b, qi, h, c));
          p.rope_q->rotate(row, static_cast<index_t>(pos));
          for (index_t c = 0; c < p.dim; ++c) blk.qt[c * ld + r] = p.scale * row[c];
        } else {
          for (index_t c = 0; c < p.dim; ++c) blk.qt[c * ld + r] = p.scale * to_f32(q(b, qi, h, c));
        }
      }
      const float lo_f = std::max(0.0f, blk.lo_min);
      const float hi_f = std::min(static_cast<float>(p.skv - 1), blk.hi_max);
      if (lo_f <= hi_f) {
        visible_lo = std::min(visible_lo, static_cast<index_t>(lo_f));
        visible_hi = std::max(visible_hi, static_cast<index_t>(hi_f) + 1);
      }
    }

    // This split's key range, intersected with what the rows can see; tiles fully outside
    // every window are never loaded.
    const index_t s_lo = std::max(split * p.split_len, visible_lo);
    const index_t s_hi = std::min(std::min(p.skv, (split + 1) * p.split_len), visible_hi);
    for (index_t j0 = s_lo; j0 < s_hi; j0 += bkv) {
      const index_t n = std::min(bkv, s_hi - j0);
      const index_t n8 = round_up(n, micro_shape<A>::kv_rows);
      bool any = false;
      tile_visibility vis[64];
      for (index_t bi = 0; bi < nblocks; ++bi) {
        vis[bi] = classify_tile(blocks[bi], j0, n);
        any = any || vis[bi] != tile_visibility::none;
      }
      if (!any) continue;
      const f32_rows kt = ks.template tile<A>(b, kvh, j0, n, n8, false, kbuf, dp);
      const f32_rows vt = vs.template tile<A>(b, kvh, j0, n, n, true, vbuf, dp);
      for (index_t bi = 0; bi < nblocks; ++bi) {
        if (vis[bi] == tile_visibility::none) continue;
        row_block& blk = blocks[bi];
        const index_t active = round_up(blk.rows, chunk);
        const bool partial = vis[bi] == tile_visibility::partial;
        // Keys [klo[c], khi[c]) of the tile that some row of query chunk c can see. In
        // a partial tile (the causal diagonal, window edges) the 8-key groups outside that
        // range are neither scored (the softmax masks their scores to -inf without reading
        // them) nor accumulated (their weights are 0). Causal 1024 x 1024, d 128, 1 thread:
        // a quarter of each diagonal tile skipped.
        // (block_q <= 512 bounds the padded rows of a block: policy.hpp)
        index_t klo[512 / chunk], khi[512 / chunk];
        for (index_t i = 0; i < active; i += chunk) {
          index_t lo_key = 0, hi_key = n;
          if (partial) {
            float lo_c = inf, hi_c = -inf;
            for (index_t r = i; r < std::min(i + chunk, blk.rows); ++r) {
              lo_c = std::min(lo_c, blk.lo[r]);
              hi_c = std::max(hi_c, blk.hi[r]);
            }
            const float first = std::max(std::ceil(lo_c), static_cast<float>(j0));
            const float last = std::min(std::floor(hi_c), static_cast<float>(j0 + n - 1));
            if (first > last) {
              hi_key = 0;
            } else {
              lo_key = static_cast<index_t>(first) - j0;
              hi_key = static_cast<index_t>(last) - j0 + 1;
            }
          }
          klo[i / chunk] = lo_key;
          khi[i / chunk] = hi_key;
          for (index_t j = lo_key / 8 * 8; j < hi_key; j += 8)
            score_tile<A, D>(kt.ptr + j * kt.row_stride, kt.row_stride, blk.qt + i, ld, p.dim, st + j * ld + i, ld);
        }
        const float* mt = nullptr;
        if (blk.mask_rows) {
          for (index_t j = 0; j < n; ++j)
            for (index_t r = 0; r < ld; ++r)
              mask_t[j * ld + r] = blk.mask_rows[r] ? blk.mask_rows[r][(j0 + j) * p.mask.stride(3)] : 0.0f;
          mt = mask_t;
        }
        row_block view = blk;
        view.ld = ld;
        online_softmax_tile<A>(view, st, n, j0, partial, mt, p.logits);
        for (index_t i = 0; i < active; i += chunk) {
          const index_t lo_key = klo[i / chunk], nk = std::max<index_t>(0, khi[i / chunk] - lo_key);
          for (index_t c = 0; c < dp; c += 8)
            pv_tile<A>(vt.ptr + lo_key * vt.row_stride + c, vt.row_stride, st + lo_key * ld + i, ld, nk, blk.ot + c * ld + i, ld,
                       blk.alpha + i);
        }
      }
    }

    // Write: normalized output (one split) or the partial record for the merge.
    for (index_t bi = 0; bi < nblocks; ++bi) {
      const row_block& blk = blocks[bi];
      const index_t h_first = kvh * p.group + (hb0 + bi) * p.heads_per_block;
      for (index_t r = 0; r < blk.rows; ++r) {
        const index_t hh = r / nq, qq = r % nq;
        const index_t h = h_first + hh;
        if (h >= kvh * p.group + p.group) break;
        const index_t qi = q0 + qq;
        if (p.splits == 1) {
          const float l = blk.l[r];
          const float inv = l == 0.0f ? 0.0f : 1.0f / l;
          for (index_t c = 0; c < p.dim; ++c) o(b, qi, h, c) = from_f32<OT>(blk.ot[c * ld + r] * inv);
        } else {
          float* rec = parts.data + (((b * p.hq + h) * p.sq + qi) * p.splits + split) * parts.stride;
          for (index_t c = 0; c < p.dim; ++c) rec[c] = blk.ot[c * ld + r];
          rec[p.dim] = blk.m[r];
          rec[p.dim + 1] = blk.l[r];
        }
      }
    }
  }

};

/// Merge of the kv splits of one (b, h, qi) row in split order: exact log-sum-exp.
template <class OT>
void merge_splits(const problem& p, const split_store& parts, const tensor_view<OT, 4>& o, index_t row) {
  const index_t qi = row % p.sq;
  const index_t h = (row / p.sq) % p.hq;
  const index_t b = row / (p.sq * p.hq);
  const float* recs = parts.data + row * p.splits * parts.stride;
  const float inf = std::numeric_limits<float>::infinity();
  float mx = -inf;
  for (index_t s = 0; s < p.splits; ++s) mx = std::max(mx, recs[s * parts.stride + p.dim]);
  const float m_use = mx == -inf ? 0.0f : mx;
  float l = 0.0f;
  float w[64];
  for (index_t s = 0; s < p.splits; ++s) {
    w[s] = std::exp(recs[s * parts.stride + p.dim] - m_use);
    l += w[s] * recs[s * parts.stride + p.dim + 1];
  }
  const float inv = l == 0.0f ? 0.0f : 1.0f / l;
  for (index_t c = 0; c < p.dim; ++c) {
    float acc = 0.0f;
    for (index_t s = 0; s < p.splits; ++s) acc += w[s] * recs[s * parts.stride + c];
    o(b, qi, h, c) = from_f32<OT>(acc * inv);
  }
}

/// Maximum kv_splits and blocks per pass (fixed-size arrays above).
inline constexpr index_t max_kv_splits = 64;
inline constexpr index_t max_blocks_per_pass = 64;

}  // namespace attention_detail
PACT_NAMESPACE_END
