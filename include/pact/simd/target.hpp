#pragma once
// Which instruction set this translation unit is compiled for, decided once from the
// compiler's target macros (never from -march inside the library), and the namespace
// that keeps code compiled for different targets apart.
//
// Every pact definition lives in `pact::PACT_TARGET_NS` (an inline namespace, so users
// just write `pact::`). Two translation units built with different -m flags therefore
// never share an inline function or a template instantiation: the linker cannot pick
// an AVX-512 copy of a helper for a binary that later runs on an AVX2-only machine.
// This is what makes the runtime-dispatch pattern (docs/dispatch.md) safe.

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__) && defined(__FMA__)
#define PACT_TARGET_AVX512_VNNI 1
#define PACT_TARGET_NS target_avx512_vnni
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && \
    defined(__AVX512VL__) && defined(__FMA__)
#define PACT_TARGET_AVX512 1
#define PACT_TARGET_NS target_avx512
#elif defined(__AVX2__) && defined(__FMA__)
#define PACT_TARGET_AVX2 1
#define PACT_TARGET_NS target_avx2
#elif defined(__SSE2__) && !defined(__AVX__)
#define PACT_TARGET_SSE2 1
#define PACT_TARGET_NS target_sse2
#elif defined(__SSE2__)
// AVX without AVX2+FMA: pact runs its SSE2 kernels, but the compiler emits VEX code,
// so this must not share a namespace with a plain SSE2 build.
#define PACT_TARGET_SSE2 1
#define PACT_TARGET_NS target_sse2_vex
#elif defined(__aarch64__) && defined(__ARM_NEON)
#define PACT_TARGET_NEON64 1
#if defined(__ARM_FEATURE_DOTPROD)
#define PACT_TARGET_NS target_neon64_dotprod
#else
#define PACT_TARGET_NS target_neon64
#endif
#elif defined(__arm__) && defined(__ARM_NEON)
#define PACT_TARGET_NEON 1
#define PACT_TARGET_NS target_neon
#else
#define PACT_TARGET_SCALAR 1
#define PACT_TARGET_NS target_scalar
#endif

// xsimd is used for every target it supports; on the others (riscv64, plain x86 without
// SSE2, ...) it declares no batch at all and pact falls back to its own scalar arch.
#if !defined(PACT_TARGET_SCALAR)
#include <xsimd/xsimd.hpp>
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
#error "pact: xsimd reports no architecture for a target pact expected it to support"
#endif
#define PACT_HAS_XSIMD 1
#endif

#define PACT_NAMESPACE_BEGIN \
  namespace pact {           \
  inline namespace PACT_TARGET_NS {
#define PACT_NAMESPACE_END \
  }                        \
  }

#if defined(__GNUC__)
#define PACT_ALWAYS_INLINE inline __attribute__((always_inline))
#define PACT_ALWAYS_INLINE_LAMBDA __attribute__((always_inline))
#define PACT_NOINLINE __attribute__((noinline))
#define PACT_RESTRICT __restrict__
#else
#define PACT_ALWAYS_INLINE inline
#define PACT_ALWAYS_INLINE_LAMBDA
#define PACT_NOINLINE
#define PACT_RESTRICT
#endif
