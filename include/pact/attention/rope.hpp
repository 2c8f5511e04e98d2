#pragma once
// Rotary position embeddings (RoPE, Su et al. 2021). Pairs of a head vector are rotated by
// position * inv_freq_i:
//   interleaved (GPT-J)  : pairs (x[2i], x[2i+1])
//   half_split  (NeoX)   : pairs (x[i], x[i + rotary_dim/2])
// inv_freq_i = base^(-2i / rotary_dim), i < rotary_dim / 2, with frequency scaling:
//   linear (position interpolation): inv_freq_i / factor
//   ntk    (NTK-aware):               base' = base * factor^(rotary_dim / (rotary_dim - 2))
//   yarn   (Peng et al. 2023):        per-dim blend of interpolated and original frequencies,
//          gamma_i = clamp((i - low) / (high - low), 0, 1) with low/high the dims where a
//          frequency makes beta_fast / beta_slow turns over original_max_positions
//          (corr_dim(n) = rotary_dim * ln(L / (2 pi n)) / (2 ln base)), inv_freq_i =
//          gamma_i * inv_freq_i / factor + (1 - gamma_i) * inv_freq_i; cos and sin are
//          multiplied by the attention factor 0.1 * ln(factor) + 1.
// Dimensions past rotary_dim pass through. Angles are computed in double per position.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "pact/attention/kv_source.hpp"
#include "pact/core/error.hpp"
#include "pact/core/tensor_view.hpp"
#include "pact/core/threading.hpp"

PACT_NAMESPACE_BEGIN

enum class rope_layout { interleaved, half_split };
enum class rope_scaling { none, linear, ntk, yarn };

struct rope_config {
  index_t rotary_dim = 0;  ///< rotated dims (even, <= head dim); 0 = the whole head dim
  double base = 10000.0;
  rope_layout layout = rope_layout::half_split;
  rope_scaling scaling = rope_scaling::none;
  double factor = 1.0;                     ///< context extension factor (linear / ntk / yarn)
  index_t original_max_positions = 4096;   ///< yarn: the pre-training context
  double beta_fast = 32.0, beta_slow = 1.0;  ///< yarn: ramp bounds in rotations
};

/// Resolved frequencies of a rope_config for one head dim.
class rope_table {
 public:
  rope_table(const rope_config& cfg, index_t head_dim) : cfg_(cfg), head_dim_(head_dim) {
    rot_ = cfg.rotary_dim == 0 ? head_dim : cfg.rotary_dim;
    detail::require(head_dim > 0 && rot_ > 0 && rot_ % 2 == 0 && rot_ <= head_dim, errc::invalid_argument,
                    "rope: rotary_dim must be even and in 1..head_dim");
    detail::require(cfg.base > 1.0 && std::isfinite(cfg.base), errc::invalid_argument, "rope: base must be > 1");
    detail::require(cfg.factor >= 1.0 && std::isfinite(cfg.factor), errc::invalid_argument, "rope: factor must be >= 1");
    const index_t half = rot_ / 2;
    double base = cfg.base;
    if (cfg.scaling == rope_scaling::ntk && rot_ > 2)
      base *= std::pow(cfg.factor, static_cast<double>(rot_) / static_cast<double>(rot_ - 2));
    inv_freq_.resize(static_cast<std::size_t>(half));
    for (index_t i = 0; i < half; ++i)
      inv_freq_[static_cast<std::size_t>(i)] = std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(rot_));
    if (cfg.scaling == rope_scaling::linear)
      for (auto& f : inv_freq_) f /= cfg.factor;
    if (cfg.scaling == rope_scaling::yarn) {
      detail::require(cfg.original_max_positions > 0 && cfg.beta_fast > cfg.beta_slow && cfg.beta_slow > 0,
                      errc::invalid_argument, "rope: yarn needs original_max_positions > 0 and beta_fast > beta_slow > 0");
      auto corr_dim = [&](double rotations) {
        return static_cast<double>(rot_) *
               std::log(static_cast<double>(cfg.original_max_positions) / (rotations * 2.0 * std::numbers::pi)) /
               (2.0 * std::log(cfg.base));
      };
      const double low = std::max(0.0, std::floor(corr_dim(cfg.beta_fast)));
      double high = std::min(static_cast<double>(rot_ - 1), std::ceil(corr_dim(cfg.beta_slow)));
      if (high == low) high += 0.001;
      for (index_t i = 0; i < half; ++i) {
        const double gamma = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
        auto& f = inv_freq_[static_cast<std::size_t>(i)];
        f = gamma * f / cfg.factor + (1.0 - gamma) * f;
      }
      attention_factor_ = cfg.factor > 1.0 ? 0.1 * std::log(cfg.factor) + 1.0 : 1.0;
    }
  }

  index_t head_dim() const noexcept { return head_dim_; }
  index_t rotary_dim() const noexcept { return rot_; }
  double inv_freq(index_t i) const noexcept { return inv_freq_[static_cast<std::size_t>(i)]; }
  double attention_factor() const noexcept { return attention_factor_; }
  rope_layout layout() const noexcept { return cfg_.layout; }

  /// cos / sin of position `pos` for every pair (rotary_dim / 2 values each), scaled by
  /// the attention factor.
  void angles(double pos, float* cos_out, float* sin_out) const noexcept {
    for (std::size_t i = 0; i < inv_freq_.size(); ++i) {
      const double a = pos * inv_freq_[i];
      cos_out[i] = static_cast<float>(std::cos(a) * attention_factor_);
      sin_out[i] = static_cast<float>(std::sin(a) * attention_factor_);
    }
  }

  /// Rotates one f32 head vector in place with precomputed angles. Never inlined: GCC may
  /// contract a * c - b * s into an FMA differently in each inlined copy (seen at -O2
  /// -march=haswell), and fused RoPE promises bitwise the result of apply_rope, so both
  /// must run this one compiled copy. A call per head row costs nothing next to the row.
  PACT_NOINLINE void rotate(float* x, const float* c, const float* s) const noexcept {
    const index_t half = rot_ / 2;
    if (cfg_.layout == rope_layout::interleaved) {
      for (index_t i = 0; i < half; ++i) {
        const float a = x[2 * i], b = x[2 * i + 1];
        x[2 * i] = a * c[i] - b * s[i];
        x[2 * i + 1] = a * s[i] + b * c[i];
      }
    } else {
      for (index_t i = 0; i < half; ++i) {
        const float a = x[i], b = x[i + half];
        x[i] = a * c[i] - b * s[i];
        x[i + half] = a * s[i] + b * c[i];
      }
    }
  }

 private:
  rope_config cfg_;
  index_t head_dim_ = 0, rot_ = 0;
  std::vector<double> inv_freq_;
  double attention_factor_ = 1.0;
};

/// Applies RoPE in place to x [batch, seq, heads, head_dim] (float, bf16 or fp16): token t
/// of batch b sits at position position_offset + t. Threads split over (batch, token).
template <class T, executor E = serial>
void apply_rope(const tensor_view<T, 4>& x, const rope_table& table, index_t position_offset = 0, const E& exec = {}) {
  static_assert(attention_detail::is_attention_float<T>, "apply_rope: x must hold float, bf16 or fp16");
  validate(x, "apply_rope: x");
  detail::require(x.extent(3) == table.head_dim(), errc::invalid_shape, "apply_rope: x.extent(3) must equal the table's head dim");
  detail::require(position_offset >= 0, errc::invalid_argument, "apply_rope: position_offset must be >= 0");
  const index_t seq = x.extent(1), heads = x.extent(2), d = x.extent(3), half = table.rotary_dim() / 2;
  exec.parallel_for(x.extent(0) * seq, [&](index_t item) {
    const index_t b = item / seq, t = item % seq;
    std::vector<float> cs(static_cast<std::size_t>(2 * half)), row(static_cast<std::size_t>(d));
    table.angles(static_cast<double>(position_offset + t), cs.data(), cs.data() + half);
    for (index_t h = 0; h < heads; ++h) {
      for (index_t c = 0; c < d; ++c) row[static_cast<std::size_t>(c)] = attention_detail::to_f32(x(b, t, h, c));
      table.rotate(row.data(), cs.data(), cs.data() + half);
      for (index_t c = 0; c < table.rotary_dim(); ++c) x(b, t, h, c) = attention_detail::from_f32<T>(row[static_cast<std::size_t>(c)]);
    }
  });
}

PACT_NAMESPACE_END
