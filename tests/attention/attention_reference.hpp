#pragma once
// Plain float64 attention reference: materializes every score row, applies the options in
// the documented order and normalizes with a two-pass softmax. Never calls pact kernels.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace pact_test {

struct ref_options {
  double scale = 0;  // 0 -> 1/sqrt(d)
  bool causal = false;
  long window_left = -1, window_right = -1;
  double softcap = 0;
  std::vector<double> slopes, sinks;
  const std::vector<double>* mask = nullptr;  // dense [mask_b][mask_h][Sq][Skv]
  long mask_b = 1, mask_h = 1;
};

/// q [B][Sq][Hq][d], k/v [B][Skv][Hkv][d] dense float64; returns o [B][Sq][Hq][d].
inline std::vector<double> ref_attention(const std::vector<double>& q, const std::vector<double>& k,
                                         const std::vector<double>& v, long B, long Sq, long Skv, long Hq, long Hkv,
                                         long d, const ref_options& opt) {
  std::vector<double> o(static_cast<std::size_t>(B * Sq * Hq * d), 0.0);
  const double scale = opt.scale != 0 ? opt.scale : 1.0 / std::sqrt(static_cast<double>(d));
  const long g = Hq / Hkv;
  const double ninf = -std::numeric_limits<double>::infinity();
  std::vector<double> s(static_cast<std::size_t>(Skv));
  for (long b = 0; b < B; ++b)
    for (long h = 0; h < Hq; ++h)
      for (long i = 0; i < Sq; ++i) {
        const long kh = h / g;
        const long pos = i + (Skv - Sq);
        const long right = opt.causal ? 0 : opt.window_right;
        for (long j = 0; j < Skv; ++j) {
          double dot = 0;
          for (long c = 0; c < d; ++c)
            dot += q[static_cast<std::size_t>(((b * Sq + i) * Hq + h) * d + c)] *
                   k[static_cast<std::size_t>(((b * Skv + j) * Hkv + kh) * d + c)];
          double x = scale * dot;
          if (opt.softcap > 0) x = opt.softcap * std::tanh(x / opt.softcap);
          if (!opt.slopes.empty()) x -= opt.slopes[static_cast<std::size_t>(h)] * std::abs(static_cast<double>(pos - j));
          if (opt.mask) {
            const long mb = opt.mask_b == 1 ? 0 : b, mh = opt.mask_h == 1 ? 0 : h;
            x += (*opt.mask)[static_cast<std::size_t>(((mb * opt.mask_h + mh) * Sq + i) * Skv + j)];
          }
          if (opt.window_left >= 0 && j < pos - opt.window_left) x = ninf;
          if (right >= 0 && j > pos + right) x = ninf;
          s[static_cast<std::size_t>(j)] = x;
        }
        double mx = opt.sinks.empty() ? ninf : opt.sinks[static_cast<std::size_t>(h)];
        for (double x : s) mx = std::max(mx, x);
        if (mx == ninf) continue;  // every key masked, no sink: zeros
        double sum = opt.sinks.empty() ? 0.0 : std::exp(opt.sinks[static_cast<std::size_t>(h)] - mx);
        for (auto& x : s) {
          x = std::exp(x - mx);
          sum += x;
        }
        for (long j = 0; j < Skv; ++j)
          for (long c = 0; c < d; ++c)
            o[static_cast<std::size_t>(((b * Sq + i) * Hq + h) * d + c)] +=
                s[static_cast<std::size_t>(j)] / sum * v[static_cast<std::size_t>(((b * Skv + j) * Hkv + kh) * d + c)];
      }
  return o;
}

/// Normalized mean squared error sum (x - r)^2 / sum r^2 (NaN in x -> +inf).
template <class T>
double nmse(const std::vector<T>& x, const std::vector<double>& r) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    const double xi = static_cast<double>(static_cast<float>(x[i]));
    if (!std::isfinite(xi)) return std::numeric_limits<double>::infinity();
    num += (xi - r[i]) * (xi - r[i]);
    den += r[i] * r[i];
  }
  return den == 0 ? num : num / den;
}

}  // namespace pact_test
