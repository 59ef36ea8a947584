#pragma once

// The hidden activations g1 and their slopes g1' (expressed through the output A1) for the fused
// CPU loops, for scalars and for the vectors of simd.h. math/activation.h is the reference they
// must agree with. delta(d, a) is d * g1' as backward applies it: relu masks rather than
// multiplies, so that a NaN arriving at a unit that is off stays out of its gradient, as in
// autograd.

#include "math/activation.h"
#include "ops/cpu/fast_math.h"

namespace twolayer {
namespace cpu {

struct TanhFn {
  template <typename V>
  static TWOLAYER_INLINE V value(V z) {
    return Math<V>::tanh(z);
  }
  template <typename V>
  static TWOLAYER_INLINE V slope(V a) {
    return splat<V>(1) - a * a;
  }
  template <typename V>
  static TWOLAYER_INLINE V delta(V d, V a) {
    return d * slope(a);
  }
};

struct SigmoidFn {
  template <typename V>
  static TWOLAYER_INLINE V value(V z) {
    return Math<V>::logistic(z);
  }
  template <typename V>
  static TWOLAYER_INLINE V slope(V a) {
    return a * (splat<V>(1) - a);
  }
  template <typename V>
  static TWOLAYER_INLINE V delta(V d, V a) {
    return d * slope(a);
  }
};

struct ReluFn {
  // As torch.relu: NaN stays NaN (z > 0 ? z : 0 would turn it into 0).
  template <typename V>
  static TWOLAYER_INLINE V value(V z) {
    return select(z < splat<V>(0), splat<V>(0), z);
  }
  template <typename V>
  static TWOLAYER_INLINE V slope(V a) {
    return select(a > splat<V>(0), splat<V>(1), splat<V>(0));
  }
  // As autograd's threshold_backward: zero where a <= 0, d itself elsewhere (NaN a included).
  template <typename V>
  static TWOLAYER_INLINE V delta(V d, V a) {
    return select(a <= splat<V>(0), splat<V>(0), d);
  }
};

struct LeakyReluFn {
  template <typename V>
  static TWOLAYER_INLINE V value(V z) {
    return select(z > splat<V>(0), z, splat<V>(kLeakyReluSlope) * z);
  }
  template <typename V>
  static TWOLAYER_INLINE V slope(V a) {
    return select(a > splat<V>(0), splat<V>(1), splat<V>(kLeakyReluSlope));
  }
  template <typename V>
  static TWOLAYER_INLINE V delta(V d, V a) {
    return d * slope(a);
  }
};

// g(z) = z: the logits of a layer with no function of its own (dense_rows for Z2).
struct IdentityFn {
  template <typename V>
  static TWOLAYER_INLINE V value(V z) {
    return z;
  }
};

// The functor of an activation, from the tag visit_activation passes.
template <Activation A>
struct ActivationFunctor;
template <>
struct ActivationFunctor<Activation::Tanh> {
  using type = TanhFn;
};
template <>
struct ActivationFunctor<Activation::Sigmoid> {
  using type = SigmoidFn;
};
template <>
struct ActivationFunctor<Activation::Relu> {
  using type = ReluFn;
};
template <>
struct ActivationFunctor<Activation::LeakyRelu> {
  using type = LeakyReluFn;
};
template <typename Tag>
using FunctorFor = typename ActivationFunctor<Tag::value>::type;

}  // namespace cpu
}  // namespace twolayer
