#pragma once

// The CPU paths of forward propagation and backpropagation (cpu_paths.h says which runs when):
// the computations of math/six_equations, arranged so that each pass over the data does as much
// as it can. cpu_kernels.cpp chooses the path and registers the kernels.

#include "math/activation.h"
#include "math/gradients.h"
#include "validation/checks.h"

namespace twolayer {
namespace cpu {

// What forward propagation reads. Parameters contiguous; X and Y any strides on the small-net
// path, contiguous on the rows path. Y is undefined for the probabilities.
struct NetworkInputs {
  at::Tensor X, Y, W1, b1, W2, b2;
  NetworkShape shape;
  Activation activation;
};

// What backpropagation reads: the incoming gradient of J, the inputs and forward's cache.
struct BackwardInputs {
  double grad_J;
  at::Tensor X, Y, W1, W2, A1, Z2;
  NetworkShape shape;
  Activation activation;
};

// What forward propagation ends in: the cost J (the operator `loss`) or the probabilities
// A2 = sigmoid(Z2) (the operator `forward`). The probabilities read no labels.
enum class ForwardOutput { Cost, Probabilities };

// J or A2 (the other undefined), and the cache when kept (else undefined): (A1, Z2) for the
// cost, A1 alone for the probabilities (whose backward reads A2 itself).
struct ForwardResult {
  at::Tensor J, A2, A1, Z2;
};

// Small networks: one vectorised pass over the examples, no ATen call (small_net_path.cpp).
ForwardResult small_net_forward(const NetworkInputs& in, ForwardOutput output, bool keep_cache);
Gradients small_net_backward(const BackwardInputs& in, GradientMask want);
// fit_'s loop on this path: forward and backward in one pass per iteration, updated in place.
void small_net_fit(const NetworkInputs& in, at::Tensor& W1, at::Tensor& b1, at::Tensor& W2,
                   at::Tensor& b2, int64_t iterations, double learning_rate, at::Tensor& costs);

// Larger networks: BLAS products, the rest in row passes (rows_path.cpp). The hidden layer
// goes to A1 (m x n1: a new tensor to keep, or a workspace); Z2 is made when keep_Z2 (the
// cost's cache only).
ForwardResult rows_forward(const NetworkInputs& in, ForwardOutput output, at::Tensor A1,
                           bool keep_Z2);
// dZ1 (m x n1) is where the hidden delta goes: a workspace, or A1 itself when the cache is
// not needed after this call.
Gradients rows_backward(const BackwardInputs& in, GradientMask want, const at::Tensor& dZ1);

// Mid-size networks: the same passes block by block within each thread's chunk of rows, each
// block with its own BLAS calls (row_blocks_path.cpp). A1 as for rows_forward, or undefined when
// it is not kept: each chunk then makes its blocks of the hidden layer in per-thread memory, so
// nothing of size m x n1 is written. Backward needs no m x n1 buffer.
ForwardResult row_blocks_forward(const NetworkInputs& in, ForwardOutput output, at::Tensor A1,
                                 bool keep_Z2);
Gradients row_blocks_backward(const BackwardInputs& in, GradientMask want);

}  // namespace cpu
}  // namespace twolayer
