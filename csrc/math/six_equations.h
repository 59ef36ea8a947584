#pragma once

// The network's forward and the lecture's six backward equations, written with ATen operators.
// This is the readable reference path: it runs on every backend (CPU, CUDA) and, because ATen
// operators are differentiable, autograd can differentiate it again for double backward.
//
// Batch-first layout (rows are examples), so the lecture's column formulas transpose:
//   dZ2 = A2 - Y               dW2 = (1/m) dZ2^T A1      db2 = (1/m) sum_rows dZ2
//   dZ1 = (dZ2 W2) * g1'(Z1)   dW1 = (1/m) dZ1^T X       db1 = (1/m) sum_rows dZ1

#include <array>

#include <ATen/ATen.h>

#include "math/activation.h"

namespace twolayer {

// What the forward keeps for backward: the hidden activations and the output logits.
struct ForwardCache {
  at::Tensor A1;  // (m, n1)
  at::Tensor Z2;  // (m, n2)
};

ForwardCache forward_cache(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                           const at::Tensor& W2, const at::Tensor& b2, Activation activation);

// J = (1/m) sum softplus(Z2) - Y Z2, the cross-entropy of sigmoid(Z2) without ever taking the
// log of a sigmoid that rounded to 0 or 1.
at::Tensor cost_from_logits(const at::Tensor& Z2, const at::Tensor& Y);

// Order of the gradients and of the mask: X, Y, W1, b1, W2, b2. Masked-out ones are undefined.
using LossGradients = std::array<at::Tensor, 6>;
LossGradients loss_gradients(const at::Tensor& grad_J, const at::Tensor& X, const at::Tensor& Y,
                             const at::Tensor& W1, const at::Tensor& W2, const at::Tensor& A1,
                             const at::Tensor& Z2, Activation activation,
                             std::array<bool, 6> mask);

// Order of the gradients and of the mask: X, W1, b1, W2, b2.
using ForwardGradients = std::array<at::Tensor, 5>;
ForwardGradients forward_gradients(const at::Tensor& grad_A2, const at::Tensor& X,
                                   const at::Tensor& W1, const at::Tensor& W2,
                                   const at::Tensor& A1, const at::Tensor& A2,
                                   Activation activation, std::array<bool, 5> mask);

}  // namespace twolayer
