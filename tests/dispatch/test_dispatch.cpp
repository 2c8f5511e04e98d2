// Runs the dispatched sum_exp, prints which ISA was selected and checks the result
// against a double-precision reference.
//   test_dispatch [--expect avx512|avx2|sse2]
// Exit codes: 0 pass, 1 wrong result, 2 unexpected arch, 3 bad arguments.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "sum_exp.hpp"

int main(int argc, char** argv) {
  const char* expect = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
      expect = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--expect avx512|avx2|sse2]\n", argv[0]);
      return 3;
    }
  }

  // 1000 + 37 elements: several full vectors of every width plus a tail; x in [-10, 4]
  // (exp spans ~5e-5 .. 55, so small terms matter in the sum).
  constexpr std::size_t n = 1037;
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = -10.0f + 14.0f * static_cast<float>((i * 7919) % n) / n;
  double reference = 0.0;
  for (float v : x) reference += std::exp(static_cast<double>(v));

  const char* arch = "?";
  const float got = dispatch_demo::sum_exp(x.data(), n, &arch);
  const double rel_err = std::fabs(static_cast<double>(got) - reference) / reference;
  // pact's exp is accurate to a few ulp; a float sum of ~1000 positive terms in 4..16 lanes
  // loses at most ~n/lanes * 2^-24 relative: 1e-5 leaves a wide margin.
  const double tolerance = 1e-5;
  std::printf("selected arch: %s\nsum_exp = %.9g, reference = %.12g, relative error = %.3g\n", arch,
              static_cast<double>(got), reference, rel_err);

  if (!(rel_err <= tolerance)) {
    std::printf("FAIL: relative error above %.1g\n", tolerance);
    return 1;
  }
  if (expect != nullptr && std::strcmp(expect, arch) != 0) {
    std::printf("FAIL: expected arch %s, dispatch selected %s\n", expect, arch);
    return 2;
  }
  std::printf("PASS\n");
  return 0;
}
