#pragma once

// TORCH_LIBRARY and TORCH_LIBRARY_IMPL for the namespace twolayer, done by one copy of the
// library per process.
//
// Python and C++ share one library, libtwolayer.so: the Python package loads the file that it
// ships, and applications built with find_package(TwoLayer) against the package link that same
// file. A process can still meet a second copy (a CMake install elsewhere, another version's
// wheel). Its TORCH_LIBRARY(twolayer) would throw in a static initialiser, which ends the
// process, and its TORCH_LIBRARY_IMPLs would replace the first copy's kernels. So a copy that
// finds the operators defined already registers nothing and is refused: its C++ entry points
// throw, and the Python package's import raises, an error that names both copies' files and
// versions (refusal_message).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/library.h>

#if defined(__GNUC__) || defined(__clang__)
// One answer per copy, shared by its translation units: never bound to the other copy's symbol.
#define TWOLAYER_PER_COPY __attribute__((visibility("hidden")))
#else
#define TWOLAYER_PER_COPY
#endif

namespace twolayer {
namespace detail {

// This copy's file and version, as twolayer::_library reports them: {path, version}.
TWOLAYER_PER_COPY std::vector<std::string> this_copy();

// Whether this copy serves the process: decided once, at its first registration, by asking the
// dispatcher whether twolayer::loss is already defined (schemas.cpp).
TWOLAYER_PER_COPY bool this_copy_registers();

// Empty when this copy serves the process; otherwise why it was refused, naming both copies.
TWOLAYER_PER_COPY const std::string& refusal_message();

// torch::detail::TorchLibraryInit, minus the registration when another copy serves.
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
