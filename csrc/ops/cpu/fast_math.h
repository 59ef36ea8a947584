#pragma once

// exp, tanh, logistic and softplus for the fused CPU loops, written as straight-line float
// arithmetic with no library call and no branch, so that the compiler vectorises the loops that
// use them. libm's scalar tanhf and expf would cost more than the rest of a small step.
//
// float: Cephes-style polynomials, a few ulp from the correctly rounded value (tested against
// std:: in tests/cpp/test_fast_math.cpp). double: the std:: functions, whose accuracy the
// float64 tests (relative error 1e-10) need.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace twolayer {
namespace cpu {

inline float select(bool condition, float if_true, float if_false) {
  return condition ? if_true : if_false;
}

// e^x for x <= 88 (above that it would overflow; callers keep their arguments below it).
// Below -87 the result would be subnormal: it flushes to 0.
inline float fast_exp(float x) {
  const bool underflow = x < -87.0f;
  const bool nan = x != x;
  // Written so that NaN also lands in range: converting NaN to an integer is undefined.
  x = select(!(x >= -87.0f), -87.0f, x);
  x = select(!(x <= 88.0f), 88.0f, x);
  // x = k ln2 + r, |r| <= ln2/2, then e^x = 2^k e^r with a degree-6 polynomial for e^r.
  const float t = x * 1.44269504088896341f + 0.5f;
  int32_t k = static_cast<int32_t>(t);
  k -= static_cast<int32_t>(t < static_cast<float>(k));  // floor for negative t
  const float kf = static_cast<float>(k);
  float r = x - kf * 0.693359375f;
  r = r - kf * -2.12194440e-4f;
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  const int32_t bits = (k + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return select(nan, std::numeric_limits<float>::quiet_NaN(), select(underflow, 0.0f, p * scale));
}

inline float fast_tanh(float x) {
  const float a = std::fabs(x);
  // Small |x|: odd polynomial, free of the cancellation in 1 - 2/(e^2x + 1).
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float e = fast_exp(2.0f * select(a > 44.0f, 44.0f, a));
  const float large = std::copysign(1.0f - 2.0f / (e + 1.0f), x);
  return select(a < 0.625f, small, large);
}

// log(1 + u) for u in [0, 1]: 2 atanh(s) with s = u / (2 + u) <= 1/3, an odd series in s.
inline float log1p_unit(float u) {
  const float s = u / (2.0f + u);
  const float s2 = s * s;
  float p = 1.0f / 15.0f;
  p = p * s2 + 1.0f / 13.0f;
  p = p * s2 + 1.0f / 11.0f;
  p = p * s2 + 1.0f / 9.0f;
  p = p * s2 + 1.0f / 7.0f;
  p = p * s2 + 1.0f / 5.0f;
  p = p * s2 + 1.0f / 3.0f;
  p = p * s2 + 1.0f;
  return 2.0f * s * p;
}

// The scalar functions of the fused loops, by precision.
template <typename T>
struct Math;

template <>
struct Math<float> {
  static float tanh(float x) { return fast_tanh(x); }
  static float logistic(float x) {
    const float e = fast_exp(-std::fabs(x));  // e^-|x| never overflows
    return select(x >= 0.0f, 1.0f / (1.0f + e), e / (1.0f + e));
  }
  static float softplus(float x) {
    return select(x > 0.0f, x, 0.0f) + log1p_unit(fast_exp(-std::fabs(x)));
  }
};

template <>
struct Math<double> {
  static double tanh(double x) { return std::tanh(x); }
  static double logistic(double x) {
    const double e = std::exp(-std::fabs(x));
    return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  }
  static double softplus(double x) {
    return (x > 0.0 ? x : 0.0) + std::log1p(std::exp(-std::fabs(x)));
  }
};

}  // namespace cpu
}  // namespace twolayer
