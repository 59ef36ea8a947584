#pragma once

#include <ATen/ATen.h>

namespace twolayer {
namespace cpu {

// An (m x n1) buffer for what never leaves a call (the hidden layer of a cost without
// gradients, dZ1 in backpropagation, fit_'s A1): kept per thread from call to call, because
// fresh memory of that size (32 MiB for 8192 x 1024 floats) costs a page fault per 4 KiB every
// step. It grows to the largest size used. Valid until the thread's next call.
at::Tensor hidden_workspace(int64_t m, int64_t n1, const at::TensorOptions& options);

}  // namespace cpu
}  // namespace twolayer
