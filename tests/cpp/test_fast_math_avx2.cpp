// fast_math.h's float functions as the AVX2 kernels compile them (vector_kernels_avx2.cpp:
// divisions by a refined reciprocal estimate under GCC), lane by lane against the double
// std:: functions, to the same few ulps as the baseline build (test_fast_math.cpp). Skipped on
// a CPU without AVX2 and FMA.

#include <cmath>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TWOLAYER_TEST_AVX2 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define TWOLAYER_FAST_RECIPROCAL 1
#include "ops/cpu/fast_math.h"

namespace {

// One function per checked result, 8 lanes in and out through memory: no 32-byte vector
// crosses into the baseline-compiled test bodies.
enum class Fn { Tanh, Logistic, LogitLogistic, Softplus };

__attribute__((noinline)) void apply8(Fn fn, const float* in, float* out) {
  using twolayer::cpu::VFloat;
  VFloat v;
  std::memcpy(&v, in, sizeof v);
  VFloat r;
  switch (fn) {
    case Fn::Tanh: r = twolayer::cpu::fast_tanh(v); break;
    case Fn::Logistic: r = twolayer::cpu::Math<VFloat>::logistic(v); break;
    case Fn::LogitLogistic: r = twolayer::cpu::fast_logit(v).logistic; break;
    case Fn::Softplus: r = twolayer::cpu::fast_logit(v).softplus; break;
  }
  std::memcpy(out, &r, sizeof r);
}

}  // namespace

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

namespace {

#ifdef TWOLAYER_TEST_AVX2
bool have_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

constexpr double kRelative = 5e-7;  // as test_fast_math.cpp

double logistic_of(double z) {
  return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
}

// Every lane of 8-lane batches of samples from [lo, hi) against `exact`.
template <typename Exact>
void check(Fn fn, float lo, float hi, Exact&& exact, double floor = 0.0) {
  std::mt19937 generator(777);
  std::uniform_real_distribution<float> uniform(lo, hi);
  for (int batch = 0; batch < 40000; ++batch) {
    float in[8], out[8];
    for (float& x : in) x = uniform(generator);
    apply8(fn, in, out);
    for (int l = 0; l < 8; ++l) {
      const double expected = exact(static_cast<double>(in[l]));
      const double err = std::abs(static_cast<double>(out[l]) - expected);
      ASSERT_LE(err, kRelative * std::abs(expected) + floor)
          << "x " << in[l] << " got " << out[l] << " expected " << expected;
    }
  }
}

TEST(FastMathAvx2, TanhAndLogisticWithTheReciprocalEstimate) {
  if (!have_avx2()) GTEST_SKIP() << "no AVX2 and FMA here";
  check(Fn::Tanh, -12.0f, 12.0f, [](double x) { return std::tanh(x); });
  check(Fn::Tanh, -1e-3f, 1e-3f, [](double x) { return std::tanh(x); });
  check(Fn::Logistic, -100.0f, 100.0f, logistic_of, 1e-37);
  check(Fn::LogitLogistic, -100.0f, 100.0f, logistic_of, 1e-37);
  check(
      Fn::Softplus, -100.0f, 100.0f,
      [](double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))); }, 1e-37);
  float in[8] = {NAN, 1e30f, -1e30f, 0.0f, 1e4f, -1e4f, 7.9f, -7.9f}, out[8];
  apply8(Fn::Tanh, in, out);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 1.0f);
  EXPECT_EQ(out[2], -1.0f);
  EXPECT_EQ(out[3], 0.0f);
  apply8(Fn::Logistic, in, out);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[4], 1.0f);
  EXPECT_EQ(out[5], 0.0f);
}
#endif

}  // namespace
