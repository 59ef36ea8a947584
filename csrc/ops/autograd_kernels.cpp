// Kernels on the Autograd key: they route loss and forward through the hand-written backward
// of TwoLayerFunction / TwoLayerForwardFunction, but only when a gradient can be asked for;
// otherwise they go straight to the backend kernels and save nothing.

#include <utility>

#include <torch/library.h>

#include "ops/op_handles.h"
#include "twolayer/two_layer_function.h"

namespace twolayer {
namespace {

// Function::apply reads every input before any kernel runs, so an undefined one must be caught
// here to get twolayer's message rather than autograd's.
void check_defined(std::initializer_list<std::pair<const char*, const at::Tensor*>> inputs) {
  for (const auto& [name, tensor] : inputs) {
    TORCH_CHECK(tensor->defined(), "twolayer: ", name, " must be a defined tensor, but got an undefined one");
  }
}

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
  check_defined({{"X", &X}, {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}, {"Y", &Y}});
  if (needs_graph({&X, &Y, &W1, &b1, &W2, &b2})) {
    return TwoLayerFunction::apply(X, Y, W1, b1, W2, b2, activation);
  }
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  return ops::loss().call(X, Y, W1, b1, W2, b2, activation);
}

at::Tensor forward_autograd(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                            const at::Tensor& W2, const at::Tensor& b2,
                            c10::string_view activation) {
  check_defined({{"X", &X}, {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}});
  if (needs_graph({&X, &W1, &b1, &W2, &b2})) {
    return TwoLayerForwardFunction::apply(X, W1, b1, W2, b2, activation);
  }
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  return ops::forward().call(X, W1, b1, W2, b2, activation);
}

// fit_ is an optimiser, not a differentiable function: like torch.optim's step it updates the
// parameters outside the graph, and bumps their versions so that a graph which saved them
// refuses to backward through the stale values.
at::Tensor fit_autograd(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                        const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                        double learning_rate, c10::string_view activation) {
  // Outside inference mode an inference tensor cannot be updated in place: refuse it before the
  // update rather than fail at the version bump after it.
  const std::pair<const char*, const at::Tensor*> parameters[] = {
      {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}};
  for (const auto& [name, p] : parameters) {
    TORCH_CHECK(!p->defined() || !p->is_inference(), "twolayer: ", name,
                " is an inference tensor, which fit_ cannot update outside torch.inference_mode()");
  }
  at::Tensor costs;
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    costs = ops::fit().call(W1, b1, W2, b2, X, Y, iterations, learning_rate, activation);
  }
  for (at::Tensor* p : {&W1, &b1, &W2, &b2}) p->unsafeGetTensorImpl()->bump_version();
  return costs;
}

}  // namespace
}  // namespace twolayer

TORCH_LIBRARY_IMPL(twolayer, Autograd, m) {
  m.impl("fit_", &twolayer::fit_autograd);
  m.impl("loss", &twolayer::loss_autograd);
  m.impl("forward", &twolayer::forward_autograd);
}
