#pragma once
// Arch tags: empty structs in an inheritance chain, as in xsimd. An op written for a
// parent arch serves every child arch that has no overload of its own
// (avx512_vnni -> avx512 -> avx2 -> sse2 -> generic; neon64 -> neon -> generic).
// A tag says how wide its registers are and which xsimd arch backs it; `available`
// says whether this translation unit's target flags allow using it.
#include <concepts>
#include <cstddef>

#include "pact/simd/target.hpp"

PACT_NAMESPACE_BEGIN
namespace simd {

/// Root of every chain: ops overloaded on `requires_arch<generic>` work on any arch.
struct generic {
  static constexpr const char* name = "generic";
};

/// Portable emulation of a 128-bit vector with plain C++ loops. Works everywhere,
/// including targets where xsimd declares no batch at all (riscv64).
struct scalar : generic {
  static constexpr const char* name = "scalar";
  static constexpr std::size_t bytes = 16;
  static constexpr bool available = true;
  static constexpr bool fused_fma = false;
};

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
struct sse2 : generic {
  static constexpr const char* name = "sse2";
  static constexpr std::size_t bytes = 16;
#if defined(PACT_HAS_XSIMD) && defined(__SSE2__)
  static constexpr bool available = true;
  using xsimd_arch = xsimd::sse2;
#else
  static constexpr bool available = false;
#endif
  static constexpr bool fused_fma = false;
};
struct avx2 : sse2 {
  static constexpr const char* name = "avx2";
  static constexpr std::size_t bytes = 32;
#if defined(PACT_HAS_XSIMD) && defined(__AVX2__) && defined(__FMA__)
  static constexpr bool available = true;
  using xsimd_arch = xsimd::fma3<xsimd::avx2>;
#else
  static constexpr bool available = false;
#endif
  static constexpr bool fused_fma = true;
};
/// AVX-512 F/BW/DQ/VL (Skylake-SP and later).
struct avx512 : avx2 {
  static constexpr const char* name = "avx512";
  static constexpr std::size_t bytes = 64;
#if defined(PACT_TARGET_AVX512) || defined(PACT_TARGET_AVX512_VNNI)
  static constexpr bool available = true;
  using xsimd_arch = xsimd::avx512bw;
#else
  static constexpr bool available = false;
#endif
};
/// AVX-512 plus VNNI (`vpdpbusd`, Cascade Lake and later). Same registers as avx512.
struct avx512_vnni : avx512 {
  static constexpr const char* name = "avx512_vnni";
#if defined(PACT_TARGET_AVX512_VNNI)
  static constexpr bool available = true;
#else
  static constexpr bool available = false;
#endif
};
#endif

#if defined(__arm__) || defined(__aarch64__)
/// armv7 NEON (no fused fma guaranteed, no f64 vectors).
struct neon : generic {
  static constexpr const char* name = "neon";
  static constexpr std::size_t bytes = 16;
#if defined(PACT_HAS_XSIMD) && defined(__ARM_NEON)
  static constexpr bool available = true;
  using xsimd_arch = xsimd::neon;
#else
  static constexpr bool available = false;
#endif
  static constexpr bool fused_fma = false;
};
#endif
#if defined(__aarch64__)
/// AArch64 Advanced SIMD; `sdot` is used when the target has the dotprod extension.
struct neon64 : neon {
  static constexpr const char* name = "neon64";
#if defined(PACT_HAS_XSIMD)
  static constexpr bool available = true;
  using xsimd_arch = xsimd::neon64;
#else
  static constexpr bool available = false;
#endif
  static constexpr bool fused_fma = true;
#if defined(__ARM_FEATURE_DOTPROD)
  static constexpr bool dotprod = true;
#else
  static constexpr bool dotprod = false;
#endif
};
#endif

/// A type is a SIMD arch tag if it names itself, states its register width and whether
/// this translation unit may use it.
template <class A>
concept simd_arch = std::derived_from<A, generic> && requires {
  { A::name } -> std::convertible_to<const char*>;
  { A::bytes } -> std::convertible_to<std::size_t>;
  { A::available } -> std::convertible_to<bool>;
};

/// An arch this translation unit can execute.
template <class A>
concept usable_arch = simd_arch<A> && A::available;

/// The widest arch the compiler's target flags allow (e.g. -march=native).
#if defined(PACT_TARGET_AVX512_VNNI)
using native_arch = avx512_vnni;
#elif defined(PACT_TARGET_AVX512)
using native_arch = avx512;
#elif defined(PACT_TARGET_AVX2)
using native_arch = avx2;
#elif defined(PACT_TARGET_SSE2)
using native_arch = sse2;
#elif defined(PACT_TARGET_NEON64)
using native_arch = neon64;
#elif defined(PACT_TARGET_NEON)
using native_arch = neon;
#else
using native_arch = scalar;
#endif

/// Overload tag for per-arch op implementations: a call passing `A{}` picks the most
/// derived arch that has an overload (the xsimd idiom).
template <class A>
using requires_arch = const A&;

/// Compile-time list of the archs usable in this translation unit, widest last.
template <class... As>
struct arch_list {
  static constexpr std::size_t size = sizeof...(As);
};

#if defined(PACT_TARGET_AVX512_VNNI)
using compiled_archs = arch_list<scalar, sse2, avx2, avx512, avx512_vnni>;
#elif defined(PACT_TARGET_AVX512)
using compiled_archs = arch_list<scalar, sse2, avx2, avx512>;
#elif defined(PACT_TARGET_AVX2)
using compiled_archs = arch_list<scalar, sse2, avx2>;
#elif defined(PACT_TARGET_SSE2)
using compiled_archs = arch_list<scalar, sse2>;
#elif defined(PACT_TARGET_NEON64)
using compiled_archs = arch_list<scalar, neon64>;
#elif defined(PACT_TARGET_NEON)
using compiled_archs = arch_list<scalar, neon>;
#else
using compiled_archs = arch_list<scalar>;
#endif

}  // namespace simd
PACT_NAMESPACE_END
