// attention_params::int8_query and int8_probs: decode over int8 K codes with the query rows quantized to
// int8 and q.k computed by exact integer dots. The integer path must equal (to f32 rounding)
// float64 attention over the *quantized* query and the dequantized cache, stay within the
// quantized-KV tolerance of float64 attention over the unquantized rows, fall back to the
// f32 path for NaN queries, and give the same bits for dense and shuffled paged caches and
// for any thread count. int8_probs (weights as uint8, integer P.V over the V codes) must stay
// within its documented rounding of the f32 path on every tail, alone and with int8_query.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "attention_reference.hpp"
#include "pact/attention.hpp"
#include "support/reference.hpp"

namespace {
using compact = pact::attention_config<64, 64, pact::any_head_dim>;
using pact::index_t;

std::vector<double> widen(const std::vector<float>& x) { return {x.begin(), x.end()}; }

/// A per-token int8 cache [B, S, Hkv, d] quantized from random rows, plus its f32 source.
struct int8_cache {
  index_t b, s, hkv, d;
  std::vector<float> src;
  std::vector<std::int8_t> codes;
  std::vector<float> scales;  // [B, Hkv, S]
  int8_cache(index_t b_, index_t s_, index_t hkv_, index_t d_, std::uint32_t seed)
      : b(b_), s(s_), hkv(hkv_), d(d_), src(pact_test::random_values<float>(static_cast<std::size_t>(b_ * s_ * hkv_ * d_), seed)),
        codes(src.size()), scales(static_cast<std::size_t>(b_ * hkv_ * s_)) {
    for (index_t bb = 0; bb < b; ++bb)
      for (index_t t = 0; t < s; ++t)
        for (index_t h = 0; h < hkv; ++h) {
          const std::size_t row = static_cast<std::size_t>(((bb * s + t) * hkv + h) * d);
          scales[static_cast<std::size_t>((bb * hkv + h) * s + t)] = pact::quantize_kv_row<std::int8_t>(
              std::span<const float>(src.data() + row, static_cast<std::size_t>(d)),
              std::span<std::int8_t>(codes.data() + row, static_cast<std::size_t>(d)));
        }
  }
  pact::quantized_kv<std::int8_t> view() const { return {{codes.data(), {b, s, hkv, d}}, {scales.data(), {b, hkv, s}}, 1}; }
  std::vector<double> dequantized() const {
    std::vector<double> out(codes.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      const std::size_t row = i / static_cast<std::size_t>(d);
      const index_t h = static_cast<index_t>(row % static_cast<std::size_t>(hkv));
      const index_t t = static_cast<index_t>((row / static_cast<std::size_t>(hkv)) % static_cast<std::size_t>(s));
      const index_t bb = static_cast<index_t>(row / static_cast<std::size_t>(hkv * s));
      out[i] = static_cast<double>(codes[i]) * scales[static_cast<std::size_t>((bb * hkv + h) * s + t)];
    }
    return out;
  }
};

/// kd / vd := the codes and scales of the pool's sequences ids[b] (dense per-token caches).
void copy_pool_to_dense(const pact::paged_kv_cache<std::int8_t>& cache, const std::vector<index_t>& ids, int8_cache& kd,
                        int8_cache& vd) {
  const index_t s = kd.s, hkv = kd.hkv, d = kd.d;
  for (index_t b = 0; b < kd.b; ++b)
    for (index_t t = 0; t < s; ++t)
      for (index_t h = 0; h < hkv; ++h) {
        const index_t id = ids[static_cast<std::size_t>(b)];
        const std::size_t row = static_cast<std::size_t>(((b * s + t) * hkv + h) * d);
        std::copy(cache.k_row(id, t, h), cache.k_row(id, t, h) + d, kd.codes.begin() + static_cast<std::ptrdiff_t>(row));
        std::copy(cache.v_row(id, t, h), cache.v_row(id, t, h) + d, vd.codes.begin() + static_cast<std::ptrdiff_t>(row));
        kd.scales[static_cast<std::size_t>((b * hkv + h) * s + t)] = cache.k_scale(id, t, h);
        vd.scales[static_cast<std::size_t>((b * hkv + h) * s + t)] = cache.v_scale(id, t, h);
      }
}

/// The query as the kernel quantizes it: per (b, t, head) row, round(q * 127 / max|q|) *
/// max|q| / 127 (exact in double). With a power-of-two attention scale and per-token K
/// scales the kernel's scaled row gives the same codes.
std::vector<double> quantized_query(const std::vector<float>& q, index_t d) {
  std::vector<double> out(q.size());
  for (std::size_t r = 0; r < q.size() / static_cast<std::size_t>(d); ++r) {
    const float* qr = q.data() + r * static_cast<std::size_t>(d);
    float amax = 0.0f;
    for (index_t c = 0; c < d; ++c) amax = std::max(amax, std::fabs(qr[c]));
    const float inv = 127.0f / amax;
    for (index_t c = 0; c < d; ++c)
      out[r * static_cast<std::size_t>(d) + static_cast<std::size_t>(c)] =
          static_cast<double>(std::nearbyint(qr[c] * inv)) * static_cast<double>(amax / 127.0f);
  }
  return out;
}

template <class KV>
std::vector<float> decode(const std::vector<float>& q, index_t b, index_t sq, index_t hq, index_t d, const KV& k, const KV& v,
                          index_t splits, bool int8_query, int threads = 1, bool int8_probs = false,
                          index_t window_left = -1) {
  pact::attention_params p;
  p.causal = true;
  p.kv_splits = splits;
  p.scale = 0.0625f;  // a power of two: scaling q does not change its int8 codes
  p.int8_query = int8_query;
  p.int8_probs = int8_probs;
  p.window_left = window_left;
  pact::thread_pool pool(threads);
  std::vector<float> o(q.size(), NAN);  // poisoned: an unwritten element fails
  pact::attention<compact>(pact::tensor_view<const float, 4>(q.data(), {b, sq, hq, d}), k, v,
                           pact::tensor_view<float, 4>(o.data(), {b, sq, hq, d}), p, pool);
  return o;
}

pact_test::ref_options ref_opts() {
  pact_test::ref_options o;
  o.causal = true;
  o.scale = 0.0625;
  return o;
}

TEST(AttentionInt8Query, EqualsFloat64OverQuantizedQueryAllTails) {
  const index_t B = 2, hkv = 2;
  for (index_t d : {64, 128, 256})
    for (index_t group : {1, 4})
      for (index_t sq : {1, 2})
        for (index_t s : {2, 15, 16, 17, 33, 64, 97}) {
          if (sq > s) continue;
          const index_t hq = hkv * group;
          const int8_cache k(B, s, hkv, d, 21), v(B, s, hkv, d, 22);
          const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * sq * hq * d), 23);
          const auto ref = pact_test::ref_attention(quantized_query(q, d), k.dequantized(), v.dequantized(), B, sq, s, hq, hkv, d, ref_opts());
          for (index_t splits : {1, 3}) {
            const auto o = decode(q, B, sq, hq, d, k.view(), v.view(), splits, true);
            EXPECT_LE(pact_test::nmse(o, ref), 1e-10) << "d " << d << " group " << group << " sq " << sq << " s " << s << " splits " << splits;
            // Still attention over the unquantized rows, within the quantized-KV tolerance.
            const auto exact = pact_test::ref_attention(widen(q), widen(k.src), widen(v.src), B, sq, s, hq, hkv, d, ref_opts());
            EXPECT_LE(pact_test::nmse(o, exact), 5e-4) << "d " << d << " s " << s;
          }
        }
}

TEST(AttentionInt8Query, DiffersFromFloatPathOnlyByQueryRounding) {
  // The same call without int8_query is the f32 path; the two must not be bitwise equal
  // (else the integer path did not run) but agree to the query's rounding error.
  const index_t B = 1, s = 300, hkv = 2, hq = 8, d = 128;
  const int8_cache k(B, s, hkv, d, 31), v(B, s, hkv, d, 32);
  const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * hq * d), 33);
  const auto f = decode(q, B, 1, hq, d, k.view(), v.view(), 2, false);
  const auto i = decode(q, B, 1, hq, d, k.view(), v.view(), 2, true);
  EXPECT_NE(0, std::memcmp(f.data(), i.data(), f.size() * sizeof(float)));
  EXPECT_LE(pact_test::nmse(i, widen(f)), 1e-4);
}

TEST(AttentionInt8Query, NanQueryFallsBackToFloatPath) {
  const index_t B = 1, s = 40, hkv = 2, hq = 4, d = 64;
  const int8_cache k(B, s, hkv, d, 41), v(B, s, hkv, d, 42);
  auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * hq * d), 43);
  q[5] = NAN;
  q[d + 1] = INFINITY;
  const auto f = decode(q, B, 1, hq, d, k.view(), v.view(), 1, false);
  const auto i = decode(q, B, 1, hq, d, k.view(), v.view(), 1, true);
  EXPECT_EQ(0, std::memcmp(f.data(), i.data(), f.size() * sizeof(float)));
  EXPECT_TRUE(std::isnan(i[0]));
}

TEST(AttentionInt8Query, ZeroQueryRowGivesMeanOfValues) {
  // max|q| = 0: codes 128 (zero), scale 0, every score 0 -> the plain mean of the values.
  const index_t B = 1, s = 20, hkv = 1, hq = 1, d = 64;
  const int8_cache k(B, s, hkv, d, 51), v(B, s, hkv, d, 52);
  const std::vector<float> q(static_cast<std::size_t>(d), 0.0f);
  const auto o = decode(q, B, 1, hq, d, k.view(), v.view(), 1, true);
  const auto vd = v.dequantized();
  for (index_t c = 0; c < d; ++c) {
    double mean = 0;
    for (index_t t = 0; t < s; ++t) mean += vd[static_cast<std::size_t>(t * d + c)];
    EXPECT_NEAR(o[static_cast<std::size_t>(c)], mean / s, 1e-6) << c;
  }
}

TEST(AttentionInt8Query, PagedEqualsDenseAndThreadCountsAgree) {
  const index_t B = 2, s = 133, hkv = 2, hq = 8, d = 128, bs = 16;
  const auto ksrc = pact_test::random_values<float>(static_cast<std::size_t>(B * s * hkv * d), 61);
  const auto vsrc = pact_test::random_values<float>(static_cast<std::size_t>(B * s * hkv * d), 62);
  pact::paged_kv_cache<std::int8_t> cache(2 * ((s + bs - 1) / bs) + 3, bs, hkv, d);
  std::mt19937 rng(9);
  cache.shuffle_free_blocks(rng);
  std::vector<index_t> ids;
  for (index_t b = 0; b < B; ++b) ids.push_back(cache.add_sequence());
  index_t done = 0;
  for (index_t chunk : {7, 60, 1, 65}) {
    for (index_t b = 0; b < B; ++b) {
      const auto rows = [&](const std::vector<float>& x) {
        return pact::tensor_view<const float, 3>(x.data() + (b * s + done) * hkv * d, {chunk, hkv, d});
      };
      cache.append(ids[static_cast<std::size_t>(b)], rows(ksrc), rows(vsrc));
    }
    done += chunk;
  }
  // The dense per-token cache holding the same codes and scales.
  int8_cache kd(B, s, hkv, d, 1), vd(B, s, hkv, d, 2);
  copy_pool_to_dense(cache, ids, kd, vd);
  const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * hq * d), 63);
  const auto batch = cache.make_batch(ids);
  for (bool probs : {false, true}) {  // int8_probs too: all-integer decode
    const auto dense = decode(q, B, 1, hq, d, kd.view(), vd.view(), 3, true, 1, probs);
    for (int threads : {1, 2, 3, 7}) {
      const auto paged = decode(q, B, 1, hq, d, batch.keys(), batch.values(), 3, true, threads, probs);
      EXPECT_EQ(0, std::memcmp(paged.data(), dense.data(), dense.size() * sizeof(float))) << "threads " << threads << " " << probs;
      const auto dense_t = decode(q, B, 1, hq, d, kd.view(), vd.view(), 3, true, threads, probs);
      EXPECT_EQ(0, std::memcmp(dense_t.data(), dense.data(), dense.size() * sizeof(float))) << "threads " << threads << " " << probs;
    }
  }
}

TEST(AttentionInt8Query, PerHeadScalesWithinQuantizedTolerance) {
  // One scale per (batch, head): folded into q before it is quantized.
  const index_t B = 1, s = 200, hkv = 2, hq = 8, d = 128;
  const auto src = pact_test::random_values<float>(static_cast<std::size_t>(B * s * hkv * d), 71);
  std::vector<std::int8_t> codes(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) codes[i] = static_cast<std::int8_t>(std::lround(src[i] * 127.0f));
  const std::vector<float> scales(static_cast<std::size_t>(hkv), 1.0f / 127.0f);
  const pact::quantized_kv<std::int8_t> kv{{codes.data(), {B, s, hkv, d}}, {scales.data(), {B, hkv, 1}}, 0};
  const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * hq * d), 73);
  const auto o = decode(q, B, 1, hq, d, kv, kv, 2, true);
  const auto exact = pact_test::ref_attention(widen(q), widen(src), widen(src), B, 1, s, hq, hkv, d, ref_opts());
  EXPECT_LE(pact_test::nmse(o, exact), 5e-4);
  const auto f = decode(q, B, 1, hq, d, kv, kv, 2, false);
  EXPECT_NE(0, std::memcmp(f.data(), o.data(), f.size() * sizeof(float)));
  // int8_probs with per-head V scales (applied to the output, not to the weights).
  for (bool iq : {false, true}) {
    const auto ip = decode(q, B, 1, hq, d, kv, kv, 2, iq, 1, true);
    EXPECT_LE(pact_test::nmse(ip, exact), 5e-4) << iq;
    const auto fi = decode(q, B, 1, hq, d, kv, kv, 2, iq);
    EXPECT_LE(pact_test::nmse(ip, widen(fi)), 1e-5) << iq;
    EXPECT_NE(0, std::memcmp(fi.data(), ip.data(), fi.size() * sizeof(float))) << iq;
  }
}

// ---- int8_probs: integer P.V ----

TEST(AttentionInt8Probs, CloseToFloatPathAndFloat64AllTails) {
  const index_t B = 2, hkv = 2;
  for (index_t d : {64, 80, 128, 256})
    for (index_t group : {1, 4})
      for (index_t sq : {1, 2})
        for (index_t s : {1, 2, 3, 4, 5, 15, 16, 17, 33, 64, 65, 97}) {
          if (sq > s) continue;
          const index_t hq = hkv * group;
          const int8_cache k(B, s, hkv, d, 81), v(B, s, hkv, d, 82);
          const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * sq * hq * d), 83);
          const auto exact = pact_test::ref_attention(widen(q), widen(k.src), widen(v.src), B, sq, s, hq, hkv, d, ref_opts());
          for (bool iq : {false, true})
            for (index_t splits : {1, 3}) {
              const auto f = decode(q, B, sq, hq, d, k.view(), v.view(), splits, iq);
              const auto o = decode(q, B, sq, hq, d, k.view(), v.view(), splits, iq, 1, true);
              const std::string at = "d " + std::to_string(d) + " group " + std::to_string(group) + " sq " +
                                     std::to_string(sq) + " s " + std::to_string(s) + " splits " + std::to_string(splits) +
                                     " int8_query " + std::to_string(iq);
              // The weights' rounding only: each is off by <= 0.5 / 255 of its tile's largest,
              // an NMSE near 1 / (255^2 * 12) = 1.3e-6 (measured: median 2.1e-6, max 4.3e-6).
              EXPECT_LE(pact_test::nmse(o, widen(f)), 1e-5) << at;
              EXPECT_LE(pact_test::nmse(o, exact), 5e-4) << at;
            }
        }
}

TEST(AttentionInt8Probs, DiffersFromFloatPathAndMasksApply) {
  // Not bitwise equal to the f32 path (else the integer path did not run); a sliding
  // window (partial tiles, masked keys weight 0) agrees with the f32 path the same way.
  const index_t B = 1, s = 300, hkv = 2, hq = 8, d = 128;
  const int8_cache k(B, s, hkv, d, 91), v(B, s, hkv, d, 92);
  const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * hq * d), 93);
  for (index_t window : {-1, 40}) {
    const auto f = decode(q, B, 1, hq, d, k.view(), v.view(), 2, false, 1, false, window);
    const auto o = decode(q, B, 1, hq, d, k.view(), v.view(), 2, false, 1, true, window);
    EXPECT_NE(0, std::memcmp(f.data(), o.data(), f.size() * sizeof(float))) << window;
    EXPECT_LE(pact_test::nmse(o, widen(f)), 1e-5) << window;
  }
}

TEST(AttentionInt8Probs, NanQueryGivesNanRowsLikeFloatPath) {
  const index_t B = 1, s = 40, hkv = 2, hq = 4, d = 64;
  const int8_cache k(B, s, hkv, d, 101), v(B, s, hkv, d, 102);
  auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * hq * d), 103);
  q[5] = NAN;  // head 0
  const auto f = decode(q, B, 1, hq, d, k.view(), v.view(), 1, false);
  const auto o = decode(q, B, 1, hq, d, k.view(), v.view(), 1, false, 1, true);
  for (std::size_t i = 0; i < o.size(); ++i) EXPECT_EQ(std::isnan(f[i]), std::isnan(o[i])) << i;
  EXPECT_TRUE(std::isnan(o[0]));
  EXPECT_FALSE(std::isnan(o[static_cast<std::size_t>(d)]));
}

}  // namespace
