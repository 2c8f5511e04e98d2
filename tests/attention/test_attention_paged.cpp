// Paged KV cache: appends in uneven chunks into a shuffled block pool must give bitwise the
// same attention as the contiguous cache (prefill and decode kernels); lookups return the
// appended rows; bad block tables are rejected.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "pact/attention.hpp"
#include "support/reference.hpp"
#include "support/expect_error.hpp"

namespace {
using pact_test::expect_error;
// One kernel for every head dim: these tests are about caches and rules, not about the
// compiled head dims (test_attention_prefill covers those), and this keeps the build fast.
using compact = pact::attention_config<64, 64, pact::any_head_dim>;
using pact::index_t;

template <class T>
void paged_equals_contiguous(index_t sq, index_t block_size, index_t splits) {
  const index_t B = 2, S = 133, Hkv = 2, Hq = 4, d = 24;
  const auto kf = pact_test::random_values<float>(static_cast<std::size_t>(B * S * Hkv * d), 1);
  const auto vf = pact_test::random_values<float>(static_cast<std::size_t>(B * S * Hkv * d), 2);
  const auto q = pact_test::random_values<float>(static_cast<std::size_t>(B * sq * Hq * d), 3);
  std::vector<T> k(kf.size()), v(vf.size());
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<T>(kf[i]);
    v[i] = static_cast<T>(vf[i]);
  }
  pact::paged_kv_cache<T> cache(2 * ((S + block_size - 1) / block_size) + 3, block_size, Hkv, d);
  std::mt19937 rng(7);
  cache.shuffle_free_blocks(rng);
  std::vector<index_t> ids;
  for (index_t b = 0; b < B; ++b) ids.push_back(cache.add_sequence());
  // Interleave the two sequences' appends in uneven chunks so their blocks mix in the pool.
  index_t done = 0;
  for (index_t chunk : {1, 5, 17, 2, 64, 44}) {
    for (index_t b = 0; b < B; ++b) {
      const T* kb = k.data() + (b * S + done) * Hkv * d;
      const T* vb = v.data() + (b * S + done) * Hkv * d;
      cache.append(ids[static_cast<std::size_t>(b)], pact::tensor_view<const T, 3>(kb, {chunk, Hkv, d}),
                   pact::tensor_view<const T, 3>(vb, {chunk, Hkv, d}));
    }
    done += chunk;
  }
  ASSERT_EQ(done, S);
  ASSERT_EQ(cache.length(ids[1]), S);
  EXPECT_EQ(0, std::memcmp(cache.k_row(ids[1], 100, 1), &k[static_cast<std::size_t>(((1 * S + 100) * Hkv + 1) * d)], d * sizeof(T)));
  EXPECT_EQ(0, std::memcmp(cache.v_row(ids[0], 7, 0), &v[static_cast<std::size_t>((7 * Hkv + 0) * d)], d * sizeof(T)));

  const auto batch = cache.make_batch(ids);
  pact::attention_params p;
  p.causal = true;
  p.kv_splits = splits;
  std::vector<float> o1(q.size(), NAN), o2(q.size(), NAN);
  const pact::tensor_view<const float, 4> qv(q.data(), {B, sq, Hq, d});
  pact::attention<compact>(qv, pact::tensor_view<const T, 4>(k.data(), {B, S, Hkv, d}), pact::tensor_view<const T, 4>(v.data(), {B, S, Hkv, d}),
                  pact::tensor_view<float, 4>(o1.data(), {B, sq, Hq, d}), p);
  pact::attention<compact>(qv, batch.keys(), batch.values(), pact::tensor_view<float, 4>(o2.data(), {B, sq, Hq, d}), p);
  EXPECT_EQ(0, std::memcmp(o1.data(), o2.data(), o1.size() * sizeof(float))) << "sq " << sq << " block " << block_size;
}

TEST(AttentionPaged, ShuffledBlocksEqualContiguous) {
  for (index_t bs : {1, 16, 37}) {
    paged_equals_contiguous<float>(1, bs, 1);    // decode kernel
    paged_equals_contiguous<float>(2, bs, 3);    // decode kernel, splits
    paged_equals_contiguous<float>(70, bs, 1);   // prefill kernel
  }
  paged_equals_contiguous<pact::bf16>(1, 16, 2);
  paged_equals_contiguous<pact::fp16>(70, 16, 1);
}

TEST(AttentionPaged, BadBlockTablesAndCacheErrors) {
  const index_t d = 8;
  std::vector<float> pool(4 * 4 * 1 * d, 0.5f), q(d, 0.25f), o(d);
  std::vector<std::int32_t> table{0, 3, 9};  // block 9 is outside the pool of 4
  pact::paged_kv_view<float> kv{{pool.data(), {4, 4, 1, d}}, {table.data(), {1, 3}}, 12};
  const pact::tensor_view<const float, 4> qv(q.data(), {1, 1, 1, d});
  const pact::tensor_view<float, 4> ov(o.data(), {1, 1, 1, d});
  expect_error(pact::errc::invalid_argument, [&] { pact::attention<compact>(qv, kv, kv, ov); });
  table[2] = -1;
  expect_error(pact::errc::invalid_argument, [&] { pact::attention<compact>(qv, kv, kv, ov); });
  kv.seq_len = 13;  // needs 4 blocks, the table has 3
  table[2] = 2;
  expect_error(pact::errc::invalid_argument, [&] { pact::attention<compact>(qv, kv, kv, ov); });
  kv.seq_len = 12;
  pact::attention<compact>(qv, kv, kv, ov);  // valid now: every value row is 0.5
  for (float x : o) EXPECT_FLOAT_EQ(x, 0.5f);

  pact::paged_kv_cache<float> cache(2, 4, 1, d);
  const index_t s = cache.add_sequence();
  std::vector<float> rows(9 * d, 1.0f);
  expect_error(pact::errc::invalid_argument, [&] {  // 9 rows need 3 blocks of 4
    cache.append(s, pact::tensor_view<const float, 3>(rows.data(), {9, 1, d}), pact::tensor_view<const float, 3>(rows.data(), {9, 1, d}));
  });
  expect_error(pact::errc::invalid_shape, [&] {
    cache.append(s, pact::tensor_view<const float, 3>(rows.data(), {2, 1, d - 1}), pact::tensor_view<const float, 3>(rows.data(), {2, 1, d - 1}));
  });
  expect_error(pact::errc::invalid_argument, [&] { (void)cache.k_row(s, 0, 0); });  // empty sequence
  expect_error(pact::errc::invalid_argument, [&] { (void)cache.length(5); });
}

}  // namespace
