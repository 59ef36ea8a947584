#pragma once

// The lecture's forward propagation and backpropagation, written with ATen operators. This is
// the reference: other devices run it, the CPU kernels are checked against it, and, because
// ATen operators are differentiable, autograd differentiates it for double backward.
//
// Batch-first layout (rows are examples, as torch.nn.Linear), so the lecture's column formulas
// transpose:
//   dZ2 = A2 - Y               dW2 = (1/m) dZ2^T A1      db2 = (1/m) sum_rows dZ2
//   dZ1 = (dZ2 W2) * g1'(Z1)   dW1 = (1/m) dZ1^T X       db1 = (1/m) sum_rows dZ1
//
// A bfloat16 or float16 network runs the products in its dtype and the rest in float32
// (math/precision.h); for float32 and float64 the casts below are no-ops.

#include <ATen/ATen.h>

#include "math/activation.h"
#include "math/gradients.h"
#include "math/output_layer.h"
#include "math/precision.h"

namespace twolayer {

// What forward propagation keeps for backpropagation (the lecture's cache): the hidden
// activations and the output logits, in the network's dtype. Not Z1: g1'(Z1) is computed from A1.
struct ForwardCache {
  at::Tensor A1;  // (m, n1)
  at::Tensor Z2;  // (m, n2)
};

// Z1 = X W1^T + b1, A1 = g1(Z1), Z2 = A1 W2^T + b2.
ForwardCache forward_propagation(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                                 const at::Tensor& W2, const at::Tensor& b2, Activation g1);

// The cost J of the cache's logits for labels Y, in the compute precision (float32 for a
// low-precision network).
at::Tensor network_cost(const ForwardCache& cache, const at::Tensor& Y, OutputLayer g2);

// The probabilities A2 = g2(Z2), computed in the compute precision, in the network's dtype.
at::Tensor network_probabilities(const ForwardCache& cache, OutputLayer g2);

// Backpropagation of the cost (output_layer.h): the six equations, times the incoming gradient
// grad_J, for the gradients in `want` (dY too).
Gradients loss_backward(const at::Tensor& grad_J, const at::Tensor& X, const at::Tensor& Y,
                        const at::Tensor& W1, const at::Tensor& W2, const ForwardCache& cache,
                        Activation g1, OutputLayer g2, GradientMask want);

// Backpropagation of the probabilities A2 = g2(Z2) from an incoming dA2 (no 1/m: there is no
// mean to take). The same equations from dZ2 = dA2 g2'(Z2) on.
Gradients backward_of_forward(const at::Tensor& grad_A2, const at::Tensor& X, const at::Tensor& W1,
                              const at::Tensor& W2, const at::Tensor& A1, const at::Tensor& A2,
                              Activation g1, OutputLayer g2, GradientMask want);

}  // namespace twolayer
