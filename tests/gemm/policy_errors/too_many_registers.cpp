// Must NOT compile: a 16 x 64 tile does not fit the register file.
#include "pact/gemm.hpp"
using bad = pact::gemm_config<pact::simd::scalar, float, 16, 64, 64, 16, 64>;
void f(const float* a, const float* b, float* c) {
  pact::gemm<bad>(1.0f, pact::make_row_major(a, 4, 4), pact::make_row_major(b, 4, 4), 0.0f, pact::make_row_major(c, 4, 4));
}
