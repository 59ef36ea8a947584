#pragma once

// fit_: the lecture's full-batch gradient descent, W := W - alpha dW, for `iterations` steps.
// Here: the checks every kernel shares, and the reference loop in ATen ops (any device).

#include <ATen/ATen.h>

#include "math/activation.h"
#include "math/output_layer.h"
#include "validation/checks.h"

namespace twolayer {

// Checks the network as the loss does, plus the loop's own arguments.
SymNetworkShape check_fit_arguments(const at::Tensor& W1, const at::Tensor& b1,
                                    const at::Tensor& W2, const at::Tensor& b2, const at::Tensor& X,
                                    const at::Tensor& Y, int64_t iterations, double learning_rate);

// The 1-D tensor of `iterations` costs; an allocation failure becomes twolayer's error. Call it
// before the first update, so that a refusal leaves the parameters as they were.
at::Tensor allocate_costs(int64_t iterations, const at::TensorOptions& options);

// Updates the parameters in place; returns the cost of every iteration, taken before its update.
at::Tensor reference_fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                         const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                         double learning_rate, Activation activation, OutputLayer output);

}  // namespace twolayer
