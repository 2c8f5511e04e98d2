// Absorbed MLA decode against a plainly written float64 reference: DeepSeek-V3's shapes
// (Dl 512, Dr 64) and small odd ones, Sq 1..3 with the causal end alignment, KV lengths
// across tile edges, bitwise determinism across thread counts, masked rows, NaN inputs,
// bf16 / fp16 / int8 / FP8 / Q8_0 / paged latent caches (bitwise equal to the f32 cache of
// their values), and every invalid argument.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "pact/attention/mla.hpp"
#include "pact/attention/paged_kv.hpp"
#include "pact/quant/ggml.hpp"
#include "pact/core/threading.hpp"
#include "support/expect_error.hpp"

namespace {

struct mla_case {
  int B, Sq, H, Dl, Dr, Skv;
};

struct mla_data {
  mla_case c;
  std::vector<float> ql, qr, ckv, kr, out;
  explicit mla_data(mla_case cs, unsigned seed = 1) : c(cs) {
    std::mt19937 g(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    auto fill = [&](std::vector<float>& v, std::size_t n) {
      v.resize(n);
      for (auto& x : v) x = nd(g);
    };
    fill(ql, std::size_t(c.B) * c.Sq * c.H * c.Dl);
    fill(qr, std::size_t(c.B) * c.Sq * c.H * c.Dr);
    fill(ckv, std::size_t(c.B) * c.Skv * c.Dl);
    fill(kr, std::size_t(c.B) * c.Skv * c.Dr);
    out.assign(ql.size(), std::numeric_limits<float>::quiet_NaN());  // poisoned
  }
  pact::tensor_view<const float, 4> q_latent() const { return {ql.data(), {c.B, c.Sq, c.H, c.Dl}}; }
  pact::tensor_view<const float, 4> q_rope() const { return {qr.data(), {c.B, c.Sq, c.H, c.Dr}}; }
  pact::tensor_view<const float, 3> c_kv() const { return {ckv.data(), {c.B, c.Skv, c.Dl}}; }
  pact::tensor_view<const float, 3> k_rope() const { return {kr.data(), {c.B, c.Skv, c.Dr}}; }
  pact::tensor_view<float, 4> o() { return {out.data(), {c.B, c.Sq, c.H, c.Dl}}; }
};

/// out(b, s, h, :) in float64, plainly.
std::vector<double> reference(const mla_data& d, int b, int s, int h, float scale, bool causal) {
  const auto& c = d.c;
  const int last = causal ? s + c.Skv - c.Sq : c.Skv - 1;
  std::vector<double> o(std::size_t(c.Dl), 0.0);
  if (last < 0) return o;
  std::vector<double> sc(std::size_t(last + 1));
  double mx = -1e300;
  for (int j = 0; j <= last; ++j) {
    double dot = 0;
    for (int x = 0; x < c.Dl; ++x)
      dot += double(d.ql[((std::size_t(b) * c.Sq + s) * c.H + h) * c.Dl + x]) * d.ckv[(std::size_t(b) * c.Skv + j) * c.Dl + x];
    for (int x = 0; x < c.Dr; ++x)
      dot += double(d.qr[((std::size_t(b) * c.Sq + s) * c.H + h) * c.Dr + x]) * d.kr[(std::size_t(b) * c.Skv + j) * c.Dr + x];
    sc[std::size_t(j)] = scale * dot;
    mx = std::max(mx, sc[std::size_t(j)]);
  }
  double sum = 0;
  for (auto& v : sc) sum += (v = std::exp(v - mx));
  for (int j = 0; j <= last; ++j)
    for (int x = 0; x < c.Dl; ++x) o[std::size_t(x)] += sc[std::size_t(j)] / sum * d.ckv[(std::size_t(b) * c.Skv + j) * c.Dl + x];
  return o;
}

/// NMSE of the whole output against the reference.
double nmse(const mla_data& d, float scale, bool causal) {
  const auto& c = d.c;
  double err = 0, ref2 = 0;
  for (int b = 0; b < c.B; ++b)
    for (int s = 0; s < c.Sq; ++s)
      for (int h = 0; h < c.H; ++h) {
        const auto r = reference(d, b, s, h, scale, causal);
        for (int x = 0; x < c.Dl; ++x) {
          const double got = d.out[((std::size_t(b) * c.Sq + s) * c.H + h) * c.Dl + x];
          err += (got - r[std::size_t(x)]) * (got - r[std::size_t(x)]);
          ref2 += r[std::size_t(x)] * r[std::size_t(x)];
        }
      }
  return ref2 > 0 ? err / ref2 : err;
}

void check(mla_case c, pact::mla_params p, int threads = 1) {
  mla_data d(c);
  pact::thread_pool pool(threads);
  pact::mla_decode(d.q_latent(), d.q_rope(), d.c_kv(), d.k_rope(), d.o(), p, pool);
  for (float v : d.out) ASSERT_TRUE(std::isfinite(v));
  EXPECT_LE(nmse(d, p.scale, p.causal), 1e-10) << "B " << c.B << " Sq " << c.Sq << " H " << c.H << " Dl " << c.Dl << " Dr "
                                               << c.Dr << " Skv " << c.Skv;
}

pact::mla_params params(float scale, int kv_block = 256, int rows = 32, bool causal = true) {
  pact::mla_params p;
  p.scale = scale;
  p.kv_block = kv_block;
  p.rows_per_item = rows;
  p.causal = causal;
  return p;
}

TEST(MlaDecode, DeepSeekShapes) {
  const float scale = 1.0f / std::sqrt(192.0f);
  check({1, 1, 16, 512, 64, 700}, params(scale));
  check({2, 2, 8, 512, 64, 300}, params(scale), 2);  // MTP: two query positions
}

TEST(MlaDecode, KvLengthsAcrossTileEdges) {
  for (int skv : {1, 2, 15, 16, 17, 31, 32, 33, 64, 65})
    check({1, 1, 3, 24, 8, skv}, params(0.2f, 16, 2));
}

TEST(MlaDecode, QueryPositionsAndRowChunks) {
  for (int sq : {1, 2, 3})
    for (int rows : {1, 2, 5, 64}) check({2, sq, 5, 40, 12, 37}, params(0.15f, 8, rows));
  check({1, 3, 4, 40, 12, 37}, params(0.15f, 8, 3, /*causal=*/false));
}

TEST(MlaDecode, NoRopeDims) { check({1, 1, 4, 32, 0, 50}, params(0.2f, 16, 4)); }

TEST(MlaDecode, QueriesThatSeeNoKeyGetZeros) {
  // Sq = 3 over 1 key: query 0 and 1 see key positions < 0.
  mla_data d({1, 3, 2, 16, 4, 1});
  pact::mla_decode(d.q_latent(), d.q_rope(), d.c_kv(), d.k_rope(), d.o(), params(0.3f));
  for (int s = 0; s < 3; ++s)
    for (int h = 0; h < 2; ++h)
      for (int x = 0; x < 16; ++x) {
        const float v = d.out[(std::size_t(s) * 2 + h) * 16 + x];
        if (s < 2) ASSERT_EQ(v, 0.0f);
        else ASSERT_FLOAT_EQ(v, d.ckv[std::size_t(x)]);  // one visible key: its value row
      }
  mla_data e({1, 1, 2, 16, 4, 0});  // an empty cache
  pact::mla_decode(e.q_latent(), e.q_rope(), e.c_kv(), e.k_rope(), e.o(), params(0.3f));
  for (float v : e.out) ASSERT_EQ(v, 0.0f);
}

TEST(MlaDecode, BitwiseIdenticalAcrossThreads) {
  mla_data d({2, 1, 40, 64, 16, 333}, 3);
  pact::mla_decode(d.q_latent(), d.q_rope(), d.c_kv(), d.k_rope(), d.o(), params(0.1f, 64, 8));
  const auto ref = d.out;
  for (int t : {2, 3, 7}) {
    pact::thread_pool pool(t);
    std::fill(d.out.begin(), d.out.end(), std::numeric_limits<float>::quiet_NaN());
    pact::mla_decode(d.q_latent(), d.q_rope(), d.c_kv(), d.k_rope(), d.o(), params(0.1f, 64, 8), pool);
    ASSERT_EQ(0, std::memcmp(ref.data(), d.out.data(), sizeof(float) * ref.size())) << t;
  }
}

TEST(MlaDecode, NaNPropagates) {
  mla_data d({1, 1, 3, 16, 4, 20});
  d.kr[5 * 4 + 1] = std::numeric_limits<float>::quiet_NaN();  // key 5's rope part
  pact::mla_decode(d.q_latent(), d.q_rope(), d.c_kv(), d.k_rope(), d.o(), params(0.3f, 8));
  for (float v : d.out) ASSERT_TRUE(std::isnan(v));
}

TEST(MlaDecode, InvalidArguments) {
  mla_data d({1, 1, 2, 16, 4, 10});
  auto code = [&](auto&& f) {
    try { f(); } catch (const pact::error& e) { return e.code(); }
    return pact::errc::size_overflow;  // "no error" sentinel (no case expects it)
  };
  const auto ok = params(0.3f);
  using pact::errc;
  EXPECT_EQ(errc::invalid_shape, code([&] {
    pact::mla_decode(d.q_latent(), d.q_rope(), pact::tensor_view<const float, 3>(d.ckv.data(), {1, 10, 15}), d.k_rope(), d.o(), ok);
  }));
  EXPECT_EQ(errc::invalid_shape, code([&] {
    pact::mla_decode(d.q_latent(), d.q_rope(), d.c_kv(), pact::tensor_view<const float, 3>(d.kr.data(), {1, 9, 4}), d.o(), ok);
  }));
  EXPECT_EQ(errc::invalid_shape, code([&] {
    pact::mla_decode(d.q_latent(), pact::tensor_view<const float, 4>(d.qr.data(), {1, 1, 1, 4}), d.c_kv(), d.k_rope(), d.o(), ok);
  }));
  EXPECT_EQ(errc::invalid_argument, code([&] { pact::mla_decode(d.q_latent(), d.q_rope(), d.c_kv(), d.k_rope(), d.o(), pact::mla_params{}); }));
  EXPECT_EQ(errc::invalid_argument, code([&] { pact::mla_decode(d.q_latent(), d.q_rope(), d.c_kv(), d.k_rope(), d.o(), params(0.3f, 0)); }));
  EXPECT_EQ(errc::null_pointer, code([&] {
    pact::mla_decode(pact::tensor_view<const float, 4>(nullptr, {1, 1, 2, 16}), d.q_rope(), d.c_kv(), d.k_rope(), d.o(), ok);
  }));
  EXPECT_EQ(errc::bad_stride, code([&] {
    pact::mla_decode(d.q_latent(), d.q_rope(), pact::tensor_view<const float, 3>(d.ckv.data(), {1, 5, 16}, {160, 32, 2}),
                     pact::tensor_view<const float, 3>(d.kr.data(), {1, 5, 4}), d.o(), ok);
  }));
  std::vector<float> shared(d.ckv);  // out on top of the cache
  EXPECT_EQ(errc::aliasing, code([&] {
    pact::mla_decode(d.q_latent(), d.q_rope(), pact::tensor_view<const float, 3>(shared.data(), {1, 10, 16}), d.k_rope(),
                     pact::tensor_view<float, 4>(shared.data(), {1, 1, 2, 16}), ok);
  }));
}

/// Runs MLA over the f32 cache holding `values` (the dequantized contents of another cache)
/// and returns its output: the result every other cache type must reproduce bitwise.
std::vector<float> f32_result(mla_data d, const std::vector<float>& ckv_values, const std::vector<float>& kr_values,
                              const pact::mla_params& p) {
  d.ckv = ckv_values;
  d.kr = kr_values;
  pact::mla_decode(d.q_latent(), d.q_rope(), d.c_kv(), d.k_rope(), d.o(), p);
  EXPECT_LE(nmse(d, p.scale, p.causal), 1e-10);
  return d.out;
}

template <class T>
std::vector<T> narrow(const std::vector<float>& x) {
  std::vector<T> r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) r[i] = T(x[i]);
  return r;
}
template <class T>
std::vector<float> widen(const std::vector<T>& x) {
  std::vector<float> r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) r[i] = static_cast<float>(x[i]);
  return r;
}

const mla_case kCacheCases[] = {{1, 1, 16, 512, 64, 300}, {2, 2, 5, 64, 12, 37}};

template <class T>
void half_cache_case(const mla_case& c) {
  mla_data d(c, 5);
  const auto ck = narrow<T>(d.ckv), kr = narrow<T>(d.kr);
  const auto p = params(0.07f, 64, 8);
  const auto want = f32_result(d, widen(ck), widen(kr), p);
  pact::mla_decode(d.q_latent(), d.q_rope(), pact::tensor_view<const T, 3>(ck.data(), {c.B, c.Skv, c.Dl}),
                   pact::tensor_view<const T, 3>(kr.data(), {c.B, c.Skv, c.Dr}), d.o(), p);
  EXPECT_EQ(0, std::memcmp(want.data(), d.out.data(), want.size() * sizeof(float))) << "Dl " << c.Dl;
}

TEST(MlaDecode, Bf16AndFp16CachesEqualTheF32CacheOfTheirValues) {
  for (const auto& c : kCacheCases) {
    half_cache_case<pact::bf16>(c);
    half_cache_case<pact::fp16>(c);
  }
}

/// Symmetric per-block quantization of a [B, S, 1, D] cache: scales [B, 1, blocks].
template <class T>
struct quantized_latent {
  std::vector<T> values;
  std::vector<float> scales, dequantized;
  int blocks = 0;
  quantized_latent(const std::vector<float>& x, int B, int S, int D, int block_tokens) {
    blocks = (S + block_tokens - 1) / block_tokens;
    values.resize(x.size());
    dequantized.resize(x.size());
    scales.resize(std::size_t(B) * blocks);
    const float qmax = std::is_same_v<T, std::int8_t> ? 127.0f : 448.0f;
    for (int b = 0; b < B; ++b)
      for (int k = 0; k < blocks; ++k) {
        const int t0 = k * block_tokens, t1 = std::min(S, t0 + block_tokens);
        float amax = 0;
        for (int t = t0; t < t1; ++t)
          for (int c = 0; c < D; ++c) amax = std::max(amax, std::fabs(x[(std::size_t(b) * S + t) * D + c]));
        const float scale = amax > 0 ? amax / qmax : 1.0f;
        scales[std::size_t(b) * blocks + k] = scale;
        for (int t = t0; t < t1; ++t)
          for (int c = 0; c < D; ++c) {
            const std::size_t i = (std::size_t(b) * S + t) * D + c;
            if constexpr (std::is_same_v<T, std::int8_t>) values[i] = static_cast<std::int8_t>(std::lrint(x[i] / scale));
            else values[i] = T(x[i] / scale);
            dequantized[i] = static_cast<float>(values[i]) * scale;
          }
      }
  }
  pact::quantized_kv<T> view(int B, int S, int D, int block_tokens) const {
    return {{values.data(), {B, S, 1, D}}, {scales.data(), {B, 1, blocks}}, block_tokens};
  }
};

template <class T>
void quantized_cache_case(const mla_case& c) {
  mla_data d(c, 6);
  const int bt = 16;
  const quantized_latent<T> ck(d.ckv, c.B, c.Skv, c.Dl, bt), kr(d.kr, c.B, c.Skv, c.Dr, bt);
  const auto p = params(0.07f, 64, 8);
  const auto want = f32_result(d, ck.dequantized, kr.dequantized, p);
  pact::mla_decode(d.q_latent(), d.q_rope(), ck.view(c.B, c.Skv, c.Dl, bt), kr.view(c.B, c.Skv, c.Dr, bt), d.o(), p);
  EXPECT_EQ(0, std::memcmp(want.data(), d.out.data(), want.size() * sizeof(float))) << "Dl " << c.Dl;
}

TEST(MlaDecode, Int8AndFp8CachesEqualTheF32CacheOfTheirValues) {
  for (const auto& c : kCacheCases) {
    quantized_cache_case<std::int8_t>(c);
    quantized_cache_case<pact::fp8_e4m3>(c);
  }
}

TEST(MlaDecode, Q8_0LatentCacheEqualsTheF32CacheOfItsValues) {
  using pact::quant::block_q8_0;
  for (const auto& c : kCacheCases) {
    mla_data d(c, 7);
    std::vector<block_q8_0> blocks(d.ckv.size() / 32);
    std::vector<float> deq(d.ckv.size());
    pact::quant::quantize<block_q8_0>(std::span<const float>(d.ckv), std::span<block_q8_0>(blocks));
    pact::quant::dequantize<block_q8_0>(std::span<const block_q8_0>(blocks), std::span<float>(deq));
    const auto p = params(0.07f, 64, 8);
    const auto want = f32_result(d, deq, d.kr, p);  // the rope part stays f32
    const pact::q8_0_kv ck{pact::tensor_view<const block_q8_0, 4>(blocks.data(), {c.B, c.Skv, 1, c.Dl / 32})};
    pact::mla_decode(d.q_latent(), d.q_rope(), ck, pact::tensor_view<const float, 4>(d.kr.data(), {c.B, c.Skv, 1, c.Dr}), d.o(), p);
    EXPECT_EQ(0, std::memcmp(want.data(), d.out.data(), want.size() * sizeof(float))) << "Dl " << c.Dl;
  }
}

TEST(MlaDecode, PagedLatentCacheEqualsContiguous) {
  // vLLM's MLA layout: one paged cache row of Dl + Dr values per token (c_kv then k_rope),
  // read as two column slices of the same pool, with the blocks shuffled.
  const mla_case c{2, 1, 8, 64, 16, 75};
  mla_data d(c, 8);
  const int W = c.Dl + c.Dr;
  pact::paged_kv_cache<pact::bf16> cache(2 * ((c.Skv + 15) / 16) + 2, 16, 1, W);
  std::mt19937 rng(3);
  cache.shuffle_free_blocks(rng);
  std::vector<pact::bf16> rows(std::size_t(c.B) * c.Skv * W);
  for (int b = 0; b < c.B; ++b)
    for (int t = 0; t < c.Skv; ++t)
      for (int x = 0; x < W; ++x)
        rows[(std::size_t(b) * c.Skv + t) * W + x] = pact::bf16(x < c.Dl ? d.ckv[(std::size_t(b) * c.Skv + t) * c.Dl + x]
                                                                      : d.kr[(std::size_t(b) * c.Skv + t) * c.Dr + x - c.Dl]);
  std::vector<pact::index_t> ids;
  for (int b = 0; b < c.B; ++b) ids.push_back(cache.add_sequence());
  for (int t0 = 0; t0 < c.Skv;) {  // uneven appends, sequences interleaved
    const int n = std::min(c.Skv - t0, 7 + t0 % 5);
    for (int b = 0; b < c.B; ++b) {
      const pact::tensor_view<const pact::bf16, 3> r(rows.data() + (std::size_t(b) * c.Skv + t0) * W, {n, 1, W});
      cache.append(ids[std::size_t(b)], r, r);
    }
    t0 += n;
  }
  const auto batch = cache.make_batch(ids);
  const pact::paged_kv_view<pact::bf16> all = batch.keys();
  const auto& pool = all.pool;
  const pact::paged_kv_view<pact::bf16> ck{
      {pool.data(), {pool.extent(0), pool.extent(1), 1, c.Dl}, pool.strides()}, all.block_table, all.seq_len};
  const pact::paged_kv_view<pact::bf16> kr{
      {pool.data() + c.Dl, {pool.extent(0), pool.extent(1), 1, c.Dr}, pool.strides()}, all.block_table, all.seq_len};
  std::vector<float> ckv_w(d.ckv.size()), kr_w(d.kr.size());
  for (int b = 0; b < c.B; ++b)
    for (int t = 0; t < c.Skv; ++t) {
      for (int x = 0; x < c.Dl; ++x) ckv_w[(std::size_t(b) * c.Skv + t) * c.Dl + x] = float(rows[(std::size_t(b) * c.Skv + t) * W + x]);
      for (int x = 0; x < c.Dr; ++x) kr_w[(std::size_t(b) * c.Skv + t) * c.Dr + x] = float(rows[(std::size_t(b) * c.Skv + t) * W + c.Dl + x]);
    }
  const auto p = params(0.1f, 16, 4);
  const auto want = f32_result(d, ckv_w, kr_w, p);
  pact::thread_pool pool2(2);
  pact::mla_decode(d.q_latent(), d.q_rope(), ck, kr, d.o(), p, pool2);
  EXPECT_EQ(0, std::memcmp(want.data(), d.out.data(), want.size() * sizeof(float)));
}

TEST(MlaDecode, InvalidCaches) {
  using pact::errc;
  using pact_test::expect_error;
  mla_data d({1, 1, 2, 32, 4, 10});
  const auto ok = params(0.3f);
  std::vector<float> two_heads(std::size_t(10) * 2 * 32);
  expect_error(errc::invalid_shape, [&] {  // a 4-d cache must have one head
    pact::mla_decode(d.q_latent(), d.q_rope(), pact::tensor_view<const float, 4>(two_heads.data(), {1, 10, 2, 32}),
                     pact::tensor_view<const float, 4>(d.kr.data(), {1, 10, 1, 4}), d.o(), ok);
  });
  const quantized_latent<std::int8_t> q(d.ckv, 1, 10, 32, 4);  // 3 blocks of 4 tokens
  auto bad = q.view(1, 10, 32, 4);
  bad.scales = pact::tensor_view<const float, 3>(q.scales.data(), {1, 1, 2});
  expect_error(errc::invalid_shape, [&] { pact::mla_decode(d.q_latent(), d.q_rope(), bad, d.k_rope(), d.o(), ok); });
  std::vector<pact::bf16> pool(4 * 4 * 32);
  std::vector<std::int32_t> table{0, 1, 7};  // block 7 is outside the pool of 4
  const pact::paged_kv_view<pact::bf16> paged{{pool.data(), {4, 4, 1, 32}}, {table.data(), {1, 3}}, 10};
  expect_error(errc::invalid_argument, [&] { pact::mla_decode(d.q_latent(), d.q_rope(), paged, d.k_rope(), d.o(), ok); });
}

}  // namespace
