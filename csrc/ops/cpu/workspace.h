#pragma once

#include <ATen/ATen.h>

namespace twolayer {
namespace cpu {

// An (m x n1) buffer for fit_'s A1, which never leaves an iteration: kept per thread from call
// to call, because fresh memory of that size (32 MiB for 8192 x 1024 floats) costs a page fault
// per 4 KiB every step. It grows to the largest size used. Valid until the thread's next call.
at::Tensor hidden_workspace(int64_t m, int64_t n1, const at::TensorOptions& options);

// `bytes` of memory for the blocks of one call of the row passes (row_passes.cpp: the hidden
// layer when it is not kept, dZ1, dZ2, partial products), kept per thread like hidden_workspace
// but apart from it, as the two are used at once. Valid until the thread's next call.
void* block_workspace(size_t bytes);

// The two tensors of forward's cache, each with memory of its own from call to call.
enum class CacheSlot { A1, Z2 };

// An (m x n) tensor for the cache's A1 or Z2, which outlives the call: in the memory of the one
// this thread made last if nothing holds that any more (its graph has run backward, or is
// gone), else in fresh memory. For the same reason as above: a training loop would otherwise take
// fresh pages every step. The memory stays with the thread, at the size of its last cache.
at::Tensor recycled_cache(CacheSlot slot, int64_t m, int64_t n, const at::TensorOptions& options);

}  // namespace cpu
}  // namespace twolayer
