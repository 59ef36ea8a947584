#pragma once

// The CPU paths of forward propagation and backpropagation (cpu_paths.h says which runs when):
// the computations of math/six_equations, arranged so that each pass over the data does as much
// as it can. cpu_kernels.cpp chooses the path and registers the kernels.

#include "math/activation.h"
#include "math/gradients.h"
#include "math/output_layer.h"
#include "validation/checks.h"

namespace twolayer {
namespace cpu {

// What forward propagation reads. Parameters contiguous; X and Y any strides on the small-net
// path, contiguous on the rows path. Y is undefined for the probabilities.
struct NetworkInputs {
  at::Tensor X, Y, W1, b1, W2, b2;
  NetworkShape shape;
  Activation activation;
  OutputLayer output;
};

// What backpropagation reads: the incoming gradient of J, the inputs and forward's cache.
struct BackwardInputs {
  double grad_J;
  at::Tensor X, Y, W1, W2, A1, Z2;
  NetworkShape shape;
  Activation activation;
  OutputLayer output;
  // The cache is not read after this call (fit_): the row passes may write dZ1 over A1.
  bool dZ1_over_A1 = false;
};

// What forward propagation ends in: the cost J (the operator `loss`) or the outputs A2 = g2(Z2)
// (the operator `forward`), which read no labels.
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

// Larger networks: BLAS products, the rest in passes over the rows, in blocks or over the whole
// batch as cpu_paths.h chooses (row_passes.cpp). The hidden layer goes to A1 (m x n1) when it is
// kept, else (undefined) to per-thread memory; Z2 is made when keep_Z2 (the cost's cache only).
ForwardResult row_passes_forward(const NetworkInputs& in, ForwardOutput output, at::Tensor A1,
                                 bool keep_Z2);
Gradients row_passes_backward(const BackwardInputs& in, GradientMask want);

}  // namespace cpu
}  // namespace twolayer
