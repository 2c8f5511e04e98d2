#pragma once
// Typed-test support: run a test body once per SIMD arch this build can execute.
#include <gtest/gtest.h>

#include <type_traits>

#include "pact/simd/arch.hpp"

namespace pact_test {
template <class List>
struct to_gtest_types;
template <class... As>
struct to_gtest_types<pact::simd::arch_list<As...>> {
  using type = ::testing::Types<As...>;
};
#if defined(PACT_TEST_WIDEST_ARCH_ONLY)
// PACT_TEST_ARCHS=widest (the sanitizer build): the widest arch only.
using compiled_archs = ::testing::Types<pact::simd::native_arch>;
using float_archs = compiled_archs;
#elif defined(PACT_TEST_NATIVE_ARCH_ONLY)
// PACT_TEST_ARCHS=native (haswell, x86-64, cross builds): the widest arch and the scalar
// fallback only; the release build runs the arches in between.
using compiled_archs = std::conditional_t<std::is_same_v<pact::simd::native_arch, pact::simd::scalar>,
                                          ::testing::Types<pact::simd::scalar>,
                                          ::testing::Types<pact::simd::native_arch, pact::simd::scalar>>;
using float_archs = compiled_archs;
#else
using compiled_archs = typename to_gtest_types<pact::simd::compiled_archs>::type;
// Suites of float-only kernels skip avx512_vnni: it differs from avx512 only in integer dot
// products (vpdpbusd), so they would compile and run the same code twice.
#if defined(PACT_TARGET_AVX512_VNNI)
using float_archs = to_gtest_types<pact::simd::arch_list<pact::simd::scalar, pact::simd::sse2, pact::simd::avx2,
                                                         pact::simd::avx512>>::type;
#else
using float_archs = compiled_archs;
#endif
#endif

struct arch_name {
  template <class A>
  static std::string GetName(int) {
    return A::name;
  }
};
}  // namespace pact_test
