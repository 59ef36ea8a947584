#include "ops/cpu/low_precision_path.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <torch/version.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

#include "math/precision.h"
#include "math/six_equations.h"
#include "ops/cpu/cpu_paths.h"
#include "ops/cpu/cpu_tensors.h"
#include "ops/cpu/row_chunks.h"
#include "ops/cpu/vector_kernels.h"

namespace twolayer {
namespace cpu {
namespace {

// Whether ATen's products in the dtype are fast and sum in float32: PyTorch 2, on a CPU that
// multiplies the dtype natively. PyTorch 1.13's CPU bfloat16 GEMM (Debian's build) sums in
// bfloat16: 20 000 positive terms came out 95 % low, where 2.x's are within 0.3 %.
//
// The CPU multiplies the dtype natively with AVX512-BF16 (CPUID leaf 7, subleaf 1, EAX bit
// 5) or AMX-BF16 (leaf 7, EDX bit 22) for bfloat16; AVX512-FP16 (leaf 7, EDX bit 23) or
// AMX-FP16 (leaf 7, subleaf 1, EAX bit 21) for float16. Both need the OS's AVX-512 state, which
// __builtin_cpu_supports("avx512f") checks.
bool cpu_multiplies_natively(at::ScalarType network) {
#if TORCH_VERSION_MAJOR < 2
  (void)network;
  return false;
#elif defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) return false;
  unsigned leaf0[4] = {}, leaf1[4] = {};
  if (!__get_cpuid_count(7, 0, &leaf0[0], &leaf0[1], &leaf0[2], &leaf0[3])) return false;
  __get_cpuid_count(7, 1, &leaf1[0], &leaf1[1], &leaf1[2], &leaf1[3]);
  const auto bit = [](unsigned word, int b) { return ((word >> b) & 1u) != 0; };
  if (network == at::kBFloat16) return bit(leaf1[0], 5) || bit(leaf0[3], 22);
  return bit(leaf0[3], 23) || bit(leaf1[0], 21);
#else
  (void)network;
  return true;  // other CPUs (ARM's BF16 and FP16 extensions): ATen decides
#endif
}

// Read at the first call, as TWOLAYER_CPU_KERNEL is (vector_kernels.cpp): a bad value is an
// exception the caller sees.
bool native_products(at::ScalarType network) {
  static const char* const forced = [] {
    const char* value = std::getenv("TWOLAYER_LOW_PRECISION_PRODUCTS");
    if (value == nullptr || value[0] == '\0') return static_cast<const char*>(nullptr);
    TORCH_CHECK(std::strcmp(value, "native") == 0 || std::strcmp(value, "float32") == 0,
                "twolayer: TWOLAYER_LOW_PRECISION_PRODUCTS must be one of native, float32 (or "
                "unset for the CPU's best), but got '",
                value, "'");
    return value;
  }();
  if (forced != nullptr) return std::strcmp(forced, "native") == 0;
  static const bool bfloat16 = cpu_multiplies_natively(at::kBFloat16);
  static const bool float16 = cpu_multiplies_natively(at::kHalf);
  return network == at::kBFloat16 ? bfloat16 : float16;
}

// a b and bias + a b in the network's dtype, by ATen's kernels or read into float32.
at::Tensor product(const at::Tensor& a, const at::Tensor& b, bool native) {
  if (native) return at::mm(a, b);
  return at::mm(a.to(at::kFloat), b.to(at::kFloat)).to(a.scalar_type());
}

at::Tensor biased_product(const at::Tensor& bias, const at::Tensor& a, const at::Tensor& b,
                          bool native) {
  if (native) return at::addmm(bias, a, b);
  return at::addmm(bias.to(at::kFloat), a.to(at::kFloat), b.to(at::kFloat)).to(a.scalar_type());
}

// Rows converted to float32 at a time: a buffer (two for backward) that stays in L2.
constexpr int64_t kFloatsPerBlock = 16384;

template <typename Low>
void to_float(const Low* from, float* to, int64_t count) {
  for (int64_t i = 0; i < count; ++i) to[i] = static_cast<float>(from[i]);
}

template <typename Low>
void from_float(const float* from, Low* to, int64_t count) {
  for (int64_t i = 0; i < count; ++i) to[i] = static_cast<Low>(from[i]);
}

// Calls f with a value of the C++ type of a low-precision dtype (bfloat16 or float16).
template <typename F>
void visit_low_precision(at::ScalarType dtype, const F& f) {
  if (dtype == at::kBFloat16) {
    f(c10::BFloat16());
  } else {
    f(c10::Half());
  }
}

// t in dtype `to` (t itself if it is already), converted without the dispatcher: a small
// network's step converts a dozen tensors of a few hundred values, where each dispatched .to()
// would cost about as much as the arithmetic. One of the two dtypes is float32.
at::Tensor converted(const at::Tensor& t, at::ScalarType to) {
  if (!t.defined() || t.scalar_type() == to) return t;
  const at::Tensor from = t.contiguous();
  at::Tensor out = new_cpu_tensor(from.sizes(), from.options().dtype(to));
  const int64_t count = from.numel();
  const bool widen = to == at::kFloat;
  visit_low_precision(widen ? from.scalar_type() : to, [&](auto type) {
    using Low = decltype(type);
    if (widen) {
      to_float(from.data_ptr<Low>(), out.data_ptr<float>(), count);
    } else {
      from_float(from.data_ptr<float>(), out.data_ptr<Low>(), count);
    }
  });
  return out;
}

// Runs body(first_row, end_row, slot) over blocks of rows of n1 values, within the chunks of
// row_chunks.h, so that sums added to per-chunk slots come out the same on every run.
template <typename Body>
void for_each_block(int64_t rows, int64_t n1, int64_t chunks, const Body& body) {
  const int64_t block = std::max<int64_t>(1, kFloatsPerBlock / n1);
  for_each_row_chunk(rows, chunks, [&](int64_t chunk, int64_t first, int64_t end) {
    for (int64_t i = first; i < end; i += block) body(i, std::min(end, i + block), chunk);
  });
}

// Z1 (m x n1, contiguous, the network's dtype) becomes A1 = g1(Z1) in place.
void activate_in_place(at::Tensor& Z1, Activation g1) {
  const int64_t m = Z1.size(0), n1 = Z1.size(1);
  const std::vector<float> no_bias(static_cast<size_t>(n1), 0.0f);  // in Z1 already
  visit_low_precision(Z1.scalar_type(), [&](auto type) {
    using scalar_t = decltype(type);
    scalar_t* z = Z1.data_ptr<scalar_t>();
    for_each_block(m, n1, row_chunk_count(m), [&](int64_t first, int64_t end, int64_t) {
      std::vector<float> values((end - first) * n1);
      to_float(z + first * n1, values.data(), (end - first) * n1);
      bias_activation_rows<float>(values.data(), no_bias.data(), n1, 0, end - first, g1);
      from_float(values.data(), z + first * n1, (end - first) * n1);
    });
  });
}

// product = dZ2 W2 (m x n1, contiguous, the network's dtype) becomes dZ1 = product * g1'(Z1)
// in place; returns db1's sums (float32, not yet times 1/m: dZ2 carries it).
at::Tensor hidden_delta_in_place(at::Tensor& product, const at::Tensor& A1, Activation g1) {
  const int64_t m = product.size(0), n1 = product.size(1);
  const int64_t chunks = row_chunk_count(m);
  std::vector<double> sums(static_cast<size_t>(chunks * n1), 0.0);
  visit_low_precision(product.scalar_type(), [&](auto type) {
    using scalar_t = decltype(type);
    scalar_t* d = product.data_ptr<scalar_t>();
    const scalar_t* a = A1.data_ptr<scalar_t>();
    for_each_block(m, n1, chunks, [&](int64_t first, int64_t end, int64_t chunk) {
      const int64_t count = (end - first) * n1;
      std::vector<float> delta(count), activations(count);
      to_float(d + first * n1, delta.data(), count);
      to_float(a + first * n1, activations.data(), count);
      hidden_delta_rows<float>(activations.data(), delta.data(), delta.data(), n1, 0, end - first,
                               g1, sums.data() + chunk * n1);
      from_float(delta.data(), d + first * n1, count);
    });
  });
  at::Tensor db1 = at::zeros({n1}, A1.options().dtype(at::kFloat));
  float* out = db1.data_ptr<float>();
  for (int64_t c = 0; c < chunks; ++c) {
    for (int64_t j = 0; j < n1; ++j) out[j] += static_cast<float>(sums[c * n1 + j]);
  }
  return db1;
}

}  // namespace

const char* low_precision_products(at::ScalarType network) {
  return native_products(network) ? "native" : "float32";
}

ForwardResult low_precision_forward(const NetworkInputs& in, ForwardOutput output,
                                    bool keep_cache) {
  const at::ScalarType network = in.X.scalar_type();
  if (cpu_path(in.shape) == CpuPath::SmallNet) {
    NetworkInputs in_float32 = in;
    for (at::Tensor* t : {&in_float32.X, &in_float32.Y, &in_float32.W1, &in_float32.b1,
                          &in_float32.W2, &in_float32.b2}) {
      *t = converted(*t, at::kFloat);
    }
    ForwardResult result = small_net_forward(in_float32, output, keep_cache);
    for (at::Tensor* t : {&result.A2, &result.A1, &result.Z2}) *t = converted(*t, network);
    return result;
  }
  const at::Tensor &X = in.X, &Y = in.Y, &W1 = in.W1, &b1 = in.b1, &W2 = in.W2, &b2 = in.b2;
  const Activation g1 = in.activation;
  const OutputLayer g2 = in.output;
  const bool native = native_products(network);
  // Z1 = X W1^T + b1 rounded once to the network's dtype, as nn.Linear rounds it: a Z1 near
  // relu's kink then falls on the side eager's falls.
  at::Tensor A1 = biased_product(b1, X, W1.t(), native);
  activate_in_place(A1, g1);  // A1 = g1(Z1)
  at::Tensor Z2 = biased_product(b2, A1, W2.t(), native);
  ForwardResult result;
  const ForwardCache cache{A1, Z2};
  if (output == ForwardOutput::Cost) {
    result.J = network_cost(cache, Y, g2);
    if (keep_cache) result.Z2 = std::move(Z2);
  } else {
    result.A2 = network_probabilities(cache, g2);
  }
  if (keep_cache) result.A1 = std::move(A1);
  return result;
}

Gradients low_precision_backward(const BackwardInputs& in, GradientMask want) {
  const at::ScalarType network = in.X.scalar_type();
  if (cpu_path(in.shape) == CpuPath::SmallNet) {
    BackwardInputs in_float32 = in;
    for (at::Tensor* t : {&in_float32.X, &in_float32.Y, &in_float32.W1, &in_float32.W2,
                          &in_float32.A1, &in_float32.Z2}) {
      *t = converted(*t, at::kFloat);
    }
    Gradients d = small_net_backward(in_float32, want);
    for (at::Tensor* t : {&d.X, &d.W1, &d.b1, &d.W2, &d.b2}) *t = converted(*t, network);
    d.Y = converted(d.Y, in.Y.scalar_type());
    return d;
  }
  const at::Tensor &X = in.X, &Y = in.Y, &W1 = in.W1, &W2 = in.W2, &A1 = in.A1, &Z2 = in.Z2;
  const Activation g1 = in.activation;
  const OutputLayer g2 = in.output;
  const double grad_J = in.grad_J;
  const bool native = native_products(network);
  const at::Tensor logits = Z2.to(at::kFloat), labels = Y.to(at::kFloat);
  const double scale = grad_J / static_cast<double>(X.size(0));
  Gradients d;
  if (want.Y) d.Y = (output_label_gradient(logits, labels, g2) * scale).to(Y.scalar_type());
  if (!want.through_dZ2()) return d;
  // dZ2 = A2 - Y, times grad_J / m, in float32; rounded only to enter the products.
  const at::Tensor dZ2 = scale * output_delta(output_activation(logits, g2), labels, g2);
  const at::Tensor dZ2_product = dZ2.to(network);
  if (want.W2) d.W2 = product(dZ2_product.t(), A1, native);  // dW2 = (1/m) dZ2^T A1
  if (want.b2) d.b2 = dZ2.sum(0).to(network);                // db2 = (1/m) sum_rows dZ2
  if (want.hidden()) {
    at::Tensor dZ1 = product(dZ2_product, W2, native);
    const at::Tensor db1 =
        hidden_delta_in_place(dZ1, A1.contiguous(), g1);  // dZ1 = (dZ2 W2) * g1'(Z1)
    if (want.W1) d.W1 = product(dZ1.t(), X, native);      // dW1 = (1/m) dZ1^T X
    if (want.b1) d.b1 = db1.to(network);                  // db1 = (1/m) sum_rows dZ1
    if (want.X) d.X = product(dZ1, W1, native);           // dX = (1/m) dZ1 W1
  }
  return d;
}

}  // namespace cpu
}  // namespace twolayer
