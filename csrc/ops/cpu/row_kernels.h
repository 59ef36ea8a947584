#pragma once

// What the row passes of the larger networks (row_passes.cpp) read and write: vectorised along
// each row like the small-net kernel and compiled for the same instruction sets; their list and
// what each computes are in vector_kernels.h. Rows are examples; each row holds the n1 hidden
// units. Sums go to double every few rows, in an order fixed by [begin, end): the results are
// the same bit for bit on every run.

#include <cstdint>

#include "math/activation.h"
#include "math/output_layer.h"
#include "ops/cpu/cpu_paths.h"

namespace twolayer {
namespace cpu {

// A layer of rows, its product included: out = g(in W^T + b), each row of `in` read once and
// each unit's sum kept in a register from its bias to its function g: the hidden layer
// A1 = g1(X W1^T + b1), or the logits Z2 = A1 W2^T + b2 (g the identity). W comes transposed, its
// rows padded with zeros to a whole number of vectors (`padded` units), as does b.
template <typename T>
struct DenseRows {
  const T* in;  // rows of `inputs` values, row-major
  const T* Wt;  // inputs x padded
  const T* b;   // padded
  T* out;       // rows of `units` values, row-major
  int64_t inputs, units, padded;
  Activation activation;
  bool identity;  // g is the identity (the logits), not `activation`
};

// Forward propagation after the product Z1 = X W1^T, each row once while it is in cache:
// A1 = g1(Z1 + b1) in place, Z2 = A1 W2^T + b2 and the cost (or A2 = g2(Z2)), for n2 <= kRowsMaxOutputs
// (cpu_paths.h), whose dot products stay in registers.
template <typename T>
struct OutputRows {
  T* A1;  // m x n1, row-major
  const T* b1;
  const T* W2;  // n2 x n1
  const T* b2;
  const T* Y;  // m x n2, row-major (not read when A2 is set)
  T* Z2;       // if not null: Z2 (m x n2), the cache
  T* A2;       // if not null: the outputs A2 = g2(Z2) (m x n2) instead of the cost
  int64_t n1, n2;
  Activation activation;
  OutputLayer output;
  bool activated;  // A1 already holds g1(Z1 + b1) (dense_rows made it)
};

// Backpropagation from the cache, each row once: dZ2 = A2 - Y, db2, dW2 += dZ2^T A1
// (if `dW2`), dZ1 = (dZ2 W2) * g1'(A1) (if dZ1 is not null), db1; n2 <= kRowsMaxOutputs.
template <typename T>
struct DeltaRows {
  const T* A1;  // m x n1
  const T* Z2;  // m x n2
  const T* Y;   // m x n2
  const T* W2;  // n2 x n1
  T* dZ1;       // if not null: dZ1 (m x n1); may be A1 itself, which it then overwrites
  int64_t n1, n2;
  Activation activation;
  OutputLayer output;
  bool dW2;
};

inline int64_t delta_rows_sums_size(int64_t n1, int64_t n2) { return n2 + n2 * n1 + n1; }

}  // namespace cpu
}  // namespace twolayer
