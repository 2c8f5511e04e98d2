#pragma once
// The checked-entry-point convention (docs/errors.md): bad input throws pact::error with a
// code. expect_error(code, f) fails the test unless f() throws exactly that code.
#include <gtest/gtest.h>

#include "pact/core/error.hpp"

namespace pact_test {

template <class F>
void expect_error(pact::errc code, F&& f) {
  try {
    f();
    ADD_FAILURE() << "expected pact::error " << pact::to_string(code) << ", nothing was thrown";
  } catch (const pact::error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
  }
}

}  // namespace pact_test
