#include "ops/cpu/low_precision_path.h"

#include <algorithm>
#include <vector>

#include "math/precision.h"
#include "math/six_equations.h"
#include "ops/cpu/row_chunks.h"
#include "ops/cpu/vector_kernels.h"

namespace twolayer {
namespace cpu {
namespace {

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

// Runs body(first_row, end_row, slot) over blocks of rows of n1 values, within the chunks of
// row_chunks.h, so that sums added to per-chunk slots come out the same on every run.
template <typename Body>
void for_each_block(int64_t rows, int64_t n1, int64_t chunks, const Body& body) {
  const int64_t block = std::max<int64_t>(1, kFloatsPerBlock / n1);
  for_each_row_chunk(rows, chunks, [&](int64_t chunk, int64_t first, int64_t end) {
    for (int64_t i = first; i < end; i += block) body(i, std::min(end, i + block), chunk);
  });
}

// Z1 (m x n1, contiguous, the network's dtype) becomes A1 = g1(Z1 + b1) in place.
void activate_in_place(at::Tensor& Z1, const at::Tensor& b1, Activation g1) {
  const int64_t m = Z1.size(0), n1 = Z1.size(1);
  const at::Tensor bias = b1.to(at::kFloat).contiguous();
  visit_low_precision(Z1.scalar_type(), [&](auto type) {
    using scalar_t = decltype(type);
    scalar_t* z = Z1.data_ptr<scalar_t>();
    for_each_block(m, n1, row_chunk_count(m), [&](int64_t first, int64_t end, int64_t) {
      std::vector<float> values((end - first) * n1);
      to_float(z + first * n1, values.data(), (end - first) * n1);
      bias_activation_rows<float>(values.data(), bias.data_ptr<float>(), n1, 0, end - first, g1);
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

ForwardResult low_precision_forward(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                    const at::Tensor& b1, const at::Tensor& W2,
                                    const at::Tensor& b2, Activation g1, OutputLayer g2,
                                    ForwardOutput output, bool keep_cache) {
  // Z1 = X W1^T in the network's dtype; b1 is added in float32 in the pass.
  at::Tensor A1 = at::mm(X, W1.t());
  activate_in_place(A1, b1, g1);  // A1 = g1(Z1)
  at::Tensor Z2 = at::addmm(b2, A1, W2.t());
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

Gradients low_precision_backward(double grad_J, const at::Tensor& X, const at::Tensor& Y,
                                 const at::Tensor& W1, const at::Tensor& W2, const at::Tensor& A1,
                                 const at::Tensor& Z2, Activation g1, OutputLayer g2,
                                 GradientMask want) {
  const at::ScalarType network = X.scalar_type();
  const at::Tensor logits = Z2.to(at::kFloat), labels = Y.to(at::kFloat);
  const double scale = grad_J / static_cast<double>(X.size(0));
  Gradients d;
  if (want.Y) d.Y = (output_label_gradient(logits, labels, g2) * scale).to(Y.scalar_type());
  if (!want.through_dZ2()) return d;
  // dZ2 = A2 - Y, times grad_J / m, in float32; rounded only to enter the products.
  const at::Tensor dZ2 = scale * output_delta(output_activation(logits, g2), labels, g2);
  const at::Tensor dZ2_product = dZ2.to(network);
  if (want.W2) d.W2 = at::mm(dZ2_product.t(), A1);  // dW2 = (1/m) dZ2^T A1
  if (want.b2) d.b2 = dZ2.sum(0).to(network);       // db2 = (1/m) sum_rows dZ2
  if (want.hidden()) {
    at::Tensor dZ1 = at::mm(dZ2_product, W2);
    const at::Tensor db1 =
        hidden_delta_in_place(dZ1, A1.contiguous(), g1);  // dZ1 = (dZ2 W2) * g1'(Z1)
    if (want.W1) d.W1 = at::mm(dZ1.t(), X);               // dW1 = (1/m) dZ1^T X
    if (want.b1) d.b1 = db1.to(network);                  // db1 = (1/m) sum_rows dZ1
    if (want.X) d.X = at::mm(dZ1, W1);                    // dX = (1/m) dZ1 W1
  }
  return d;
}

}  // namespace cpu
}  // namespace twolayer
