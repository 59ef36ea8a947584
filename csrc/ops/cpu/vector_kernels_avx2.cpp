// The vectorised kernels (vector_kernels.h) compiled for AVX2 and FMA (x86-64
// only), run when the CPU has both (vector_kernels.cpp decides). Library and ATen headers come
// before the target switch, so that none of their inline functions is compiled for AVX2 here (the
// linker could pick such a copy for a CPU without it). The vector helpers come after it: Clang
// refuses to pass 32-byte vectors between functions compiled for different instruction sets, even
// inlined ones.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "math/activation.h"
#include "ops/cpu/vector_kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

// The reciprocal estimate for fast_math.h's divisions: an AVX instruction.
#define TWOLAYER_FAST_RECIPROCAL 1
#include "ops/cpu/activation_functors.h"
#include "ops/cpu/fast_math.h"
#include "ops/cpu/simd.h"

namespace twolayer {
namespace cpu {
namespace avx2 {
#include "ops/cpu/row_kernels_impl.h"
#include "ops/cpu/small_net_kernel_impl.h"
TWOLAYER_INSTANTIATE_VECTOR_KERNELS()
}  // namespace avx2
}  // namespace cpu
}  // namespace twolayer

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif
