#pragma once

// TORCH_LIBRARY and TORCH_LIBRARY_IMPL for the namespace twolayer, done only by the first copy
// of the operators that a process loads.
//
// The same sources build two libraries: libtwolayer.so (the CMake package, which C++ extensions
// link) and the Python package's extension. A process may load both, in either order. A second
// TORCH_LIBRARY(twolayer) throws in its static initialiser, which ends the process; a second
// TORCH_LIBRARY_IMPL would override the first copy's kernels. So every registration of ours
// goes through these macros, and a copy that finds the operators already defined registers
// nothing: the first copy serves the whole process, the C++ API of both included, since it
// reaches the operators through the dispatcher.

#include <cstdint>
#include <optional>

#include <torch/library.h>

#if defined(__GNUC__) || defined(__clang__)
// One answer per copy, shared by its translation units: never bound to the other copy's symbol.
#define TWOLAYER_PER_COPY __attribute__((visibility("hidden")))
#else
#define TWOLAYER_PER_COPY
#endif

namespace twolayer {
namespace detail {

// Whether this copy registers the operators: decided once, at its first registration, by
// asking the dispatcher whether twolayer::loss is already defined (schemas.cpp).
TWOLAYER_PER_COPY bool this_copy_registers();

// torch::detail::TorchLibraryInit, minus the registration when another copy has done it.
class LibraryInit {
 public:
  LibraryInit(torch::Library::Kind kind, void (*init)(torch::Library&),
              c10::optional<c10::DispatchKey> key, const char* file, uint32_t line) {
    if (!this_copy_registers()) return;
    library_.emplace(kind, "twolayer", key, file, line);
    init(*library_);
  }

 private:
  std::optional<torch::Library> library_;
};

}  // namespace detail
}  // namespace twolayer

#define TWOLAYER_LIBRARY(m) TWOLAYER_LIBRARY_UID_(m, C10_UID)
#define TWOLAYER_LIBRARY_UID_(m, uid)                                                             \
  static void C10_CONCATENATE(twolayer_library_init_, uid)(torch::Library&);                      \
  static const ::twolayer::detail::LibraryInit C10_CONCATENATE(twolayer_library_, uid)(           \
      torch::Library::DEF, &C10_CONCATENATE(twolayer_library_init_, uid), c10::nullopt, __FILE__, \
      __LINE__);                                                                                  \
  void C10_CONCATENATE(twolayer_library_init_, uid)(torch::Library & m)

#define TWOLAYER_LIBRARY_IMPL(k, m) TWOLAYER_LIBRARY_IMPL_UID_(k, m, C10_UID)
#define TWOLAYER_LIBRARY_IMPL_UID_(k, m, uid)                                                \
  static void C10_CONCATENATE(twolayer_library_impl_init_, uid)(torch::Library&);            \
  static const ::twolayer::detail::LibraryInit C10_CONCATENATE(twolayer_library_impl_, uid)( \
      torch::Library::IMPL, &C10_CONCATENATE(twolayer_library_impl_init_, uid),              \
      c10::make_optional(c10::DispatchKey::k), __FILE__, __LINE__);                          \
  void C10_CONCATENATE(twolayer_library_impl_init_, uid)(torch::Library & m)
