// sum_exp for avx2: this file alone is compiled with -march=haswell (tests/dispatch/CMakeLists.txt).
#include <type_traits>

#include "sum_exp.hpp"
#include "sum_exp_kernel.hpp"

// [snippet dispatch_arch_check]
static_assert(std::is_same_v<pact::simd::native_arch, pact::simd::avx2>,
              "kernel_avx2.cpp must be compiled with -march=haswell (pact::simd::native_arch != avx2)");
// [/snippet dispatch_arch_check]

namespace dispatch_demo::avx2 {
float sum_exp(const float* x, std::size_t n, const char** arch_name) {
  return sum_exp_native(x, n, arch_name);
}
}  // namespace dispatch_demo::avx2
