// Kernels for every backend, from ATen operators (the reference path in math/six_equations).
// Registered as CompositeExplicitAutograd: they serve CPU and CUDA alike, while autograd is
// handled by our own kernels on the Autograd key (autograd_kernels.cpp).

#include <algorithm>

#include <torch/library.h>

#include "math/checks.h"
#include "math/fit.h"
#include "math/six_equations.h"
#include "ops/op_handles.h"
#include "ops/registration.h"

namespace twolayer {
namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>
loss_and_gradients(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                   const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                   c10::string_view activation, std::array<bool, 6> mask) {
  check_network_sizes(X, Y, W1, b1, W2, b2, Labels::Required);
  const Activation g1 = parse_activation(activation);
  const ForwardCache cache = forward_cache(X, W1, b1, W2, b2, g1);
  at::Tensor J = cost_from_logits(cache.Z2, Y);
  LossGradients g;
  if (std::find(mask.begin(), mask.end(), true) != mask.end()) {
    g = loss_gradients(at::ones({}, X.options()), X, Y, W1, W2, cache.A1, cache.Z2, g1, mask);
  }
  return {std::move(J), g[0], g[1], g[2], g[3], g[4], g[5]};
}

std::tuple<at::Tensor, at::Tensor> forward_with_cache(const at::Tensor& X, const at::Tensor& W1,
                                                      const at::Tensor& b1, const at::Tensor& W2,
                                                      const at::Tensor& b2,
                                                      c10::string_view activation) {
  check_network_sizes(X, at::Tensor(), W1, b1, W2, b2, Labels::None);
  ForwardCache cache = forward_cache(X, W1, b1, W2, b2, parse_activation(activation));
  return {at::sigmoid(cache.Z2), std::move(cache.A1)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> forward_backward(
    const at::Tensor& grad_A2, const at::Tensor& X, const at::Tensor& W1, const at::Tensor& W2,
    const at::Tensor& A1, const at::Tensor& A2, c10::string_view activation,
    std::array<bool, 5> mask) {
  ForwardGradients g =
      forward_gradients(grad_A2, X, W1, W2, A1, A2, parse_activation(activation), mask);
  return {g[0], g[1], g[2], g[3], g[4]};
}

// The public operators without autograd: the private ones, dispatched, minus what only
// backward needs.
at::Tensor loss(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                c10::string_view activation) {
  return std::get<0>(ops::loss_and_gradients().call(X, Y, W1, b1, W2, b2, activation, {}));
}

at::Tensor forward(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                   const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation) {
  return std::get<0>(ops::forward_with_cache().call(X, W1, b1, W2, b2, activation));
}

at::Tensor fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X,
               const at::Tensor& Y, int64_t iterations, double learning_rate,
               c10::string_view activation) {
  check_fit_arguments(W1, b1, W2, b2, X, Y, iterations, learning_rate);
  return reference_fit(W1, b1, W2, b2, X, Y, iterations, learning_rate,
                       parse_activation(activation));
}

}  // namespace
}  // namespace twolayer

TWOLAYER_LIBRARY_IMPL(CompositeExplicitAutograd, m) {
  m.impl("fit_", &twolayer::fit);
  m.impl("loss", &twolayer::loss);
  m.impl("forward", &twolayer::forward);
  m.impl("_loss_and_gradients", &twolayer::loss_and_gradients);
  m.impl("_forward_with_cache", &twolayer::forward_with_cache);
  m.impl("_forward_backward", &twolayer::forward_backward);
}
