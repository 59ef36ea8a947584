#pragma once

// The cost and its gradients on the CPU, fused: the computations of math/six_equations,
// reorganised so that each pass over the data does as much as it can.
//   * small networks (the lecture's 2-4-1): one vectorised pass, no ATen call (small_net_kernel.h);
//   * larger ones: BLAS products with the 1/m folded in, the rest in fused row passes, and the
//     hidden layer's buffer reused for dZ1.
// Reductions are deterministic at a given thread count (row_chunks.h).

#include "math/checks.h"
#include "math/six_equations.h"

namespace twolayer {
namespace cpu {

// J and the gradients of J itself (an incoming gradient of 1) for the inputs in `mask`, in the
// order X, Y, W1, b1, W2, b2. Inputs must have passed check_network_inputs, which gave `shape`.
struct CostAndGradients {
  at::Tensor J;
  LossGradients gradients;
};
CostAndGradients loss_and_gradients(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                    const at::Tensor& b1, const at::Tensor& W2,
                                    const at::Tensor& b2, const NetworkShape& shape,
                                    Activation activation, std::array<bool, 6> mask);

// fit_ on the CPU: the fused step above, the update done in place.
at::Tensor fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X,
               const at::Tensor& Y, const NetworkShape& shape, int64_t iterations,
               double learning_rate, Activation activation);

}  // namespace cpu
}  // namespace twolayer
