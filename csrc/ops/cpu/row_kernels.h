#pragma once

// Row passes of the larger networks (ops/cpu/rows_path.cpp), vectorised along each row like the
// small-net kernel and compiled for the same instruction sets (vector_kernels.cpp). Rows are
// examples; each row holds the n1 hidden units. Sums go to double every few rows, in an order
// fixed by [begin, end): the results are the same bit for bit on every run.

#include <cstdint>

#include "math/activation.h"
#include "ops/cpu/cpu_paths.h"

namespace twolayer {
namespace cpu {

// Rows [begin, end) of Z (m x n1) become A1 = g1(Z + b1), in place.
template <typename T>
void bias_activation_rows(T* Z, const T* b1, int64_t n1, int64_t begin, int64_t end,
                          Activation activation);

// Forward propagation after the product X W1^T, each row once while it is in cache:
// A1 = g1(row + b1) in place, Z2 = A1 W2^T + b2 and the
// cost, for n2 <= kRowsMaxOutputs (ops/cpu/cpu_paths.h), whose dot products stay in
// registers.
template <typename T>
struct OutputRows {
  T* A1;  // m x n1, row-major
  const T* b1;
  const T* W2;  // n2 x n1
  const T* b2;
  const T* Y;  // m x n2, row-major (not read when A2 is set)
  T* Z2;       // if not null: Z2 (m x n2), the cache
  T* A2;       // if not null: the probabilities sigmoid(Z2) (m x n2) instead of the cost
  int64_t n1, n2;
  Activation activation;
};

// Adds sum(softplus(Z2) - Y Z2) over rows [begin, end) to *cost, or, if p.A2 is set, writes
// those rows of A2 and leaves *cost alone (it may be null).
template <typename T>
void output_rows(const OutputRows<T>& p, int64_t begin, int64_t end, double* cost);

// Backpropagation from the cache, each row once: dZ2 = sigmoid(Z2) - Y, db2, dW2 += dZ2^T A1
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
  bool dW2;
};

// Sums over rows [begin, end), added to sums = [db2 (n2) | dW2 (n2 x n1) | db1 (n1)], before
// the 1/m.
template <typename T>
void delta_rows(const DeltaRows<T>& p, int64_t begin, int64_t end, double* sums);

inline int64_t delta_rows_sums_size(int64_t n1, int64_t n2) { return n2 + n2 * n1 + n1; }

// Rows [begin, end) of dZ1 = product * g1'(A1), product = dZ2 W2 (m x n1) from BLAS; their
// column sums are added to db1_sums (n1, before the 1/m). dZ1 may be A1 itself.
template <typename T>
void hidden_delta_rows(const T* A1, const T* product, T* dZ1, int64_t n1, int64_t begin,
                       int64_t end, Activation activation, double* db1_sums);

// The output layer alone, for more than kRowsMaxOutputs outputs, whose Z2 = A1 W2^T + b2 BLAS
// makes: adds sum(softplus(Z2) - Y Z2) over rows [begin, end) to *cost.
template <typename T>
void output_cost_rows(const T* Z2, const T* Y, int64_t n2, int64_t begin, int64_t end,
                      double* cost);

// The output layer alone for the probabilities: rows [begin, end) of Z2 (m x n2) become
// A2 = sigmoid(Z2), in place.
template <typename T>
void probability_rows(T* Z2, int64_t n2, int64_t begin, int64_t end);

// Rows [begin, end) of dZ2 = sigmoid(Z2) - Y; their column sums are added to db2_sums (n2,
// before the 1/m).
template <typename T>
void output_delta_rows(const T* Z2, const T* Y, T* dZ2, int64_t n2, int64_t begin, int64_t end,
                       double* db2_sums);

}  // namespace cpu
}  // namespace twolayer
