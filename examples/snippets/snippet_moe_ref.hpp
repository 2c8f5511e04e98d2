#pragma once
// Plain SwiGLU expert FFNs for the snippet checks: out[t] = sum_s w(t, s) * FFN_e(x_t) with
// pact's routing decisions (ws.routing), weights as PyTorch stores them (W[out][in]).
#include <cmath>
#include <vector>

#include <pact/moe.hpp>

namespace snippet {
inline double moe_max_err(const pact::moe_workspace& ws, const std::vector<float>& gate, const std::vector<float>& up,
                          const std::vector<float>& down, const std::vector<float>& x, const std::vector<float>& out,
                          pact::index_t tokens, pact::index_t hidden, pact::index_t ffn, pact::index_t k) {
  double worst = 0;
  std::vector<double> h(static_cast<std::size_t>(ffn));
  for (pact::index_t t = 0; t < tokens; ++t)
    for (pact::index_t j = 0; j < hidden; ++j) {
      double want = 0;
      for (pact::index_t s = 0; s < k; ++s) {
        const pact::index_t e = ws.routing.expert_of(t, s);
        const float* g = &gate[std::size_t(e * ffn * hidden)];
        const float* u = &up[std::size_t(e * ffn * hidden)];
        const float* d = &down[std::size_t(e * hidden * ffn)];
        double y = 0;
        for (pact::index_t f = 0; f < ffn; ++f) {
          double a = 0, b = 0;
          for (pact::index_t i = 0; i < hidden; ++i) {
            a += double(g[f * hidden + i]) * x[std::size_t(t * hidden + i)];
            b += double(u[f * hidden + i]) * x[std::size_t(t * hidden + i)];
          }
          y += double(d[j * ffn + f]) * (a / (1 + std::exp(-a)) * b);
        }
        want += ws.routing.weight_of(t, s) * y;
      }
      worst = std::fmax(worst, std::fabs(want - out[std::size_t(t * hidden + j)]));
    }
  return worst;
}
}  // namespace snippet
