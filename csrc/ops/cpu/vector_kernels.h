#pragma once

// The vectorised kernels, listed once. From TWOLAYER_VECTOR_KERNELS come their prototypes (here),
// the declarations of each instruction set's build, the dispatch between the builds and the
// instantiations (vector_kernels.cpp, vector_kernels_avx2.cpp); their code is in
// small_net_kernel_impl.h and row_kernels_impl.h. A new kernel is one entry here and its code.
//
// Each works over rows (examples) [begin, end) and adds its sums, before the 1/m, to double
// slots the caller adds in a fixed order:
// - small_net_pass: the whole step of a small net (small_net_kernel.h): adds the cost's sum
//   to *cost (unless the cache is read or A2_out is set, which takes the probabilities
//   instead) and, if p.gradients, the gradient sums to sums[0, gradient_sums_size); writes the
//   rows of the cache and dX, as asked.
// - dense_rows: a layer of the rows, its product included (row_kernels.h): A1 = g1(X W1^T + b1)
//   or Z2 = A1 W2^T + b2.
// - bias_activation_rows: Z1 (m x n1) becomes A1 = g1(Z1 + b1), in place.
// - output_rows: A1 = g1(Z1 + b1) in place, Z2 = A1 W2^T + b2, and adds the cost to *cost or,
//   if p.A2 is set, writes A2 = g2(Z2) and leaves *cost alone (it may be null).
// - delta_rows: dZ2 = A2 - Y, dW2 = dZ2^T A1 (if p.dW2), dZ1 = (dZ2 W2) * g1'(Z1) (if p.dZ1),
//   added to sums = [db2 (n2) | dW2 (n2 x n1) | db1 (n1)].
// - hidden_delta_rows: dZ1 = product * g1'(Z1), product = dZ2 W2 (m x n1) from BLAS; the column
//   sums (db1) added to db1_sums (n1). dZ1 may be A1 or product itself.
// - output_cost_rows: the output layer alone, for more than kRowsMaxOutputs outputs, whose
//   Z2 = A1 W2^T + b2 BLAS makes: adds the cost's sum to *cost.
// - probability_rows: Z2 (m x n2) becomes A2 = g2(Z2), in place.
// - output_delta_rows: dZ2 = A2 - Y from Z2; the column sums (db2) added to db2_sums.
// The output layer g2 and its cost are those of math/output_layer.h, the softmax's along each
// row.

#include <cstdint>

#include "math/activation.h"
#include "ops/cpu/row_kernels.h"
#include "ops/cpu/small_net_kernel.h"

// X(name, parameters, arguments) for elements of type T; every kernel returns void.
#define TWOLAYER_VECTOR_KERNELS(X, T)                                                          \
  X(small_net_pass,                                                                            \
    (const SmallNetProblem<T>& p, int64_t begin, int64_t end, double* cost, double* sums),     \
    (p, begin, end, cost, sums))                                                               \
  X(dense_rows, (const DenseRows<T>& p, int64_t begin, int64_t end), (p, begin, end))         \
  X(bias_activation_rows,                                                                      \
    (T * Z, const T* b1, int64_t n1, int64_t begin, int64_t end, Activation activation),       \
    (Z, b1, n1, begin, end, activation))                                                       \
  X(output_rows, (const OutputRows<T>& p, int64_t begin, int64_t end, double* cost),          \
    (p, begin, end, cost))                                                                     \
  X(delta_rows, (const DeltaRows<T>& p, int64_t begin, int64_t end, double* sums),            \
    (p, begin, end, sums))                                                                     \
  X(hidden_delta_rows,                                                                         \
    (const T* A1, const T* product, T* dZ1, int64_t n1, int64_t begin, int64_t end,           \
     Activation activation, double* db1_sums),                                                 \
    (A1, product, dZ1, n1, begin, end, activation, db1_sums))                                  \
  X(output_cost_rows,                                                                          \
    (const T* Z2, const T* Y, int64_t n2, int64_t begin, int64_t end, OutputLayer output,     \
     double* cost),                                                                            \
    (Z2, Y, n2, begin, end, output, cost))                                                     \
  X(probability_rows, (T * Z2, int64_t n2, int64_t begin, int64_t end, OutputLayer output),   \
    (Z2, n2, begin, end, output))                                                              \
  X(output_delta_rows,                                                                         \
    (const T* Z2, const T* Y, T* dZ2, int64_t n2, int64_t begin, int64_t end,                  \
     OutputLayer output, double* db2_sums),                                                    \
    (Z2, Y, dZ2, n2, begin, end, output, db2_sums))

// A kernel's prototype, in whichever namespace it is expanded.
#define TWOLAYER_DECLARE_VECTOR_KERNEL(name, parameters, arguments) \
  template <typename T>                                            \
  void name parameters;

// Its explicit instantiations for float and double.
#define TWOLAYER_INSTANTIATE_VECTOR_KERNELS()                                  \
  TWOLAYER_VECTOR_KERNELS(TWOLAYER_INSTANTIATE_VECTOR_KERNEL_FOR_FLOAT, float) \
  TWOLAYER_VECTOR_KERNELS(TWOLAYER_INSTANTIATE_VECTOR_KERNEL_FOR_DOUBLE, double)
#define TWOLAYER_INSTANTIATE_VECTOR_KERNEL_FOR_FLOAT(name, parameters, arguments) \
  template void name<float> parameters;
#define TWOLAYER_INSTANTIATE_VECTOR_KERNEL_FOR_DOUBLE(name, parameters, arguments) \
  template void name<double> parameters;

namespace twolayer {
namespace cpu {

TWOLAYER_VECTOR_KERNELS(TWOLAYER_DECLARE_VECTOR_KERNEL, T)

// "avx2" or "baseline": the version of the vectorised kernels that runs (the environment
// variable TWOLAYER_CPU_KERNEL=baseline or =avx2 forces one, for tests and comparisons). Throws
// for any other value; the CPU kernels call it on the caller's thread before any parallel work.
const char* vector_kernels_version();

}  // namespace cpu
}  // namespace twolayer
