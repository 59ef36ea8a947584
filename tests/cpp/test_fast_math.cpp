// The float32 exp, tanh, logistic and softplus of the fused CPU loops against the correctly
// rounded double-precision std:: functions, over their whole useful range: the scalar versions
// and, lane by lane, the 8-lane vector versions the small-net kernel runs.

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "ops/cpu/fast_math.h"

namespace {

using twolayer::cpu::fast_exp;
using twolayer::cpu::fast_logit;
using twolayer::cpu::fast_tanh;
using twolayer::cpu::log1p_unit;
using twolayer::cpu::VFloat;

// A few float ulps, relative; `floor` for results that flush to zero below float's normal range.
constexpr double kRelative = 5e-7;

::testing::AssertionResult Near(float actual, double expected, double floor = 0.0) {
  const double err = std::abs(static_cast<double>(actual) - expected);
  if (err <= kRelative * std::abs(expected) + floor) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got " << actual << ", expected " << expected << " (error " << err << ")";
}

// f applied to x as a scalar, and as lane `lane` of a vector whose other lanes hold other values:
// both must pass `check`.
template <typename F, typename Check>
void both_ways(float x, int lane, F&& f, Check&& check) {
  check(f(x));
  VFloat v;
  for (int l = 0; l < 8; ++l) v[l] = l == lane ? x : 0.25f * static_cast<float>(l);
  check(f(v)[lane]);
}

template <typename F>
void for_samples(float lo, float hi, F&& check) {
  std::mt19937 generator(12345);
  std::uniform_real_distribution<float> uniform(lo, hi);
  for (int i = 0; i < 200000; ++i) check(uniform(generator), i % 8);
}

const auto exp_ = [](auto x) { return fast_exp(x); };
const auto tanh_ = [](auto x) { return fast_tanh(x); };
const auto log1p_ = [](auto x) { return log1p_unit(x); };
const auto logistic_ = [](auto x) { return fast_logit(x).logistic; };
const auto softplus_ = [](auto x) { return fast_logit(x).softplus; };

TEST(FastMath, ExpOverItsRange) {
  for_samples(-87.0f, 88.0f, [](float x, int lane) {
    both_ways(x, lane, exp_, [&](float y) { ASSERT_TRUE(Near(y, std::exp(double(x)))) << x; });
  });
  both_ways(-100.0f, 3, exp_, [](float y) { EXPECT_EQ(y, 0.0f); });  // flushed, never garbage
  both_ways(0.0f, 5, exp_, [](float y) { EXPECT_EQ(y, 1.0f); });
  both_ways(NAN, 7, exp_, [](float y) { EXPECT_TRUE(std::isnan(y)); });
}

TEST(FastMath, TanhIncludingTinyAndSaturatedArguments) {
  for_samples(-12.0f, 12.0f, [](float x, int lane) {
    both_ways(x, lane, tanh_, [&](float y) { ASSERT_TRUE(Near(y, std::tanh(double(x)))) << x; });
  });
  // Small arguments: where 1 - 2/(e^2x + 1) would cancel.
  for (int e = 1; e < 60; ++e) {
    for (const float x : {std::ldexp(0.7f, -e), -std::ldexp(0.7f, -e)}) {
      both_ways(x, e % 8, tanh_, [&](float y) { ASSERT_TRUE(Near(y, std::tanh(double(x)))) << x; });
    }
  }
  both_ways(1e30f, 1, tanh_, [](float y) { EXPECT_EQ(y, 1.0f); });
  both_ways(-1e30f, 2, tanh_, [](float y) { EXPECT_EQ(y, -1.0f); });
  both_ways(0.0f, 0, tanh_, [](float y) { EXPECT_EQ(y, 0.0f); });
  both_ways(NAN, 6, tanh_, [](float y) { EXPECT_TRUE(std::isnan(y)); });
}

// The derivatives backpropagation takes from the activations, g1' = 1 - A1^2 for tanh and
// A1 (1 - A1) for the logistic, lose their relative accuracy where A1 nears +-1: they are then
// differences of float numbers a few ulps apart. There the fast functions must do as well as
// the correctly rounded float value (std:: in double, rounded to float) does, band by band, and
// never give 0 where that does not.
template <typename F, typename Derivative, typename Exact>
void derivative_as_accurate_as_rounding(float lo, float hi, double factor, F&& f, Derivative&& g,
                                        Exact&& exact) {
  for (float band = lo; band < hi; band += 0.5f) {
    double ours = 0, rounded = 0;
    int n = 0;
    for (float x = band; x < band + 0.5f; x += 1.0f / 4096) {
      const double reference = g(exact(double(x)));
      const float fast_scalar = f(x);
      VFloat v;
      for (int l = 0; l < 8; ++l) v[l] = x - 0.01f * static_cast<float>(l == 3 ? 0 : l);
      const float fast_lane = f(v)[3];
      const float correctly_rounded = static_cast<float>(exact(double(x)));
      if (g(correctly_rounded) != 0.0f) {
        ASSERT_NE(g(fast_scalar), 0.0f) << x;
        ASSERT_NE(g(fast_lane), 0.0f) << x;
      }
      ours += std::abs(g(fast_scalar) - reference) / reference +
              std::abs(g(fast_lane) - reference) / reference;
      rounded += 2 * std::abs(g(correctly_rounded) - reference) / reference;
      ++n;
    }
    // Relative: `factor` times rounding's error, plus a few float ulps for the bands where the
    // derivative is far from 0 and both errors are at the level of an ulp.
    EXPECT_LE(ours / n, factor * rounded / n + 2e-7)
        << "band [" << band << ", " << band + 0.5f << ")";
  }
}

TEST(FastMath, TanhDerivativeWhereTanhSaturates) {
  const auto g = [](auto t) { return 1 - t * t; };
  const auto exact = [](double x) { return std::tanh(x); };
  derivative_as_accurate_as_rounding(0.5f, 9.0f, 1.5, tanh_, g, exact);
  derivative_as_accurate_as_rounding(-9.0f, -0.5f, 1.5, tanh_, g, exact);
  // Where float's tanh is below 1, so is this one's: 9.01 is where it rounds to 1.
  both_ways(9.0f, 2, tanh_, [](float y) { EXPECT_LT(y, 1.0f); });
  both_ways(9.02f, 2, tanh_, [](float y) { EXPECT_EQ(y, 1.0f); });
}

TEST(FastMath, LogisticDerivativeWhereTheLogisticSaturates) {
  const auto g = [](auto a) { return a * (1 - a); };
  const auto logistic = [](double z) { return 1 / (1 + std::exp(-z)); };
  // 1 / (1 + e^-z) rounds twice (the sum, the quotient), as torch.sigmoid does: torch's own
  // A (1 - A) is 2.2 times rounding's error for z in [3, 12].
  derivative_as_accurate_as_rounding(-80.0f, 16.0f, 2.5, logistic_, g, logistic);
}

TEST(FastMath, Log1pOnTheUnitInterval) {
  for_samples(0.0f, 1.0f, [](float u, int lane) {
    both_ways(u, lane, log1p_, [&](float y) { ASSERT_TRUE(Near(y, std::log1p(double(u)))) << u; });
  });
  for (int e = 1; e < 120; ++e) {
    const float u = std::ldexp(0.9f, -e);
    both_ways(u, e % 8, log1p_, [&](float y) { ASSERT_TRUE(Near(y, std::log1p(double(u)))) << u; });
  }
}

TEST(FastMath, LogisticAndSoftplusAcrossLargeLogits) {
  for_samples(-120.0f, 120.0f, [](float z, int lane) {
    const double zd = z;
    const double logistic = zd >= 0 ? 1 / (1 + std::exp(-zd)) : std::exp(zd) / (1 + std::exp(zd));
    const double softplus = std::max(zd, 0.0) + std::log1p(std::exp(-std::abs(zd)));
    both_ways(z, lane, logistic_, [&](float y) { ASSERT_TRUE(Near(y, logistic, 1e-37)) << z; });
    both_ways(z, lane, softplus_, [&](float y) { ASSERT_TRUE(Near(y, softplus, 1e-37)) << z; });
  });
  both_ways(1e4f, 4, softplus_, [](float y) { EXPECT_EQ(y, 1e4f); });  // no overflow
  both_ways(-1e4f, 5, logistic_, [](float y) { EXPECT_EQ(y, 0.0f); });
  both_ways(1e4f, 6, logistic_, [](float y) { EXPECT_EQ(y, 1.0f); });
  both_ways(NAN, 7, logistic_, [](float y) { EXPECT_TRUE(std::isnan(y)); });
  both_ways(NAN, 0, softplus_, [](float y) { EXPECT_TRUE(std::isnan(y)); });
}

}  // namespace
