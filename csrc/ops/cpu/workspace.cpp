#include "ops/cpu/workspace.h"

#include <memory>
#include <new>

#include <c10/util/Exception.h>

#include <ATen/EmptyTensor.h>

namespace twolayer {
namespace cpu {

namespace {

// A per-thread buffer of at least `bytes`, grown when too small.
struct ThreadBuffer {
  std::unique_ptr<char[]> memory;
  size_t capacity = 0;

  void* at_least(size_t bytes, const char* what) {
    // A null buffer is allocated whatever the capacity says: after a failed allocation the
    // buffer is null, and GCC 16 was seen to keep the old capacity (it may drop the store of 0
    // before `new` as dead), which left every later call a null workspace. Testing the pointer
    // does not depend on that store.
    if (!memory || bytes > capacity) {
      // The old one goes before the new one comes.
      memory.reset();
      capacity = 0;
      // Not a bare std::bad_alloc: callers catch c10::Error, and they need to know how much
      // memory was asked for and why. Nothing has been computed yet when this fails.
      memory.reset(new (std::nothrow) char[bytes]);
      TORCH_CHECK(memory != nullptr, "twolayer: out of memory: the CPU kernel's ", what,
                  " needs ", bytes, " bytes, which could not be allocated; use fewer rows per "
                  "call (split the batch) or fewer hidden units");
      capacity = bytes;
    }
    return memory.get();
  }
};

const char* cache_name(CacheSlot slot) {
  return slot == CacheSlot::A1 ? "A1, m x n1" : "Z2, m x n2";
}

}  // namespace

at::Tensor hidden_workspace(int64_t m, int64_t n1, const at::TensorOptions& options) {
  thread_local ThreadBuffer buffer;
  const size_t bytes = static_cast<size_t>(m * n1) * options.dtype().itemsize();
  return at::from_blob(buffer.at_least(bytes, "hidden-layer workspace (m x n1)"), {m, n1},
                       options);
}

void* block_workspace(size_t bytes) {
  thread_local ThreadBuffer buffer;
  return buffer.at_least(bytes, "row-pass workspace (blocks of A1, dZ1, dZ2)");
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
    try {
      last = at::detail::empty_cpu({m, n}, options).storage();
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, "twolayer: out of memory: the cache of forward propagation for "
                  "backpropagation (", cache_name(slot), ") needs ", bytes, " bytes, which could "
                  "not be allocated; use fewer rows per call (split the batch) or fewer hidden "
                  "units (", e.what_without_backtrace(), ")");
    }
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
