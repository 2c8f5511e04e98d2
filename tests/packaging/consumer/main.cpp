// Uses pact as a user would: one include, one op, print the SIMD arch the build targets.
#include <cstdio>

#include "pact/simd/simd.hpp"
#include "pact/version.hpp"

int main() {
  namespace ps = pact::simd;
  using A = ps::native_arch;
  float x[ps::lanes<float, A>];
  for (auto& v : x) v = 0.0f;
  // exp(0) = 1 in every lane, so the sum is the lane count.
  const float sum = ps::reduce_add(ps::exp(ps::load<A>(x)));
  std::printf("pact %d.%d.%d native_arch=%s lanes=%zu sum=%g\n", PACT_VERSION_MAJOR,
              PACT_VERSION_MINOR, PACT_VERSION_PATCH, A::name, ps::lanes<float, A>,
              static_cast<double>(sum));
  return sum == static_cast<float>(ps::lanes<float, A>) ? 0 : 1;
}
