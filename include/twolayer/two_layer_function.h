#pragma once

// The autograd Functions behind twolayer::loss and twolayer::forward. Their backward is the
// lecture's six equations written by hand; autograd derives none of the first derivatives.
//
// Use them directly for TwoLayerFunction::apply(X, Y, W1, b1, W2, b2, "tanh", "sigmoid"); the
// last two arguments are the hidden activation and the output layer. The operators in
// ops.h call them for you and skip them when nothing requires grad.
//
// Both are shaped as the lecture's algorithm: forward is forward propagation, which keeps the
// lecture's cache (A1, and Z2 or A2) besides the inputs; backward is backpropagation, the six
// equations, computing only the gradients that are asked for.
//
// Double backward (create_graph=True) is supported: the backward then recomputes the forward
// from the saved inputs and evaluates the same six equations with differentiable ATen ops, so
// autograd can differentiate the hand-written first derivatives.

#include <c10/util/string_view.h>
#include <torch/autograd.h>

#include "twolayer/export.h"

namespace twolayer {

// The loss's Function (the operator twolayer::loss): returns the cost J. Gradients: dX, dY,
// dW1, db1, dW2, db2 (each only where required).
struct TWOLAYER_API TwoLayerFunction : public torch::autograd::Function<TwoLayerFunction> {
  // Function::apply, after refusing undefined inputs with twolayer's message: the generic
  // apply reads every input's device before forward could check anything.
  static at::Tensor apply(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                          const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                          c10::string_view activation, c10::string_view output = "sigmoid");
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& X,
                            const at::Tensor& Y, const at::Tensor& W1, const at::Tensor& b1,
                            const at::Tensor& W2, const at::Tensor& b2,
                            c10::string_view activation, c10::string_view output);
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs);
};

// The probabilities' Function (the operator twolayer::forward): returns A2. Gradients: dX, dW1,
// db1, dW2, db2 from an incoming dA2.
struct TWOLAYER_API TwoLayerProbabilitiesFunction
    : public torch::autograd::Function<TwoLayerProbabilitiesFunction> {
  // As TwoLayerFunction::apply.
  static at::Tensor apply(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                          const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation,
                          c10::string_view output = "sigmoid");
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& X,
                            const at::Tensor& W1, const at::Tensor& b1, const at::Tensor& W2,
                            const at::Tensor& b2, c10::string_view activation,
                            c10::string_view output);
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs);
};

// The loss's Function under a name that says so.
using TwoLayerLossFunction = TwoLayerFunction;
// The probabilities' Function's earlier name.
using TwoLayerForwardFunction [[deprecated("use TwoLayerProbabilitiesFunction")]] =
    TwoLayerProbabilitiesFunction;

}  // namespace twolayer
