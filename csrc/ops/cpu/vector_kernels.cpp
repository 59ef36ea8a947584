// The baseline compilation of the vectorised kernels (vector_kernels.h), and the choice between
// it and the AVX2 one (vector_kernels_avx2.cpp), made once per process.

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include <c10/util/Exception.h>

#include "ops/cpu/activation_functors.h"
#include "ops/cpu/fast_math.h"
#include "ops/cpu/simd.h"
#include "ops/cpu/vector_kernels.h"

namespace twolayer {
namespace cpu {

namespace baseline {
#include "ops/cpu/row_kernels_impl.h"
#include "ops/cpu/small_net_kernel_impl.h"
TWOLAYER_INSTANTIATE_VECTOR_KERNELS()
}  // namespace baseline

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TWOLAYER_HAVE_AVX2_KERNELS 1
namespace avx2 {  // defined in vector_kernels_avx2.cpp
TWOLAYER_VECTOR_KERNELS(TWOLAYER_DECLARE_VECTOR_KERNEL, T)
}  // namespace avx2
#endif

namespace {

bool cpu_has_avx2() {
#ifdef TWOLAYER_HAVE_AVX2_KERNELS
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// Read at the first kernel call rather than at load time: a bad value is then an exception the
// caller sees, not an abort while the library loads. A throw leaves the static unset, so every
// later call refuses the value again.
bool run_avx2() {
  static const bool chosen = [] {
    const char* forced = std::getenv("TWOLAYER_CPU_KERNEL");
    if (forced == nullptr || forced[0] == '\0') return cpu_has_avx2();
    if (std::strcmp(forced, "baseline") == 0) return false;
    TORCH_CHECK(std::strcmp(forced, "avx2") == 0,
                "twolayer: TWOLAYER_CPU_KERNEL must be one of baseline, avx2 (or unset for the "
                "CPU's best), but got '",
                forced, "'");
    TORCH_CHECK(cpu_has_avx2(),
                "twolayer: TWOLAYER_CPU_KERNEL=avx2, but this CPU or build has no AVX2+FMA "
                "kernels; use baseline or leave it unset");
    return true;
  }();
  return chosen;
}

}  // namespace

// Each kernel of the list runs the build that run_avx2() chose.
#ifdef TWOLAYER_HAVE_AVX2_KERNELS
#define TWOLAYER_DISPATCH_VECTOR_KERNEL(name, parameters, arguments) \
  template <typename T>                                              \
  void name parameters {                                             \
    if (run_avx2()) {                                                \
      avx2::name<T> arguments;                                       \
    } else {                                                         \
      baseline::name<T> arguments;                                   \
    }                                                                \
  }
#else
#define TWOLAYER_DISPATCH_VECTOR_KERNEL(name, parameters, arguments) \
  template <typename T>                                              \
  void name parameters {                                             \
    baseline::name<T> arguments;                                     \
  }
#endif
TWOLAYER_VECTOR_KERNELS(TWOLAYER_DISPATCH_VECTOR_KERNEL, T)
#undef TWOLAYER_DISPATCH_VECTOR_KERNEL

const char* vector_kernels_version() { return run_avx2() ? "avx2" : "baseline"; }

TWOLAYER_INSTANTIATE_VECTOR_KERNELS()

}  // namespace cpu
}  // namespace twolayer
