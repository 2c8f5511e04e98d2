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
#if defined(PACT_TEST_NATIVE_ARCH_ONLY)
// PACT_TEST_ARCHS=native (the sanitizer build): the widest arch and the scalar fallback
// only; the release, haswell and x86-64 builds run the arches in between.
using compiled_archs = std::conditional_t<std::is_same_v<pact::simd::native_arch, pact::simd::scalar>,
                                          ::testing::Types<pact::simd::scalar>,
                                          ::testing::Types<pact::simd::native_arch, pact::simd::scalar>>;
#else
using compiled_archs = typename to_gtest_types<pact::simd::compiled_archs>::type;
#endif

struct arch_name {
  template <class A>
  static std::string GetName(int) {
    return A::name;
  }
};
}  // namespace pact_test
