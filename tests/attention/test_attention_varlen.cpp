// attention_varlen: packed sequences of different lengths (cumulative offsets) against the
// float64 reference run per sequence; strided packed views, thread counts, offset errors.
#include <gtest/gtest.h>

#include "attention_reference.hpp"
#include "pact/attention.hpp"
#include "support/reference.hpp"
#include "support/expect_error.hpp"

namespace {
using pact_test::expect_error;
using pact::index_t;
using pact_test::nmse;
using pact_test::ref_options;

// The wrapper is policy-agnostic; pinning d keeps this file's instantiations few (the
// head-dim dispatch is tested in test_attention_prefill.cpp).
constexpr long kDim = 32;
using pinned = pact::attention_config<64, 64, kDim>;

struct packed {
  long Hq, Hkv, d, row_pad;  // row_pad: extra floats between tokens (a strided view)
  std::vector<index_t> cu_q, cu_kv;
  std::vector<float> q, k, v;
  packed(std::vector<long> sq, std::vector<long> skv, long hq, long hkv, long pad, std::uint32_t seed)
      : Hq(hq), Hkv(hkv), d(kDim), row_pad(pad), cu_q{0}, cu_kv{0} {
    for (std::size_t b = 0; b < sq.size(); ++b) {
      cu_q.push_back(cu_q.back() + sq[b]);
      cu_kv.push_back(cu_kv.back() + skv[b]);
    }
    q = pact_test::random_values<float>(static_cast<std::size_t>(cu_q.back() * q_row()) + 1, seed);
    k = pact_test::random_values<float>(static_cast<std::size_t>(cu_kv.back() * kv_row()) + 1, seed + 1);
    v = pact_test::random_values<float>(static_cast<std::size_t>(cu_kv.back() * kv_row()) + 1, seed + 2);
  }
  long q_row() const { return Hq * d + row_pad; }
  long kv_row() const { return Hkv * d + row_pad; }
  long batch() const { return static_cast<long>(cu_q.size()) - 1; }
  pact::tensor_view<const float, 3> qv() const { return {q.data(), {cu_q.back(), Hq, d}, {q_row(), d, 1}}; }
  pact::tensor_view<const float, 3> kv() const { return {k.data(), {cu_kv.back(), Hkv, d}, {kv_row(), d, 1}}; }
  pact::tensor_view<const float, 3> vv() const { return {v.data(), {cu_kv.back(), Hkv, d}, {kv_row(), d, 1}}; }

  /// Sequence b of a packed strided buffer as dense float64 [1][len][heads][d].
  static std::vector<double> dense(const std::vector<float>& x, index_t first, index_t len, long heads, long d, long row) {
    std::vector<double> r;
    for (index_t t = first; t < first + len; ++t)
      for (long c = 0; c < heads * d; ++c) r.push_back(x[static_cast<std::size_t>(t * row + c)]);
    return r;
  }
  /// Worst NMSE over sequences of o (packed, q_row() apart) against the per-sequence reference.
  template <class T>
  double worst_nmse(const std::vector<T>& o, const ref_options& r) const {
    double worst = 0;
    for (long b = 0; b < batch(); ++b) {
      const index_t q0 = cu_q[b], sq = cu_q[b + 1] - q0, k0 = cu_kv[b], skv = cu_kv[b + 1] - k0;
      if (sq == 0) continue;
      const auto ref = pact_test::ref_attention(dense(q, q0, sq, Hq, d, q_row()), dense(k, k0, skv, Hkv, d, kv_row()),
                                                dense(v, k0, skv, Hkv, d, kv_row()), 1, sq, skv, Hq, Hkv, d, r);
      std::vector<float> got;
      for (index_t t = q0; t < q0 + sq; ++t)
        for (long c = 0; c < Hq * d; ++c) got.push_back(static_cast<float>(o[static_cast<std::size_t>(t * q_row() + c)]));
      if (skv == 0) {  // no keys: documented zeros (the reference agrees, but nmse of 0/0 is not a test)
        for (float x : got) EXPECT_EQ(x, 0.0f) << "sequence " << b;
        continue;
      }
      worst = std::max(worst, nmse(got, ref));
    }
    return worst;
  }
};

template <class E = pact::serial>
std::vector<float> run(const packed& pk, const pact::attention_params& p, const E& exec = {}) {
  std::vector<float> o(static_cast<std::size_t>(pk.cu_q.back() * pk.q_row()) + 1, std::numeric_limits<float>::quiet_NaN());
  pact::attention_varlen<pinned>(pk.qv(), pk.kv(), pk.vv(),
                                 pact::tensor_view<float, 3>(o.data(), {pk.cu_q.back(), pk.Hq, pk.d}, {pk.q_row(), pk.d, 1}),
                                 pk.cu_q, pk.cu_kv, p, exec);
  return o;
}

TEST(AttentionVarlen, MixedLengthsEveryOption) {
  // Prefill-sized, decode-sized (g * Sq <= 16 takes the decode kernel), empty and keyless
  // sequences in one batch; a padded (strided) packed layout.
  const packed pk({37, 1, 0, 130, 3, 2}, {37, 200, 5, 130, 9, 0}, 4, 2, 5, 7);
  for (int variant = 0; variant < 5; ++variant) {
    pact::attention_params p;
    ref_options r;
    const std::vector<float> slopes{0.25f, 0.125f, 0.0625f, 0.5f}, sinks{0.5f, -1.0f, 0.0f, 2.0f};
    switch (variant) {
      case 0: break;
      case 1: p.causal = r.causal = true; break;
      case 2: p.window_left = r.window_left = 6; p.causal = r.causal = true; break;
      case 3: p.alibi_slopes = slopes; r.slopes = {0.25, 0.125, 0.0625, 0.5}; p.softcap = 3.0f; r.softcap = 3.0; break;
      case 4: p.sinks = sinks; r.sinks = {0.5, -1.0, 0.0, 2.0}; p.causal = r.causal = true; p.kv_splits = 3; break;
    }
    const auto o = run(pk, p);
    EXPECT_LE(pk.worst_nmse(o, r), 1e-7) << "variant " << variant;
    // The padding between tokens is never written.
    for (index_t t = 0; t < pk.cu_q.back(); ++t)
      for (long c = pk.Hq * pk.d; c < pk.q_row(); ++c) EXPECT_TRUE(std::isnan(o[static_cast<std::size_t>(t * pk.q_row() + c)]));
  }
}

TEST(AttentionVarlen, SameAsOneAttentionCallPerSequence) {
  const packed pk({20, 64, 1}, {50, 64, 300}, 8, 1, 0, 31);
  pact::attention_params p;
  p.causal = true;
  const auto o = run(pk, p);
  for (long b = 0; b < pk.batch(); ++b) {
    const index_t q0 = pk.cu_q[b], sq = pk.cu_q[b + 1] - q0, k0 = pk.cu_kv[b], skv = pk.cu_kv[b + 1] - k0;
    std::vector<float> ob(static_cast<std::size_t>(sq * pk.Hq * pk.d));
    pact::attention<pinned>(pact::tensor_view<const float, 4>(pk.q.data() + q0 * pk.q_row(), {1, sq, pk.Hq, pk.d}),
                            pact::tensor_view<const float, 4>(pk.k.data() + k0 * pk.kv_row(), {1, skv, pk.Hkv, pk.d}),
                            pact::tensor_view<const float, 4>(pk.v.data() + k0 * pk.kv_row(), {1, skv, pk.Hkv, pk.d}),
                            pact::tensor_view<float, 4>(ob.data(), {1, sq, pk.Hq, pk.d}), p);
    for (std::size_t i = 0; i < ob.size(); ++i)
      ASSERT_EQ(ob[i], o[static_cast<std::size_t>(q0 * pk.q_row()) + i]) << "sequence " << b << " element " << i;
  }
}

TEST(AttentionVarlen, BitwiseIdenticalForAnyThreadCount) {
  const packed pk({70, 2, 33}, {70, 500, 100}, 4, 2, 0, 51);
  pact::attention_params p;
  p.causal = true;
  p.kv_splits = 4;
  const auto one = run(pk, p);
  for (int threads : {2, 3}) {
    pact::thread_pool pool(threads);
    const auto many = run(pk, p, pool);
    for (std::size_t i = 0; i < one.size(); ++i) {
      if (std::isnan(one[i])) continue;  // the poisoned last element
      ASSERT_EQ(one[i], many[i]) << "threads " << threads << " element " << i;
    }
  }
}

TEST(AttentionVarlen, HalfPrecisionPacked) {
  const packed pk({9, 40}, {30, 40}, 2, 2, 0, 61);
  std::vector<pact::bf16> qb(pk.q.begin(), pk.q.end()), kb(pk.k.begin(), pk.k.end()), vb(pk.v.begin(), pk.v.end());
  packed rounded = pk;  // the reference sees the bf16-rounded inputs
  for (std::size_t i = 0; i < qb.size(); ++i) rounded.q[i] = static_cast<float>(qb[i]);
  for (std::size_t i = 0; i < kb.size(); ++i) rounded.k[i] = static_cast<float>(kb[i]), rounded.v[i] = static_cast<float>(vb[i]);
  std::vector<pact::bf16> o(qb.size(), pact::bf16(std::numeric_limits<float>::quiet_NaN()));
  pact::attention_params p;
  p.causal = true;
  const index_t tq = pk.cu_q.back(), tk = pk.cu_kv.back();
  pact::attention_varlen<pinned>(pact::tensor_view<const pact::bf16, 3>(qb.data(), {tq, 2, kDim}),
                                 pact::tensor_view<const pact::bf16, 3>(kb.data(), {tk, 2, kDim}),
                                 pact::tensor_view<const pact::bf16, 3>(vb.data(), {tk, 2, kDim}),
                                 pact::tensor_view<pact::bf16, 3>(o.data(), {tq, 2, kDim}), pk.cu_q, pk.cu_kv, p);
  ref_options r;
  r.causal = true;
  EXPECT_LE(rounded.worst_nmse(o, r), 5e-4);
}

TEST(AttentionVarlen, InvalidArguments) {
  using pact::errc;
  const packed pk({3, 4}, {5, 6}, 2, 1, 0, 71);
  std::vector<float> o(static_cast<std::size_t>(7 * 2 * kDim));
  const pact::tensor_view<float, 3> ov(o.data(), {7, 2, kDim});
  auto call = [&](std::vector<index_t> cq, std::vector<index_t> ck, const pact::attention_params& p = {}) {
    pact::attention_varlen<pinned>(pk.qv(), pk.kv(), pk.vv(), ov, cq, ck, p);
  };
  call({0, 3, 7}, {0, 5, 11});  // valid
  expect_error(errc::invalid_shape, [&] { call({}, {}); });
  expect_error(errc::invalid_shape, [&] { call({0, 3, 7}, {0, 11}); });       // batch sizes differ
  expect_error(errc::invalid_argument, [&] { call({1, 3, 7}, {0, 5, 11}); });  // does not start at 0
  expect_error(errc::invalid_argument, [&] { call({0, 5, 4, 7}, {0, 5, 5, 11}); });  // decreasing
  expect_error(errc::invalid_shape, [&] { call({0, 3, 6}, {0, 5, 11}); });     // q tokens left over
  expect_error(errc::invalid_shape, [&] { call({0, 3, 7}, {0, 5, 12}); });     // past the packed keys
  pact::attention_params masked;
  std::vector<float> m(3 * 5);
  masked.mask = pact::tensor_view<const float, 4>(m.data(), {1, 1, 3, 5});
  expect_error(errc::invalid_argument, [&] { call({0, 3, 7}, {0, 5, 11}, masked); });
  // o aliasing q (the whole packed q, not only one sequence's rows)
  expect_error(errc::aliasing, [&] {
    pact::attention_varlen<pinned>(pk.qv(), pk.kv(), pk.vv(),
                                   pact::tensor_view<float, 3>(const_cast<float*>(pk.q.data()) + 3 * 2 * kDim, {7, 2, kDim}),
                                   pk.cu_q, pk.cu_kv);
  });
  // the per-sequence rules of pact::attention still apply (v holds fewer tokens than k)
  expect_error(errc::invalid_shape, [&] {
    pact::attention_varlen<pinned>(pk.qv(), pk.kv(), pact::tensor_view<const float, 3>(pk.v.data(), {10, 1, kDim}), ov,
                                   pk.cu_q, pk.cu_kv);
  });
  // head dims and head counts that disagree
  expect_error(errc::invalid_shape, [&] {
    pact::attention_varlen<pinned>(pact::tensor_view<const float, 3>(pk.q.data(), {7, 1, kDim}),
                                   pact::tensor_view<const float, 3>(pk.k.data(), {11, 2, kDim / 2}),
                                   pact::tensor_view<const float, 3>(pk.v.data(), {11, 2, kDim / 2}),
                                   pact::tensor_view<float, 3>(o.data(), {7, 1, kDim}), pk.cu_q, pk.cu_kv);
  });
}

}  // namespace
