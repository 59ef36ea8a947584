#pragma once

// The whole step for small layers (the lecture's 2-4-1) in one pass over the examples: forward,
// cost and the six equations, 8 (float) or 4 (double) examples at a time in the lanes of a vector
// (the lecture's examples-as-columns layout, one vector per unit), with no ATen call and no
// intermediate tensor. The parameter gradients are summed in vector lanes, then added in double
// every few hundred examples in a fixed order: the result is the same bit for bit on every run.
//
// Compiled twice, for the baseline x86-64 (SSE2) and for AVX2+FMA; vector_kernels.cpp picks the
// version the CPU runs. The kernel, small_net_pass, is declared in vector_kernels.h.

#include <cstdint>

#include "math/activation.h"
#include "math/output_layer.h"
#include "ops/cpu/cpu_paths.h"
#include "validation/checks.h"

namespace twolayer {
namespace cpu {

// The limits of the kernel's per-unit arrays; kSmallNetMaxWeights keeps within them.
constexpr int64_t kSmallNetMaxUnits = 64;
constexpr int64_t kSmallNetMaxSums = 4 * kSmallNetMaxUnits;

// [dW1 (n1 x n0) | db1 (n1) | dW2 (n2 x n1) | db2 (n2)]: the parameter gradients' sums.
inline int64_t gradient_sums_size(const NetworkShape& s) {
  return s.n1 * s.n0 + s.n1 + s.n2 * s.n1 + s.n2;
}

template <typename T>
struct SmallNetProblem {
  NetworkShape shape;
  Activation activation;
  OutputLayer output;
  const T* W1;  // n1 x n0, row-major, like b1, W2 (n2 x n1) and b2
  const T* b1;
  const T* W2;
  const T* b2;
  const T* X;  // example i, feature k at X[i * x_strides[0] + k * x_strides[1]]
  int64_t x_strides[2];
  const T* Y;  // likewise
  int64_t y_strides[2];
  // Forward propagation stores the cache here if not null: A1 (m x n1) and Z2 (m x n2) rows.
  T* A1_out;
  T* Z2_out;
  // The outputs instead of the cost (the operator `forward`): A2 = g2(Z2) rows
  // (m x n2) go here, and Y (then null) is not read. Never with `gradients`.
  T* A2_out;
  // Backpropagation reads the cache from here if not null, instead of recomputing it: the
  // pass then adds no cost.
  const T* A1_in;
  const T* Z2_in;
  // What to compute besides the cost. gradients: the sums above, before the 1/m; without
  // hidden_gradients only those of the output layer (dW2, db2) are summed.
  bool gradients;
  bool hidden_gradients;
  T* dX;  // if not null (needs hidden_gradients): (m x n0) rows, dX = dX_scale * dZ1 W1
  T dX_scale;
};

}  // namespace cpu
}  // namespace twolayer
