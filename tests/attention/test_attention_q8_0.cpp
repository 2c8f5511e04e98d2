// Attention over a Q8_0 KV cache (ggml blocks of 32 along the head dim): prefill and decode,
// GQA, head dims 64 / 96 / 128 / 160 (compiled and runtime paths), against the same call on
// the dequantized f32 cache and a float64 reference; flash-decoding splits; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "pact/attention.hpp"
#include "pact/core/threading.hpp"
#include "pact/quant/ggml.hpp"

namespace {
using pact::index_t;
using pact::quant::block_q8_0;

struct q8_cache {
  std::vector<block_q8_0> blocks;
  std::vector<float> dequantized;
};

/// [1, S, H, d] floats -> Q8_0 rows (ggml's quantizer) and their dequantized values.
q8_cache quantize_cache(const std::vector<float>& x) {
  q8_cache c;
  c.blocks.resize(x.size() / 32);
  c.dequantized.resize(x.size());
  pact::quant::quantize<block_q8_0>(std::span<const float>(x), std::span<block_q8_0>(c.blocks));
  pact::quant::dequantize<block_q8_0>(std::span<const block_q8_0>(c.blocks), std::span<float>(c.dequantized));
  return c;
}

std::vector<float> random(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(g);
  return v;
}

double plain(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v, int Sq, int Skv, int hq,
             int hkv, int d, bool causal, int i, int h, int c) {
  const int kh = h / (hq / hkv), last = causal ? i + Skv - Sq : Skv - 1;
  std::vector<double> s(std::size_t(last + 1));
  double mx = -1e300, sum = 0, out = 0;
  for (int j = 0; j <= last; ++j) {
    double dot = 0;
    for (int x = 0; x < d; ++x) dot += double(q[std::size_t((i * hq + h) * d + x)]) * k[std::size_t((j * hkv + kh) * d + x)];
    s[std::size_t(j)] = dot / std::sqrt(double(d));
    mx = std::max(mx, s[std::size_t(j)]);
  }
  for (auto& e : s) sum += (e = std::exp(e - mx));
  for (int j = 0; j <= last; ++j) out += s[std::size_t(j)] / sum * v[std::size_t((j * hkv + kh) * d + c)];
  return out;
}

void check(int Sq, int Skv, int hq, int hkv, int d, bool causal, int splits = 1, int threads = 1) {
  const auto q = random(std::size_t(Sq * hq * d), 1);
  const auto kc = quantize_cache(random(std::size_t(Skv * hkv * d), 2));
  const auto vc = quantize_cache(random(std::size_t(Skv * hkv * d), 3));
  std::vector<float> o(q.size(), std::numeric_limits<float>::quiet_NaN()), o_ref(q.size());
  pact::attention_params p;
  p.causal = causal;
  p.kv_splits = splits;
  pact::thread_pool pool(threads);
  const pact::tensor_view<const float, 4> qv(q.data(), {1, Sq, hq, d});
  const pact::q8_0_kv k{pact::tensor_view<const block_q8_0, 4>(kc.blocks.data(), {1, Skv, hkv, d / 32})};
  const pact::q8_0_kv v{pact::tensor_view<const block_q8_0, 4>(vc.blocks.data(), {1, Skv, hkv, d / 32})};
  pact::attention(qv, k, v, pact::tensor_view<float, 4>(o.data(), {1, Sq, hq, d}), p, pool);
  // The same call on the dequantized cache: same values, so only summation order differs.
  pact::attention(qv, pact::tensor_view<const float, 4>(kc.dequantized.data(), {1, Skv, hkv, d}),
                  pact::tensor_view<const float, 4>(vc.dequantized.data(), {1, Skv, hkv, d}),
                  pact::tensor_view<float, 4>(o_ref.data(), {1, Sq, hq, d}), p, pool);
  double err = 0, ref2 = 0, err64 = 0;
  for (std::size_t i = 0; i < o.size(); ++i) {
    ASSERT_TRUE(std::isfinite(o[i])) << i;
    err += (o[i] - o_ref[i]) * (o[i] - o_ref[i]);
    ref2 += double(o_ref[i]) * o_ref[i];
  }
  EXPECT_LE(err / ref2, 1e-10) << "Sq " << Sq << " Skv " << Skv << " d " << d;
  for (int i : {0, Sq - 1})
    for (int h = 0; h < hq; h += std::max(1, hq / 3)) {
      const int c = d - 1;
      const double r = plain(q, kc.dequantized, vc.dequantized, Sq, Skv, hq, hkv, d, causal, i, h, c);
      err64 = std::max(err64, std::abs(o[std::size_t((i * hq + h) * d + c)] - r));
    }
  EXPECT_LE(err64, 1e-4);
}

TEST(AttentionQ8_0, DecodeGqa) {
  for (int d : {64, 96, 128, 160}) check(1, 700, 8, 2, d, true);
  check(2, 333, 8, 8, 128, true);
}

TEST(AttentionQ8_0, DecodeSplitsAndThreads) {
  check(1, 1500, 32, 8, 128, true, 4, 2);
  check(1, 1500, 32, 8, 128, true, 3, 3);
}

TEST(AttentionQ8_0, Prefill) {
  check(70, 70, 4, 2, 64, true);
  check(129, 129, 2, 1, 128, false);
}

TEST(AttentionQ8_0, InvalidArguments) {
  std::vector<block_q8_0> blocks(64);
  std::vector<float> q(4 * 64), o(q.size());
  const pact::tensor_view<const float, 4> qv(q.data(), {1, 1, 4, 64});
  const pact::tensor_view<float, 4> ov(o.data(), {1, 1, 4, 64});
  const pact::q8_0_kv good{pact::tensor_view<const block_q8_0, 4>(blocks.data(), {1, 16, 2, 2})};
  auto code = [](auto&& f) {
    try { f(); } catch (const pact::error& e) { return e.code(); }
    return pact::errc::size_overflow;  // "no error" sentinel
  };
  // Head dim 96 (3 blocks) against q's 64.
  const pact::q8_0_kv wrong_dim{pact::tensor_view<const block_q8_0, 4>(blocks.data(), {1, 10, 2, 3})};
  EXPECT_EQ(pact::errc::invalid_shape, code([&] { pact::attention(qv, wrong_dim, wrong_dim, ov); }));
  const pact::q8_0_kv strided{pact::tensor_view<const block_q8_0, 4>(blocks.data(), {1, 8, 2, 2}, {8, 4, 2, 2})};
  EXPECT_EQ(pact::errc::bad_stride, code([&] { pact::attention(qv, strided, good, ov); }));
  EXPECT_EQ(pact::errc::size_overflow, code([&] { pact::attention(qv, good, good, ov); }));  // valid: no error
}

}  // namespace
