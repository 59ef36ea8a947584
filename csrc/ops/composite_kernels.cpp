// Kernels for every backend, from ATen operators (the reference path in math/six_equations).
// Registered as CompositeExplicitAutograd: they serve CPU and CUDA alike, while autograd is
// handled by our own kernels on the Autograd key (autograd/autograd_kernels.cpp).

#include <torch/library.h>

#include "math/fit.h"
#include "math/six_equations.h"
#include "ops/op_handles.h"
#include "ops/registration.h"
#include "validation/checks.h"

namespace twolayer {
namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor> loss_with_cache_composite(
    const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1, const at::Tensor& b1,
    const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation,
    c10::string_view output) {
  check_network_sizes(X, Y, W1, b1, W2, b2, Labels::Required);
  const OutputLayer g2 = parse_output(output);
  ForwardCache cache = forward_propagation(X, W1, b1, W2, b2, parse_activation(activation));
  at::Tensor J = network_cost(cache, Y, g2);
  return {std::move(J), std::move(cache.A1), std::move(cache.Z2)};
}

Gradients::LossTuple loss_backward_composite(const at::Tensor& grad_J, const at::Tensor& X,
                                             const at::Tensor& Y, const at::Tensor& W1,
                                             const at::Tensor& W2, const at::Tensor& A1,
                                             const at::Tensor& Z2, c10::string_view activation,
                                             std::array<bool, 6> output_mask,
                                             c10::string_view output) {
  check_backward_sizes(grad_J, "grad_J", X, Y, W1, W2, A1, Z2, "Z2", Labels::Required);
  return loss_backward(grad_J, X, Y, W1, W2, {A1, Z2}, parse_activation(activation),
                       parse_output(output), GradientMask::of_loss(output_mask))
      .loss_tuple();
}

std::tuple<at::Tensor, at::Tensor> forward_with_cache_composite(
    const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1, const at::Tensor& W2,
    const at::Tensor& b2, c10::string_view activation, c10::string_view output) {
  check_network_sizes(X, at::Tensor(), W1, b1, W2, b2, Labels::None);
  const OutputLayer g2 = parse_output(output);
  ForwardCache cache = forward_propagation(X, W1, b1, W2, b2, parse_activation(activation));
  at::Tensor A2 = network_probabilities(cache, g2);
  return {std::move(A2), std::move(cache.A1)};
}

Gradients::ForwardTuple backward_of_forward_composite(const at::Tensor& grad_A2,
                                                      const at::Tensor& X, const at::Tensor& W1,
                                                      const at::Tensor& W2, const at::Tensor& A1,
                                                      const at::Tensor& A2,
                                                      c10::string_view activation,
                                                      std::array<bool, 5> output_mask,
                                                      c10::string_view output) {
  check_backward_sizes(grad_A2, "grad_A2", X, at::Tensor(), W1, W2, A1, A2, "A2", Labels::None);
  return backward_of_forward(grad_A2, X, W1, W2, A1, A2, parse_activation(activation),
                             parse_output(output), GradientMask::of_forward(output_mask))
      .forward_tuple();
}

// The public operators without autograd: the forward pieces, dispatched, minus the cache.
at::Tensor loss_composite(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                          const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                          c10::string_view activation, c10::string_view output) {
  return std::get<0>(ops::loss_with_cache().call(X, Y, W1, b1, W2, b2, activation, output));
}

at::Tensor forward_composite(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                             const at::Tensor& W2, const at::Tensor& b2,
                             c10::string_view activation, c10::string_view output) {
  return std::get<0>(ops::forward_with_cache().call(X, W1, b1, W2, b2, activation, output));
}

at::Tensor fit_composite(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                         const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                         double learning_rate, c10::string_view activation,
                         c10::string_view output) {
  check_fit_arguments(W1, b1, W2, b2, X, Y, iterations, learning_rate);
  return reference_fit(W1, b1, W2, b2, X, Y, iterations, learning_rate,
                       parse_activation(activation), parse_output(output));
}

// The logits from the reference's forward propagation, checked as the operators check.
at::Tensor logits_composite(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                            const at::Tensor& W2, const at::Tensor& b2,
                            c10::string_view activation) {
  check_network_sizes(X, at::Tensor(), W1, b1, W2, b2, Labels::None);
  return forward_propagation(X, W1, b1, W2, b2, parse_activation(activation)).Z2;
}

}  // namespace
}  // namespace twolayer

TWOLAYER_LIBRARY_IMPL(CompositeExplicitAutograd, m) {
  m.impl("fit_", &twolayer::fit_composite);
  m.impl("loss", &twolayer::loss_composite);
  m.impl("forward", &twolayer::forward_composite);
  m.impl("_loss_with_cache", &twolayer::loss_with_cache_composite);
  m.impl("_loss_backward", &twolayer::loss_backward_composite);
  m.impl("_forward_with_cache", &twolayer::forward_with_cache_composite);
  m.impl("_backward_of_forward", &twolayer::backward_of_forward_composite);
}

// Implicit, unlike the kernels above: made of differentiable ATen operators, the logits get their
// gradients, Meta shapes and autocast casts from ATen's, with no kernels of their own to keep.
TWOLAYER_LIBRARY_IMPL(CompositeImplicitAutograd, m) {
  m.impl("_logits", &twolayer::logits_composite);
}
