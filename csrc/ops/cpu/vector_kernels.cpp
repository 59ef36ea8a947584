// The baseline compilation of the vectorised kernels (small_net_kernel.h, row_kernels.h), and
// the choice between it and the AVX2 one (vector_kernels_avx2.cpp), made once per process.

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include <c10/util/Exception.h>

#include "ops/cpu/activation_functors.h"
#include "ops/cpu/fast_math.h"
#include "ops/cpu/row_kernels.h"
#include "ops/cpu/simd.h"
#include "ops/cpu/small_net_kernel.h"

namespace twolayer {
namespace cpu {

namespace baseline {
#include "ops/cpu/row_kernels_impl.h"
#include "ops/cpu/small_net_kernel_impl.h"
}  // namespace baseline

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TWOLAYER_HAVE_AVX2_KERNELS 1
namespace avx2 {  // defined in vector_kernels_avx2.cpp
template <typename T>
void small_net_pass(const SmallNetProblem<T>& p, int64_t begin, int64_t end, double* cost,
                    double* sums);
template <typename T>
void bias_activation_rows(T* Z, const T* b1, int64_t n1, int64_t begin, int64_t end,
                          Activation activation);
template <typename T>
void output_rows(const OutputRows<T>& p, int64_t begin, int64_t end, double* cost);
template <typename T>
void delta_rows(const DeltaRows<T>& p, int64_t begin, int64_t end, double* sums);
template <typename T>
void hidden_delta_rows(const T* A1, const T* product, T* dZ1, int64_t n1, int64_t begin,
                       int64_t end, Activation activation, double* db1_sums);
template <typename T>
void output_cost_rows(const T* Z2, const T* Y, int64_t n2, int64_t begin, int64_t end,
                      double* cost);
template <typename T>
void probability_rows(T* Z2, int64_t n2, int64_t begin, int64_t end);
template <typename T>
void output_delta_rows(const T* Z2, const T* Y, T* dZ2, int64_t n2, int64_t begin, int64_t end,
                       double* db2_sums);
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

#ifdef TWOLAYER_HAVE_AVX2_KERNELS
#define TWOLAYER_DISPATCH(function, ...) \
  (run_avx2() ? avx2::function(__VA_ARGS__) : baseline::function(__VA_ARGS__))
#else
#define TWOLAYER_DISPATCH(function, ...) baseline::function(__VA_ARGS__)
#endif

template <typename T>
void small_net_pass(const SmallNetProblem<T>& p, int64_t begin, int64_t end, double* cost,
                    double* sums) {
  TWOLAYER_DISPATCH(small_net_pass<T>, p, begin, end, cost, sums);
}

template <typename T>
void bias_activation_rows(T* Z, const T* b1, int64_t n1, int64_t begin, int64_t end,
                          Activation activation) {
  TWOLAYER_DISPATCH(bias_activation_rows<T>, Z, b1, n1, begin, end, activation);
}

template <typename T>
void output_rows(const OutputRows<T>& p, int64_t begin, int64_t end, double* cost) {
  TWOLAYER_DISPATCH(output_rows<T>, p, begin, end, cost);
}

template <typename T>
void delta_rows(const DeltaRows<T>& p, int64_t begin, int64_t end, double* sums) {
  TWOLAYER_DISPATCH(delta_rows<T>, p, begin, end, sums);
}

template <typename T>
void hidden_delta_rows(const T* A1, const T* product, T* dZ1, int64_t n1, int64_t begin,
                       int64_t end, Activation activation, double* db1_sums) {
  TWOLAYER_DISPATCH(hidden_delta_rows<T>, A1, product, dZ1, n1, begin, end, activation, db1_sums);
}

template <typename T>
void output_cost_rows(const T* Z2, const T* Y, int64_t n2, int64_t begin, int64_t end,
                      double* cost) {
  TWOLAYER_DISPATCH(output_cost_rows<T>, Z2, Y, n2, begin, end, cost);
}

template <typename T>
void probability_rows(T* Z2, int64_t n2, int64_t begin, int64_t end) {
  TWOLAYER_DISPATCH(probability_rows<T>, Z2, n2, begin, end);
}

template <typename T>
void output_delta_rows(const T* Z2, const T* Y, T* dZ2, int64_t n2, int64_t begin, int64_t end,
                       double* db2_sums) {
  TWOLAYER_DISPATCH(output_delta_rows<T>, Z2, Y, dZ2, n2, begin, end, db2_sums);
}

#undef TWOLAYER_DISPATCH

const char* vector_kernels_version() { return run_avx2() ? "avx2" : "baseline"; }

#define TWOLAYER_INSTANTIATE(T)                                                                   \
  template void small_net_pass<T>(const SmallNetProblem<T>&, int64_t, int64_t, double*, double*); \
  template void bias_activation_rows<T>(T*, const T*, int64_t, int64_t, int64_t, Activation);     \
  template void output_rows<T>(const OutputRows<T>&, int64_t, int64_t, double*);                  \
  template void delta_rows<T>(const DeltaRows<T>&, int64_t, int64_t, double*);                    \
  template void hidden_delta_rows<T>(const T*, const T*, T*, int64_t, int64_t, int64_t,           \
                                     Activation, double*);                                        \
  template void output_cost_rows<T>(const T*, const T*, int64_t, int64_t, int64_t, double*);      \
  template void probability_rows<T>(T*, int64_t, int64_t, int64_t);                               \
  template void output_delta_rows<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, double*);
TWOLAYER_INSTANTIATE(float)
TWOLAYER_INSTANTIATE(double)
#undef TWOLAYER_INSTANTIATE

}  // namespace cpu
}  // namespace twolayer
