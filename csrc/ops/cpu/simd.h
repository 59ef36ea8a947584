#pragma once

// Fixed-width vectors for the fused CPU loops, written with the GCC/Clang vector extension so
// that the loops are vectorised because they say so, not because the auto-vectoriser agreed.
// A vector is 32 bytes: 8 floats or 4 doubles, one AVX2 register; without AVX the compiler
// splits each operation into two SSE halves. vector_kernels_avx2.cpp compiles the kernels for
// AVX2 and FMA, vector_kernels.cpp for the baseline.
//
// The helpers are overloaded for the scalar types too, so that fast_math.h is written once for
// scalars and vectors alike. Everything is always inlined: the vector code then takes the
// instruction set of the function it is inlined into.

#include <cmath>
#include <cstdint>
#include <cstring>

#define TWOLAYER_INLINE inline __attribute__((always_inline))

// "32-byte vectors without AVX change the ABI": true, and harmless, as no function that takes or
// returns one is ever called across a library boundary. Left ignored for the rest of the file
// that includes this header, where the call sites are.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace twolayer {
namespace cpu {

// 64 bytes (two AVX2 registers per vector) and an AVX-512 build were both measured slower here.
constexpr int kVectorBytes = 32;
typedef float VFloat __attribute__((vector_size(kVectorBytes)));
typedef int32_t VInt32 __attribute__((vector_size(kVectorBytes)));
typedef double VDouble __attribute__((vector_size(kVectorBytes)));
typedef int64_t VInt64 __attribute__((vector_size(kVectorBytes)));
typedef uint64_t VUInt64 __attribute__((vector_size(kVectorBytes)));

// Scalar: the lane type; count: the lanes. Vector<T>: the vector of a scalar type.
template <typename V>
struct Lanes;
template <>
struct Lanes<float> {
  using Scalar = float;
  static constexpr int count = 1;
};
template <>
struct Lanes<double> {
  using Scalar = double;
  static constexpr int count = 1;
};
template <>
struct Lanes<VFloat> {
  using Scalar = float;
  static constexpr int count = kVectorBytes / 4;
};
template <>
struct Lanes<VDouble> {
  using Scalar = double;
  static constexpr int count = kVectorBytes / 8;
};

template <typename T>
struct VectorOf;
template <>
struct VectorOf<float> {
  using type = VFloat;
};
template <>
struct VectorOf<double> {
  using type = VDouble;
};
template <typename T>
using Vector = typename VectorOf<T>::type;

template <typename V>
TWOLAYER_INLINE V splat(typename Lanes<V>::Scalar x) {
  if constexpr (Lanes<V>::count == 1) {
    return x;
  } else if constexpr (Lanes<V>::count == 8) {
    // Spelled out: GCC builds a vector filled lane by lane from a scalar with eight inserts,
    // this one with a single broadcast.
    return V{x, x, x, x, x, x, x, x};
  } else {
    static_assert(Lanes<V>::count == 4, "splat: 32-byte vectors of float or double");
    return V{x, x, x, x};
  }
}

TWOLAYER_INLINE float select(bool c, float a, float b) { return c ? a : b; }
TWOLAYER_INLINE double select(bool c, double a, double b) { return c ? a : b; }
TWOLAYER_INLINE VFloat select(VInt32 c, VFloat a, VFloat b) {
  return (VFloat)((c & (VInt32)a) | (~c & (VInt32)b));
}
TWOLAYER_INLINE VDouble select(VInt64 c, VDouble a, VDouble b) {
  return (VDouble)((c & (VInt64)a) | (~c & (VInt64)b));
}

// A template for the vector masks: Clang's comparisons of double vectors give vectors of long
// long, not of int64_t (long), which would convert to VInt32 and VInt64 alike.
TWOLAYER_INLINE bool mask_not(bool c) { return !c; }
template <typename Mask>
TWOLAYER_INLINE Mask mask_not(Mask c) {
  return ~c;
}

// |x| and the magnitude of `magnitude` with the sign of `sign`, by their bits.
TWOLAYER_INLINE float abs_of(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits &= 0x7fffffffu;
  std::memcpy(&x, &bits, sizeof bits);
  return x;
}
TWOLAYER_INLINE VFloat abs_of(VFloat x) { return (VFloat)((VInt32)x & 0x7fffffff); }
TWOLAYER_INLINE float with_sign_of(float magnitude, float sign) {
  return select(sign < 0.0f, -magnitude, magnitude);
}
TWOLAYER_INLINE VFloat with_sign_of(VFloat magnitude, VFloat sign) {
  return (VFloat)(((VInt32)magnitude & 0x7fffffff) | ((VInt32)sign & (int32_t)0x80000000u));
}
TWOLAYER_INLINE double abs_of(double x) { return std::fabs(x); }
TWOLAYER_INLINE VDouble abs_of(VDouble x) {
  return (VDouble)((VInt64)x & INT64_C(0x7fffffffffffffff));
}
TWOLAYER_INLINE double with_sign_of(double magnitude, double sign) {
  return std::copysign(magnitude, sign);
}
TWOLAYER_INLINE VDouble with_sign_of(VDouble magnitude, VDouble sign) {
  return (VDouble)(((VInt64)magnitude & INT64_C(0x7fffffffffffffff)) |
                   ((VInt64)sign & static_cast<int64_t>(UINT64_C(0x8000000000000000))));
}

// 2^k for integer-valued k in [-126, 127], built from the exponent bits.
TWOLAYER_INLINE float exp2_integer(float k) {
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}
TWOLAYER_INLINE VFloat exp2_integer(VFloat k) {
  return (VFloat)((__builtin_convertvector(k, VInt32) + 127) << 23);
}

// Sum of the lanes in a fixed order, in double.
template <typename V>
TWOLAYER_INLINE double lane_sum(V v) {
  double s = 0.0;
  for (int l = 0; l < Lanes<V>::count; ++l) s += v[l];
  return s;
}

}  // namespace cpu
}  // namespace twolayer
