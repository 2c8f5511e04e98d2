// sum_exp for sse2: this file alone is compiled with -march=x86-64 (tests/dispatch/CMakeLists.txt).
#include <type_traits>

#include "sum_exp.hpp"
#include "sum_exp_kernel.hpp"

static_assert(std::is_same_v<pact::simd::native_arch, pact::simd::sse2>,
              "kernel_sse2.cpp must be compiled with -march=x86-64 (pact::simd::native_arch != sse2)");

namespace dispatch_demo::sse2 {
float sum_exp(const float* x, std::size_t n, const char** arch_name) {
  return sum_exp_native(x, n, arch_name);
}
}  // namespace dispatch_demo::sse2
