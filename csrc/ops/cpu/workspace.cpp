#include "ops/cpu/workspace.h"

#include <memory>

#include <ATen/EmptyTensor.h>

namespace twolayer {
namespace cpu {

namespace {

// A per-thread buffer of at least `bytes`, grown when too small.
struct ThreadBuffer {
  std::unique_ptr<char[]> memory;
  size_t capacity = 0;

  void* at_least(size_t bytes) {
    // A null buffer is allocated whatever the capacity says: after a failed `new` (bad_alloc,
    // the caller's MemoryError) the buffer is null, and GCC 16 was seen to keep the old
    // capacity (it may drop the store of 0 before `new` as dead), which left every later call
    // a null workspace. Testing the pointer does not depend on that store.
    if (!memory || bytes > capacity) {
      // The old one goes before the new one comes.
      memory.reset();
      capacity = 0;
      memory.reset(new char[bytes]);
      capacity = bytes;
    }
    return memory.get();
  }
};

}  // namespace

at::Tensor hidden_workspace(int64_t m, int64_t n1, const at::TensorOptions& options) {
  thread_local ThreadBuffer buffer;
  const size_t bytes = static_cast<size_t>(m * n1) * options.dtype().itemsize();
  return at::from_blob(buffer.at_least(bytes), {m, n1}, options);
}

void* block_workspace(size_t bytes) {
  thread_local ThreadBuffer buffer;
  return buffer.at_least(bytes);
}

at::Tensor recycled_cache(CacheSlot slot, int64_t m, int64_t n, const at::TensorOptions& options) {
  thread_local c10::Storage slots[2];
  c10::Storage& last = slots[static_cast<int>(slot)];
  const size_t bytes = static_cast<size_t>(m * n) * options.dtype().itemsize();
  // use_count 1: only `last` holds the memory. Any tensor on it, saved in a graph, kept by a
  // saved-tensors hook or by the caller, holds it too and keeps it from reuse. Of the same size
  // only: a training loop repeats its shape, and a cache in a larger block would keep memory
  // it does not use for as long as the graph lives.
  const bool reusable = last && last.use_count() == 1 && last.nbytes() == bytes;
  if (!reusable) {
    last = c10::Storage();  // the old memory goes before the new comes
    last = at::detail::empty_cpu({m, n}, options).storage();
  }
  // A tensor on that memory made without the dispatcher: at::empty and set_ were two dispatched
  // calls per cache tensor, four of the lecture's step's few.
  at::Tensor cache = at::detail::make_tensor<c10::TensorImpl>(
      c10::Storage(last), c10::DispatchKeySet(c10::DispatchKey::CPU), options.dtype());
  cache.unsafeGetTensorImpl()->set_sizes_contiguous({m, n});
  return cache;
}

}  // namespace cpu
}  // namespace twolayer
