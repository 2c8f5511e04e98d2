#pragma once
// Integer-quantized matrices: int8 / uint8 data plus float scales (and int32 zero points for
// asymmetric schemes) at one of three granularities.
//
//   value(r, c) = scale[g(r, c)] * (q(r, c) - zero_point[g(r, c)])     (zero_point = 0 if symmetric)
//
//   granularity   scales (and zero points)                 g(r, c)
//   per_tensor    1                                         0
//   per_row       rows      ("per-channel" for weights     r
//                            stored (N, K) row-major)
//   per_group     rows * groups_per_row, groups of          r * groups_per_row + c / group_size
//                 group_size (32, 64 or 128) consecutive
//                 columns of a row; the last group of a
//                 row may be shorter
//
// Data are row-major with leading dimension `cols` (no padding). The quantizer rules
// (rounding, saturation, zero-point choice) are in quant/int8.hpp and docs/quant.md.

#include <pact/core/aligned_buffer.hpp>
#include <pact/simd/target.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

PACT_NAMESPACE_BEGIN
namespace quant {

enum class int8_granularity : std::uint8_t { per_tensor, per_row, per_group };

enum class int8_scheme : std::uint8_t {
  symmetric,   // zero point 0, q in [-127, 127] (int8 only)
  asymmetric,  // zero point chosen so that the row/group range [min, max] (widened to
               // include 0) maps onto the full integer range
};

/// How to quantize: granularity, group size (per_group only: 32, 64 or 128), scheme.
struct int8_layout {
  int8_granularity granularity = int8_granularity::per_row;
  std::size_t group_size = 0;
  int8_scheme scheme = int8_scheme::symmetric;
};

template <class Int>
struct int8_matrix {
  static_assert(std::is_same_v<Int, std::int8_t> || std::is_same_v<Int, std::uint8_t>,
                "int8_matrix holds int8_t or uint8_t elements");
  std::size_t rows = 0;
  std::size_t cols = 0;
  int8_layout layout{};
  aligned_buffer<Int> data;                  // rows * cols, row-major
  aligned_buffer<float> scales;              // scale_count()
  aligned_buffer<std::int32_t> zero_points;  // scale_count() if asymmetric, else empty

  /// Columns per scale group along a row (cols for per_row / per_tensor).
  std::size_t group_cols() const noexcept {
    return layout.granularity == int8_granularity::per_group ? layout.group_size : cols;
  }
  std::size_t groups_per_row() const noexcept {
    const std::size_t g = group_cols();
    return g == 0 ? 0 : (cols + g - 1) / g;
  }
  std::size_t scale_count() const noexcept {
    switch (layout.granularity) {
      case int8_granularity::per_tensor: return rows * cols == 0 ? 0 : 1;
      case int8_granularity::per_row: return rows;
      case int8_granularity::per_group: return rows * groups_per_row();
    }
    return 0;
  }
  /// Index of the scale (and zero point) that element (r, c) uses.
  std::size_t scale_index(std::size_t r, std::size_t c) const noexcept {
    switch (layout.granularity) {
      case int8_granularity::per_tensor: return 0;
      case int8_granularity::per_row: return r;
      case int8_granularity::per_group: return r * groups_per_row() + c / layout.group_size;
    }
    return 0;
  }
};

}  // namespace quant
PACT_NAMESPACE_END
