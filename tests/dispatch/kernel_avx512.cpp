// sum_exp for avx512: this file alone is compiled with -march=skylake-avx512 (tests/dispatch/CMakeLists.txt).
#include <type_traits>

#include "sum_exp.hpp"
#include "sum_exp_kernel.hpp"

static_assert(std::is_same_v<pact::simd::native_arch, pact::simd::avx512>,
              "kernel_avx512.cpp must be compiled with -march=skylake-avx512 (pact::simd::native_arch != avx512)");

namespace dispatch_demo::avx512 {
float sum_exp(const float* x, std::size_t n, const char** arch_name) {
  return sum_exp_native(x, n, arch_name);
}
}  // namespace dispatch_demo::avx512
