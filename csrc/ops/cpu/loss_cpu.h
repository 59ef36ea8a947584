#pragma once

// The cost and its six-equation backward on the CPU, fused: the computations of
// math/six_equations, reorganised so that each pass over the data does as much as it can.
//   * small networks (the lecture's 2-4-1): one direct loop over the examples, no ATen calls;
//   * larger ones: BLAS products with the 1/m folded in, the rest in fused row passes.
// Reductions are deterministic at a given thread count (row_chunks.h).

#include <tuple>

#include "math/checks.h"
#include "math/six_equations.h"

namespace twolayer {
namespace cpu {

// (J, A1, Z2). Inputs must have passed check_network_inputs, which gave `shape`.
std::tuple<at::Tensor, at::Tensor, at::Tensor> loss_with_cache(
    const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1, const at::Tensor& b1,
    const at::Tensor& W2, const at::Tensor& b2, const NetworkShape& shape, Activation activation);

// dX, dY, dW1, db1, dW2, db2 as in loss_gradients (math/six_equations.h), for an incoming
// gradient grad_J of the cost.
LossGradients loss_backward(double grad_J, const at::Tensor& X, const at::Tensor& Y,
                            const at::Tensor& W1, const at::Tensor& W2, const at::Tensor& A1,
                            const at::Tensor& Z2, Activation activation, std::array<bool, 6> mask);

// fit_ on the CPU: the fused step above, the update done in place.
at::Tensor fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X,
               const at::Tensor& Y, const NetworkShape& shape, int64_t iterations,
               double learning_rate, Activation activation);

}  // namespace cpu
}  // namespace twolayer
