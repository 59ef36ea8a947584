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

}  // namespace cpu
}  // namespace twolayer
