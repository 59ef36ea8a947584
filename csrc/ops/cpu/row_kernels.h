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

// The hidden layer of rows, product included: A1 = g1(X W1^T + b1), each row of X read once and
// each unit's sum kept in a register from its bias to its activation. W1 comes transposed, its
// rows padded with zeros to a whole number of vectors (n1p units), as does b1.
template <typename T>
struct HiddenRows {
  const T* X;    // m x n0, row-major
  const T* W1t;  // n0 x n1p
  const T* b1;   // n1p
  T* A1;         // m x n1, row-major
  int64_t n0, n1, n1p;
  Activation activation;
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
  bool activated;  // A1 already holds g1(Z1 + b1) (hidden_rows made it)
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
