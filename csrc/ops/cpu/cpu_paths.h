#pragma once

// The CPU kernels' paths and the sizes that choose between them, in one place.
//
// | path                    | when                          | where              |
// |-------------------------|-------------------------------|--------------------|
// | small net               | n1 (n0 + n2) <= 64 weights    | small_net_path.cpp |
// | row passes, in blocks   | <= kRowBlocksMaxWeights       | row_passes.cpp     |
// | row passes, whole batch | more weights                  | row_passes.cpp     |
// and on the row passes, the output layer in the passes up to 4 outputs, else by BLAS; on the
// row blocks, the layers by the row kernel dense_rows for few inputs (hidden_layer_by_dense_rows,
// logits_by_dense_rows), else by BLAS.
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

// Blocks: each thread takes its chunk of rows block by block, with the products of a block
// (X W1^T, dZ1^T X, dZ1 W1, ...) as small BLAS calls of its own, so that a block's Z1 and dZ1
// are still in cache for the row pass, dZ1 never fills an m x n1 buffer, and the products run
// on every thread even where BLAS would not split them. With many weights the whole-batch
// BLAS calls are faster: each block's call would reread the weights and its partial dW1.
// Measured on cells of the shape sweep (benchmarks/sweep.py) at 1 thread (twolayer against
// eager, by turns), whole batch -> blocks: m = 20000 32-512-17 relu 0.40 -> 0.27 of eager,
// 300-64-4 sigmoid 0.79 -> 0.69, 32-64-4 float64 0.59 -> 0.46, (200000, 16, 32, 1) 0.22 -> 0.19,
// M 0.53 -> 0.51; at 300-512 (154k weights) the two were within the noise, and at L (803k)
// blocks were 9 % slower. Blocks of 64 KiB, 256 KiB and 1 MiB of Z1 were within the noise of
// each other; 1 MiB was fastest at 3 of 5 cells and makes the fewest calls.
constexpr int64_t kRowBlocksMaxWeights = 32768;
constexpr int64_t kRowBlockBytes = 1024 * 1024;  // of one block's Z1
constexpr int64_t kRowBlockMinRows = 64;

enum class CpuPath { SmallNet, RowBlocks, WholeBatch };

inline CpuPath cpu_path(const NetworkShape& s) {
  const int64_t weights = s.n1 * (s.n0 + s.n2);
  if (weights <= kSmallNetMaxWeights) return CpuPath::SmallNet;
  return weights <= kRowBlocksMaxWeights ? CpuPath::RowBlocks : CpuPath::WholeBatch;
}

// On the row blocks, with few inputs (n0 <= kDenseRowsMaxInputs) and at least
// kDenseRowsMinUnits hidden units, the hidden layer is the row kernel dense_rows, its product
// included: A1 = g1(X W1^T + b1) with each unit's sum in a register from its bias to its
// activation, where BLAS would pack X and W1 for a product of short dot products and a pass
// would add b1 and take g1 after it. Measured by turns, one process, 1 thread, forward under
// no_grad (dense_rows with tiles of 4 rows / BLAS and pass): 20000 rows 2-64-5 relu 0.67,
// 32-64-1 relu 0.72, 32-64-16 relu 0.77, 32-64-1 sigmoid 0.79, 32-512-4 relu 0.89, 2-512-5 tanh
// 0.84, 8-64-1 tanh 0.83, 32-16-3 sigmoid 0.83, 32-64-32 tanh float64 0.88, (200000, 16, 32, 1)
// tanh 0.76, 1000 rows 2-512-17 sigmoid float64 0.79, 32-512-16 sigmoid 0.98; 2 threads alike
// (0.65-0.91). Tiles of 6 rows then gave 0.83-0.94 of those of 4 with relu, the same with tanh
// and sigmoid, and with them, at 64 inputs: 64-64-16 relu 0.71, 64-64-4 tanh 0.79, M (4096, 64,
// 256, 1) 1.02 (its training step 0.93), 1000 rows 64-512-10 relu 1.02. Not taken where it
// lost or gained nothing: more inputs (128-64-1 sigmoid 1.00, 128-128-1 relu float64 1.13,
// 300-64-16 1.12 with tiles of 4), the whole batch (32-1024-10 1.02, 32-2048-1 1.12), and fewer
// than 4 hidden units (20000 64-1-3 relu 1.19; 32-2-1 tanh 0.98). From 4 units on, rows shorter
// than a vector take g as one flat run over the tile (their vector of sums is partly empty):
// 20000 rows 32-4-1 tanh float64 0.58, 32-4-17 tanh 0.89, 32-4-20 leaky_relu 0.84, 32-4-32
// leaky_relu float64 0.81, 2-4-16 sigmoid float64 0.90, 32-5-3 tanh 0.92, 1000 rows 32-4-1
// leaky_relu 0.80, 2-4-20 sigmoid 0.84; in training 0.83-0.96, and 1.05 at 1000 32-4-1.
// Logits by dense_rows after a hidden layer by BLAS (more inputs) gained 0-6 % under no_grad and
// nothing in training: those keep BLAS.
constexpr int64_t kDenseRowsMaxInputs = 64;
constexpr int64_t kDenseRowsMinUnits = 4;

inline bool hidden_layer_by_dense_rows(const NetworkShape& s) {
  return cpu_path(s) == CpuPath::RowBlocks && s.n0 <= kDenseRowsMaxInputs &&
         s.n1 >= kDenseRowsMinUnits;
}

// Where the hidden layer is dense_rows', so are the logits Z2 = A1 W2^T + b2 when BLAS would
// make them (more than kRowsMaxOutputs outputs): measured as above, forward under no_grad 0.81
// (20000 32-64-5 relu), 0.87-0.88 (32-64-16 relu, 32-64-32 relu float64, 1000 32-512-16 sigmoid,
// 32-64-32 sigmoid), 0.95-0.98 (1000 2-64-16 tanh, 20000 2-512-17 relu, 32-64-17 sigmoid,
// 32-512-16 sigmoid float64) of Z2 by BLAS; the training step 0.84-0.97, and 1.04 and 1.12 at
// 1000 rows 32-64-32 sigmoid and 2-64-16 tanh (within the run-to-run noise of about 8 %).
inline bool logits_by_dense_rows(const NetworkShape& s) {
  return hidden_layer_by_dense_rows(s) && s.n2 > kRowsMaxOutputs;
}

// The names of the paths and output regimes, as the test hook twolayer_testing::cpu_path gives
// them (testing_hooks.cpp): the small net does its outputs in its one pass whatever their number;
// on the row blocks, "dense_rows" where that kernel makes the hidden layer (and, past
// kRowsMaxOutputs outputs, the logits), else BLAS's products.
constexpr const char* kCpuPathNames[] = {"small_net",
                                         "row_blocks/outputs_in_row_pass",
                                         "row_blocks/outputs_by_blas",
                                         "row_blocks/dense_rows/outputs_in_row_pass",
                                         "row_blocks/dense_rows/outputs_by_dense_rows",
                                         "whole_batch/outputs_in_row_pass",
                                         "whole_batch/outputs_by_blas"};

inline const char* cpu_path_name(const NetworkShape& s) {
  const int wide = s.n2 > kRowsMaxOutputs ? 1 : 0;  // the second output regime of each path
  switch (cpu_path(s)) {
    case CpuPath::SmallNet: return kCpuPathNames[0];
    case CpuPath::RowBlocks: return kCpuPathNames[(hidden_layer_by_dense_rows(s) ? 3 : 1) + wide];
    case CpuPath::WholeBatch: break;
  }
  return kCpuPathNames[5 + wide];
}

// `units` rounded up to whole vectors of `itemsize`-byte elements (32-byte vectors, simd.h).
inline int64_t units_padded(int64_t units, int64_t itemsize) {
  const int64_t lanes = 32 / itemsize;
  return (units + lanes - 1) / lanes * lanes;
}

// The rows of one block for n1 hidden units of `itemsize` bytes.
inline int64_t row_block_rows(int64_t n1, int64_t itemsize) {
  const int64_t rows = kRowBlockBytes / (n1 * itemsize);
  return rows < kRowBlockMinRows ? kRowBlockMinRows : rows;
}

}  // namespace cpu
}  // namespace twolayer
