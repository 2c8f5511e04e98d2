#pragma once
// FP8 with fine-grained fp32 scales, as DeepSeek-V3 trains and serves it:
//   activations: one scale per token (row) per 128 consecutive channels (a 1x128 group);
//   weights:     one scale per 128x128 block of the (N, K) row-major weight matrix.
//   value = float(fp8 element) * scale.
// The quantizer picks scale = amax / fp8_max per group (448 for E4M3, 57344 for E5M2), so the
// largest magnitude maps onto the largest finite FP8 value (quant/fp8_blockwise.hpp).
// Partial groups/blocks at the right and bottom edges are allowed (shorter groups).

#include <pact/core/aligned_buffer.hpp>
#include <pact/simd/target.hpp>
#include <pact/types/fp8.hpp>

#include <cstddef>
#include <type_traits>

PACT_NAMESPACE_BEGIN
namespace quant {

/// Group width along K for activations and block edge for weights.
inline constexpr std::size_t fp8_group = 128;

template <class Fp8>
inline constexpr bool is_fp8_type_v =
    std::is_same_v<Fp8, fp8_e4m3> || std::is_same_v<Fp8, fp8_e5m2>;

/// Activations (M, K) row-major; scales (M, ceil(K / 128)) row-major.
template <class Fp8>
struct fp8_activations_1x128 {
  static_assert(is_fp8_type_v<Fp8>, "FP8 element type must be fp8_e4m3 or fp8_e5m2");
  std::size_t rows = 0;
  std::size_t cols = 0;
  aligned_buffer<Fp8> data;
  aligned_buffer<float> scales;

  std::size_t groups_per_row() const noexcept { return (cols + fp8_group - 1) / fp8_group; }
  float scale(std::size_t r, std::size_t c) const noexcept {
    return scales[r * groups_per_row() + c / fp8_group];
  }
};

/// Weights (N, K) row-major; scales (ceil(N / 128), ceil(K / 128)) row-major.
template <class Fp8>
struct fp8_weights_128x128 {
  static_assert(is_fp8_type_v<Fp8>, "FP8 element type must be fp8_e4m3 or fp8_e5m2");
  std::size_t rows = 0;
  std::size_t cols = 0;
  aligned_buffer<Fp8> data;
  aligned_buffer<float> scales;

  std::size_t block_rows() const noexcept { return (rows + fp8_group - 1) / fp8_group; }
  std::size_t block_cols() const noexcept { return (cols + fp8_group - 1) / fp8_group; }
  float scale(std::size_t r, std::size_t c) const noexcept {
    return scales[(r / fp8_group) * block_cols() + c / fp8_group];
  }
};

}  // namespace quant
PACT_NAMESPACE_END
