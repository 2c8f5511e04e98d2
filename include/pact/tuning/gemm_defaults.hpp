#pragma once
// Default GEMM policies per arch and compute type, as data. Numbers for avx512 and avx2
// were measured on an Intel Xeon (Cascade Lake, L1d 32 KiB, L2 1 MiB, L3 35.75 MiB);
// see docs/gemm.md for the sweep. A generated `pact_tuned.hpp` (tools/) specialises
// `tuned_gemm_policy` to override these without touching the library.
#include "pact/gemm/policy.hpp"

PACT_NAMESPACE_BEGIN
namespace tuning {

template <class A, class T>
struct default_gemm_policy;

// scalar: a 128-bit emulated vector, 4x8 floats (portable fallback, riscv64).
template <>
struct default_gemm_policy<simd::scalar, float> : gemm_config<simd::scalar, float, 4, 8, 256, 64, 2048> {};
template <>
struct default_gemm_policy<simd::scalar, double> : gemm_config<simd::scalar, double, 4, 4, 256, 64, 2048> {};

#if defined(__x86_64__) || defined(__i386__)
// sse2: 16 xmm registers -> 6x8 floats (12 accumulators + 2 B + 1 broadcast).
template <>
struct default_gemm_policy<simd::sse2, float> : gemm_config<simd::sse2, float, 6, 8, 256, 96, 2048> {};
template <>
struct default_gemm_policy<simd::sse2, double> : gemm_config<simd::sse2, double, 6, 4, 256, 96, 2048> {};
// avx2: 6x16 floats (12 ymm accumulators + 2 B + 1 broadcast of 16). KC 256: the 16 KiB
// B sliver fits L1; MC 288 / NC 1024 with the automatic loop order: 87-88% of the AVX2 FMA
// peak at 1024^3-2048^3 on Cascade Lake with software prefetch 32 k steps ahead (the
// B-sliver order alone: 71-82%). No software prefetch in the full-tile kernel (stop 30): on
// the Intel AVX-512/AMX VM its 6 hints per 48 FMAs cost 4-5% at 512^3-2048^3 (1024^3 105.5-
// 106.2 -> 111.3-111.9 GFLOP/s), pre-packed 128 x 4096^2 1-2% slower, M <= 64 (the stream
// kernel, its own prefetch) unchanged.
template <>
struct default_gemm_policy<simd::avx2, float>
    : gemm_config<simd::avx2, float, 6, 16, 256, 288, 1024, gemm_loop_order::automatic, 0> {};
template <>
struct default_gemm_policy<simd::avx2, double>
    : gemm_config<simd::avx2, double, 6, 8, 256, 288, 1024, gemm_loop_order::automatic, 32> {};
// avx512: 14x32 floats = 28 zmm accumulators + 2 B vectors + 1 broadcast (31 of 32).
// KC 384: the 21 KiB A sliver sits in L1 next to the streaming B. MC 336 / NC 1024: for
// large M the A sliver stays in L1 while the 1.5 MiB B block is reused from L2/L3
// (a_sliver_in_l1); small M switches to the B-sliver-in-L1 order (automatic).
// Software prefetch 32 k-steps (4 KiB) ahead in B: measured +5% at 1024^3 and +40% for
// M = 8 with pre-packed 4096x4096 weights (DRAM-bound). Sweep: docs/gemm.md.
template <>
struct default_gemm_policy<simd::avx512, float>
    : gemm_config<simd::avx512, float, 14, 32, 384, 336, 1024, gemm_loop_order::automatic, 32> {};
template <>
struct default_gemm_policy<simd::avx512, double>
    : gemm_config<simd::avx512, double, 14, 16, 384, 168, 2048, gemm_loop_order::b_sliver_in_l1, 32> {};
template <class T>
struct default_gemm_policy<simd::avx512_vnni, T> : default_gemm_policy<simd::avx512, T> {};
#endif

#if defined(__aarch64__)
// neon64: 32 q registers -> 8x12 floats (24 accumulators + 3 B + 1 broadcast).
template <>
struct default_gemm_policy<simd::neon64, float> : gemm_config<simd::neon64, float, 8, 12, 256, 96, 2040> {};
template <>
struct default_gemm_policy<simd::neon64, double> : gemm_config<simd::neon64, double, 8, 6, 256, 96, 2040> {};
#endif
#if defined(__arm__)
template <>
struct default_gemm_policy<simd::neon, float> : gemm_config<simd::neon, float, 6, 8, 256, 96, 2048> {};
#endif

/// Users (or tools/pact_tune) specialise this to replace the default for an arch/type.
template <class A, class T>
struct tuned_gemm_policy : default_gemm_policy<A, T> {};

}  // namespace tuning

/// The policy pact uses when the caller names none.
template <class T, class A = simd::native_arch>
using default_gemm_policy_t = tuning::tuned_gemm_policy<A, T>;

PACT_NAMESPACE_END

// A generated policy header (tools/pact_tune), named by the build for every translation
// unit so all of them agree on the policy: -DPACT_TUNED_HEADER='"pact_tuned.hpp"'.
#if defined(PACT_TUNED_HEADER)
#include PACT_TUNED_HEADER
#endif
