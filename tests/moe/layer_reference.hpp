#pragma once
// Shared pieces of the MoE layer tests: random expert sets (row-major and PyTorch layout),
// the float64 reference layer, comparison. Nothing here calls the
// code under test except the view helpers that wrap the test's own arrays.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "moe/moe_reference.hpp"
#include "pact/moe.hpp"
#include "pact/types/bf16.hpp"
#include "support/arch_list.hpp"
#include "support/reference.hpp"
#include "support/expect_error.hpp"

namespace pact_test::moe_layer {
namespace ref = pact_test::moe_ref;
using pact::index_t;
using pact_test::expect_error;
/// Random expert weights stored (in x out) row-major, plus the transposed (out x in)
/// PyTorch copies, and bf16-rounded copies of both.
struct expert_set {
  index_t E, H, F;
  std::vector<float> gate, up, down;           // E x H x F, E x H x F, E x F x H
  std::vector<float> gate_t, up_t, down_t;     // E x F x H, E x F x H, E x H x F
  expert_set(index_t e, index_t h, index_t f, std::uint32_t seed, bool bf16_exact = false) : E(e), H(h), F(f) {
    const double s = 1.0 / std::sqrt(static_cast<double>(std::max(h, f)));
    gate = pact_test::random_values<float>(static_cast<std::size_t>(E * H * F), seed, -2 * s, 2 * s);
    up = pact_test::random_values<float>(static_cast<std::size_t>(E * H * F), seed + 1, -2 * s, 2 * s);
    down = pact_test::random_values<float>(static_cast<std::size_t>(E * F * H), seed + 2, -2 * s, 2 * s);
    if (bf16_exact)
      for (auto* v : {&gate, &up, &down})
        for (auto& x : *v) x = static_cast<float>(pact::bf16(x));
    gate_t = transpose(gate, H, F);
    up_t = transpose(up, H, F);
    down_t = transpose(down, F, H);
  }
  std::vector<float> transpose(const std::vector<float>& m, index_t r, index_t c) const {
    std::vector<float> t(m.size());
    for (index_t e = 0; e < E; ++e)
      for (index_t i = 0; i < r; ++i)
        for (index_t j = 0; j < c; ++j) t[static_cast<std::size_t>(e * r * c + j * r + i)] = m[static_cast<std::size_t>(e * r * c + i * c + j)];
    return t;
  }
  std::vector<double> ffn(index_t e, const float* x) const {
    std::vector<double> xd(x, x + H);
    const auto at = [&](const std::vector<float>& m, index_t cols) {
      return [&m, cols, e, this](int i, int j) { return static_cast<double>(m[static_cast<std::size_t>(e * H * F + i * cols + j)]); };
    };
    return ref::expert_ffn(xd, static_cast<int>(H), static_cast<int>(F), at(gate, F), at(up, F), at(down, H));
  }
  template <class P>
  pact::expert_weight_views<float, pact::row_major, P> views() const {
    return pact::stacked_expert_views<float, pact::row_major, P>(gate.data(), up.data(), down.data(), E, H, F);
  }
  template <class P>
  pact::expert_weight_views<float, pact::col_major, P> torch_views() const {
    return pact::stacked_expert_views<float, pact::col_major, P>(gate_t.data(), up_t.data(), down_t.data(), E, H, F);
  }
};

/// out_ref[t] = sum over kept pairs (t, s) of weight * FFN_e(x_t) + sum_j shared_j(x_t).
inline std::vector<double> reference_layer(const pact::moe_routing& r, const std::vector<bool>& kept, const expert_set& ex,
                                    const expert_set* shared, const std::vector<float>& x) {
  const index_t T = r.tokens, H = ex.H;
  std::vector<double> out(static_cast<std::size_t>(T * H), 0.0);
  for (index_t t = 0; t < T; ++t) {
    for (index_t s = 0; s < r.k; ++s) {
      if (!kept[static_cast<std::size_t>(t * r.k + s)]) continue;
      const auto y = ex.ffn(r.expert_of(t, s), x.data() + t * H);
      for (index_t j = 0; j < H; ++j) out[static_cast<std::size_t>(t * H + j)] += r.weight_of(t, s) * y[static_cast<std::size_t>(j)];
    }
    if (shared != nullptr)
      for (index_t e = 0; e < shared->E; ++e) {
        const auto y = shared->ffn(e, x.data() + t * H);
        for (index_t j = 0; j < H; ++j) out[static_cast<std::size_t>(t * H + j)] += y[static_cast<std::size_t>(j)];
      }
  }
  return out;
}

inline void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  double scale = 1;
  for (double w : want) scale = std::max(scale, std::fabs(w));
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * scale) << what << " element " << i;
}

inline std::vector<bool> all_kept(const pact::moe_routing& r) { return std::vector<bool>(static_cast<std::size_t>(r.tokens * r.k), true); }
}  // namespace pact_test::moe_layer
