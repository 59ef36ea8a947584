// Kernels on the Autograd key: they route the public operators through the hand-written
// backward of TwoLayerFunction / TwoLayerForwardFunction, but only when a gradient can be asked
// for; otherwise they go straight to the backend kernels and save nothing.

#include <torch/library.h>

#include "ops/op_handles.h"
#include "twolayer/two_layer_function.h"

namespace twolayer {
namespace {

bool needs_graph(std::initializer_list<const at::Tensor*> inputs) {
  if (!at::GradMode::is_enabled()) return false;
  for (const at::Tensor* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

at::Tensor loss_autograd(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                         const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                         c10::string_view activation) {
  if (needs_graph({&X, &Y, &W1, &b1, &W2, &b2})) {
    return TwoLayerFunction::apply(X, Y, W1, b1, W2, b2, activation);
  }
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  return ops::loss().call(X, Y, W1, b1, W2, b2, activation);
}

at::Tensor forward_autograd(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                            const at::Tensor& W2, const at::Tensor& b2,
                            c10::string_view activation) {
  if (needs_graph({&X, &W1, &b1, &W2, &b2})) {
    return TwoLayerForwardFunction::apply(X, W1, b1, W2, b2, activation);
  }
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  return ops::forward().call(X, W1, b1, W2, b2, activation);
}

}  // namespace
}  // namespace twolayer

TORCH_LIBRARY_IMPL(twolayer, Autograd, m) {
  m.impl("loss", &twolayer::loss_autograd);
  m.impl("forward", &twolayer::forward_autograd);
}
