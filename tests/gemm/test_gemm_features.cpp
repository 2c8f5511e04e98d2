// Epilogues, half-precision inputs/outputs, pre-packed B, GEMV, fixed-size, batched and
// grouped GEMM — each against the float64 reference.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "pact/core/aligned_buffer.hpp"
#include "pact/gemm.hpp"
#include "pact/types/bf16.hpp"
#include "pact/types/fp16.hpp"
#include "gemm/gemm_reference.hpp"

using pact_test::test_matrix;
using P32 = pact::default_gemm_policy_t<float>;
constexpr double eps32 = std::numeric_limits<float>::epsilon();

namespace {
/// C = epilogue(A * B) checked element-wise with an absolute/relative tolerance.
template <class Ep, class RefFn>
void check_epilogue(const Ep& ep, RefFn ref_fn, int M, int N, int K) {
  test_matrix<float> a(M, K, 0, 0, 3), b(K, N, 0, 0, 4), c(M, N, 0, 0, 5);
  const auto c0 = c;
  const auto ref = pact_test::reference_gemm(1.0, a, b, 1.0, c0);
  pact::gemm(1.0f, a.cview(), b.cview(), 1.0f, c.view(), ep);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      const double want = ref_fn(ref[static_cast<std::size_t>(i * N + j)], i, j);
      ASSERT_NEAR(c(i, j), want, 1e-5 * (1 + std::fabs(want))) << i << "," << j;
    }
}
}  // namespace

TEST(GemmEpilogue, EachKindMatchesItsFormula) {
  std::vector<float> bias_c(300), bias_r(300);
  for (int i = 0; i < 300; ++i) bias_c[static_cast<std::size_t>(i)] = 0.01f * static_cast<float>(i) - 1, bias_r[static_cast<std::size_t>(i)] = -0.02f * static_cast<float>(i);
  test_matrix<float> resid(300, 300, 0, 3, 77);
  for (auto [M, N, K] : {std::tuple<int, int, int>{1, 70, 33}, {13, 37, 5}, {150, 300, 200}}) {
    check_epilogue(pact::epilogue::none{}, [](double x, int, int) { return x; }, M, N, K);
    check_epilogue(pact::epilogue::bias_per_col<float>{bias_c.data()}, [&](double x, int, int j) { return x + bias_c[static_cast<std::size_t>(j)]; }, M, N, K);
    check_epilogue(pact::epilogue::bias_per_row<float>{bias_r.data()}, [&](double x, int i, int) { return x + bias_r[static_cast<std::size_t>(i)]; }, M, N, K);
    check_epilogue(pact::epilogue::relu{}, [](double x, int, int) { return x > 0 ? x : 0; }, M, N, K);
    check_epilogue(pact::epilogue::silu{}, [](double x, int, int) { return x / (1 + std::exp(-x)); }, M, N, K);
    check_epilogue(pact::epilogue::gelu_erf{}, [](double x, int, int) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }, M, N, K);
    check_epilogue(pact::epilogue::gelu_tanh{}, [](double x, int, int) {
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    }, M, N, K);
    check_epilogue(pact::epilogue::scale<float>{0.5f}, [](double x, int, int) { return 0.5 * x; }, M, N, K);
    check_epilogue(pact::epilogue::clamp<float>{-0.5f, 0.25f}, [](double x, int, int) { return std::min(std::max(x, -0.5), 0.25); }, M, N, K);
    check_epilogue(pact::epilogue::residual_add<float>{resid.cview()}, [&](double x, int i, int j) { return x + resid(i, j); }, M, N, K);
    check_epilogue(pact::epilogue::custom{[](float x, pact::index_t i, pact::index_t j) { return x * 2 + static_cast<float>(i - j); }},
                   [](double x, int i, int j) { return 2 * x + (i - j); }, M, N, K);
    check_epilogue(pact::epilogue::chain{pact::epilogue::bias_per_col<float>{bias_c.data()}, pact::epilogue::relu{}},
                   [&](double x, int, int j) { const double y = x + bias_c[static_cast<std::size_t>(j)]; return y > 0 ? y : 0; }, M, N, K);
  }
}

TEST(GemmEpilogue, AppliedWhenAlphaIsZero) {
  std::vector<float> a(6, 1), b(6, 1), c(4, 3.0f), bias{10, 20};
  pact::gemm(0.0f, pact::make_row_major<const float>(a.data(), 2, 3), pact::make_row_major<const float>(b.data(), 3, 2), 1.0f,
             pact::make_row_major(c.data(), 2, 2), pact::epilogue::bias_per_col<float>{bias.data()});
  EXPECT_EQ(c, (std::vector<float>{13, 23, 13, 23}));
}

template <class H>
void check_half_inputs() {
  for (auto [M, N, K] : {std::tuple<int, int, int>{1, 50, 40}, {7, 9, 300}, {100, 130, 257}}) {
    test_matrix<float> af(M, K, 0, 0, 8), bf(K, N, 1, 0, 9), c(M, N, 0, 0, 10);
    test_matrix<H> a(M, K, 0, 0, 8), b(K, N, 1, 0, 9);
    for (std::size_t e = 0; e < a.storage.size(); ++e) a.storage[e] = H(af.storage[e]), af.storage[e] = static_cast<float>(a.storage[e]);
    for (std::size_t e = 0; e < b.storage.size(); ++e) b.storage[e] = H(bf.storage[e]), bf.storage[e] = static_cast<float>(b.storage[e]);
    const auto c0 = c;
    const auto ref = pact_test::reference_gemm(1.0, af, bf, 0.0, c0);
    pact::gemm(1.0f, a.cview(), b.cview(), 0.0f, c.view());
    pact_test::expect_gemm_close(c, ref, 1.0, af, bf, 0.0, c0, eps32, "half inputs");
    // Half output: the f32 result rounded once to nearest even.
    std::vector<H> ch(static_cast<std::size_t>(M * N));
    pact::gemm(1.0f, a.cview(), b.cview(), 0.0f, pact::make_row_major(ch.data(), M, N));
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) ASSERT_EQ(ch[static_cast<std::size_t>(i * N + j)].bits, H(c(i, j)).bits);
  }
}
// M <= 4 takes the GEMV path, which widens half-precision B (and A) in registers: every
// tail of the vector width, both unit-stride layouts of B, f32 x half and half x half.
template <class H, class TA>
void check_half_gemv() {
  for (int M = 1; M <= 4; ++M)
    for (int N : {1, 7, 16, 17, 33, 70})
      for (int K : {1, 5, 16, 19, 40})
        for (int b_layout : {0, 1}) {
          test_matrix<float> af(M, K, 0, 0, 8), bf(K, N, b_layout, 0, 9), c(M, N, 0, 0, 10);
          test_matrix<TA> a(M, K, 0, 0, 8);
          test_matrix<H> b(K, N, b_layout, 0, 9);
          for (std::size_t e = 0; e < a.storage.size(); ++e) a.storage[e] = TA(af.storage[e]), af.storage[e] = static_cast<float>(a.storage[e]);
          for (std::size_t e = 0; e < b.storage.size(); ++e) b.storage[e] = H(bf.storage[e]), bf.storage[e] = static_cast<float>(b.storage[e]);
          const auto c0 = c;
          const auto ref = pact_test::reference_gemm(1.5, af, bf, 0.5, c0);
          pact::gemm(1.5f, a.cview(), b.cview(), 0.5f, c.view());
          pact_test::expect_gemm_close(c, ref, 1.5, af, bf, 0.5, c0, eps32, "half GEMV");
        }
}
TEST(GemmHalf, GemvWidensBf16InRegisters) {
  check_half_gemv<pact::bf16, float>();
  check_half_gemv<pact::bf16, pact::bf16>();
}
TEST(GemmHalf, GemvWidensFp16InRegisters) {
  check_half_gemv<pact::fp16, float>();
  check_half_gemv<pact::fp16, pact::fp16>();
}
TEST(GemmHalf, Bf16InputsAndOutput) { check_half_inputs<pact::bf16>(); }
TEST(GemmHalf, Fp16InputsAndOutput) { check_half_inputs<pact::fp16>(); }

TEST(GemmPrepacked, MatchesReference) {
  // {60, 1100, 773}: enough rows for the driver's next-block prefetch, with its NC / 2
  // blocks (two full, one partial) and three KC blocks; {37, 1100, 773}: the B-sliver order
  // with the next-sliver walk (three row tiles, the last sliver of a block asking for the
  // next block). Identical bits on 3 threads.
  for (auto [M, N, K] : {std::tuple<int, int, int>{1, 100, 70}, {8, 333, 500}, {32, 64, 1}, {129, 257, 400}, {60, 1100, 773},
                         {37, 1100, 773}})
    for (int lb : {0, 1}) {
      test_matrix<float> a(M, K, 0, 0, 20), b(K, N, lb, 0, 21);
      std::vector<float> c1(static_cast<std::size_t>(M * N)), c2(c1.size(), std::numeric_limits<float>::quiet_NaN());
      const auto packed = pact::pack_b(b.cview());
      EXPECT_EQ(packed.rows(), K);
      EXPECT_EQ(packed.cols(), N);
      pact::gemm(1.0f, a.cview(), packed, 0.0f, pact::make_row_major(c2.data(), M, N));
      test_matrix<float> c(M, N, 0, 0, 1);
      const auto ref = pact_test::reference_gemm(1.0, a, b, 0.0, c);
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) c(i, j) = c2[static_cast<std::size_t>(i * N + j)];
      pact_test::expect_gemm_close(c, ref, 1.0, a, b, 0.0, c, eps32, "prepacked");
      pact::thread_pool pool(3);
      pact::gemm(1.0f, a.cview(), packed, 0.0f, pact::make_row_major(c1.data(), M, N), pact::epilogue::none{}, pool);
      EXPECT_EQ(0, std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float))) << M << "x" << N << "x" << K;
    }
}

TEST(GemmPrepacked, F64PacksF64) {
  // pack_b of an f64 B keeps f64 (it used to pack f32, which no f64 gemm could take), with
  // the default policy and a named one; the result matches the float64 reference at f64
  // tolerance and the unpacked gemm bit for bit. Shapes cross row tiles, KC blocks and the
  // small-M next-sliver walk (37 rows).
  using P64 = pact::default_gemm_policy_t<double>;
  for (auto [M, N, K] : {std::tuple<int, int, int>{1, 50, 30}, {37, 100, 500}, {130, 70, 400}}) {
    test_matrix<double> a(M, K, 0, 0, 60), b(K, N, 0, 0, 61), c(M, N, 0, 0, 62);
    const auto packed = pact::pack_b(b.cview());
    const auto packed_named = pact::pack_b<P64>(b.cview());
    static_assert(std::is_same_v<std::remove_const_t<decltype(packed)>, pact::packed_b<double>>);
    static_assert(std::is_same_v<std::remove_const_t<decltype(packed_named)>, pact::packed_b<double, P64>>);
    const auto c0 = c;
    const auto ref = pact_test::reference_gemm(0.5, a, b, 1.5, c0);
    pact::gemm(0.5, a.cview(), packed, 1.5, c.view());
    pact_test::expect_gemm_close(c, ref, 0.5, a, b, 1.5, c0, std::numeric_limits<double>::epsilon(), "prepacked f64");
    auto c_named = c0, c_unpacked = c0;
    pact::gemm(0.5, a.cview(), packed_named, 1.5, c_named.view());
    pact::gemm(0.5, a.cview(), b.cview(), 1.5, c_unpacked.view());
    EXPECT_EQ(c_named.storage, c.storage) << M << "x" << N << "x" << K;
    if (M > 1) {  // M = 1 takes the GEMV path
      EXPECT_EQ(c_unpacked.storage, c.storage) << M << "x" << N << "x" << K;
    }
  }
}

TEST(GemmPrepacked, CallerFilledViewEqualsPackedB) {
  // A B written element by element at packed_b_layout::offset, zero padding, gives the
  // same bits as packed_b (K across KC blocks, N across sliver tails).
  using layout = pact::packed_b_layout<float>;
  for (auto [M, N, K] : {std::tuple<int, int, int>{3, 1, 1}, {8, 33, 500}, {17, 70, static_cast<int>(2 * layout::kc + 5)}}) {
    test_matrix<float> a(M, K, 0, 0, 40), b(K, N, 0, 0, 41);
    const auto padded = layout::padded_cols(N);
    ASSERT_EQ(padded % layout::nr, 0);
    pact::aligned_buffer<float> data(static_cast<std::size_t>(K * padded));
    std::fill(data.data(), data.data() + data.size(), NAN);
    for (int k = 0; k < K; ++k)
      for (pact::index_t j = 0; j < padded; ++j)
        data[static_cast<std::size_t>(layout::offset(K, padded, k, j))] = j < N ? b(k, static_cast<int>(j)) : 0.0f;
    for (std::size_t i = 0; i < data.size(); ++i) ASSERT_FALSE(std::isnan(data[i])) << "offset() left a hole at " << i;
    std::vector<float> c1(static_cast<std::size_t>(M * N), NAN), c2(c1.size(), NAN);
    pact::gemm(1.0f, a.cview(), pact::pack_b(b.cview()), 0.0f, pact::make_row_major(c1.data(), M, N));
    pact::gemm(1.0f, a.cview(), pact::packed_b_view<float>(data.data(), K, N), 0.0f, pact::make_row_major(c2.data(), M, N));
    EXPECT_EQ(0, std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float))) << M << "x" << N << "x" << K;
  }
  // A misaligned or null buffer is refused, not read with faulting aligned loads.
  pact::aligned_buffer<float> buf(64);
  EXPECT_THROW(pact::packed_b_view<float>(buf.data() + 1, 1, 1), pact::error);
  EXPECT_THROW(pact::packed_b_view<float>(nullptr, 1, 1), pact::error);
}

TEST(GemmGemv, RowAndColumnMajorBAllTails) {
  for (int M : {1, 2, 3, 4})
  for (int lb : {0, 1})
    for (int N : {1, 2, 15, 16, 17, 63, 511, 512, 513, 1100})
      for (int K : {1, 3, 4, 5, 8, 9, 17, 64, 129}) {
        test_matrix<float> a(M, K, 0, 0, 30), b(K, N, lb, 0, 31), c(M, N, 0, 0, 32);
        const auto c0 = c;
        const auto ref = pact_test::reference_gemm(0.7, a, b, 1.3, c0);
        pact::gemm(0.7f, a.cview(), b.cview(), 1.3f, c.view());
        pact_test::expect_gemm_close(c, ref, 0.7, a, b, 1.3, c0, eps32, "gemv");
      }
}

template <int M, int N, int K>
void check_fixed() {
  test_matrix<float> a(M, K, 0, 1, 40), b(K, N, 0, 2, 41), c(M, N, 0, 3, 42);
  const auto c0 = c;
  const auto ref = pact_test::reference_gemm(1.0, a, b, 0.5, c0);
  pact::gemm_fixed<M, N, K>(1.0f, a.storage.data(), a.rs, b.storage.data(), b.rs, 0.5f, c.storage.data(), c.rs);
  pact_test::expect_gemm_close(c, ref, 1.0, a, b, 0.5, c0, eps32, "fixed");
}
TEST(GemmFixed, CompileTimeShapes) {
  check_fixed<1, 1, 1>();
  check_fixed<16, 16, 16>();
  check_fixed<32, 32, 32>();
  check_fixed<64, 64, 64>();
  check_fixed<5, 19, 7>();
  check_fixed<17, 33, 3>();
  // Uneven row tiles (the last one shorter, its own kernel size) and partial column vectors.
  check_fixed<30, 47, 9>();
  check_fixed<45, 17, 20>();
  check_fixed<2, 80, 33>();
}

TEST(GemmBatched, StridedBatchedAndGrouped) {
  const int M = 9, N = 21, K = 13, batch = 5;
  test_matrix<float> a(M * batch, K, 0, 0, 50), b(K * batch, N, 0, 0, 51);
  std::vector<float> c(static_cast<std::size_t>(M * N * batch));
  pact::thread_pool pool(2);
  pact::gemm_strided_batched(1.0f, pact::make_row_major<const float>(a.storage.data(), M, K), M * K,
                             pact::make_row_major<const float>(b.storage.data(), K, N), K * N, 0.0f,
                             pact::make_row_major(c.data(), M, N), M * N, batch, pact::epilogue::none{}, pool);
  for (int t = 0; t < batch; ++t)
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double s = 0;
        for (int k = 0; k < K; ++k) s += static_cast<double>(a.storage[static_cast<std::size_t>(t * M * K + i * K + k)]) * b.storage[static_cast<std::size_t>(t * K * N + k * N + j)];
        ASSERT_NEAR(c[static_cast<std::size_t>(t * M * N + i * N + j)], s, 1e-5);
      }
  // Grouped: ragged shapes, including an empty problem.
  std::vector<test_matrix<float>> as, bs, cs;
  std::vector<pact::gemm_problem<float, float, float, pact::strided, pact::strided, pact::strided>> problems;
  const int shapes[][3] = {{3, 5, 7}, {0, 4, 2}, {40, 33, 90}, {1, 200, 64}, {17, 1, 5}};
  for (auto& s : shapes) {
    as.emplace_back(s[0], s[2], 0, 0, 60);
    bs.emplace_back(s[2], s[1], 1, 0, 61);
    cs.emplace_back(s[0], s[1], 0, 0, 62);
  }
  for (std::size_t p = 0; p < as.size(); ++p) problems.push_back({as[p].cview(), bs[p].cview(), cs[p].view(), 1.0f, 0.0f});
  pact::gemm_grouped(std::span<const decltype(problems)::value_type>(problems), pact::epilogue::none{}, pool);
  for (std::size_t p = 0; p < as.size(); ++p) {
    test_matrix<float> zero(cs[p].rows, cs[p].cols, 0, 0, 1);
    const auto ref = pact_test::reference_gemm(1.0, as[p], bs[p], 0.0, zero);
    pact_test::expect_gemm_close(cs[p], ref, 1.0, as[p], bs[p], 0.0, zero, eps32, "grouped");
  }
}

TEST(GemmBatched, MismatchedSpansAreAnError) {
  std::vector<pact::matrix_view<const float>> a(2), b(1);
  std::vector<pact::matrix_view<float>> c(2);
  EXPECT_THROW(pact::gemm_batched(1.0f, std::span<const pact::matrix_view<const float>>(a), std::span<const pact::matrix_view<const float>>(b),
                                  0.0f, std::span<const pact::matrix_view<float>>(c)),
               pact::error);
}
