#pragma once

// bfloat16 and float16 networks on the CPU (math/precision.h). Their time is in the six
// products, which ATen runs in the network's dtype with float32 accumulation (oneDNN's or
// MKL's bfloat16 kernels where the CPU has the instructions); the elementwise work between
// them is bound by memory, so it runs as one pass over the rows that reads and writes the
// network's dtype and computes in float32, with the float32 vector kernels of the row paths:
// A1 = g1(Z1) over Z1 in place, and dZ1 = (dZ2 W2) * g1'(Z1) with db1's sums over the
// product in place. The output layer's m x n2 values go through math/output_layer in float32.
//
// On a CPU without instructions for the dtype (AVX512-BF16 or AMX-BF16 for bfloat16,
// AVX512-FP16 or AMX-FP16 for float16) ATen's low-precision products are emulated, an order of
// magnitude slower than float32's, and PyTorch 1.13's sum in bfloat16. There, and on PyTorch
// 1.x always, the products read their low-precision operands into float32 and run float32 GEMM: the
// same products of the same numbers, summed in float32 as the low-precision kernels sum them,
// rounded to the network's dtype as they round.
//
// A small network (cpu_paths.h) spends its time in fixed costs, not in products: it runs the
// float32 small-net kernel on float32 copies of its few values, rounded back to the network's
// dtype after (the cache, A2, the gradients).

#include "math/activation.h"
#include "math/gradients.h"
#include "math/output_layer.h"
#include "ops/cpu/cpu_steps.h"

namespace twolayer {
namespace cpu {

// "native" (ATen's products in the network's dtype) or "float32" (the operands read into
// float32), for a bfloat16 or float16 network on this CPU. The environment variable
// TWOLAYER_LOW_PRECISION_PRODUCTS=native or =float32 forces one, for tests and comparisons.
const char* low_precision_products(at::ScalarType network);

// J (float32) or A2 (the network's dtype), and the cache (A1, Z2) when kept.
ForwardResult low_precision_forward(const NetworkInputs& in, ForwardOutput output, bool keep_cache);

// The six equations times grad_J from the cache, each gradient in its input's dtype.
Gradients low_precision_backward(const BackwardInputs& in, GradientMask want);

}  // namespace cpu
}  // namespace twolayer
