// Block layouts: sizes, offsets and triviality (the static_asserts in the headers are the
// primary check; these repeat them where a reader of the tests looks for them).
#include <pact/quant.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <type_traits>

namespace q = pact::quant;

template <class T>
constexpr bool plain_block = std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T>;

static_assert(plain_block<q::block_q8_0> && plain_block<q::block_q4_0> && plain_block<q::block_q4_1> &&
              plain_block<q::block_q4_K> && plain_block<q::block_q6_K> && plain_block<q::block_q8_K> &&
              plain_block<q::block_mxfp4> && plain_block<q::mx_block_fp8_e4m3> && plain_block<q::mx_block_fp6_e2m3> &&
              plain_block<q::mx_block_fp4> && plain_block<q::mx_block_int8>);

TEST(QuantLayouts, GgmlBlockSizesMatchGgufTypeSizes) {
  // GGUF type sizes (bytes per block / elements per block) from ggml's type traits.
  EXPECT_EQ(sizeof(q::block_q8_0), 34u);
  EXPECT_EQ(sizeof(q::block_q4_0), 18u);
  EXPECT_EQ(sizeof(q::block_q4_1), 20u);
  EXPECT_EQ(sizeof(q::block_q4_K), 144u);
  EXPECT_EQ(sizeof(q::block_q6_K), 210u);
  EXPECT_EQ(sizeof(q::block_q8_K), 292u);
  EXPECT_EQ(sizeof(q::block_mxfp4), 17u);
  EXPECT_EQ(q::block_q8_0::elems, 32u);
  EXPECT_EQ(q::block_q4_K::elems, 256u);
  EXPECT_EQ(q::block_q6_K::elems, 256u);
  EXPECT_EQ(offsetof(q::block_q6_K, d), 208u);
  EXPECT_EQ(offsetof(q::block_q8_K, bsums), 260u);
}

TEST(QuantLayouts, MxBlockSizes) {
  EXPECT_EQ(sizeof(q::mx_block_fp8_e4m3), 33u);
  EXPECT_EQ(sizeof(q::mx_block_fp8_e5m2), 33u);
  EXPECT_EQ(sizeof(q::mx_block_fp6_e2m3), 25u);
  EXPECT_EQ(sizeof(q::mx_block_fp6_e3m2), 25u);
  EXPECT_EQ(sizeof(q::mx_block_fp4), 17u);
  EXPECT_EQ(sizeof(q::mx_block_int8), 33u);
}

TEST(QuantLayouts, Int8MatrixScaleIndexing) {
  q::int8_matrix<std::int8_t> m;
  m.rows = 3;
  m.cols = 100;
  m.layout = {q::int8_granularity::per_group, 32, q::int8_scheme::symmetric};
  EXPECT_EQ(m.groups_per_row(), 4u);  // 32 + 32 + 32 + 4
  EXPECT_EQ(m.scale_count(), 12u);
  EXPECT_EQ(m.scale_index(2, 99), 11u);
  EXPECT_EQ(m.scale_index(1, 31), 4u);
  m.layout.granularity = q::int8_granularity::per_row;
  EXPECT_EQ(m.scale_count(), 3u);
  EXPECT_EQ(m.scale_index(2, 99), 2u);
  m.layout.granularity = q::int8_granularity::per_tensor;
  EXPECT_EQ(m.scale_count(), 1u);
}
