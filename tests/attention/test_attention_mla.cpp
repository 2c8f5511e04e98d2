// Absorbed MLA decode against a plainly written float64 reference: DeepSeek-V3's shapes
// (Dl 512, Dr 64) and small odd ones, Sq 1..3 with the causal end alignment, KV lengths
// across tile edges, bitwise determinism across thread counts, masked rows, NaN inputs,
// and every invalid argument.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "pact/attention/mla.hpp"
#include "pact/core/threading.hpp"

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

}  // namespace
