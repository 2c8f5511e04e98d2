#pragma once
// Plain float64 GEMM reference and the sblat3-style error check.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "pact/core/matrix_view.hpp"
#include "support/reference.hpp"

namespace pact_test {

/// A dense test matrix with a chosen layout and padding, filled with random values.
template <class T>
struct test_matrix {
  std::vector<T> storage;
  pact::index_t rows, cols, rs, cs;
  test_matrix(pact::index_t r, pact::index_t c, int layout /*0 row, 1 col, 2 strided*/, pact::index_t pad, std::uint32_t seed)
      : rows(r), cols(c) {
    if (layout == 0) { rs = c + pad; cs = 1; }
    else if (layout == 1) { rs = 1; cs = r + pad; }
    else { cs = 2; rs = 2 * c + pad; }  // every other element, padded rows
    const std::size_t n = static_cast<std::size_t>(std::max<pact::index_t>(1, (r - 1) * rs + (c - 1) * cs + 1 + 8));
    storage = random_values<T>(n, seed);
  }
  T& operator()(pact::index_t i, pact::index_t j) { return storage[static_cast<std::size_t>(i * rs + j * cs)]; }
  T operator()(pact::index_t i, pact::index_t j) const { return storage[static_cast<std::size_t>(i * rs + j * cs)]; }
  pact::matrix_view<T, pact::strided> view() { return {storage.data(), rows, cols, rs, cs}; }
  pact::matrix_view<const T, pact::strided> cview() const { return {storage.data(), rows, cols, rs, cs}; }
};

/// ref = alpha * A * B + beta * C0 in float64.
template <class TA, class TB, class TC>
std::vector<double> reference_gemm(double alpha, const test_matrix<TA>& a, const test_matrix<TB>& b, double beta,
                                   const test_matrix<TC>& c0) {
  std::vector<double> r(static_cast<std::size_t>(c0.rows * c0.cols));
  for (pact::index_t i = 0; i < c0.rows; ++i)
    for (pact::index_t j = 0; j < c0.cols; ++j) {
      double s = 0;
      for (pact::index_t k = 0; k < a.cols; ++k) s += static_cast<double>(a(i, k)) * static_cast<double>(b(k, j));
      double v = alpha * s;
      if (beta != 0) v += beta * static_cast<double>(c0(i, j));
      r[static_cast<std::size_t>(i * c0.cols + j)] = v;
    }
  return r;
}

/// sblat3's test ratio: |computed - ref| / (eps * (|alpha| sum|a||b| + |beta||c|)) <= 16.
template <class TA, class TB, class TC>
void expect_gemm_close(const test_matrix<TC>& c, const std::vector<double>& ref, double alpha, const test_matrix<TA>& a,
                       const test_matrix<TB>& b, double beta, const test_matrix<TC>& c0, double eps,
                       const char* what = "") {
  for (pact::index_t i = 0; i < c.rows; ++i)
    for (pact::index_t j = 0; j < c.cols; ++j) {
      double mag = 0;
      for (pact::index_t k = 0; k < a.cols; ++k) mag += std::fabs(static_cast<double>(a(i, k)) * static_cast<double>(b(k, j)));
      const double scale = std::fabs(alpha) * mag + std::fabs(beta) * std::fabs(static_cast<double>(c0(i, j))) + 1e-300;
      const double got = static_cast<double>(c(i, j));
      const double want = ref[static_cast<std::size_t>(i * c.cols + j)];
      ASSERT_FALSE(std::isnan(got)) << what << " C(" << i << "," << j << ") is NaN (unwritten?)";
      ASSERT_LE(std::fabs(got - want) / (eps * scale), 16.0)
          << what << " C(" << i << "," << j << ") = " << got << ", want " << want;
    }
}

}  // namespace pact_test
