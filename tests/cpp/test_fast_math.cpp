// The float32 exp, tanh, logistic and softplus of the fused CPU loops against the correctly
// rounded double-precision std:: functions, over their whole useful range.

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "ops/cpu/fast_math.h"

namespace {

using twolayer::cpu::fast_exp;
using twolayer::cpu::fast_tanh;
using twolayer::cpu::log1p_unit;
using twolayer::cpu::Math;

// A few float ulps, relative; `floor` for results that flush to zero below float's normal range.
constexpr double kRelative = 5e-7;

::testing::AssertionResult Near(float actual, double expected, double floor = 0.0) {
  const double err = std::abs(static_cast<double>(actual) - expected);
  if (err <= kRelative * std::abs(expected) + floor) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << actual << ", expected " << expected
                                       << " (error " << err << ")";
}

template <typename F>
void for_samples(float lo, float hi, F&& check) {
  std::mt19937 generator(12345);
  std::uniform_real_distribution<float> uniform(lo, hi);
  for (int i = 0; i < 200000; ++i) check(uniform(generator));
}

TEST(FastMath, ExpOverItsRange) {
  for_samples(-87.0f, 88.0f, [](float x) { ASSERT_TRUE(Near(fast_exp(x), std::exp(double(x)))) << x; });
  EXPECT_EQ(fast_exp(-100.0f), 0.0f);  // below the normal range: flushed, never garbage
  EXPECT_EQ(fast_exp(0.0f), 1.0f);
}

TEST(FastMath, TanhIncludingTinyAndSaturatedArguments) {
  for_samples(-12.0f, 12.0f, [](float x) { ASSERT_TRUE(Near(fast_tanh(x), std::tanh(double(x)))) << x; });
  // Small arguments: where 1 - 2/(e^2x + 1) would cancel.
  for (int e = 1; e < 60; ++e) {
    const float x = std::ldexp(0.7f, -e);
    ASSERT_TRUE(Near(fast_tanh(x), std::tanh(double(x)))) << x;
    ASSERT_TRUE(Near(fast_tanh(-x), std::tanh(-double(x)))) << x;
  }
  EXPECT_EQ(fast_tanh(1e30f), 1.0f);
  EXPECT_EQ(fast_tanh(-1e30f), -1.0f);
  EXPECT_EQ(fast_tanh(0.0f), 0.0f);
}

TEST(FastMath, Log1pOnTheUnitInterval) {
  for_samples(0.0f, 1.0f, [](float u) { ASSERT_TRUE(Near(log1p_unit(u), std::log1p(double(u)))) << u; });
  for (int e = 1; e < 120; ++e) {
    const float u = std::ldexp(0.9f, -e);
    ASSERT_TRUE(Near(log1p_unit(u), std::log1p(double(u)))) << u;
  }
}

TEST(FastMath, LogisticAndSoftplusAcrossLargeLogits) {
  for_samples(-120.0f, 120.0f, [](float z) {
    const double zd = z;
    const double logistic = zd >= 0 ? 1 / (1 + std::exp(-zd)) : std::exp(zd) / (1 + std::exp(zd));
    const double softplus = std::max(zd, 0.0) + std::log1p(std::exp(-std::abs(zd)));
    ASSERT_TRUE(Near(Math<float>::logistic(z), logistic, 1e-37)) << z;
    ASSERT_TRUE(Near(Math<float>::softplus(z), softplus, 1e-37)) << z;
  });
  EXPECT_EQ(Math<float>::softplus(1e4f), 1e4f);  // no overflow for huge logits
  EXPECT_EQ(Math<float>::logistic(-1e4f), 0.0f);
  EXPECT_EQ(Math<float>::logistic(1e4f), 1.0f);
}

}  // namespace
