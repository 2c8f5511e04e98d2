#pragma once
// Plain attention for the snippet checks: o(i, h, c) for batch 0 of [1, S, heads, d]
// tensors, causal aligned bottom-right (query i sees keys 0 .. i + Skv - Sq).
#include <cmath>
#include <vector>

namespace snippet {
inline double plain_attention(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v, int Sq,
                              int Skv, int hq, int hkv, int d, bool causal, int i, int h, int c) {
  const int kh = h / (hq / hkv);
  const int last = causal ? i + Skv - Sq : Skv - 1;
  std::vector<double> s(static_cast<std::size_t>(Skv));
  double mx = -1e300, sum = 0, out = 0;
  for (int j = 0; j <= last; ++j) {
    double dot = 0;
    for (int x = 0; x < d; ++x) dot += double(q[std::size_t((i * hq + h) * d + x)]) * k[std::size_t((j * hkv + kh) * d + x)];
    s[std::size_t(j)] = dot / std::sqrt(double(d));
    mx = std::fmax(mx, s[std::size_t(j)]);
  }
  for (int j = 0; j <= last; ++j) sum += std::exp(s[std::size_t(j)] - mx);
  for (int j = 0; j <= last; ++j) out += std::exp(s[std::size_t(j)] - mx) / sum * v[std::size_t((j * hkv + kh) * d + c)];
  return out;
}
}  // namespace snippet
