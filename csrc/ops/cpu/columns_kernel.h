#pragma once

// The network for small layers (the lecture's 2-4-1), computed with the examples as columns:
// the lecture's own layout. Every inner loop then runs along the m examples, contiguous and
// long, so the compiler vectorises it; with rows, the loops would run over 2 or 4 units.
//
// A column matrix holds unit j of example i at [j * m + i]. Reductions over the examples use a
// fixed lane split (lanes.h), so the results are the same bit for bit on every run.

#include <array>
#include <cstdint>

#include "math/activation.h"
#include "math/checks.h"

namespace twolayer {
namespace cpu {

// Parameters, row-major as the operators take them (W1 is n1 x n0, W2 is n2 x n1).
template <typename T>
struct Weights {
  const T* W1;
  const T* b1;
  const T* W2;
  const T* b2;
};

// Examples [begin, end) of Xt (n0 x m) through the network: A1t (n1 x m), Z2t (n2 x m).
template <typename T>
void columns_forward(const NetworkShape& s, const Weights<T>& w, Activation activation,
                     const T* Xt, T* A1t, T* Z2t, int64_t begin, int64_t end);

// sum over examples [begin, end) and outputs of softplus(Z2) - Y Z2 (the cost times m).
template <typename T>
double columns_cost(const NetworkShape& s, const T* Z2t, const T* Yt, int64_t begin, int64_t end);

// The parameters' gradient sums over examples [begin, end), before the 1/m, accumulated into
// the `sums` of the caller: [dW1 (n1 x n0) | db1 (n1) | dW2 (n2 x n1) | db2 (n2)].
// dZ2t and dZ1t are workspaces (n2 x m, n1 x m). dXt (n0 x m), if not null, receives dZ1 W1
// before the 1/m. g scales dZ2 = g (A2 - Y).
template <typename T>
void columns_backward(const NetworkShape& s, const Weights<T>& w, Activation activation, T g,
                      const T* Xt, const T* Yt, const T* A1t, const T* Z2t, T* dZ2t, T* dZ1t,
                      T* dXt, bool need_dZ1, double* sums, int64_t begin, int64_t end);

inline int64_t gradient_sums_size(const NetworkShape& s) {
  return s.n1 * s.n0 + s.n1 + s.n2 * s.n1 + s.n2;
}

}  // namespace cpu
}  // namespace twolayer
