#pragma once

// The CPU kernels' paths and the sizes that choose between them, in one place.
//
// | path                | when                            | where               |
// |---------------------|---------------------------------|---------------------|
// | small net           | n1 (n0 + n2) <= 64 weights      | small_net_path.cpp  |
// | rows, dW2 in pass   | otherwise, n2 <= 4 outputs      | rows_path.cpp       |
// | rows, dW2 by BLAS   | 4 < n2 <= 16                    | rows_path.cpp       |
// | BLAS output layer   | n2 > 16                         | rows_path.cpp       |
//
// The limits were chosen with the benchmark suite (benchmarks/bench_step.py, S M L L10, and
// `--shapes` for others) on a 2-core x86-64 with AVX2:
// - 64 weights: below it the per-call cost of BLAS and of ATen's elementwise ops is larger than
//   the whole arithmetic of the vectorised one-pass kernel (S: 2-4-1 = 12 weights); the kernel's
//   per-unit arrays are sized for it.
// - 4 outputs: up to here dW2 = dZ2^T A1 summed in the backward row pass beats a BLAS call of
//   n2 rows; summed up to 16 outputs, L10 (n2 = 10) was 16-24 % slower than with BLAS.
// - 16 outputs: up to here the logits Z2 and dZ2 W2 are dot products along each row held in
//   registers, which read the row once instead of a BLAS call and a separate pass; past it
//   BLAS does them faster.

#include <cstdint>

#include "validation/checks.h"

namespace twolayer {
namespace cpu {

constexpr int64_t kSmallNetMaxWeights = 64;
constexpr int64_t kRowsDW2MaxOutputs = 4;
constexpr int64_t kRowsMaxOutputs = 16;

enum class CpuPath { SmallNet, Rows };

inline CpuPath cpu_path(const NetworkShape& s) {
  return s.n1 * (s.n0 + s.n2) <= kSmallNetMaxWeights ? CpuPath::SmallNet : CpuPath::Rows;
}

}  // namespace cpu
}  // namespace twolayer
