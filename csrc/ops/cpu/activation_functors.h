#pragma once

// Scalar slopes g1' of the hidden activations, expressed through the output A1, for the fused
// CPU loops (math/activation.h is the reference they must agree with). g1 itself comes from
// fast_math.h in the column kernels and from ATen's vectorised kernels on the BLAS path.

#include "math/activation.h"

namespace twolayer {
namespace cpu {

struct TanhFn {
  template <typename T> static T slope(T a) { return T(1) - a * a; }
};

struct ReluFn {
  template <typename T> static T slope(T a) { return a > T(0) ? T(1) : T(0); }
};

struct SigmoidFn {
  template <typename T> static T slope(T a) { return a * (T(1) - a); }
};

struct LeakyReluFn {
  template <typename T> static T slope(T a) { return a > T(0) ? T(1) : T(kLeakyReluSlope); }
};

// Calls body(Fn{}) with the functor of `activation`, so the loops inside are compiled once per
// activation with no branch per element.
template <typename Body>
decltype(auto) with_activation(Activation activation, Body&& body) {
  switch (activation) {
    case Activation::Relu: return body(ReluFn{});
    case Activation::Sigmoid: return body(SigmoidFn{});
    case Activation::LeakyRelu: return body(LeakyReluFn{});
    case Activation::Tanh: break;
  }
  return body(TanhFn{});
}

}  // namespace cpu
}  // namespace twolayer
