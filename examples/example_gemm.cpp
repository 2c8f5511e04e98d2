// The GEMM guide's example (docs/gemm.md): a Linear layer with bias and GELU fused,
// weights packed once, two threads. CI builds and runs it.
#include <cmath>
#include <cstdio>
#include <vector>

#include "pact/gemm.hpp"

int main() {
  const int tokens = 8, in_features = 64, out_features = 48;
  std::vector<float> x(tokens * in_features), w(in_features * out_features), bias(out_features), y(tokens * out_features);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.1f * static_cast<float>(i));
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.05f * std::cos(0.07f * static_cast<float>(i));
  for (std::size_t i = 0; i < bias.size(); ++i) bias[i] = 0.01f * static_cast<float>(i);

  // Pack the weights once (K x N = in x out), reuse them for every batch of tokens.
  const auto packed_w = pact::pack_b(pact::make_row_major<const float>(w.data(), in_features, out_features));
  pact::thread_pool pool(2);
  // y = GELU(x * W + bias)
  pact::gemm(1.0f, pact::make_row_major<const float>(x.data(), tokens, in_features), packed_w, 0.0f,
             pact::make_row_major(y.data(), tokens, out_features),
             pact::epilogue::chain{pact::epilogue::bias_per_col<float>{bias.data()}, pact::epilogue::gelu_erf{}}, pool);

  // Check one element against the formula.
  double s = bias[5];
  for (int k = 0; k < in_features; ++k) s += static_cast<double>(x[3 * in_features + k]) * w[k * out_features + 5];
  const double want = 0.5 * s * (1 + std::erf(s / std::sqrt(2.0)));
  std::printf("y[3][5] = %.6f (expected %.6f)\n", y[3 * out_features + 5], want);
  return std::fabs(y[3 * out_features + 5] - want) < 1e-5 ? 0 : 1;
}
