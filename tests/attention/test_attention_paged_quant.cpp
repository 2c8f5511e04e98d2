// Quantized paged KV caches (int8 / FP8 E4M3 with per-token or per-block scales, Q8_0
// blocks): appends in uneven chunks into a shuffled pool must give bitwise the attention of
// the dense quantized cache holding the same codes and scales (prefill and decode kernels,
// flash-decoding splits), stay within the quantized tolerance of a float64 reference, and
// reject bad scales, tables and unrepresentable rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "attention_reference.hpp"
#include "pact/attention.hpp"
#include "pact/attention/mla.hpp"
#include "support/expect_error.hpp"
#include "support/reference.hpp"

namespace {
using pact_test::expect_error;
using compact = pact::attention_config<64, 64, pact::any_head_dim>;
using pact::index_t;
using pact::quant::block_q8_0;

constexpr index_t B = 2, S = 133, Hkv = 2, Hq = 4;

/// A paged cache of T filled from f32 rows in interleaved uneven chunks over a shuffled pool.
template <class T>
struct filled_cache {
  index_t d, block_size;
  std::vector<float> k, v;  // [B, S, Hkv, d]
  pact::paged_kv_cache<T> cache;
  std::vector<index_t> ids;
  filled_cache(index_t dim, index_t bs)
      : d(dim),
        block_size(bs),
        k(pact_test::random_values<float>(static_cast<std::size_t>(B * S * Hkv * dim), 11)),
        v(pact_test::random_values<float>(static_cast<std::size_t>(B * S * Hkv * dim), 12)),
        cache(2 * ((S + bs - 1) / bs) + 3, bs, Hkv, dim) {
    std::mt19937 rng(5);
    cache.shuffle_free_blocks(rng);
    for (index_t b = 0; b < B; ++b) ids.push_back(cache.add_sequence());
    index_t done = 0;
    for (index_t chunk : {1, 5, 17, 2, 64, 44}) {
      for (index_t b = 0; b < B; ++b)
        cache.append(ids[static_cast<std::size_t>(b)], rows(k, b, done, chunk), rows(v, b, done, chunk));
      done += chunk;
    }
  }
  pact::tensor_view<const float, 3> rows(const std::vector<float>& x, index_t b, index_t t0, index_t n) const {
    return {x.data() + (b * S + t0) * Hkv * d, {n, Hkv, d}};
  }
  /// The cache's contents read back as f32 [B, S, Hkv, d] (what the kernels compute with).
  std::vector<float> dequantized(bool keys) const {
    std::vector<float> out(k.size());
    for (index_t b = 0; b < B; ++b)
      for (index_t t = 0; t < S; ++t)
        for (index_t h = 0; h < Hkv; ++h) {
          const std::span<float> row(out.data() + ((b * S + t) * Hkv + h) * d, static_cast<std::size_t>(d));
          if (keys) cache.read_k(ids[static_cast<std::size_t>(b)], t, h, row);
          else cache.read_v(ids[static_cast<std::size_t>(b)], t, h, row);
        }
    return out;
  }
};

/// Dense quantized_kv (block_tokens = 1) with the paged cache's codes and scales.
template <class T>
struct dense_copy {
  std::vector<T> codes;
  std::vector<float> scales;  // [B, Hkv, S]
  pact::quantized_kv<T> view(index_t d) const { return {{codes.data(), {B, S, Hkv, d}}, {scales.data(), {B, Hkv, S}}, 1}; }
};
template <class T>
dense_copy<T> copy_of(const filled_cache<T>& f, bool keys) {
  dense_copy<T> out{std::vector<T>(f.k.size()), std::vector<float>(static_cast<std::size_t>(B * Hkv * S))};
  for (index_t b = 0; b < B; ++b)
    for (index_t t = 0; t < S; ++t)
      for (index_t h = 0; h < Hkv; ++h) {
        const index_t id = f.ids[static_cast<std::size_t>(b)];
        const T* row = keys ? f.cache.k_row(id, t, h) : f.cache.v_row(id, t, h);
        std::copy(row, row + f.d, out.codes.begin() + ((b * S + t) * Hkv + h) * f.d);
        out.scales[static_cast<std::size_t>((b * Hkv + h) * S + t)] = keys ? f.cache.k_scale(id, t, h) : f.cache.v_scale(id, t, h);
      }
  return out;
}

pact_test::ref_options causal_options() {
  pact_test::ref_options o;
  o.causal = true;
  return o;
}

std::vector<double> widen(const std::vector<float>& x) { return {x.begin(), x.end()}; }

template <class KV>
std::vector<float> run(const std::vector<float>& q, index_t sq, index_t d, const KV& k, const KV& v, index_t splits) {
  pact::attention_params p;
  p.causal = true;
  p.kv_splits = splits;
  std::vector<float> o(q.size(), NAN);
  pact::attention<compact>(pact::tensor_view<const float, 4>(q.data(), {B, sq, Hq, d}), k, v,
                           pact::tensor_view<float, 4>(o.data(), {B, sq, Hq, d}), p);
  return o;
}

template <class T>
void quantized_paged_equals_dense(index_t sq, index_t d, index_t block_size, index_t splits) {
  const filled_cache<T> f(d, block_size);
  const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * sq * Hq * d), 13);
  const auto batch = f.cache.make_batch(f.ids);
  const auto kd = copy_of(f, true), vd = copy_of(f, false);
  const auto paged = run(q, sq, d, batch.keys(), batch.values(), splits);
  const auto dense = run(q, sq, d, kd.view(d), vd.view(d), splits);
  EXPECT_EQ(0, std::memcmp(paged.data(), dense.data(), paged.size() * sizeof(float))) << "sq " << sq << " block " << block_size;
  // Within the quantized tolerance of float64 attention over the unquantized rows.
  const auto ref = pact_test::ref_attention(widen(q), widen(f.k), widen(f.v), B, sq, S, Hq, Hkv, d, causal_options());
  EXPECT_LE(pact_test::nmse(paged, ref), (std::is_same_v<T, std::int8_t> ? 5e-4 : 1e-3)) << "sq " << sq;
}

TEST(AttentionPagedQuant, Int8AndFp8EqualDenseQuantized) {
  for (index_t bs : {1, 16, 37}) {
    quantized_paged_equals_dense<std::int8_t>(1, 40, bs, 1);   // decode kernel
    quantized_paged_equals_dense<std::int8_t>(2, 40, bs, 3);   // decode kernel, splits
    quantized_paged_equals_dense<std::int8_t>(70, 40, bs, 1);  // prefill kernel
  }
  quantized_paged_equals_dense<pact::fp8_e4m3>(1, 64, 16, 2);
  quantized_paged_equals_dense<pact::fp8_e4m3>(70, 24, 16, 1);
}

TEST(AttentionPagedQuant, Q8_0EqualsDenseQ8_0) {
  for (index_t sq : {1, 3, 70}) {
    const index_t d = 64;
    const filled_cache<block_q8_0> f(d, 16);
    std::vector<block_q8_0> kb(static_cast<std::size_t>(B * S * Hkv * d / 32)), vb(kb.size());
    for (index_t b = 0; b < B; ++b)
      for (index_t t = 0; t < S; ++t)
        for (index_t h = 0; h < Hkv; ++h) {
          const auto at = static_cast<std::size_t>(((b * S + t) * Hkv + h) * d / 32);
          std::memcpy(&kb[at], f.cache.k_row(f.ids[std::size_t(b)], t, h), d / 32 * sizeof(block_q8_0));
          std::memcpy(&vb[at], f.cache.v_row(f.ids[std::size_t(b)], t, h), d / 32 * sizeof(block_q8_0));
        }
    const pact::q8_0_kv kd{{kb.data(), {B, S, Hkv, d / 32}}}, vd{{vb.data(), {B, S, Hkv, d / 32}}};
    const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * sq * Hq * d), 14);
    const auto batch = f.cache.make_batch(f.ids);
    const auto paged = run(q, sq, d, batch.keys(), batch.values(), 2);
    const auto dense = run(q, sq, d, kd, vd, 2);
    EXPECT_EQ(0, std::memcmp(paged.data(), dense.data(), paged.size() * sizeof(float))) << "sq " << sq;
    const auto ref = pact_test::ref_attention(widen(q), widen(f.k), widen(f.v), B, sq, S, Hq, Hkv, d, causal_options());
    EXPECT_LE(pact_test::nmse(paged, ref), 5e-4);
    // read_k is the kernel's view of the row: the dequantized cache gives the same output.
    const auto kf = f.dequantized(true), vf = f.dequantized(false);
    const auto from_f32 = run(q, sq, d, pact::tensor_view<const float, 4>(kf.data(), {B, S, Hkv, d}),
                              pact::tensor_view<const float, 4>(vf.data(), {B, S, Hkv, d}), 2);
    EXPECT_LE(pact_test::nmse(from_f32, widen(paged)), 1e-12);
  }
}

TEST(AttentionPagedQuant, PerBlockScalesEqualDenseBlockScales) {
  // One scale per (block, head) -- tokens_per_scale = block_size -- read through a shuffled
  // table equals the dense cache with block_tokens = block_size; half blocks likewise.
  const index_t d = 32, bs = 8, nblk = (S + bs - 1) / bs;
  for (index_t tps : {bs, bs / 2}) {
    const index_t runs = (S + tps - 1) / tps;
    std::vector<std::int8_t> codes(static_cast<std::size_t>(B * S * Hkv * d));
    std::vector<float> dscales(static_cast<std::size_t>(B * Hkv * runs));
    std::mt19937 g(9);
    for (auto& c : codes) c = static_cast<std::int8_t>(static_cast<int>(g() % 255) - 127);
    for (auto& s : dscales) s = 0.001f + static_cast<float>(g() % 1000) * 1e-5f;
    // Pool of B * nblk blocks, sequence b's block i at a permuted id.
    std::vector<std::int32_t> perm(static_cast<std::size_t>(B * nblk));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), g);
    std::vector<std::int8_t> pool(static_cast<std::size_t>(B * nblk * bs * Hkv * d), 0);
    std::vector<float> pscales(static_cast<std::size_t>(B * nblk * (bs / tps) * Hkv), 0.0f);
    for (index_t b = 0; b < B; ++b)
      for (index_t t = 0; t < S; ++t) {
        const index_t blk = perm[static_cast<std::size_t>(b * nblk + t / bs)], slot = t % bs;
        for (index_t h = 0; h < Hkv; ++h) {
          std::copy_n(codes.begin() + ((b * S + t) * Hkv + h) * d, d, pool.begin() + ((blk * bs + slot) * Hkv + h) * d);
          pscales[static_cast<std::size_t>((blk * (bs / tps) + slot / tps) * Hkv + h)] =
              dscales[static_cast<std::size_t>((b * Hkv + h) * runs + t / tps)];
        }
      }
    const pact::quantized_kv<std::int8_t> dense{{codes.data(), {B, S, Hkv, d}}, {dscales.data(), {B, Hkv, runs}}, tps};
    const pact::paged_quantized_kv<std::int8_t> paged{
        {pool.data(), {B * nblk, bs, Hkv, d}}, {pscales.data(), {B * nblk, bs / tps, Hkv}}, {perm.data(), {B, nblk}}, S, tps};
    for (index_t sq : {1, 70}) {
      const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * sq * Hq * d), 15);
      const auto a = run(q, sq, d, paged, paged, 2), e = run(q, sq, d, dense, dense, 2);
      EXPECT_EQ(0, std::memcmp(a.data(), e.data(), a.size() * sizeof(float))) << "tps " << tps << " sq " << sq;
    }
  }
}

TEST(AttentionPagedQuant, MlaOverPagedInt8LatentRows) {
  // vLLM's MLA layout: one Dl + Dr row per token with one scale, read as two column slices.
  const index_t Dl = 64, Dr = 16, W = Dl + Dr, Skv = 75, H = 8;
  pact::paged_kv_cache<std::int8_t> cache(2 * ((Skv + 15) / 16), 16, 1, W);
  std::mt19937 rng(3);
  cache.shuffle_free_blocks(rng);
  const auto rows = pact_test::random_values<float>(static_cast<std::size_t>(Skv * W), 21);
  const index_t id = cache.add_sequence();
  cache.append(id, pact::tensor_view<const float, 3>(rows.data(), {Skv, 1, W}), pact::tensor_view<const float, 3>(rows.data(), {Skv, 1, W}));
  const std::vector<index_t> ids{id};
  const auto batch = cache.make_batch(ids);
  const auto all = batch.keys();
  const auto& pl = all.pool;
  const pact::paged_quantized_kv<std::int8_t> ck{{pl.data(), {pl.extent(0), pl.extent(1), 1, Dl}, pl.strides()}, all.scales, all.block_table, Skv, 1};
  const pact::paged_quantized_kv<std::int8_t> kr{{pl.data() + Dl, {pl.extent(0), pl.extent(1), 1, Dr}, pl.strides()}, all.scales, all.block_table, Skv, 1};
  std::vector<float> ckv(static_cast<std::size_t>(Skv * Dl)), krf(static_cast<std::size_t>(Skv * Dr)), row(static_cast<std::size_t>(W));
  for (index_t t = 0; t < Skv; ++t) {
    cache.read_k(id, t, 0, row);
    std::copy_n(row.begin(), Dl, ckv.begin() + t * Dl);
    std::copy_n(row.begin() + Dl, Dr, krf.begin() + t * Dr);
  }
  const auto ql = pact_test::random_values<float>(static_cast<std::size_t>(H * Dl), 22);
  const auto qr = pact_test::random_values<float>(static_cast<std::size_t>(H * Dr), 23);
  pact::mla_params p;
  p.scale = 0.1f;
  std::vector<float> want(ql.size(), NAN), got(ql.size(), NAN);
  const pact::tensor_view<const float, 4> qlv(ql.data(), {1, 1, H, Dl}), qrv(qr.data(), {1, 1, H, Dr});
  pact::mla_decode(qlv, qrv, pact::tensor_view<const float, 3>(ckv.data(), {1, Skv, Dl}), pact::tensor_view<const float, 3>(krf.data(), {1, Skv, Dr}),
                   pact::tensor_view<float, 4>(want.data(), {1, 1, H, Dl}), p);
  pact::mla_decode(qlv, qrv, ck, kr, pact::tensor_view<float, 4>(got.data(), {1, 1, H, Dl}), p);
  EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * sizeof(float)));
}

TEST(AttentionPagedQuant, BadScalesTablesAndRows) {
  const index_t d = 8;
  std::vector<std::int8_t> pool(4 * 4 * 1 * d, 10);
  std::vector<float> scales(4 * 4, 0.05f), q(d, 0.25f), o(d);
  std::vector<std::int32_t> table{2, 0, 3};
  pact::paged_quantized_kv<std::int8_t> kv{{pool.data(), {4, 4, 1, d}}, {scales.data(), {4, 4, 1}}, {table.data(), {1, 3}}, 12, 1};
  const pact::tensor_view<const float, 4> qv(q.data(), {1, 1, 1, d});
  const pact::tensor_view<float, 4> ov(o.data(), {1, 1, 1, d});
  pact::attention<compact>(qv, kv, kv, ov);  // valid: every value is 0.05 * 10
  for (float x : o) EXPECT_FLOAT_EQ(x, 0.5f);
  auto bad = kv;
  bad.tokens_per_scale = 3;  // does not divide 4
  expect_error(pact::errc::invalid_argument, [&] { pact::attention<compact>(qv, bad, bad, ov); });
  bad.tokens_per_scale = 0;
  expect_error(pact::errc::invalid_argument, [&] { pact::attention<compact>(qv, bad, bad, ov); });
  bad.tokens_per_scale = 2;  // scales would need extent 2, not 4
  expect_error(pact::errc::invalid_shape, [&] { pact::attention<compact>(qv, bad, bad, ov); });
  bad = kv;
  bad.scales = {scales.data(), {3, 4, 1}};  // fewer scale blocks than pool blocks
  expect_error(pact::errc::invalid_shape, [&] { pact::attention<compact>(qv, bad, bad, ov); });
  table[1] = 4;  // outside the pool
  expect_error(pact::errc::invalid_argument, [&] { pact::attention<compact>(qv, kv, kv, ov); });
  table[1] = 0;
  kv.seq_len = 13;  // needs 4 blocks
  expect_error(pact::errc::invalid_argument, [&] { pact::attention<compact>(qv, kv, kv, ov); });

  std::vector<block_q8_0> qpool(4 * 4 * 2);
  const pact::paged_q8_0_kv strided{{qpool.data(), {4, 4, 1, 2}, {8, 2, 2, 2}}, {table.data(), {1, 3}}, 12};
  expect_error(pact::errc::bad_stride, [&] { pact::attention<compact>(pact::tensor_view<const float, 4>(q.data(), {1, 1, 1, 64}), strided, strided,
                                                                      pact::tensor_view<float, 4>(o.data(), {1, 1, 1, 64})); });

  // Cache: rows a scale cannot represent are rejected and nothing is appended.
  pact::paged_kv_cache<pact::fp8_e4m3> cache(2, 4, 1, d);
  const index_t s = cache.add_sequence();
  std::vector<float> rows(3 * d, 1.0f);
  const pact::tensor_view<const float, 3> rv(rows.data(), {3, 1, d});
  cache.append(s, rv, rv);
  rows[5] = INFINITY;
  expect_error(pact::errc::invalid_data, [&] { cache.append(s, rv, rv); });
  rows[5] = NAN;
  expect_error(pact::errc::invalid_data, [&] { cache.append(s, rv, rv); });
  EXPECT_EQ(cache.length(s), 3);
  EXPECT_EQ(cache.free_blocks(), 1);
  std::vector<float> back(d);
  cache.read_k(s, 2, 0, back);
  for (float x : back) EXPECT_FLOAT_EQ(x, 1.0f);
  expect_error(pact::errc::invalid_shape, [&] { cache.read_k(s, 2, 0, std::span<float>(back.data(), d - 1)); });
  expect_error(pact::errc::invalid_argument, [&] { (void)cache.k_scale(s, 3, 0); });
  expect_error(pact::errc::invalid_shape, [] { pact::paged_kv_cache<block_q8_0>(2, 4, 1, 48); });  // 48 % 32 != 0

  // quantize_kv_row: sizes and non-finite input.
  std::vector<std::int8_t> codes(d);
  expect_error(pact::errc::invalid_shape, [&] { (void)pact::quantize_kv_row<std::int8_t>(std::span<const float>(rows.data(), d - 1), codes); });
  expect_error(pact::errc::invalid_data, [&] { (void)pact::quantize_kv_row<std::int8_t>(std::span<const float>(rows.data(), d), codes); });
  const std::vector<float> x{0.5f, -1.27f, 0.0f, 1.0f, 0.01f, -0.005f, 1.27f, 0.3f};
  const float sc = pact::quantize_kv_row<std::int8_t>(x, codes);
  EXPECT_FLOAT_EQ(sc, 0.01f);
  EXPECT_EQ(codes[1], -127);
  EXPECT_EQ(codes[6], 127);
  EXPECT_EQ(codes[4], 1);
  EXPECT_EQ(codes[5], -1);  // -0.5 rounds away from zero
  const std::vector<float> zeros(d, 0.0f);
  EXPECT_EQ(pact::quantize_kv_row<std::int8_t>(zeros, codes), 0.0f);
  for (auto c : codes) EXPECT_EQ(c, 0);
}

}  // namespace
