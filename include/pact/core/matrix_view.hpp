#pragma once
// Non-owning matrix views, mdspan-like: a pointer, two extents and a layout policy.
//   row_major: element (i, j) at i * ld + j   (ld >= cols)
//   col_major: element (i, j) at i + j * ld  (ld >= rows)
//   strided:   element (i, j) at i * rs + j * cs (any positive strides)
// A view of `const T` is an input; GEMM & co. take views, so transposes are just views
// with swapped strides: `A.t()`.
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "pact/core/error.hpp"

PACT_NAMESPACE_BEGIN

using index_t = std::ptrdiff_t;

struct row_major {};
struct col_major {};
struct strided {};

template <class L>
concept matrix_layout = std::is_same_v<L, row_major> || std::is_same_v<L, col_major> || std::is_same_v<L, strided>;

template <class T, matrix_layout Layout = row_major>
class matrix_view {
 public:
  using element_type = T;
  using value_type = std::remove_cv_t<T>;
  using layout = Layout;

  constexpr matrix_view() = default;

  /// Dense view: ld defaults to the contiguous extent (cols for row_major, rows for col_major).
  constexpr matrix_view(T* data, index_t rows, index_t cols, index_t ld = -1) noexcept
    requires(!std::is_same_v<Layout, strided>)
      : data_(data), rows_(rows), cols_(cols),
        ld_(ld >= 0 ? ld : (std::is_same_v<Layout, row_major> ? cols : rows)) {}

  /// General strided view.
  constexpr matrix_view(T* data, index_t rows, index_t cols, index_t row_stride, index_t col_stride) noexcept
    requires std::is_same_v<Layout, strided>
      : data_(data), rows_(rows), cols_(cols), rs_(row_stride), cs_(col_stride) {}

  /// Any view converts to a strided view or to a view of const elements.
  template <class U, class L2>
    requires(std::is_convertible_v<U*, T*> && (std::is_same_v<L2, Layout> || std::is_same_v<Layout, strided>))
  constexpr matrix_view(const matrix_view<U, L2>& o) noexcept  // NOLINT(google-explicit-constructor)
      : data_(o.data()), rows_(o.rows()), cols_(o.cols()) {
    if constexpr (std::is_same_v<Layout, strided>) {
      rs_ = o.row_stride();
      cs_ = o.col_stride();
    } else {
      ld_ = o.ld();
    }
  }

  constexpr T* data() const noexcept { return data_; }
  constexpr index_t rows() const noexcept { return rows_; }
  constexpr index_t cols() const noexcept { return cols_; }
  constexpr index_t ld() const noexcept
    requires(!std::is_same_v<Layout, strided>)
  {
    return ld_;
  }
  constexpr index_t row_stride() const noexcept {
    if constexpr (std::is_same_v<Layout, row_major>) return ld_;
    else if constexpr (std::is_same_v<Layout, col_major>) return 1;
    else return rs_;
  }
  constexpr index_t col_stride() const noexcept {
    if constexpr (std::is_same_v<Layout, row_major>) return 1;
    else if constexpr (std::is_same_v<Layout, col_major>) return ld_;
    else return cs_;
  }
  constexpr T& operator()(index_t i, index_t j) const noexcept { return data_[i * row_stride() + j * col_stride()]; }
  constexpr bool empty() const noexcept { return rows_ == 0 || cols_ == 0; }

  /// The transpose, as a view of the same memory (row_major <-> col_major).
  constexpr auto t() const noexcept {
    if constexpr (std::is_same_v<Layout, row_major>) return matrix_view<T, col_major>(data_, cols_, rows_, ld_);
    else if constexpr (std::is_same_v<Layout, col_major>) return matrix_view<T, row_major>(data_, cols_, rows_, ld_);
    else return matrix_view<T, strided>(data_, cols_, rows_, cs_, rs_);
  }

  /// Rows [r0, r0 + nr) and columns [c0, c0 + nc) (unchecked).
  constexpr matrix_view block(index_t r0, index_t c0, index_t nr, index_t nc) const noexcept {
    matrix_view v = *this;
    v.data_ = data_ + r0 * row_stride() + c0 * col_stride();
    v.rows_ = nr;
    v.cols_ = nc;
    return v;
  }

  /// The same view moved by `elements` (for strided batches).
  constexpr matrix_view shifted(index_t elements) const noexcept {
    matrix_view v = *this;
    v.data_ += elements;
    return v;
  }

 private:
  T* data_ = nullptr;
  index_t rows_ = 0;
  index_t cols_ = 0;
  index_t ld_ = 0;
  index_t rs_ = 0;
  index_t cs_ = 0;
};

/// Helpers that read like the layout they make.
template <class T>
constexpr matrix_view<T, row_major> make_row_major(T* data, index_t rows, index_t cols, index_t ld = -1) noexcept {
  return {data, rows, cols, ld};
}
template <class T>
constexpr matrix_view<T, col_major> make_col_major(T* data, index_t rows, index_t cols, index_t ld = -1) noexcept {
  return {data, rows, cols, ld};
}
template <class T>
constexpr matrix_view<T, strided> make_strided(T* data, index_t rows, index_t cols, index_t rs, index_t cs) noexcept {
  return {data, rows, cols, rs, cs};
}

namespace detail {
/// Offset of the last element + 1, or an overflow error.
inline std::size_t view_span(index_t rows, index_t cols, index_t rs, index_t cs, const char* what) {
  if (rows == 0 || cols == 0) return 0;
  const std::size_t a = checked_mul(static_cast<std::size_t>(rows - 1), static_cast<std::size_t>(rs), what);
  const std::size_t b = checked_mul(static_cast<std::size_t>(cols - 1), static_cast<std::size_t>(cs), what);
  if (a > static_cast<std::size_t>(PTRDIFF_MAX) - b - 1) throw error(errc::size_overflow, std::string(what) + ": size overflows");
  return a + b + 1;
}
}  // namespace detail

/// Checks a view: non-negative extents, a non-null pointer when not empty, positive
/// strides that keep rows (row_major) or columns (col_major) from overlapping, and no
/// overflow of the addressed span. Throws pact::error naming `what`.
template <class T, class L>
void validate(const matrix_view<T, L>& v, const char* what) {
  using std::string;
  if (v.rows() < 0 || v.cols() < 0) throw error(errc::invalid_shape, string(what) + ": negative extent");
  if (v.empty()) return;
  if (v.data() == nullptr) throw error(errc::null_pointer, string(what) + ": null data with non-zero extent");
  if constexpr (std::is_same_v<L, row_major>) {
    if (v.ld() < v.cols()) throw error(errc::bad_stride, string(what) + ": leading dimension < cols (row-major)");
  } else if constexpr (std::is_same_v<L, col_major>) {
    if (v.ld() < v.rows()) throw error(errc::bad_stride, string(what) + ": leading dimension < rows (col-major)");
  } else {
    if (v.row_stride() <= 0 || v.col_stride() <= 0) throw error(errc::bad_stride, string(what) + ": strides must be positive");
  }
  (void)detail::view_span(v.rows(), v.cols(), v.row_stride(), v.col_stride(), what);
}

/// True if the memory spans of two views overlap (conservative: compares address ranges).
template <class T, class L1, class U, class L2>
bool overlaps(const matrix_view<T, L1>& a, const matrix_view<U, L2>& b) noexcept {
  if (a.empty() || b.empty()) return false;
  const auto* a0 = reinterpret_cast<const unsigned char*>(a.data());
  const auto* b0 = reinterpret_cast<const unsigned char*>(b.data());
  const auto a_end = a0 + ((a.rows() - 1) * a.row_stride() + (a.cols() - 1) * a.col_stride() + 1) * static_cast<index_t>(sizeof(T));
  const auto b_end = b0 + ((b.rows() - 1) * b.row_stride() + (b.cols() - 1) * b.col_stride() + 1) * static_cast<index_t>(sizeof(U));
  return a0 < b_end && b0 < a_end;
}

PACT_NAMESPACE_END
