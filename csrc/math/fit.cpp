#include "math/fit.h"

#include <cmath>
#include <utility>

#include <ATen/MemoryOverlap.h>

#include "math/six_equations.h"

namespace twolayer {

SymNetworkShape check_fit_arguments(const at::Tensor& W1, const at::Tensor& b1, const at::Tensor& W2,
                                 const at::Tensor& b2, const at::Tensor& X, const at::Tensor& Y,
                                 int64_t iterations, double learning_rate) {
  SymNetworkShape shape = check_network_sizes(X, Y, W1, b1, W2, b2, Labels::Required);
  // An expanded parameter (several elements on one memory location) cannot be updated in place;
  // refuse it before the first update rather than fail halfway through.
  const std::pair<const char*, const at::Tensor*> parameters[] = {
      {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}};
  for (const auto& [name, tensor] : parameters) {
    TORCH_CHECK(at::has_internal_overlap(*tensor) != at::MemOverlap::Yes, "twolayer: ", name,
                " must not be an expanded tensor (fit_ updates it in place), but got strides ",
                tensor->strides());
  }
  TORCH_CHECK(iterations >= 0, "twolayer: iterations must be >= 0, but got ", iterations);
  TORCH_CHECK(std::isfinite(learning_rate), "twolayer: learning_rate must be finite, but got ",
              learning_rate);
  return shape;
}

at::Tensor reference_fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                         const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                         double learning_rate, Activation activation) {
  at::Tensor costs = at::empty({iterations}, X.options());
  const at::Tensor one = at::ones({}, X.options());
  for (int64_t i = 0; i < iterations; ++i) {
    const ForwardCache cache = forward_cache(X, W1, b1, W2, b2, activation);
    costs[i].copy_(cost_from_logits(cache.Z2, Y));  // a copy, not item(): no device sync
    const LossGradients d = loss_gradients(one, X, Y, W1, W2, cache.A1, cache.Z2, activation,
                                           {false, false, true, true, true, true});
    W1.sub_(d[2], learning_rate);
    b1.sub_(d[3], learning_rate);
    W2.sub_(d[4], learning_rate);
    b2.sub_(d[5], learning_rate);
  }
  return costs;
}

}  // namespace twolayer
