#pragma once
// The runtime-dispatch demo's interface: one sum_exp per instruction set, each defined in
// its own translation unit compiled with that ISA's flags (kernel_<isa>.cpp), and a
// dispatcher compiled for the baseline. See docs/dispatch.md.
#include <cstddef>

namespace dispatch_demo {

/// Signature shared by every per-ISA kernel: returns sum(exp(x[i])) for i < n and sets
/// *arch_name to the pact arch the kernel was compiled for.
using sum_exp_fn = float (*)(const float* x, std::size_t n, const char** arch_name);

namespace avx512 { float sum_exp(const float* x, std::size_t n, const char** arch_name); }
namespace avx2 { float sum_exp(const float* x, std::size_t n, const char** arch_name); }
namespace sse2 { float sum_exp(const float* x, std::size_t n, const char** arch_name); }

/// The kernel for the CPU this process runs on, chosen once with __builtin_cpu_supports.
sum_exp_fn select_sum_exp() noexcept;

/// Calls the selected kernel.
float sum_exp(const float* x, std::size_t n, const char** arch_name);

}  // namespace dispatch_demo
