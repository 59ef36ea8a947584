// The float64 exp, tanh, log1p, logistic and softplus of the fused CPU loops against long double
// std:: functions, over their whole useful range: the scalar versions and, lane by lane, the
// 4-lane vector versions. The float64 steps compare with autograd to a relative 1e-10; these
// must stay within a few double ulps.

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "ops/cpu/fast_math.h"

namespace {

using twolayer::cpu::exp_f64;
using twolayer::cpu::log1p_unit_f64;
using twolayer::cpu::logit_f64;
using twolayer::cpu::Math;
using twolayer::cpu::tanh_f64;
using twolayer::cpu::VDouble;

// A few double ulps, relative; `floor` for results that flush to zero below the normal range.
constexpr long double kRelative = 2e-15L;

::testing::AssertionResult Near(double actual, long double expected, long double floor = 0) {
  const long double err = std::fabs(static_cast<long double>(actual) - expected);
  if (err <= kRelative * std::fabs(expected) + floor) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got " << actual << ", expected " << static_cast<double>(expected) << " (error "
         << static_cast<double>(err) << ")";
}

// f applied to x as a scalar, and as lane `lane` of a vector whose other lanes hold other values.
template <typename F, typename Check>
void both_ways(double x, int lane, F&& f, Check&& check) {
  check(f(x));
  VDouble v;
  for (int l = 0; l < 4; ++l) v[l] = l == lane ? x : 0.375 * l - 0.5;
  check(f(v)[lane]);
}

template <typename F>
void for_samples(double lo, double hi, F&& check) {
  std::mt19937_64 generator(2024);
  std::uniform_real_distribution<double> uniform(lo, hi);
  for (int i = 0; i < 200000; ++i) check(uniform(generator), i % 4);
}

const auto exp_ = [](auto x) { return exp_f64(x); };
const auto tanh_ = [](auto x) { return tanh_f64(x); };
const auto log1p_ = [](auto x) { return log1p_unit_f64(x); };
const auto logistic_ = [](auto x) { return logit_f64(x).logistic; };
const auto softplus_ = [](auto x) { return logit_f64(x).softplus; };
const auto softplus_of_minus_ = [](auto x) { return logit_f64(x).softplus_of_minus; };
const auto sigmoid_ = [](auto x) { return Math<decltype(x)>::logistic(x); };

TEST(FastMathF64, ExpOverItsRange) {
  for_samples(-708.0, 709.0, [](double x, int lane) {
    both_ways(x, lane, exp_,
              [&](double y) { ASSERT_TRUE(Near(y, std::exp((long double)x))) << x; });
  });
  for_samples(-1.0, 1.0, [](double x, int lane) {
    both_ways(x, lane, exp_,
              [&](double y) { ASSERT_TRUE(Near(y, std::exp((long double)x))) << x; });
  });
  both_ways(-800.0, 3, exp_, [](double y) { EXPECT_EQ(y, 0.0); });  // flushed, never garbage
  both_ways(0.0, 1, exp_, [](double y) { EXPECT_EQ(y, 1.0); });
  both_ways(NAN, 2, exp_, [](double y) { EXPECT_TRUE(std::isnan(y)); });
}

TEST(FastMathF64, TanhIncludingTinyAndSaturatedArguments) {
  for_samples(-25.0, 25.0, [](double x, int lane) {
    both_ways(x, lane, tanh_,
              [&](double y) { ASSERT_TRUE(Near(y, std::tanh((long double)x))) << x; });
  });
  // Small arguments: where 1 - e^-2|x| would cancel.
  for (int e = 1; e < 1000; e += 7) {
    for (const double x : {std::ldexp(0.7, -e), -std::ldexp(0.7, -e)}) {
      both_ways(x, e % 4, tanh_,
                [&](double y) { ASSERT_TRUE(Near(y, std::tanh((long double)x))) << x; });
    }
  }
  both_ways(1e300, 1, tanh_, [](double y) { EXPECT_EQ(y, 1.0); });
  both_ways(-1e300, 2, tanh_, [](double y) { EXPECT_EQ(y, -1.0); });
  both_ways(0.0, 0, tanh_, [](double y) { EXPECT_EQ(y, 0.0); });
  both_ways(NAN, 3, tanh_, [](double y) { EXPECT_TRUE(std::isnan(y)); });
}

TEST(FastMathF64, Log1pOnTheUnitInterval) {
  for_samples(0.0, 1.0, [](double u, int lane) {
    both_ways(u, lane, log1p_,
              [&](double y) { ASSERT_TRUE(Near(y, std::log1p((long double)u))) << u; });
  });
  for (int e = 1; e < 1000; e += 3) {
    const double u = std::ldexp(0.9, -e);
    both_ways(u, e % 4, log1p_,
              [&](double y) { ASSERT_TRUE(Near(y, std::log1p((long double)u))) << u; });
  }
  both_ways(1.0, 0, log1p_, [](double y) { EXPECT_TRUE(Near(y, std::log1p(1.0L))); });
}

TEST(FastMathF64, LogisticAndSoftplusAcrossLargeLogits) {
  for_samples(-740.0, 740.0, [](double z, int lane) {
    const long double zl = z;
    const long double e = std::exp(-std::fabs(zl));
    const long double logistic = zl >= 0 ? 1 / (1 + e) : e / (1 + e);
    const long double softplus = std::fmax(zl, 0.0L) + std::log1p(e);
    const long double softplus_minus = std::fmax(-zl, 0.0L) + std::log1p(e);
    // Below e^-708 the logistic flushes to 0: an absolute error under 1e-307.
    both_ways(z, lane, logistic_, [&](double y) { ASSERT_TRUE(Near(y, logistic, 1e-307L)) << z; });
    both_ways(z, lane, sigmoid_, [&](double y) { ASSERT_TRUE(Near(y, logistic, 1e-307L)) << z; });
    both_ways(z, lane, softplus_, [&](double y) { ASSERT_TRUE(Near(y, softplus, 1e-307L)) << z; });
    both_ways(z, lane, softplus_of_minus_,
              [&](double y) { ASSERT_TRUE(Near(y, softplus_minus, 1e-307L)) << z; });
  });
  for_samples(-2.0, 2.0, [](double z, int lane) {
    const long double e = std::exp(-std::fabs((long double)z));
    const long double logistic = z >= 0 ? 1 / (1 + e) : e / (1 + e);
    both_ways(z, lane, logistic_, [&](double y) { ASSERT_TRUE(Near(y, logistic)) << z; });
  });
  both_ways(1e300, 0, softplus_, [](double y) { EXPECT_EQ(y, 1e300); });  // no overflow
  both_ways(-1e300, 1, logistic_, [](double y) { EXPECT_EQ(y, 0.0); });
  both_ways(1e300, 2, logistic_, [](double y) { EXPECT_EQ(y, 1.0); });
  both_ways(NAN, 3, logistic_, [](double y) { EXPECT_TRUE(std::isnan(y)); });
  both_ways(NAN, 0, softplus_, [](double y) { EXPECT_TRUE(std::isnan(y)); });
}

}  // namespace
