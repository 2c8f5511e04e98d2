#pragma once
// Typed-test support: run a test body once per SIMD arch this build can execute.
#include <gtest/gtest.h>

#include "pact/simd/arch.hpp"

namespace pact_test {
template <class List>
struct to_gtest_types;
template <class... As>
struct to_gtest_types<pact::simd::arch_list<As...>> {
  using type = ::testing::Types<As...>;
};
using compiled_archs = typename to_gtest_types<pact::simd::compiled_archs>::type;

struct arch_name {
  template <class A>
  static std::string GetName(int) {
    return A::name;
  }
};
}  // namespace pact_test
