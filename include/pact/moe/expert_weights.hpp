#pragma once
// Expert weights: where the three matrices of each expert FFN live and how one of them
// multiplies a block of activation rows. The expert stage only calls `multiply`, so a new
// weight format (int8, Q4_0 blocks, ...) plugs in by providing one more type that models
// `expert_weights`:
//   index_t num_experts() const, hidden() const, ffn() const
//   std::size_t expert_bytes() const        bytes of one expert's gate + up + down
//   void multiply(expert_proj p, index_t e, A, C, ep, exec) const
//        C = A * W_p[e], then the epilogue ep on every element (pact::epilogue contract),
//        A: (rows x K) f32 row-major view, C: (rows x N) f32 row-major view, with
//        (K, N) = (hidden, ffn) for gate/up and (ffn, hidden) for down.
// Two models here:
//   expert_weight_views<T, L, Policy>  the caller's matrices, not copied (f32, bf16, fp16);
//                                      bf16/fp16 in PyTorch layout (col_major B) with <= 4
//                                      rows: half GEMV (moe/half_gemv.hpp), 2 bytes/weight;
//                                      more rows: converted to f32 while GEMM packs them;
//                                      f32 with M <= 4 rows takes pact's GEMV path, so
//                                      decode reads every weight byte once
//   packed_expert_weights<Policy>      f32 pre-packed microkernel slivers (pack once): no
//                                      per-call B packing, best for prefill
#include <concepts>
#include <cstddef>
#include <vector>

#include "pact/gemm/prepacked.hpp"
#include "pact/moe/half_gemv.hpp"

PACT_NAMESPACE_BEGIN

/// The three projections of a SwiGLU expert: out = down( silu(x*gate) * (x*up) ).
enum class expert_proj { gate, up, down };

template <class W>
concept expert_weights = requires(const W& w, expert_proj p, index_t e, matrix_view<const float, row_major> a,
                                  matrix_view<float, row_major> c) {
  { w.num_experts() } -> std::convertible_to<index_t>;
  { w.hidden() } -> std::convertible_to<index_t>;
  { w.ffn() } -> std::convertible_to<index_t>;
  { w.expert_bytes() } -> std::convertible_to<std::size_t>;
  w.multiply(p, e, a, c, epilogue::none{}, serial{});
};

namespace moe_detail {
template <class V>
void check_expert_shapes(const std::vector<V>& gate, const std::vector<V>& up, const std::vector<V>& down, const char* who) {
  const std::string w(who);
  if (gate.size() != up.size() || gate.size() != down.size())
    throw error(errc::invalid_shape, w + ": gate, up and down hold different numbers of experts");
  if (gate.empty()) return;
  const index_t H = gate[0].rows(), F = gate[0].cols();
  for (std::size_t e = 0; e < gate.size(); ++e) {
    validate(gate[e], (w + ": gate").c_str());
    validate(up[e], (w + ": up").c_str());
    validate(down[e], (w + ": down").c_str());
    if (gate[e].rows() != H || gate[e].cols() != F || up[e].rows() != H || up[e].cols() != F)
      throw error(errc::invalid_shape, w + ": every gate/up matrix must be hidden x ffn");
    if (down[e].rows() != F || down[e].cols() != H) throw error(errc::invalid_shape, w + ": every down matrix must be ffn x hidden");
  }
}
}  // namespace moe_detail

/// Views of the caller's expert matrices (not copied; they must outlive this object).
/// gate[e], up[e]: hidden x ffn; down[e]: ffn x hidden, as B of C = A * B. PyTorch stores
/// W[out][in] row-major, which is B in col_major layout: see stacked_expert_views.
template <class T = float, class L = row_major, class Policy = void>
class expert_weight_views {
 public:
  using view = matrix_view<const T, L>;
  expert_weight_views() = default;
  expert_weight_views(std::vector<view> gate, std::vector<view> up, std::vector<view> down)
      : gate_(std::move(gate)), up_(std::move(up)), down_(std::move(down)) {
    moe_detail::check_expert_shapes(gate_, up_, down_, "expert_weight_views");
  }

  index_t num_experts() const noexcept { return static_cast<index_t>(gate_.size()); }
  index_t hidden() const noexcept { return gate_.empty() ? 0 : gate_[0].rows(); }
  index_t ffn() const noexcept { return gate_.empty() ? 0 : gate_[0].cols(); }
  std::size_t expert_bytes() const noexcept { return 3 * static_cast<std::size_t>(hidden() * ffn()) * sizeof(T); }
  const view& matrix(expert_proj p, index_t e) const noexcept {
    const auto i = static_cast<std::size_t>(e);
    return p == expert_proj::gate ? gate_[i] : p == expert_proj::up ? up_[i] : down_[i];
  }

  template <class LA, class LC, class Ep, class Exec>
  void multiply(expert_proj p, index_t e, const matrix_view<const float, LA>& a, const matrix_view<float, LC>& c,
                const Ep& ep, const Exec& exec) const {
    const view& b = matrix(p, e);
    if constexpr ((std::is_same_v<T, bf16> || std::is_same_v<T, fp16>) && std::is_same_v<L, col_major>) {
      // Decode with half weights: widen in registers instead of GEMM's convert-while-packing.
      if (a.rows() >= 1 && a.rows() <= 4 && b.rows() > 0 && a.col_stride() == 1 && c.col_stride() == 1) {
        if (a.cols() != b.rows() || c.rows() != a.rows() || c.cols() != b.cols())
          throw error(errc::invalid_shape, "expert_weight_views: A, W and C shapes disagree");
        using A = typename gemm_detail::select_policy<Policy, float>::arch;
        moe_detail::half_gemv<A>(a.rows(), c.cols(), a.cols(), a.data(), a.row_stride(), b.data(), b.ld(), c.data(),
                                 c.row_stride(), ep, exec);
        return;
      }
    }
    gemm<Policy>(1.0f, a, b, 0.0f, c, ep, exec);
  }

 private:
  std::vector<view> gate_, up_, down_;
};

/// Views over three stacked arrays of `experts` matrices each. L = row_major: each matrix
/// stored (in x out), i.e. gate[e] is hidden x ffn row-major. L = col_major: stored
/// (out x in) row-major, PyTorch/safetensors' W[out][in] (HF Mixtral w1/w3/w2,
/// DeepSeek gate_proj/up_proj/down_proj).
template <class T, class L = col_major, class Policy = void>
expert_weight_views<T, L, Policy> stacked_expert_views(const T* gate, const T* up, const T* down, index_t experts,
                                                       index_t hidden, index_t ffn) {
  if (experts < 0 || hidden < 0 || ffn < 0) throw error(errc::invalid_shape, "stacked_expert_views: negative extent");
  std::vector<matrix_view<const T, L>> g, u, d;
  const index_t per = hidden * ffn;
  for (index_t e = 0; e < experts; ++e) {
    g.emplace_back(gate + e * per, hidden, ffn);
    u.emplace_back(up + e * per, hidden, ffn);
    d.emplace_back(down + e * per, ffn, hidden);
  }
  return {std::move(g), std::move(u), std::move(d)};
}

/// f32 expert weights pre-packed into GEMM's sliver layout (3 * experts packed_b).
template <class Policy = void>
class packed_expert_weights {
 public:
  using packed = packed_b<float, Policy>;
  packed_expert_weights() = default;

  /// Packs every matrix of `src` (any expert_weight_views: f32, bf16, fp16; any layout).
  template <class T, class L, class P2>
  explicit packed_expert_weights(const expert_weight_views<T, L, P2>& src) {
    for (index_t e = 0; e < src.num_experts(); ++e)
      add_expert(src.matrix(expert_proj::gate, e), src.matrix(expert_proj::up, e), src.matrix(expert_proj::down, e));
  }

  /// Packs one more expert (gate, up: hidden x ffn; down: ffn x hidden). Lets a loader
  /// stream a model expert by expert without holding two copies of all weights.
  template <class TG, class LG, class TU, class LU, class TD, class LD>
  void add_expert(const matrix_view<TG, LG>& gate, const matrix_view<TU, LU>& up, const matrix_view<TD, LD>& down) {
    if (gate_.empty()) {
      hidden_ = gate.rows();
      ffn_ = gate.cols();
    }
    if (gate.rows() != hidden_ || gate.cols() != ffn_ || up.rows() != hidden_ || up.cols() != ffn_)
      throw error(errc::invalid_shape, "packed_expert_weights: every gate/up matrix must be hidden x ffn");
    if (down.rows() != ffn_ || down.cols() != hidden_)
      throw error(errc::invalid_shape, "packed_expert_weights: every down matrix must be ffn x hidden");
    gate_.emplace_back(gate);
    up_.emplace_back(up);
    down_.emplace_back(down);
  }

  index_t num_experts() const noexcept { return static_cast<index_t>(gate_.size()); }
  index_t hidden() const noexcept { return hidden_; }
  index_t ffn() const noexcept { return ffn_; }
  /// Bytes the kernels read per expert (the packed f32 copy).
  std::size_t expert_bytes() const noexcept { return 3 * static_cast<std::size_t>(hidden_ * ffn_) * sizeof(float); }

  template <class LA, class LC, class Ep, class Exec>
  void multiply(expert_proj p, index_t e, const matrix_view<const float, LA>& a, const matrix_view<float, LC>& c,
                const Ep& ep, const Exec& exec) const {
    const auto i = static_cast<std::size_t>(e);
    gemm(1.0f, a, p == expert_proj::gate ? gate_[i] : p == expert_proj::up ? up_[i] : down_[i], 0.0f, c, ep, exec);
  }

 private:
  index_t hidden_ = 0, ffn_ = 0;
  std::vector<packed> gate_, up_, down_;
};

PACT_NAMESPACE_END
