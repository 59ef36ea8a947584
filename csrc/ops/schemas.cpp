// The operator schemas of the namespace twolayer. The public ones are what Python, TorchScript
// and C++ programs call; the underscored ones are the pieces the autograd Functions dispatch to,
// so that every backend (CPU, CUDA, Meta) can provide its own kernel for them. The tests' hooks
// have a namespace of their own (testing_hooks.cpp).

#include <ATen/core/dispatch/Dispatcher.h>

#include "ops/registration.h"

namespace twolayer {
namespace detail {

// Asked first by whichever of this copy's registrations runs first, so before this copy has
// defined anything: the operators are defined already only if another copy defined them.
bool this_copy_registers() {
  static const bool first =
      !c10::Dispatcher::singleton().findSchema({"twolayer::loss", ""}).has_value();
  return first;
}

}  // namespace detail
}  // namespace twolayer

TWOLAYER_LIBRARY(m) {
  m.def(
      "loss(Tensor X, Tensor Y, Tensor W1, Tensor b1, Tensor W2, Tensor b2, "
      "str activation=\"tanh\") -> Tensor");
  m.def(
      "forward(Tensor X, Tensor W1, Tensor b1, Tensor W2, Tensor b2, "
      "str activation=\"tanh\") -> Tensor");

  // Full-batch gradient descent in place, the lecture's W := W - alpha dW loop, without leaving
  // C++. Returns the cost of every iteration (computed before that iteration's update).
  m.def(
      "fit_(Tensor(a!) W1, Tensor(b!) b1, Tensor(c!) W2, Tensor(d!) b2, Tensor X, Tensor Y, "
      "int iterations, float learning_rate, str activation=\"tanh\") -> Tensor");

  // The pieces of TwoLayerFunction, the lecture's forward propagation and backpropagation.
  // Forward: J and the cache backward needs, (J, A1, Z2).
  m.def(
      "_loss_with_cache(Tensor X, Tensor Y, Tensor W1, Tensor b1, Tensor W2, Tensor b2, "
      "str activation) -> (Tensor, Tensor, Tensor)");
  // Backward: the six equations times grad_J, (dX, dW1, db1, dW2, db2, dY); those not in
  // output_mask (same order) come back undefined.
  m.def(
      "_loss_backward(Tensor grad_J, Tensor X, Tensor Y, Tensor W1, Tensor W2, Tensor A1, "
      "Tensor Z2, str activation, bool[6] output_mask) "
      "-> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  // The pieces of TwoLayerForwardFunction. Forward: the probabilities and the cache, (A2, A1).
  m.def(
      "_forward_with_cache(Tensor X, Tensor W1, Tensor b1, Tensor W2, Tensor b2, "
      "str activation) -> (Tensor, Tensor)");
  // Backward of the operator `forward`, from dA2: (dX, dW1, db1, dW2, db2), as _loss_backward.
  m.def(
      "_backward_of_forward(Tensor grad_A2, Tensor X, Tensor W1, Tensor W2, Tensor A1, "
      "Tensor A2, str activation, bool[5] output_mask) "
      "-> (Tensor, Tensor, Tensor, Tensor, Tensor)");
}
