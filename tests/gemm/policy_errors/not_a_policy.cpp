// Must NOT compile: a type without the policy members.
#include "pact/gemm.hpp"
struct not_a_policy {};
void f(const float* a, const float* b, float* c) {
  pact::gemm<not_a_policy>(1.0f, pact::make_row_major(a, 4, 4), pact::make_row_major(b, 4, 4), 0.0f, pact::make_row_major(c, 4, 4));
}
