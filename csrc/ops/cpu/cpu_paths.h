#pragma once

// The CPU kernels' paths and the sizes that choose between them, in one place.
//
// | path                | when                            | where               |
// |---------------------|---------------------------------|---------------------|
// | small net           | n1 (n0 + n2) <= 64 weights      | small_net_path.cpp  |
// | rows                | otherwise, n2 <= 4 outputs      | rows_path.cpp       |
// | BLAS output layer   | n2 > 4                          | rows_path.cpp       |
//
// The limits were chosen with the benchmark suite (benchmarks/bench_step.py, S M L L10, and
// `--shapes` for others) on a 2-core x86-64 with AVX2:
// - 64 weights: below it the per-call cost of BLAS and of ATen's elementwise ops is larger than
//   the whole arithmetic of the vectorised one-pass kernel (S: 2-4-1 = 12 weights); the kernel's
//   per-unit arrays are sized for it.
// - 4 outputs: up to here the logits Z2, dZ2 W2 and dW2 = dZ2^T A1 are dot products and sums
//   along each row held in registers, which read the row once instead of BLAS calls and
//   separate passes. Past it BLAS does them faster, the output functions then taking whole
//   vectors of logits: with the shape sweep (benchmarks/sweep.py) at m = 20000, 32-64-n2, the
//   pass up to 16 outputs gave 0.71-0.79 of eager autograd at n2 = 8 and 16, BLAS 0.40-0.56;
//   at n2 = 3 and 4 the two were within the noise (0.36-0.43 of eager), the pass reading A1
//   once less.

#include <cstdint>

#include "validation/checks.h"

namespace twolayer {
namespace cpu {

constexpr int64_t kSmallNetMaxWeights = 64;
constexpr int64_t kRowsMaxOutputs = 4;

enum class CpuPath { SmallNet, Rows };

inline CpuPath cpu_path(const NetworkShape& s) {
  return s.n1 * (s.n0 + s.n2) <= kSmallNetMaxWeights ? CpuPath::SmallNet : CpuPath::Rows;
}

}  // namespace cpu
}  // namespace twolayer
