#pragma once
// The snippet programs' one assertion: print what failed and exit non-zero (ctest fails).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace snippet {
inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "snippet check failed: %s\n", what);
    std::exit(1);
  }
}
/// Deterministic values in [-1, 1).
inline std::vector<float> values(std::size_t n, unsigned seed = 1) {
  std::vector<float> v(n);
  unsigned s = seed * 2654435761u + 1;
  for (auto& x : v) x = static_cast<float>((s = s * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f;
  return v;
}
/// max_i |got[i] - want[i]| / max(1, |want[i]|).
inline double max_rel_err(const float* got, const std::vector<double>& want) {
  double e = 0;
  for (std::size_t i = 0; i < want.size(); ++i) e = std::fmax(e, std::fabs(got[i] - want[i]) / std::fmax(1.0, std::fabs(want[i])));
  return e;
}
}  // namespace snippet
