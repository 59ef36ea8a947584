#pragma once

// The messages of twolayer's errors, for tests that check them: ThrowsWithMessage passes when
// `call` throws a c10::Error whose message (without the C++ backtrace) contains `expected`, and
// its failure text shows the actual message, which is what one needs to fix it; message_of
// gives the whole message, for tests that compare it word for word.

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

// The whole message of the c10::Error that `call` throws, or what happened instead.
inline std::string message_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return std::string("not a c10::Error: ") + e.what();
  }
  return "(no exception)";
}

}  // namespace twolayer_test
