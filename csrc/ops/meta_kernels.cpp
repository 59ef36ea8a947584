// Meta kernels: the same checks as the real kernels and outputs of the right shape and dtype,
// without data. They let torch.compile, FakeTensor and shape inference trace the operators.

#include <torch/library.h>

#include "math/activation.h"
#include "math/fit.h"
#include "math/gradients.h"
#include "math/output_layer.h"
#include "math/precision.h"
#include "ops/registration.h"
#include "validation/checks.h"

namespace twolayer {
namespace {

// The dtype of the cost and of fit_'s costs (math/precision.h).
at::TensorOptions cost_options(const at::Tensor& X) {
  return X.options().dtype(compute_type(X.scalar_type()));
}

// Sizes stay symbolic (sym_sizes, empty_symint): a fake tensor's batch size is a symbol under
// torch.compile and torch.export, and reading it as an integer would specialise the trace.

std::tuple<at::Tensor, at::Tensor, at::Tensor> loss_with_cache_meta(
    const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1, const at::Tensor& b1,
    const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation,
    c10::string_view output) {
  const SymNetworkShape s = check_network_sizes(X, Y, W1, b1, W2, b2, Labels::Required);
  parse_activation(activation);
  parse_output(output);
  return {at::empty({}, cost_options(X)), at::empty_symint({s.m, s.n1}, X.options()),
          at::empty_symint({s.m, s.n2}, X.options())};
}

// The gradients `want` asks for, shaped like their inputs, in X's dtype but for dY (Y's).
Gradients empty_gradients(const SymNetworkShape& s, const at::TensorOptions& options,
                          GradientMask want, const at::TensorOptions& label_options = {}) {
  Gradients d;
  if (want.X) d.X = at::empty_symint({s.m, s.n0}, options);
  if (want.W1) d.W1 = at::empty_symint({s.n1, s.n0}, options);
  if (want.b1) d.b1 = at::empty_symint({s.n1}, options);
  if (want.W2) d.W2 = at::empty_symint({s.n2, s.n1}, options);
  if (want.b2) d.b2 = at::empty_symint({s.n2}, options);
  if (want.Y) d.Y = at::empty_symint({s.m, s.n2}, label_options);
  return d;
}

Gradients::LossTuple loss_backward_meta(const at::Tensor& grad_J, const at::Tensor& X,
                                        const at::Tensor& Y, const at::Tensor& W1,
                                        const at::Tensor& W2, const at::Tensor& A1,
                                        const at::Tensor& Z2, c10::string_view activation,
                                        std::array<bool, 6> output_mask, c10::string_view output) {
  const SymNetworkShape s =
      check_backward_sizes(grad_J, "grad_J", X, Y, W1, W2, A1, Z2, "Z2", Labels::Required);
  parse_activation(activation);
  parse_output(output);
  return empty_gradients(s, X.options(), GradientMask::of_loss(output_mask), Y.options())
      .loss_tuple();
}

std::tuple<at::Tensor, at::Tensor> forward_with_cache_meta(
    const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1, const at::Tensor& W2,
    const at::Tensor& b2, c10::string_view activation, c10::string_view output) {
  const SymNetworkShape s = check_network_sizes(X, at::Tensor(), W1, b1, W2, b2, Labels::None);
  parse_activation(activation);
  parse_output(output);
  return {at::empty_symint({s.m, s.n2}, X.options()), at::empty_symint({s.m, s.n1}, X.options())};
}

Gradients::ForwardTuple backward_of_forward_meta(const at::Tensor& grad_A2, const at::Tensor& X,
                                                 const at::Tensor& W1, const at::Tensor& W2,
                                                 const at::Tensor& A1, const at::Tensor& A2,
                                                 c10::string_view activation,
                                                 std::array<bool, 5> output_mask,
                                                 c10::string_view output) {
  const SymNetworkShape s =
      check_backward_sizes(grad_A2, "grad_A2", X, at::Tensor(), W1, W2, A1, A2, "A2", Labels::None);
  parse_activation(activation);
  parse_output(output);
  return empty_gradients(s, X.options(), GradientMask::of_forward(output_mask)).forward_tuple();
}

at::Tensor fit_meta(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                    const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                    double learning_rate, c10::string_view activation, c10::string_view output) {
  check_fit_arguments(W1, b1, W2, b2, X, Y, iterations, learning_rate);
  parse_activation(activation);
  parse_output(output);
  return at::empty({iterations}, cost_options(X));
}

}  // namespace
}  // namespace twolayer

TWOLAYER_LIBRARY_IMPL(Meta, m) {
  m.impl("fit_", &twolayer::fit_meta);
  m.impl("_loss_with_cache", &twolayer::loss_with_cache_meta);
  m.impl("_loss_backward", &twolayer::loss_backward_meta);
  m.impl("_forward_with_cache", &twolayer::forward_with_cache_meta);
  m.impl("_backward_of_forward", &twolayer::backward_of_forward_meta);
}
