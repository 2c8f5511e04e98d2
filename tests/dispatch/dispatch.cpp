// The dispatcher: compiled for the baseline (-march=x86-64), so it runs on any x86-64 CPU,
// and it includes no pact/xsimd code itself. Feature tests use __builtin_cpu_supports (the
// CPUID bits as the compiler's runtime sees them); xsimd 8.1's available_architectures()
// misreads some bits (see shared PLATFORM.md), so it is not used.
#include "sum_exp.hpp"

namespace dispatch_demo {

sum_exp_fn select_sum_exp() noexcept {
  __builtin_cpu_init();
  // Every extension the kernel's -march lets the compiler emit must be present: pact's
  // avx512 target needs F+BW+DQ+VL (+FMA); -march=haswell also implies BMI2 and F16C.
  // [snippet dispatch_select]
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("bmi2")) {
    return &avx512::sum_exp;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c")) {
    return &avx2::sum_exp;
  }
  return &sse2::sum_exp;  // SSE2 is part of x86-64
  // [/snippet dispatch_select]
}

float sum_exp(const float* x, std::size_t n, const char** arch_name) {
  // Selected once, on first use (thread-safe static initialization).
  static const sum_exp_fn kernel = select_sum_exp();
  return kernel(x, n, arch_name);
}

}  // namespace dispatch_demo
