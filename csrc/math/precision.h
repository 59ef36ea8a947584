#pragma once

// The precision a network runs in. A bfloat16 or float16 network (its tensors, or autocast's
// casts of them) runs its six matrix products in that dtype, where the CPU's and the GPU's
// fastest arithmetic is and where ATen accumulates in float32 (as nn.Linear). Everything else,
// g1 and g1', the output layer, the cost, dZ2 and the sums of db1 and db2, runs in float32:
// those are few operations per element, bound by memory rather than arithmetic, and rounding
// there to 8 (bfloat16) or 11 (float16) bits would cost accuracy for no time. The cost of such a
// network is float32, as autocast runs binary_cross_entropy_with_logits in float32.

#include <ATen/ATen.h>

namespace twolayer {

inline bool is_low_precision(at::ScalarType network) {
  return network == at::kBFloat16 || network == at::kHalf;
}

// The dtype of the elementwise arithmetic, and of the cost J: float32 for a low-precision
// network, else the network's own.
inline at::ScalarType compute_type(at::ScalarType network) {
  return is_low_precision(network) ? at::kFloat : network;
}

// t in the compute precision of its own dtype (itself, not a copy, when that is already it).
inline at::Tensor in_compute_type(const at::Tensor& t) {
  return t.to(compute_type(t.scalar_type()));
}

}  // namespace twolayer
