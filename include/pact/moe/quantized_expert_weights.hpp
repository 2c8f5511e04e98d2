#pragma once
// Quantized expert weights: two more models of the `expert_weights` concept, on top of
// pact's quantized kernels (quant/). Both run on simd::native_arch (the quant kernels'
// arch) and apply the expert stage's epilogue (SwiGLU, routing weight) in a pass over the
// f32 output rows, while they are hot in cache.
//
//   int8_expert_weights      W8A8: weights int8, one symmetric scale per output channel
//                            (quantize_int8 per row of W[out][in]); activations quantized
//                            per row (token) on the fly, symmetric int8; int8_gemm into f32
//                            with the row and column scales. Needs nothing of K.
//   ggml_expert_weights<Q>   ggml Q4_0 or Q8_0 blocks (GGUF's W[out][in] rows of K/32
//                            blocks, the caller's memory, not copied); activations
//                            quantized to Q8_0 per row. <= 4 rows (decode): quant::gemv per
//                            row over the raw blocks, so decode reads 4.5 (Q4_0) / 8.5 (Q8_0)
//                            bits per weight; more rows: quant::gemm over weights repacked
//                            once at construction (pack_for_prefill = true; unpacked to
//                            int8, so it costs ~9 bits per weight of extra memory).
//                            hidden and ffn must be multiples of 32.
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "pact/moe/expert_weights.hpp"
#include "pact/quant/gemm_q.hpp"
#include "pact/quant/gemv_q.hpp"
#include "pact/quant/ggml.hpp"
#include "pact/quant/int8.hpp"
#include "pact/quant/int8_gemm.hpp"

PACT_NAMESPACE_BEGIN

namespace moe_detail {
/// c(i, j..) = ep(c(i, j..), i, j, n) on native vectors: the epilogue contract of
/// gemm/epilogue.hpp, applied after a kernel that has no hook for it.
template <class LC, class Ep>
void apply_epilogue(const matrix_view<float, LC>& c, const Ep& ep) {
  if constexpr (!std::is_same_v<Ep, epilogue::none>) {
    using A = simd::native_arch;
    constexpr index_t L = static_cast<index_t>(simd::lanes<float, A>);
    for (index_t i = 0; i < c.rows(); ++i) {
      float* row = &c(i, 0);
      for (index_t j = 0; j < c.cols(); j += L) {
        const index_t n = std::min(L, c.cols() - j);
        if (n == L) {
          simd::store(row + j, ep(simd::load<A>(row + j), i, j, static_cast<int>(L)));
        } else {
          const auto v = ep(simd::load_partial<A>(row + j, static_cast<std::size_t>(n)), i, j, static_cast<int>(n));
          simd::store_partial(row + j, v, static_cast<std::size_t>(n));
        }
      }
    }
  }
}

inline std::size_t proj_index(expert_proj p) noexcept { return p == expert_proj::gate ? 0 : p == expert_proj::up ? 1 : 2; }
}  // namespace moe_detail

/// W8A8 int8 experts (see the file comment).
class int8_expert_weights {
 public:
  int8_expert_weights() = default;

  /// Quantizes every matrix of `src` (f32 views of any layout) per output channel.
  template <class L, class P>
  explicit int8_expert_weights(const expert_weight_views<float, L, P>& src) {
    for (index_t e = 0; e < src.num_experts(); ++e)
      add_expert(src.matrix(expert_proj::gate, e), src.matrix(expert_proj::up, e), src.matrix(expert_proj::down, e));
  }

  /// Quantizes and packs one expert (gate, up: hidden x ffn; down: ffn x hidden, as B).
  template <class LG, class LU, class LD>
  void add_expert(const matrix_view<const float, LG>& gate, const matrix_view<const float, LU>& up,
                  const matrix_view<const float, LD>& down) {
    if (mats_.empty()) {
      hidden_ = gate.rows();
      ffn_ = gate.cols();
    }
    if (gate.rows() != hidden_ || gate.cols() != ffn_ || up.rows() != hidden_ || up.cols() != ffn_ || down.rows() != ffn_ ||
        down.cols() != hidden_)
      throw error(errc::invalid_shape, "int8_expert_weights: gate/up must be hidden x ffn and down ffn x hidden");
    add_matrix(gate);
    add_matrix(up);
    add_matrix(down);
  }

  index_t num_experts() const noexcept { return static_cast<index_t>(mats_.size() / 3); }
  index_t hidden() const noexcept { return hidden_; }
  index_t ffn() const noexcept { return ffn_; }
  /// int8 weights + one f32 scale per output channel.
  std::size_t expert_bytes() const noexcept {
    return static_cast<std::size_t>(3 * hidden_ * ffn_ + 2 * ffn_ * 4 + hidden_ * 4);
  }

  template <class LA, class LC, class Ep, class Exec>
  void multiply(expert_proj p, index_t e, const matrix_view<const float, LA>& a, const matrix_view<float, LC>& c, const Ep& ep,
                const Exec& exec) const {
    const matrix& m = mats_[static_cast<std::size_t>(e) * 3 + moe_detail::proj_index(p)];
    const index_t M = a.rows(), K = a.cols();
    if (M == 0 || c.cols() == 0) return;
    if (a.col_stride() != 1 && K > 1) throw error(errc::bad_stride, "int8_expert_weights: activation rows must be contiguous");
    const auto q = quant::quantize_int8(a.data(), static_cast<std::size_t>(M), static_cast<std::size_t>(K),
                                        static_cast<std::size_t>(a.row_stride()), quant::int8_layout{}, serial{});
    int8_requantize rq;
    rq.a_row_scales = q.scales.data();
    rq.b_col_scales = m.scales.data();
    int8_gemm(make_row_major<const std::int8_t>(q.data.data(), M, K), m.packed, c, rq, exec);
    moe_detail::apply_epilogue(c, ep);
  }

 private:
  struct matrix {
    int8_packed_b<> packed;
    aligned_buffer<float> scales;  // per output column of B
  };
  template <class L>
  void add_matrix(const matrix_view<const float, L>& b) {
    // Quantize per output channel: B's columns are W[out][in]'s rows. Copy B^T row-major.
    const index_t K = b.rows(), N = b.cols();
    std::vector<float> wt(static_cast<std::size_t>(std::max<index_t>(N * K, 1)));
    for (index_t n = 0; n < N; ++n)
      for (index_t k = 0; k < K; ++k) wt[static_cast<std::size_t>(n * K + k)] = b(k, n);
    const auto q = quant::quantize_int8(wt.data(), static_cast<std::size_t>(N), static_cast<std::size_t>(K),
                                        static_cast<std::size_t>(K), quant::int8_layout{}, serial{});
    matrix m;
    m.packed = int8_packed_b<>(make_col_major<const std::int8_t>(q.data.data(), K, N, K));
    m.scales.resize(static_cast<std::size_t>(std::max<index_t>(N, 1)));
    std::copy(q.scales.data(), q.scales.data() + N, m.scales.data());
    mats_.push_back(std::move(m));
  }

  index_t hidden_ = 0, ffn_ = 0;
  std::vector<matrix> mats_;  // 3 per expert: gate, up, down
};

/// ggml Q4_0 / Q8_0 experts (see the file comment). Matrices are W[out][in]: gate and up
/// ffn rows of hidden/32 blocks, down hidden rows of ffn/32 blocks.
template <class Block>
class ggml_expert_weights {
  static_assert(std::is_same_v<Block, quant::block_q4_0> || std::is_same_v<Block, quant::block_q8_0>,
                "ggml_expert_weights: Block must be quant::block_q4_0 or quant::block_q8_0");

 public:
  ggml_expert_weights(index_t hidden, index_t ffn, bool pack_for_prefill = true)
      : hidden_(hidden), ffn_(ffn), pack_(pack_for_prefill) {
    if (hidden < 0 || ffn < 0 || hidden % 32 != 0 || ffn % 32 != 0)
      throw error(errc::invalid_shape, "ggml_expert_weights: hidden and ffn must be non-negative multiples of 32");
  }

  /// Adds one expert: spans of ffn * hidden/32 (gate, up) and hidden * ffn/32 (down) blocks,
  /// which must outlive this object.
  void add_expert(std::span<const Block> gate, std::span<const Block> up, std::span<const Block> down) {
    const auto gu = static_cast<std::size_t>(ffn_ * (hidden_ / 32)), d = static_cast<std::size_t>(hidden_ * (ffn_ / 32));
    if (gate.size() != gu || up.size() != gu || down.size() != d)
      throw error(errc::invalid_shape, "ggml_expert_weights: gate/up need ffn * hidden/32 blocks, down hidden * ffn/32");
    raw_.insert(raw_.end(), {gate, up, down});
    if (pack_) {
      packed_.emplace_back(gate, ffn_, hidden_);  // N = ffn outputs, K = hidden
      packed_.emplace_back(up, ffn_, hidden_);
      packed_.emplace_back(down, hidden_, ffn_);
    }
  }

  index_t num_experts() const noexcept { return static_cast<index_t>(raw_.size() / 3); }
  index_t hidden() const noexcept { return hidden_; }
  index_t ffn() const noexcept { return ffn_; }
  /// Bytes of the raw blocks (what decode reads).
  std::size_t expert_bytes() const noexcept { return static_cast<std::size_t>(3 * hidden_ * ffn_ / 32) * sizeof(Block); }

  template <class LA, class LC, class Ep, class Exec>
  void multiply(expert_proj p, index_t e, const matrix_view<const float, LA>& a, const matrix_view<float, LC>& c, const Ep& ep,
                const Exec& exec) const {
    const std::size_t i = static_cast<std::size_t>(e) * 3 + moe_detail::proj_index(p);
    const index_t M = a.rows(), K = a.cols(), N = c.cols(), nb = K / 32;
    if (M == 0 || N == 0) return;
    if ((a.col_stride() != 1 && K > 1) || (c.col_stride() != 1 && N > 1))
      throw error(errc::bad_stride, "ggml_expert_weights: rows must be contiguous");
    // Activations -> Q8_0, one row of K/32 blocks per token (ggml's rule).
    thread_local std::vector<quant::block_q8_0> xq;
    xq.resize(static_cast<std::size_t>(M * nb));
    for (index_t r = 0; r < M; ++r)
      quant::quantize<quant::block_q8_0>(std::span<const float>(&a(r, 0), static_cast<std::size_t>(K)),
                                         std::span<quant::block_q8_0>(xq.data() + r * nb, static_cast<std::size_t>(nb)));
    if (M <= 4 || !pack_) {
      // Bandwidth-bound: stream the raw blocks once per row.
      for (index_t r = 0; r < M; ++r)
        quant::gemv<Block>(raw_[i], N, K, std::span<const quant::block_q8_0>(xq.data() + r * nb, static_cast<std::size_t>(nb)),
                           std::span<float>(&c(r, 0), static_cast<std::size_t>(N)), exec);
    } else {
      quant::gemm<Block>(std::span<const quant::block_q8_0>(xq.data(), static_cast<std::size_t>(M * nb)), M, packed_[i],
                         make_row_major(&c(0, 0), M, N, c.row_stride()), exec);
    }
    moe_detail::apply_epilogue(c, ep);
  }

 private:
  index_t hidden_, ffn_;
  bool pack_;
  std::vector<std::span<const Block>> raw_;
  std::vector<quant::packed_q_weights<Block>> packed_;
};

PACT_NAMESPACE_END
