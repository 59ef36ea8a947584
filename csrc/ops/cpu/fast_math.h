#pragma once

// exp, tanh, logistic and softplus for the fused CPU loops, written once for scalars and for the
// vectors of simd.h, as straight-line arithmetic with no library call and no branch.
// libm's scalar tanhf and expf would cost more than the rest of a small step.
//
// Polynomial approximations, a few ulp from the correctly rounded value in float and in double
// (tested against std:: in tests/cpp/test_fast_math.cpp, lane by lane for the vectors): the
// float64 tests compare with autograd to a relative 1e-10, and the std:: functions, lane by lane,
// made float64 steps several times slower than the vectorised ones ATen uses.

#include <cmath>
#include <limits>
#include <type_traits>

#include "ops/cpu/simd.h"

namespace twolayer {
namespace cpu {

// a / b for the float functions below, b > 0 and finite. Where the file that includes this one
// is compiled for AVX2 by GCC (vector_kernels_avx2.cpp defines TWOLAYER_FAST_RECIPROCAL), the
// reciprocal estimate refined by one Newton step and the quotient corrected by its residual
// (within an ulp or so of the division): a division of 8 floats issues once every 5 cycles on
// the CPUs measured, the estimate every cycle, and the hidden layer's tanh and logistic waited
// on it. Elsewhere the division.
template <typename V>
TWOLAYER_INLINE V fast_divide(V a, V b) {
#if defined(TWOLAYER_FAST_RECIPROCAL) && defined(__GNUC__) && !defined(__clang__)
  if constexpr (std::is_same_v<V, VFloat>) {
    V r = __builtin_ia32_rcpps256(b);
    r = r * (splat<V>(2.0f) - b * r);
    // The quotient corrected by its residual: saturated results such as 1 / 1 come out exact.
    const V q = a * r;
    return q + r * (a - b * q);
  }
#endif
  return a / b;
}

// x = k ln2 + r for float x, |r| <= ln2/2, k integer-valued: Cody and Waite's reduction, ln2 in
// two parts so that k ln2_hi is exact. Adding and removing 1.5 * 2^23 rounds to the nearest
// integer (|x log2 e| < 2^22 here).
template <typename V>
struct ReducedExpF {
  V k, r;
};
template <typename V>
TWOLAYER_INLINE ReducedExpF<V> reduce_exp_f32(V x) {
  const V t = x * splat<V>(1.44269504088896341f);
  const V k = (t + splat<V>(12582912.0f)) - splat<V>(12582912.0f);
  V r = x - k * splat<V>(0.693359375f);
  r = r - k * splat<V>(-2.12194440e-4f);
  return {k, r};
}

// (e^r - 1 - r) / r^2 for the reduced r: a degree-4 polynomial (a degree-6 one for e^r), by
// Estrin's scheme, as tanh's below: a shorter chain of dependent steps than Horner's.
template <typename V>
TWOLAYER_INLINE V exp_tail_f32(V r, V r2) {
  const V r4 = r2 * r2;
  const V c01 = splat<V>(5.0000001201e-1f) + splat<V>(1.6666665459e-1f) * r;
  const V c23 = splat<V>(4.1665795894e-2f) + splat<V>(8.3334519073e-3f) * r;
  const V c45 = splat<V>(1.3981999507e-3f) + splat<V>(1.9875691500e-4f) * r;
  return (c01 + c23 * r2) + c45 * r4;
}

// e^x for float x (scalar or VFloat). Above 88 it would overflow: the argument is clamped there
// (callers keep theirs below). Below -87 the result would be subnormal: it flushes to 0 (only
// results under float's smallest normal number, 1.2e-38, differ from std::exp).
template <typename V>
TWOLAYER_INLINE V fast_exp(V x) {
  using S = typename Lanes<V>::Scalar;
  const auto nan = x != x;
  const auto underflow = x < splat<V>(-87.0f);
  // Written so that NaN also lands in range: converting NaN to an integer is undefined.
  x = select(mask_not(x >= splat<V>(-87.0f)), splat<V>(-87.0f), x);
  x = select(mask_not(x <= splat<V>(88.0f)), splat<V>(88.0f), x);
  // e^x = 2^k e^r.
  const ReducedExpF<V> e = reduce_exp_f32(x);
  const V r2 = e.r * e.r;
  const V p = exp_tail_f32(e.r, r2) * r2 + (e.r + splat<V>(1.0f));
  const V result = select(underflow, splat<V>(0.0f), p * exp2_integer(e.k));
  return select(nan, splat<V>(std::numeric_limits<S>::quiet_NaN()), result);
}

// tanh for float x, within an ulp or so of the correctly rounded value everywhere, and, what
// backpropagation needs, with 1 - tanh(x) accurate where tanh saturates: g1' = 1 - A1^2 is then
// as accurate as autograd's, and nonzero wherever float's tanh is below 1 (|x| < 9.01).
// From one e = e^-2|x| (reduced as for exp):
//  - |x| < 0.625: tanh = -expm1(-2|x|) / (2 + expm1(-2|x|)), expm1 keeping its accuracy near 0;
//  - else:        tanh = 1 - 2e / (1 + e), where 2e / (1 + e) is accurate however small.
// Both share one division. Beyond 9.5 the result is 1 in float, and the argument is clamped
// there, which also keeps NaN out of the reduction (it is put back at the end).
template <typename V>
TWOLAYER_INLINE V fast_tanh(V x) {
  const V a = abs_of(x);
  const V clamped = select(mask_not(a <= splat<V>(9.5f)), splat<V>(9.5f), a);
  const ReducedExpF<V> e = reduce_exp_f32(splat<V>(-2.0f) * clamped);
  const V r2 = e.r * e.r;
  const V r_expm1 = exp_tail_f32(e.r, r2) * r2 + e.r;  // e^r - 1
  const V scale = exp2_integer(e.k);
  const V expm1 = scale * r_expm1 + (scale - splat<V>(1.0f));  // e^-2|x| - 1, exact last term
  const V exp = scale * (r_expm1 + splat<V>(1.0f));
  const auto small = a < splat<V>(0.625f);
  const V q = fast_divide(select(small, -expm1, exp + exp),
                          select(small, splat<V>(2.0f) + expm1, splat<V>(1.0f) + exp));
  const V t = select(small, q, splat<V>(1.0f) - q);
  return select(x != x, x, with_sign_of(t, x));
}

// log(1 + u) for u in [0, 1]: 2 atanh(s) with s = u / (2 + u) <= 1/3, an odd series in s.
template <typename V>
TWOLAYER_INLINE V log1p_unit(V u) {
  const V s = u / (splat<V>(2.0f) + u);
  // The series by Estrin's scheme, as tanh's above.
  const V s2 = s * s;
  const V s4 = s2 * s2;
  const V s8 = s4 * s4;
  const V c01 = splat<V>(1.0f) + splat<V>(1.0f / 3.0f) * s2;
  const V c23 = splat<V>(1.0f / 5.0f) + splat<V>(1.0f / 7.0f) * s2;
  const V c45 = splat<V>(1.0f / 9.0f) + splat<V>(1.0f / 11.0f) * s2;
  const V c67 = splat<V>(1.0f / 13.0f) + splat<V>(1.0f / 15.0f) * s2;
  const V p = (c01 + c23 * s4) + (c45 + c67 * s4) * s8;
  return splat<V>(2.0f) * s * p;
}

// The output layer's functions of one logit z, sharing e^-|z| (which never overflows): the
// logistic sigmoid(z), softplus(z) = log(1 + e^z) and softplus(-z). The cost's term is
// cost_term(z, y) = softplus(z) - y z, evaluated as (1 - y) z + softplus(-z) the way
// binary_cross_entropy_with_logits does: z = +inf with y = 0 then costs +inf, not inf - 0 * inf.
template <typename V>
struct Logit {
  V logistic;
  V softplus;
  V softplus_of_minus;
};

template <typename V>
TWOLAYER_INLINE Logit<V> fast_logit(V z) {
  const V e = fast_exp(-abs_of(z));
  const V one_plus_e = splat<V>(1.0f) + e;
  const auto positive = z >= splat<V>(0.0f);
  const V logistic = fast_divide(select(positive, splat<V>(1.0f), e), one_plus_e);
  const V log1p_e = log1p_unit(e);
  const V softplus = select(z > splat<V>(0.0f), z, splat<V>(0.0f)) + log1p_e;
  const V softplus_of_minus = select(z < splat<V>(0.0f), -z, splat<V>(0.0f)) + log1p_e;
  // NaN: the comparisons fail and e is NaN, so all come out NaN.
  return {logistic, softplus, softplus_of_minus};
}

// ---- double: the same functions to a few ulp of double, for scalars and VDouble alike ----

// The bits of a double as an integer, and back (scalar or vector).
TWOLAYER_INLINE int64_t bits_of(double x) {
  int64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}
TWOLAYER_INLINE VInt64 bits_of(VDouble x) { return (VInt64)x; }
TWOLAYER_INLINE double from_bits(int64_t bits) {
  double x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}
TWOLAYER_INLINE VDouble from_bits(VInt64 bits) { return (VDouble)bits; }

// The integer e into a double's exponent field, e << 52, as unsigned arithmetic.
TWOLAYER_INLINE int64_t shift_exponent(int64_t e) {
  return static_cast<int64_t>(static_cast<uint64_t>(e) << 52);
}
TWOLAYER_INLINE VInt64 shift_exponent(VInt64 e) { return (VInt64)((VUInt64)e << 52); }

// x = k ln2 + r with k an integer-valued double and |r| <= ln2/2 (a hair more by rounding):
// Cody and Waite's reduction, ln2 in two parts so that k ln2_hi is exact.
template <typename V>
struct ReducedExp {
  V k, r;
};
// Adding and removing 1.5 * 2^52 rounds to the nearest integer; the sum's low bits then hold k.
constexpr double kRoundingMagic = 6755399441055744.0;

template <typename V>
TWOLAYER_INLINE ReducedExp<V> reduce_exp(V x) {
  const V k =
      (x * splat<V>(1.4426950408889634) + splat<V>(kRoundingMagic)) - splat<V>(kRoundingMagic);
  V r = x - k * splat<V>(6.93147180369123816490e-01);
  r = r - k * splat<V>(1.90821492927058770002e-10);
  return {k, r};
}

// e^r - 1 for |r| <= 0.35: the Taylor series to r^13 (the next term is below 1e-17 r), by
// Estrin's scheme.
template <typename V>
TWOLAYER_INLINE V expm1_reduced(V r) {
  const V r2 = r * r;
  const V r4 = r2 * r2;
  const V r8 = r4 * r4;
  const V c23 = splat<V>(1.0 / 6) + splat<V>(1.0 / 24) * r;
  const V c45 = splat<V>(1.0 / 120) + splat<V>(1.0 / 720) * r;
  const V c67 = splat<V>(1.0 / 5040) + splat<V>(1.0 / 40320) * r;
  const V c89 = splat<V>(1.0 / 362880) + splat<V>(1.0 / 3628800) * r;
  const V c1011 = splat<V>(1.0 / 39916800) + splat<V>(1.0 / 479001600) * r;
  const V c1213 = splat<V>(1.0 / 6227020800.0) + splat<V>(1.0 / 87178291200.0) * r;
  // r + r^2/2 + r^3 (c23 + c45 r^2 + c67 r^4 + c89 r^6 + c1011 r^8 + c1213 r^10)
  const V high = (c23 + c45 * r2) + (c67 + c89 * r2) * r4 + (c1011 + c1213 * r2) * r8;
  return r + splat<V>(0.5) * r2 + high * r2 * r;
}

// 2^k for integer-valued k in [-1022, 1023], built from the exponent bits.
template <typename V>
TWOLAYER_INLINE V exp2_integer_f64(V k) {
  const auto ki = bits_of(k + splat<V>(kRoundingMagic)) - bits_of(splat<V>(kRoundingMagic));
  // Shifted as unsigned: for a NaN argument k's bits are garbage (the result is NaN anyway, by
  // the other factor), and a signed shift of them would be undefined.
  return from_bits(shift_exponent(ki + 1023));
}

// e^x for double x. Below -708 the result would be subnormal: it flushes to 0; above 709 it
// would overflow: the argument is clamped there (callers keep theirs below).
template <typename V>
TWOLAYER_INLINE V exp_f64(V x) {
  const auto nan = x != x;
  const auto underflow = x < splat<V>(-708.0);
  x = select(mask_not(x >= splat<V>(-708.0)), splat<V>(-708.0), x);
  x = select(mask_not(x <= splat<V>(709.0)), splat<V>(709.0), x);
  const ReducedExp<V> e = reduce_exp(x);
  const V result = (expm1_reduced(e.r) + splat<V>(1.0)) * exp2_integer_f64(e.k);
  return select(underflow, splat<V>(0.0),
                select(nan, splat<V>(std::numeric_limits<double>::quiet_NaN()), result));
}

// tanh for double x: -expm1(-2|x|) / (2 + expm1(-2|x|)) with the sign of x. expm1 keeps its
// relative accuracy near 0, where 1 - e^-2|x| would cancel; beyond 22, tanh is 1 in double.
template <typename V>
TWOLAYER_INLINE V tanh_f64(V x) {
  const V a = abs_of(x);
  const auto saturated = a > splat<V>(22.0);
  const ReducedExp<V> e = reduce_exp(splat<V>(-2.0) * select(saturated, splat<V>(0.0), a));
  const V p = expm1_reduced(e.r);
  const V scale = exp2_integer_f64(e.k);
  // e^(k ln2 + r) - 1 = 2^k p + (2^k - 1), exact in its last term.
  const V em1 = scale * p + (scale - splat<V>(1.0));
  const V t = select(saturated, splat<V>(1.0), -em1 / (splat<V>(2.0) + em1));
  return with_sign_of(t, x);  // NaN: a is NaN, and so are p and t
}

// log(1 + u) for u in [0, 1]: 2 atanh(s) with s = u / (2 + u) <= 1/3, the odd series in s to
// s^35 (the next term is below 1e-18 s), by Estrin's scheme.
template <typename V>
TWOLAYER_INLINE V log1p_unit_f64(V u) {
  const V s = u / (splat<V>(2.0) + u);
  const V t = s * s;
  const V t2 = t * t;
  const V t4 = t2 * t2;
  const V t8 = t4 * t4;
  const V t16 = t8 * t8;
  const auto c = [](int k) { return splat<V>(1.0 / (2 * k + 1)); };
  const V p01 = c(0) + c(1) * t, p23 = c(2) + c(3) * t, p45 = c(4) + c(5) * t;
  const V p67 = c(6) + c(7) * t, p89 = c(8) + c(9) * t, p1011 = c(10) + c(11) * t;
  const V p1213 = c(12) + c(13) * t, p1415 = c(14) + c(15) * t, p1617 = c(16) + c(17) * t;
  const V low = (p01 + p23 * t2) + (p45 + p67 * t2) * t4;
  const V mid = (p89 + p1011 * t2) + (p1213 + p1415 * t2) * t4;
  const V p = (low + mid * t8) + p1617 * t16;
  return splat<V>(2.0) * s * p;
}

template <typename V>
TWOLAYER_INLINE Logit<V> logit_f64(V z) {
  const V e = exp_f64(-abs_of(z));
  const V one_plus_e = splat<V>(1.0) + e;
  const auto positive = z >= splat<V>(0.0);
  const V logistic = select(positive, splat<V>(1.0), e) / one_plus_e;
  const V log1p_e = log1p_unit_f64(e);
  const V softplus = select(z > splat<V>(0.0), z, splat<V>(0.0)) + log1p_e;
  const V softplus_of_minus = select(z < splat<V>(0.0), -z, splat<V>(0.0)) + log1p_e;
  return {logistic, softplus, softplus_of_minus};
}

// sigmoid(z) alone, for the hidden activation and dZ2 (the logit's log1p is not needed there).
template <typename V>
TWOLAYER_INLINE V logistic_from(V z, V e_minus_abs_z) {
  return fast_divide(select(z >= splat<V>(0), splat<V>(1), e_minus_abs_z),
                     splat<V>(1) + e_minus_abs_z);
}

// softplus(z) - y z, the cost of one logit z and label y (see Logit).
template <typename V>
TWOLAYER_INLINE V cost_term(const Logit<V>& out, V z, V y) {
  return (splat<V>(1.0f) - y) * z + out.softplus_of_minus;
}

// The functions of the fused loops by type: Math<V>::tanh(z), logit(z), logistic(z), exp(x)
// (the softmax's, of x <= 0).
template <typename V>
struct Math;

template <>
struct Math<float> {
  static TWOLAYER_INLINE float tanh(float x) { return fast_tanh(x); }
  static TWOLAYER_INLINE Logit<float> logit(float z) { return fast_logit(z); }
  static TWOLAYER_INLINE float logistic(float z) { return logistic_from(z, fast_exp(-abs_of(z))); }
  static TWOLAYER_INLINE float exp(float x) { return fast_exp(x); }
};

template <>
struct Math<VFloat> {
  static TWOLAYER_INLINE VFloat tanh(VFloat x) { return fast_tanh(x); }
  static TWOLAYER_INLINE Logit<VFloat> logit(VFloat z) { return fast_logit(z); }
  static TWOLAYER_INLINE VFloat logistic(VFloat z) {
    return logistic_from(z, fast_exp(-abs_of(z)));
  }
  static TWOLAYER_INLINE VFloat exp(VFloat x) { return fast_exp(x); }
};

template <>
struct Math<double> {
  static TWOLAYER_INLINE double tanh(double x) { return tanh_f64(x); }
  static TWOLAYER_INLINE Logit<double> logit(double z) { return logit_f64(z); }
  static TWOLAYER_INLINE double logistic(double z) { return logistic_from(z, exp_f64(-abs_of(z))); }
  static TWOLAYER_INLINE double exp(double x) { return exp_f64(x); }
};

template <>
struct Math<VDouble> {
  static TWOLAYER_INLINE VDouble tanh(VDouble x) { return tanh_f64(x); }
  static TWOLAYER_INLINE Logit<VDouble> logit(VDouble z) { return logit_f64(z); }
  static TWOLAYER_INLINE VDouble logistic(VDouble z) {
    return logistic_from(z, exp_f64(-abs_of(z)));
  }
  static TWOLAYER_INLINE VDouble exp(VDouble x) { return exp_f64(x); }
};

}  // namespace cpu
}  // namespace twolayer
