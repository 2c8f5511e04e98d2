// Must NOT compile: nr = 20 is not a multiple of the vector lanes. The ctest checks that
// the compiler's message contains the policy sentence, not just that it fails.
#include "pact/gemm.hpp"
using bad = pact::gemm_config<pact::simd::scalar, float, 4, 6, 64, 8, 12>;
void f(const float* a, const float* b, float* c) {
  pact::gemm<bad>(1.0f, pact::make_row_major(a, 4, 4), pact::make_row_major(b, 4, 4), 0.0f, pact::make_row_major(c, 4, 4));
}
