// Attention rules: quantized KV caches, determinism across threads, NaN propagation,
// fully masked rows, strided views and invalid arguments.
#include <gtest/gtest.h>

#include <cmath>

#include "attention_reference.hpp"
#include "pact/attention.hpp"
#include "support/reference.hpp"
#include "support/expect_error.hpp"

namespace {
using pact_test::expect_error;
// One kernel for every head dim: these tests are about caches and rules, not about the
// compiled head dims (test_attention_prefill covers those), and this keeps the build fast.
using compact = pact::attention_config<64, 64, pact::any_head_dim>;
using pact::index_t;
using pact_test::nmse;

struct problem {
  long B = 1, Sq = 5, Skv = 150, Hq = 4, Hkv = 2, d = 32;
  std::vector<float> q, k, v;
  explicit problem(std::uint32_t seed) { fill(seed); }
  problem(long b, long sq, long skv, long hq, long hkv, long dd, std::uint32_t seed) : B(b), Sq(sq), Skv(skv), Hq(hq), Hkv(hkv), d(dd) {
    fill(seed);
  }
  void fill(std::uint32_t seed) {
    q = pact_test::random_values<float>(static_cast<std::size_t>(B * Sq * Hq * d), seed);
    k = pact_test::random_values<float>(static_cast<std::size_t>(B * Skv * Hkv * d), seed + 1);
    v = pact_test::random_values<float>(static_cast<std::size_t>(B * Skv * Hkv * d), seed + 2);
  }
  pact::tensor_view<const float, 4> qv() const { return {q.data(), {B, Sq, Hq, d}}; }
  pact::tensor_view<const float, 4> kv() const { return {k.data(), {B, Skv, Hkv, d}}; }
  pact::tensor_view<const float, 4> vv() const { return {v.data(), {B, Skv, Hkv, d}}; }
  std::vector<double> ref(const std::vector<float>& kk, const std::vector<float>& vvv, const pact_test::ref_options& r = {}) const {
    return pact_test::ref_attention(std::vector<double>(q.begin(), q.end()), std::vector<double>(kk.begin(), kk.end()),
                                    std::vector<double>(vvv.begin(), vvv.end()), B, Sq, Skv, Hq, Hkv, d, r);
  }
};

pact::attention_params with_splits(index_t splits) {
  pact::attention_params p;
  p.kv_splits = splits;
  return p;
}

template <class T>
void quantized_case(index_t block_tokens, problem pr = problem(3), pact::attention_params p = with_splits(3),
                    const pact_test::ref_options& r = {}) {
  const long S = pr.Skv, H = pr.Hkv, d = pr.d;
  const index_t blocks = block_tokens > 0 ? (S + block_tokens - 1) / block_tokens : 1;
  auto quantize = [&](const std::vector<float>& x, std::vector<T>& out, std::vector<float>& scales, std::vector<float>& deq) {
    out.resize(x.size());
    deq.resize(x.size());
    scales.assign(static_cast<std::size_t>(H * blocks), 0.0f);
    const float qmax = std::is_same_v<T, std::int8_t> ? 127.0f : 448.0f;
    for (long j = 0; j < S; ++j)
      for (long h = 0; h < H; ++h)
        for (long c = 0; c < d; ++c) {
          auto& s = scales[static_cast<std::size_t>(h * blocks + (block_tokens > 0 ? j / block_tokens : 0))];
          s = std::max(s, std::abs(x[static_cast<std::size_t>((j * H + h) * d + c)]) / qmax);
        }
    for (long j = 0; j < S; ++j)
      for (long h = 0; h < H; ++h) {
        const float s = scales[static_cast<std::size_t>(h * blocks + (block_tokens > 0 ? j / block_tokens : 0))];
        for (long c = 0; c < d; ++c) {
          const std::size_t i = static_cast<std::size_t>((j * H + h) * d + c);
          if constexpr (std::is_same_v<T, std::int8_t>) {
            out[i] = static_cast<std::int8_t>(std::lround(x[i] / s));
            deq[i] = s * static_cast<float>(out[i]);
          } else {
            out[i] = pact::fp8_e4m3(x[i] / s);
            deq[i] = s * static_cast<float>(out[i]);
          }
        }
      }
  };
  std::vector<T> kq, vq;
  std::vector<float> ks, vs, kd, vd;
  quantize(pr.k, kq, ks, kd);
  quantize(pr.v, vq, vs, vd);
  pact::quantized_kv<T> kc{{kq.data(), {1, S, H, d}}, {ks.data(), {1, H, blocks}}, block_tokens};
  pact::quantized_kv<T> vc{{vq.data(), {1, S, H, d}}, {vs.data(), {1, H, blocks}}, block_tokens};
  std::vector<float> o(pr.q.size(), NAN);
  pact::attention<compact>(pr.qv(), kc, vc, pact::tensor_view<float, 4>(o.data(), {1, pr.Sq, pr.Hq, d}), p);
  // Exact against the dequantized cache (the kernel's arithmetic), and close to the f32 cache.
  EXPECT_LE(nmse(o, pr.ref(kd, vd, r)), 1e-7) << "block_tokens " << block_tokens << " d " << d;
  // int8 meets 5e-4 against the unquantized cache; FP8 E4M3 keeps 3 mantissa bits (~3.6% rms
  // rounding per element), which alone gives ~6e-4 on uniform data: its bound is 1e-3.
  EXPECT_LE(nmse(o, pr.ref(pr.k, pr.v, r)), (std::is_same_v<T, std::int8_t> ? 5e-4 : 1e-3));
}

// The decode kernel applies per-head scales to q and the output, per-token scales to the
// scores and probabilities: check both with compile-time head dims (128, 80), GQA 4:1,
// and logit transforms that must see the scaled score (softcap, causal, window).
template <class T>
void quantized_decode_cases() {
  for (long d : {128L, 80L})
    for (index_t bt : {index_t{0}, index_t{16}, index_t{5}})
      for (int variant = 0; variant < 3; ++variant) {
        pact::attention_params p = with_splits(3);
        pact_test::ref_options r;
        if (variant == 1) {
          p.softcap = 0.5f;
          r.softcap = 0.5;
          p.causal = r.causal = true;
        } else if (variant == 2) {
          p.window_left = r.window_left = 70;
          p.kv_splits = 1;
        }
        SCOPED_TRACE("variant " + std::to_string(variant));
        quantized_case<T>(bt, problem(1, variant == 2 ? 2 : 1, 203, 8, 2, d, 40 + static_cast<std::uint32_t>(variant)), p, r);
      }
}
TEST(AttentionKvCache, Int8DecodeScalesWithHeadDims) { quantized_decode_cases<std::int8_t>(); }
TEST(AttentionKvCache, Fp8DecodeScalesWithHeadDims) { quantized_decode_cases<pact::fp8_e4m3>(); }

// Decode reads FP8 rows through a fast load that turns the NaN codes into finite numbers and
// tests the row's bytes instead: a NaN code in K (here past the first 64 bytes of an 80-dim
// row, the scalar tail of the byte test) makes every row of its KV head NaN; one in V makes
// exactly its column of that head's rows NaN. Per-head and per-token scales, both kernels.
template <class Policy>
void fp8_nan_codes_case(long d, index_t block_tokens) {
  const long S = 150, H = 2, Hq = 4;
  problem pr(1, 1, S, Hq, H, d, 91);
  const index_t blocks = block_tokens > 0 ? (S + block_tokens - 1) / block_tokens : 1;
  std::vector<pact::fp8_e4m3> kq(pr.k.size()), vq(pr.v.size());
  for (std::size_t i = 0; i < kq.size(); ++i) kq[i] = pact::fp8_e4m3(pr.k[i] * 400.0f), vq[i] = pact::fp8_e4m3(pr.v[i] * 400.0f);
  std::vector<float> scales(static_cast<std::size_t>(H * blocks), 1.0f / 400.0f);
  kq[static_cast<std::size_t>((7 * H + 1) * d + d - 1)].bits = 0x7F;  // K: token 7, head 1, last column
  vq[static_cast<std::size_t>((100 * H + 0) * d + 3)].bits = 0xFF;    // V: token 100, head 0, column 3
  pact::quantized_kv<pact::fp8_e4m3> kc{{kq.data(), {1, S, H, d}}, {scales.data(), {1, H, blocks}}, block_tokens};
  pact::quantized_kv<pact::fp8_e4m3> vc{{vq.data(), {1, S, H, d}}, {scales.data(), {1, H, blocks}}, block_tokens};
  std::vector<float> o(pr.q.size(), 0.0f);
  pact::attention<Policy>(pr.qv(), kc, vc, pact::tensor_view<float, 4>(o.data(), {1, 1, Hq, d}), with_splits(2));
  for (long h = 0; h < Hq; ++h)
    for (long c = 0; c < d; ++c) {
      const bool expect_nan = h >= 2 || c == 3;
      EXPECT_EQ(std::isnan(o[static_cast<std::size_t>(h * d + c)]), expect_nan) << "d " << d << " head " << h << " col " << c;
    }
}
TEST(AttentionKvCache, Fp8NanCodesReachDecodeOutputs) {
  for (long d : {128L, 80L})
    for (index_t bt : {index_t{0}, index_t{16}}) {
      fp8_nan_codes_case<compact>(d, bt);
      fp8_nan_codes_case<pact::default_attention_policy_t<>>(d, bt);
    }
}

TEST(AttentionKvCache, Int8PerHeadAndPerBlock) {
  quantized_case<std::int8_t>(0);
  quantized_case<std::int8_t>(16);
}
TEST(AttentionKvCache, Fp8PerHeadAndPerBlock) {
  quantized_case<pact::fp8_e4m3>(0);
  quantized_case<pact::fp8_e4m3>(32);
}
TEST(AttentionKvCache, Bf16Cache) {
  problem pr(5);
  std::vector<pact::bf16> kb(pr.k.size()), vb(pr.v.size());
  std::vector<float> kd(pr.k.size()), vd(pr.v.size());
  for (std::size_t i = 0; i < kb.size(); ++i) {
    kb[i] = pact::bf16(pr.k[i]);
    vb[i] = pact::bf16(pr.v[i]);
    kd[i] = static_cast<float>(kb[i]);
    vd[i] = static_cast<float>(vb[i]);
  }
  std::vector<float> o(pr.q.size(), NAN);
  pact::attention<compact>(pr.qv(), pact::tensor_view<const pact::bf16, 4>(kb.data(), {1, pr.Skv, pr.Hkv, pr.d}),
                  pact::tensor_view<const pact::bf16, 4>(vb.data(), {1, pr.Skv, pr.Hkv, pr.d}),
                  pact::tensor_view<float, 4>(o.data(), {1, pr.Sq, pr.Hq, pr.d}));
  EXPECT_LE(nmse(o, pr.ref(kd, vd)), 1e-7);
}

TEST(AttentionRules, BitwiseDeterministicAcrossThreads) {
  for (index_t splits : {1, 2, 4}) {
    for (long sq : {3L, 150L}) {
      problem pr(1, sq, 150, 8, 2, 32, 7);
      pact::attention_params p;
      p.causal = true;
      p.kv_splits = splits;
      std::vector<std::vector<float>> outs;
      for (int threads : {1, 2, 3}) {
        std::vector<float> o(pr.q.size(), NAN);
        pact::thread_pool pool(threads);
        pact::attention<compact>(pr.qv(), pr.kv(), pr.vv(), pact::tensor_view<float, 4>(o.data(), {1, sq, 8, 32}), p, pool);
        outs.push_back(o);
      }
      EXPECT_EQ(0, std::memcmp(outs[0].data(), outs[1].data(), outs[0].size() * 4)) << "splits " << splits;
      EXPECT_EQ(0, std::memcmp(outs[0].data(), outs[2].data(), outs[0].size() * 4)) << "splits " << splits;
    }
  }
}

TEST(AttentionRules, FullyMaskedRowsGiveZeros) {
  // Skv > Sq with a window that ends before any key for the first rows: window_right = -? use a mask.
  problem pr(1, 4, 9, 1, 1, 8, 9);
  std::vector<float> mask(4 * 9, 0.0f);
  for (int j = 0; j < 9; ++j) mask[static_cast<std::size_t>(1 * 9 + j)] = -INFINITY;  // row 1 sees nothing
  pact::attention_params p;
  p.mask = pact::tensor_view<const float, 4>(mask.data(), {1, 1, 4, 9});
  std::vector<float> o(pr.q.size(), NAN);
  pact::attention<compact>(pr.qv(), pr.kv(), pr.vv(), pact::tensor_view<float, 4>(o.data(), {1, 4, 1, 8}), p);
  for (int c = 0; c < 8; ++c) EXPECT_EQ(o[static_cast<std::size_t>(8 + c)], 0.0f);
  for (int c = 0; c < 8; ++c) EXPECT_TRUE(std::isfinite(o[static_cast<std::size_t>(c)]));
  // No keys at all (Skv = 0): zeros.
  std::vector<float> o2(8, NAN);
  pact::attention<compact>(pact::tensor_view<const float, 4>(pr.q.data(), {1, 1, 1, 8}), pact::tensor_view<const float, 4>(pr.k.data(), {1, 0, 1, 8}),
                  pact::tensor_view<const float, 4>(pr.v.data(), {1, 0, 1, 8}), pact::tensor_view<float, 4>(o2.data(), {1, 1, 1, 8}));
  for (float x : o2) EXPECT_EQ(x, 0.0f);
}

TEST(AttentionRules, NanPropagation) {
  // Documented rule: NaN in query row i -> output row i is NaN, other rows unaffected;
  // NaN in key j -> exactly the rows that attend to j (causal: rows at positions >= j).
  problem pr(1, 100, 100, 1, 1, 16, 11);
  pr.q[static_cast<std::size_t>(5 * 16 + 3)] = NAN;
  pr.k[static_cast<std::size_t>(70 * 16 + 1)] = NAN;
  pact::attention_params p;
  p.causal = true;
  std::vector<float> o(pr.q.size(), 0.0f);
  pact::attention<compact>(pr.qv(), pr.kv(), pr.vv(), pact::tensor_view<float, 4>(o.data(), {1, 100, 1, 16}), p);
  for (int i = 0; i < 100; ++i) {
    const bool expect_nan = i == 5 || i >= 70;
    for (int c = 0; c < 16; ++c) EXPECT_EQ(std::isnan(o[static_cast<std::size_t>(i * 16 + c)]), expect_nan) << "row " << i;
  }
}

TEST(AttentionRules, StridedViews) {
  // q/k/v/o as slices of wider buffers (heads interleaved with padding), same result as dense.
  problem pr(1, 20, 30, 2, 1, 8, 13);
  std::vector<float> kwide(static_cast<std::size_t>(30 * 3 * 8), NAN), owide(static_cast<std::size_t>(20 * 2 * 11), NAN);
  for (int j = 0; j < 30; ++j)
    for (int c = 0; c < 8; ++c) kwide[static_cast<std::size_t>(j * 24 + 8 + c)] = pr.k[static_cast<std::size_t>(j * 8 + c)];
  pact::tensor_view<const float, 4> kv(kwide.data() + 8, {1, 30, 1, 8}, {720, 24, 8, 1});
  pact::tensor_view<float, 4> ov(owide.data(), {1, 20, 2, 8}, {440, 22, 11, 1});
  pact::attention<compact>(pr.qv(), kv, pr.vv(), ov);
  const auto ref = pr.ref(pr.k, pr.v);
  std::vector<float> o(ref.size());
  for (int i = 0; i < 20; ++i)
    for (int h = 0; h < 2; ++h)
      for (int c = 0; c < 8; ++c) o[static_cast<std::size_t>((i * 2 + h) * 8 + c)] = owide[static_cast<std::size_t>(i * 22 + h * 11 + c)];
  EXPECT_LE(nmse(o, ref), 1e-7);
}

TEST(AttentionRules, InvalidArguments) {
  problem pr(1, 4, 6, 3, 2, 8, 17);
  std::vector<float> o(pr.q.size());
  const pact::tensor_view<float, 4> ov(o.data(), {1, 4, 3, 8});
  using pact::errc;
  expect_error(errc::invalid_shape, [&] { pact::attention<compact>(pr.qv(), pr.kv(), pr.vv(), ov); });  // 3 heads, 2 kv heads
  // A policy that pins the head dim rejects any other (its kernel's loops are that long).
  expect_error(errc::invalid_shape, [&] { pact::attention<pact::attention_config<64, 64, 16>>(pr.qv(), pr.kv(), pr.vv(), ov); });
  problem ok(1, 4, 6, 4, 2, 8, 17);
  std::vector<float> o4(ok.q.size());
  const pact::tensor_view<float, 4> o4v(o4.data(), {1, 4, 4, 8});
  expect_error(errc::invalid_shape, [&] {
    pact::attention<compact>(ok.qv(), pact::tensor_view<const float, 4>(ok.k.data(), {1, 6, 2, 4}), ok.vv(), o4v);
  });
  expect_error(errc::invalid_shape, [&] {
    pact::attention<compact>(ok.qv(), ok.kv(), pact::tensor_view<const float, 4>(ok.v.data(), {1, 5, 2, 8}), o4v);
  });
  expect_error(errc::invalid_shape, [&] {
    pact::attention<compact>(ok.qv(), ok.kv(), ok.vv(), pact::tensor_view<float, 4>(o4.data(), {1, 4, 2, 8}));
  });
  expect_error(errc::null_pointer, [&] {
    pact::attention<compact>(ok.qv(), pact::tensor_view<const float, 4>(nullptr, {1, 6, 2, 8}), ok.vv(), o4v);
  });
  expect_error(errc::aliasing, [&] {
    pact::attention<compact>(pact::tensor_view<const float, 4>(o4.data(), {1, 4, 4, 8}), ok.kv(), ok.vv(), o4v);
  });
  const std::vector<float> three{1, 2, 3};
  pact::attention_params p;
  p.alibi_slopes = three;
  expect_error(errc::invalid_shape, [&] { pact::attention<compact>(ok.qv(), ok.kv(), ok.vv(), o4v, p); });
  p = {};
  p.sinks = three;
  expect_error(errc::invalid_shape, [&] { pact::attention<compact>(ok.qv(), ok.kv(), ok.vv(), o4v, p); });
  p = {};
  p.kv_splits = 0;
  expect_error(errc::invalid_argument, [&] { pact::attention<compact>(ok.qv(), ok.kv(), ok.vv(), o4v, p); });
  p = {};
  p.softcap = -1.0f;
  expect_error(errc::invalid_argument, [&] { pact::attention<compact>(ok.qv(), ok.kv(), ok.vv(), o4v, p); });
  p = {};
  p.window_left = -2;
  expect_error(errc::invalid_argument, [&] { pact::attention<compact>(ok.qv(), ok.kv(), ok.vv(), o4v, p); });
  p = {};
  std::vector<float> m(4 * 5);
  p.mask = pact::tensor_view<const float, 4>(m.data(), {1, 1, 4, 5});
  expect_error(errc::invalid_shape, [&] { pact::attention<compact>(ok.qv(), ok.kv(), ok.vv(), o4v, p); });
  // Quantized cache with scales of the wrong shape.
  std::vector<std::int8_t> k8(ok.k.size());
  std::vector<float> sc(2);
  pact::quantized_kv<std::int8_t> bad{{k8.data(), {1, 6, 2, 8}}, {sc.data(), {1, 2, 1}}, 4};  // needs 2 blocks
  expect_error(errc::invalid_shape, [&] { pact::attention<compact>(ok.qv(), bad, bad, o4v); });
}

}  // namespace
