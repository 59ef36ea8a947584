#pragma once

// Row passes of the larger networks' step (the BLAS path of loss_cpu.cpp), vectorised along
// each row like the small-net kernel and compiled for the same instruction sets
// (vector_kernels.cpp). Rows are examples; each row holds the n1 hidden units.

#include <cstdint>

#include "math/activation.h"

namespace twolayer {
namespace cpu {

// Rows [begin, end) of Z (m x n1) become A1 = g1(Z + b1), in place.
template <typename T>
void bias_activation_rows(T* Z, const T* b1, int64_t n1, int64_t begin, int64_t end,
                          Activation activation);

// Rows [begin, end) of A1 (m x n1) become dZ1 = (dZ2 W2) * g1'(A1), in place, and their column
// sums are added to db1_sums (n1, before the 1/m), in an order fixed by begin and end.
// dZ2 W2 is summed here from dZ2 (m x n2) and W2 (n2 x n1), or read from `product` (m x n1)
// if it is not null.
template <typename T>
void hidden_delta_rows(T* A1, const T* dZ2, const T* W2, const T* product, int64_t n1, int64_t n2,
                       int64_t begin, int64_t end, Activation activation, double* db1_sums);

// Few outputs (n2 <= kFusedRowsMaxOutputs; with more, BLAS does the output layer's backward
// faster than per-row sums do): everything between the two large products in one pass over the
// rows, each row once while it is in cache: A1 = g1(row + b1) (if `activate`;
// else the row holds A1 already), Z2 = A1 W2^T + b2, the cost, dZ2 = A2 - Y and, if
// `gradients`, dW2 += dZ2^T A1, then the row becomes dZ1 = (dZ2 W2) * g1'(A1).
constexpr int64_t kFusedRowsMaxOutputs = 4;
// Without `gradients` (the forward half: the row keeps A1, dZ2 goes to `dZ2`), up to this many
// outputs: their dot products stay in registers, and the row is read once instead of by a
// separate activation pass and a BLAS call for Z2.
constexpr int64_t kFusedForwardMaxOutputs = 16;

template <typename T>
struct FusedRows {
  T* A1;  // m x n1, row-major
  const T* b1;
  const T* W2;  // n2 x n1
  const T* b2;
  const T* Y;  // m x n2, row-major
  T* dY;       // if not null: dY = dY_scale * Z2 (m x n2)
  T dY_scale;
  T* dZ2;      // if not null: dZ2 = A2 - Y (m x n2)
  int64_t n1, n2;
  Activation activation;
  bool activate;
  bool gradients;
};

// Sums over rows [begin, end), added to sums = [cost | db2 (n2) | dW2 (n2 x n1) | db1 (n1)]
// (before the 1/m), in an order fixed by begin and end. n2 <= kFusedRowsMaxOutputs with
// `gradients`, else n2 <= kFusedForwardMaxOutputs.
template <typename T>
void fused_rows(const FusedRows<T>& p, int64_t begin, int64_t end, double* sums);

inline int64_t fused_rows_sums_size(int64_t n1, int64_t n2) { return 1 + n2 + n2 * n1 + n1; }

}  // namespace cpu
}  // namespace twolayer
