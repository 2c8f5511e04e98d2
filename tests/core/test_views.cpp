// Views, validation and aligned buffers.
#include <gtest/gtest.h>

#include <limits>

#include "pact/core/core.hpp"

TEST(MatrixView, LayoutsAddressElements) {
  float d[24];
  for (int i = 0; i < 24; ++i) d[i] = static_cast<float>(i);
  const auto r = pact::make_row_major(d, 3, 4, 6);
  EXPECT_EQ(r(2, 1), 13.0f);
  EXPECT_EQ(r.row_stride(), 6);
  EXPECT_EQ(r.col_stride(), 1);
  const auto c = pact::make_col_major(d, 3, 4, 5);
  EXPECT_EQ(c(2, 1), 7.0f);
  const auto s = pact::make_strided(d, 3, 4, 7, 2);
  EXPECT_EQ(s(2, 3), 20.0f);
  // Transposes are views of the same memory.
  const auto rt = r.t();
  static_assert(std::is_same_v<decltype(rt)::layout, pact::col_major>);
  EXPECT_EQ(rt(1, 2), r(2, 1));
  EXPECT_EQ(s.t()(3, 2), s(2, 3));
  // Conversion to strided and to const.
  pact::matrix_view<const float, pact::strided> g = r;
  EXPECT_EQ(g(2, 1), 13.0f);
  EXPECT_EQ(r.block(1, 1, 2, 2)(1, 1), r(2, 2));
  EXPECT_EQ(r.shifted(6)(0, 0), 6.0f);
}

TEST(MatrixView, ValidateReportsEachProblem) {
  float d[16];
  auto code = [](auto v) {
    try {
      pact::validate(v, "X");
    } catch (const pact::error& e) {
      return static_cast<int>(e.code());
    }
    return -1;
  };
  EXPECT_EQ(code(pact::make_row_major(d, 2, 3)), -1);
  EXPECT_EQ(code(pact::make_row_major<float>(nullptr, 0, 3)), -1);
  EXPECT_EQ(code(pact::make_row_major(d, -1, 3)), static_cast<int>(pact::errc::invalid_shape));
  EXPECT_EQ(code(pact::make_row_major<float>(nullptr, 2, 3)), static_cast<int>(pact::errc::null_pointer));
  EXPECT_EQ(code(pact::make_row_major(d, 2, 3, 2)), static_cast<int>(pact::errc::bad_stride));
  EXPECT_EQ(code(pact::make_col_major(d, 4, 3, 3)), static_cast<int>(pact::errc::bad_stride));
  EXPECT_EQ(code(pact::make_strided(d, 2, 3, -1, 1)), static_cast<int>(pact::errc::bad_stride));
  const auto big = std::numeric_limits<pact::index_t>::max() / 4;
  EXPECT_EQ(code(pact::make_row_major(d, big, 8, big)), static_cast<int>(pact::errc::size_overflow));
}

TEST(MatrixView, OverlapDetection) {
  float d[32];
  EXPECT_TRUE(pact::overlaps(pact::make_row_major(d, 2, 4), pact::make_row_major(d + 7, 2, 4)));
  EXPECT_FALSE(pact::overlaps(pact::make_row_major(d, 2, 4), pact::make_row_major(d + 8, 2, 4)));
  EXPECT_FALSE(pact::overlaps(pact::make_row_major(d, 0, 4), pact::make_row_major(d, 2, 4)));
}

TEST(TensorView, DenseAndStrided) {
  float d[60];
  for (int i = 0; i < 60; ++i) d[i] = static_cast<float>(i);
  pact::tensor_view<float, 3> t(d, {3, 4, 5});
  EXPECT_EQ(t(2, 3, 4), 59.0f);
  EXPECT_EQ(t.stride(0), 20);
  EXPECT_EQ(t.size(), 60);
  pact::tensor_view<const float, 3> ct = t;
  EXPECT_NO_THROW(pact::validate(ct, "t"));
  pact::tensor_view<float, 2> bad(nullptr, {2, 2});
  EXPECT_THROW(pact::validate(bad, "bad"), pact::error);
  pact::tensor_view<float, 2> neg(d, {2, -1});
  EXPECT_THROW(pact::validate(neg, "neg"), pact::error);
}

TEST(AlignedBuffer, AlignmentAndOverflow) {
  pact::aligned_buffer<float> b(37);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0u);
  EXPECT_EQ(b.size(), 37u);
  b.reserve_discard(10);
  EXPECT_EQ(b.size(), 37u);
  b.reserve_discard(1000);
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_THROW(pact::aligned_buffer<double>(std::numeric_limits<std::size_t>::max() / 4), pact::error);
}

TEST(HugePageBuffer, ZeroedAlignedAndOverflow) {
  const pact::huge_page_buffer<float> empty;
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.data(), nullptr);
  const pact::huge_page_buffer<float> small(37);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small.data()) % 64, 0u);
  for (std::size_t i = 0; i < small.size(); ++i) EXPECT_EQ(small.data()[i], 0.0f);
  const std::size_t n = 3 * (pact::huge_page_buffer<std::int8_t>::huge_page / 2) + 5;  // 3 MiB + 5
  const pact::huge_page_buffer<std::int8_t> big(n);
  EXPECT_EQ(big.size(), n);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(big.data()) % pact::huge_page_buffer<std::int8_t>::huge_page, 0u);
  EXPECT_EQ(big.data()[0], 0);
  EXPECT_EQ(big.data()[n - 1], 0);
  EXPECT_THROW(pact::huge_page_buffer<double>(std::numeric_limits<std::size_t>::max() / 4), pact::error);
}
