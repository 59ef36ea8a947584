#pragma once

// Small helpers of the CPU paths: tensors made without the dispatcher, and the chunks' sums.

#include <initializer_list>

#include <ATen/EmptyTensor.h>

#include "math/gradients.h"
#include "math/output_layer.h"
#include "ops/cpu/cpu_steps.h"
#include "validation/checks.h"

namespace twolayer {
namespace cpu {

// A new CPU tensor without a trip through the dispatcher: at the lecture's size a step makes
// several, and each dispatch would cost about as much as a tenth of the arithmetic.
inline at::Tensor new_cpu_tensor(at::IntArrayRef sizes, const at::TensorOptions& options) {
  return at::Tensor(at::detail::empty_cpu(sizes, options));
}

// The gradients `want` asks for, shaped like their inputs.
inline Gradients empty_gradients(const NetworkShape& s, const at::TensorOptions& options,
                                 GradientMask want) {
  Gradients d;
  if (want.X) d.X = new_cpu_tensor({s.m, s.n0}, options);
  if (want.W1) d.W1 = new_cpu_tensor({s.n1, s.n0}, options);
  if (want.b1) d.b1 = new_cpu_tensor({s.n1}, options);
  if (want.W2) d.W2 = new_cpu_tensor({s.n2, s.n1}, options);
  if (want.b2) d.b2 = new_cpu_tensor({s.n2}, options);
  if (want.Y) d.Y = new_cpu_tensor({s.m, s.n2}, options);
  return d;
}

// dJ/dY times grad_J, (1/m) grad_J times output_label_gradient (-Z2 for sigmoid), into the
// allocated dY. Labels seldom require grad: ATen operators do.
inline void store_label_gradient(const BackwardInputs& in, double scale, at::Tensor& dY) {
  at::mul_out(dY, output_label_gradient(in.Z2, in.Y, in.output),
              at::scalar_tensor(scale, in.Z2.options()));
}

// The alpha of the BLAS products that carry grad_J (1/m). BLAS skips its product when alpha is
// 0, so a NaN or an infinity in it would not reach the gradient as it does through autograd's
// 0 * x: with a zero grad_J the products run unscaled and scale_blas_products multiplies them by
// 0 after.
inline double blas_alpha(double scale) { return scale == 0.0 ? 1.0 : scale; }

inline void scale_blas_products(double scale, std::initializer_list<at::Tensor*> products) {
  if (scale != 0.0) return;
  for (at::Tensor* t : products) {
    if (t->defined()) t->mul_(scale);
  }
}

// Adds the chunks' sums in chunk order, scales by `scale` and stores them as T.
template <typename Sums, typename T>
void store_sums(const Sums& sums, int64_t chunks, int64_t width, int64_t offset, int64_t count,
                double scale, T* out) {
  for (int64_t k = 0; k < count; ++k) {
    double total = 0.0;
    for (int64_t c = 0; c < chunks; ++c) total += sums[c * width + offset + k];
    out[k] = static_cast<T>(total * scale);
  }
}

}  // namespace cpu
}  // namespace twolayer
