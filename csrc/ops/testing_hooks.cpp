// Hooks for the tests and benchmarks, in an operator namespace of their own, twolayer_testing,
// so that torch.ops.twolayer holds only the network's operators (what opcheck, TorchScript and
// users see). Python reaches them through twolayer._testing. None of them is a stable API.

#include <optional>
#include <string>
#include <vector>

#include <torch/library.h>

#include "ops/cpu/cpu_paths.h"
#include "ops/cpu/low_precision_path.h"
#include "ops/cpu/row_chunks.h"
#include "ops/cpu/vector_kernels.h"
#include "ops/registration.h"

namespace twolayer {
namespace {

std::string cpu_path(int64_t m, int64_t n0, int64_t n1, int64_t n2) {
  TORCH_CHECK(m >= 1 && n0 >= 1 && n1 >= 1 && n2 >= 1,
              "twolayer: cpu_path takes sizes >= 1, but got m = ", m, ", n0 = ", n0, ", n1 = ", n1,
              ", n2 = ", n2);
  return cpu::cpu_path_name({m, n0, n1, n2});
}

std::vector<std::string> cpu_paths() {
  return {std::begin(cpu::kCpuPathNames), std::end(cpu::kCpuPathNames)};
}

void define_hooks(torch::Library& m) {
  // Which CPU path (cpu_paths.h) and output regime a call with these sizes takes.
  m.def("cpu_path(int m, int n0, int n1, int n2) -> str", &cpu_path);
  // Every answer cpu_path can give.
  m.def("cpu_paths() -> str[]", &cpu_paths);
  // "avx2" or "baseline": which compilation of the vectorised CPU kernels this process runs.
  m.def("cpu_kernel_version() -> str",
        [] { return std::string(twolayer::cpu::vector_kernels_version()); });
  // "native" or "float32": how the CPU runs a bfloat16 or float16 network's products
  // (low_precision_path.h).
  m.def("low_precision_products(ScalarType dtype) -> str", [](at::ScalarType dtype) {
    TORCH_CHECK(dtype == at::kBFloat16 || dtype == at::kHalf,
                "twolayer: low_precision_products takes bfloat16 or float16, but got ", dtype);
    return std::string(twolayer::cpu::low_precision_products(dtype));
  });
  // How many distinct threads run the row chunks of a batch of `rows` examples.
  m.def("row_chunk_threads(int rows) -> int", &twolayer::cpu::row_chunk_threads);
}

// TWOLAYER_LIBRARY's rule for a namespace of our own: only the copy of the library that
// registers the operators registers the hooks (registration.h says why).
struct HooksLibrary {
  std::optional<torch::Library> library;
  HooksLibrary() {
    if (!detail::this_copy_registers()) return;
    library.emplace(torch::Library::DEF, "twolayer_testing", c10::nullopt, __FILE__, __LINE__);
    define_hooks(*library);
  }
};

const HooksLibrary hooks_library;

}  // namespace
}  // namespace twolayer
