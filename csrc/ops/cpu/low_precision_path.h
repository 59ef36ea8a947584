#pragma once

// bfloat16 and float16 networks on the CPU (math/precision.h). Their time is in the six
// products, which ATen runs in the network's dtype with float32 accumulation (oneDNN's or
// MKL's bfloat16 kernels where the CPU has the instructions); the elementwise work between
// them is bound by memory, so it runs as one pass over the rows that reads and writes the
// network's dtype and computes in float32, with the float32 vector kernels of the row paths:
// A1 = g1(Z1 + b1) over Z1 in place, and dZ1 = (dZ2 W2) * g1'(Z1) with db1's sums over the
// product in place. The output layer's m x n2 values go through math/output_layer in float32.

#include "math/activation.h"
#include "math/gradients.h"
#include "math/output_layer.h"
#include "ops/cpu/cpu_steps.h"

namespace twolayer {
namespace cpu {

// J (float32) or A2 (the network's dtype), and the cache (A1, Z2) when kept.
ForwardResult low_precision_forward(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                    const at::Tensor& b1, const at::Tensor& W2,
                                    const at::Tensor& b2, Activation g1, OutputLayer g2,
                                    ForwardOutput output, bool keep_cache);

// The six equations times grad_J from the cache, each gradient in its input's dtype.
Gradients low_precision_backward(double grad_J, const at::Tensor& X, const at::Tensor& Y,
                                 const at::Tensor& W1, const at::Tensor& W2, const at::Tensor& A1,
                                 const at::Tensor& Z2, Activation g1, OutputLayer g2,
                                 GradientMask want);

}  // namespace cpu
}  // namespace twolayer
