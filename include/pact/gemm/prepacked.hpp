#pragma once
// Pre-packed B ("weights"): pack once into the microkernel's sliver layout, reuse for
// every call (the LLM case: fixed weights, changing activations). The layout is the
// blocked driver's: for each KC block of K, ceil(N / NR) slivers of kc x NR, so a call
// skips B packing entirely and reads B exactly as the microkernel wants it.
#include <algorithm>
#include <cstdint>

#include "pact/core/aligned_buffer.hpp"
#include "pact/gemm/gemm.hpp"

PACT_NAMESPACE_BEGIN

/// The packed layout as a formula, for producers that write B in it themselves (a decoder
/// that widens quantized weights straight into slivers, skipping a row-major copy and the
/// pack): B is K x N, N padded to padded_cols = ceil(N / NR) * NR; K is cut into blocks of
/// KC rows; block pc (a multiple of KC, kcb = min(KC, K - pc) rows) starts at pc *
/// padded_cols and holds padded_cols / NR slivers of kcb x NR, row-major within a sliver.
/// Padding columns must hold finite values (zeros): the microkernel multiplies them.
template <class T = float, class Policy = void>
struct packed_b_layout {
  using policy = gemm_detail::select_policy<Policy, T>;
  static constexpr index_t nr = policy::nr;
  static constexpr index_t kc = policy::kc;
  static constexpr index_t padded_cols(index_t cols) noexcept { return gemm_detail::ceil_div(cols, nr) * nr; }
  /// Offset of the sliver holding columns [jc, jc + nr) of the KC block starting at row pc
  /// (kcb rows deep; jc a multiple of nr): what the blocked driver asks a B source for.
  static constexpr index_t block_offset(index_t padded, index_t jc, index_t pc, index_t kcb) noexcept {
    return pc * padded + (jc / nr) * nr * kcb;
  }
  /// Offset of B(k, j) in a K-row layout with padded_cols columns.
  static constexpr index_t offset(index_t K, index_t padded, index_t k, index_t j) noexcept {
    const index_t pc = k / kc * kc, kcb = std::min(kc, K - pc);
    return block_offset(padded, j / nr * nr, pc, kcb) + (k - pc) * nr + j % nr;
  }
};

template <class T = float, class Policy = void>
class packed_b {
 public:
  using policy = gemm_detail::select_policy<Policy, T>;
  static_assert(detail::check_gemm_policy<policy>());
  static_assert(std::is_same_v<typename policy::compute_type, T>, "packed_b: the policy's compute_type must be T");

  packed_b() = default;

  /// Packs B (K x N, any layout, f32/f64/bf16/fp16 converted to T).
  template <class TB, class LB>
  explicit packed_b(const matrix_view<TB, LB>& B) : rows_(B.rows()), cols_(B.cols()) {
    validate(B, "pack_b: B");
    constexpr index_t NR = policy::nr;
    padded_cols_ = gemm_detail::ceil_div(cols_, NR) * NR;
    data_.resize(detail::checked_mul(static_cast<std::size_t>(std::max<index_t>(rows_, 1)),
                                     static_cast<std::size_t>(std::max<index_t>(padded_cols_, 1)), "pack_b: B"));
    const gemm_detail::strided_ref<std::remove_cv_t<TB>> b{B.data(), B.row_stride(), B.col_stride()};
    for (index_t pc = 0; pc < rows_; pc += policy::kc) {
      const index_t kc = std::min<index_t>(policy::kc, rows_ - pc);
      const gemm_detail::strided_ref<std::remove_cv_t<TB>> blk{&b(pc, 0), b.rs, b.cs};
      gemm_detail::pack_b_slivers<NR, typename policy::arch>(blk, kc, cols_, 0, padded_cols_ / NR, data_.data() + pc * padded_cols_);
    }
  }

  index_t rows() const noexcept { return rows_; }
  index_t cols() const noexcept { return cols_; }
  /// Sliver block for columns [jc, jc + nc) of K rows [pc, pc + kc) (jc multiple of NR).
  const T* block(index_t jc, index_t /*nc*/, index_t pc, index_t kc) const noexcept {
    return data_.data() + packed_b_layout<T, Policy>::block_offset(padded_cols_, jc, pc, kc);
  }
  template <class Exec>
  const T* block(index_t jc, index_t nc, index_t pc, index_t kc, const Exec&) const noexcept {
    return block(jc, nc, pc, kc);
  }

 private:
  index_t rows_ = 0, cols_ = 0, padded_cols_ = 0;
  aligned_buffer<T> data_;
};

/// A non-owning B in packed_b_layout, written by the caller (rows x cols, data holding
/// rows * padded_cols(cols) elements, aligned to default_alignment = 64 bytes like
/// aligned_buffer: the microkernel loads B slivers with aligned vector loads);
/// gemm(alpha, A, view, beta, C) reads it like packed_b. A null or misaligned pointer is an
/// error (errc::null_pointer / errc::invalid_argument).
template <class T = float, class Policy = void>
class packed_b_view {
 public:
  using policy = gemm_detail::select_policy<Policy, T>;
  static_assert(detail::check_gemm_policy<policy>());
  static_assert(std::is_same_v<typename policy::compute_type, T>, "packed_b_view: the policy's compute_type must be T");
  using layout = packed_b_layout<T, Policy>;

  packed_b_view(const T* data, index_t rows, index_t cols)
      : data_(data), rows_(rows), cols_(cols), padded_cols_(layout::padded_cols(cols)) {
    if (rows < 0 || cols < 0) throw error(errc::invalid_shape, "packed_b_view: negative extent");
    if (rows > 0 && cols > 0 && data == nullptr) throw error(errc::null_pointer, "packed_b_view: null data");
    if (reinterpret_cast<std::uintptr_t>(data) % default_alignment != 0)
      throw error(errc::invalid_argument, "packed_b_view: data must be 64-byte aligned");
  }

  index_t rows() const noexcept { return rows_; }
  index_t cols() const noexcept { return cols_; }
  const T* block(index_t jc, index_t /*nc*/, index_t pc, index_t kc) const noexcept {
    return data_ + layout::block_offset(padded_cols_, jc, pc, kc);
  }
  template <class Exec>
  const T* block(index_t jc, index_t nc, index_t pc, index_t kc, const Exec&) const noexcept {
    return block(jc, nc, pc, kc);
  }

 private:
  const T* data_ = nullptr;
  index_t rows_ = 0, cols_ = 0, padded_cols_ = 0;
};

namespace gemm_detail {
template <class Policy, class TB>
struct packed_type {
  using type = typename Policy::compute_type;
};
template <class TB>
struct packed_type<void, TB> {
  using type = compute_t<TB, TB>;
};
}  // namespace gemm_detail

/// Packs B for repeated use with gemm(alpha, A, packed, beta, C). The packed type is the
/// policy's compute type, or without a policy f64 for an f64 B and f32 for the others (an
/// f64 GEMM then takes an f64 A, as the unpacked gemm() does).
template <class Policy = void, class TB, class LB>
auto pack_b(const matrix_view<TB, LB>& B) {
  using T = typename gemm_detail::packed_type<Policy, std::remove_cv_t<TB>>::type;
  return packed_b<T, Policy>(B);
}

/// C = alpha * A * B + beta * C with B pre-packed (packed_b or a caller-filled packed_b_view).
template <class TA, class LA, class T, class Policy, template <class, class> class PackedB, class TC, class LC,
          class Ep = epilogue::none, executor Exec = serial>
  requires(std::is_same_v<PackedB<T, Policy>, packed_b<T, Policy>> || std::is_same_v<PackedB<T, Policy>, packed_b_view<T, Policy>>)
void gemm(T alpha, const matrix_view<TA, LA>& A, const PackedB<T, Policy>& B, T beta, const matrix_view<TC, LC>& C,
          const Ep& ep = {}, const Exec& exec = {}) {
  using namespace gemm_detail;
  using P = typename PackedB<T, Policy>::policy;
  static_assert(std::is_same_v<TC, T>, "gemm with packed_b: C must have the compute type");
  static_assert(!std::is_same_v<T, double> || std::is_same_v<std::remove_cv_t<TA>, double>,
                "gemm with an f64 packed_b: A must be f64 too (f64 only when both inputs are f64)");
  validate(A, "gemm: A");
  validate(C, "gemm: C");
  if (epilogue_reads(ep, C)) throw error(errc::aliasing, "gemm: the epilogue reads C (residual_add over C: use beta = 1)");
  if (A.cols() != B.rows()) throw error(errc::invalid_shape, "gemm: A.cols() != packed B rows");
  if (C.rows() != A.rows() || C.cols() != B.cols()) throw error(errc::invalid_shape, "gemm: C shape != A.rows() x B.cols()");
  if (overlaps(C, A)) throw error(errc::aliasing, "gemm: C overlaps A");
  const index_t M = C.rows(), N = C.cols(), K = A.cols();
  const c_ref<T> c{C.data(), C.row_stride(), C.col_stride()};
  if (M == 0 || N == 0) return;
  if (alpha == T(0) || K == 0) {
    scale_c<typename P::arch>(M, N, beta, c, ep);
    return;
  }
  using SA = std::remove_cv_t<TA>;
  gemm_blocked<P>(M, N, K, alpha, strided_ref<SA>{A.data(), A.row_stride(), A.col_stride()}, B, beta, c, ep, exec);
}

PACT_NAMESPACE_END
