#pragma once

// Passes when `call` throws a c10::Error whose message (without the C++ backtrace) contains
// `expected`; the failure text shows the actual message, which is what one needs to fix it.

#include <functional>
#include <string>

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace twolayer_test {

inline ::testing::AssertionResult ThrowsWithMessage(const std::function<void()>& call,
                                                    const std::string& expected) {
  try {
    call();
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    if (message.find(expected) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "message was:\n  " << message << "\nexpected it to contain:\n  " << expected;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw something other than c10::Error: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw; expected:\n  " << expected;
}

}  // namespace twolayer_test
