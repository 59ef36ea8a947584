// Kernels on the Autograd key: they route loss and forward through the hand-written backward
// of TwoLayerFunction / TwoLayerProbabilitiesFunction, but only when a gradient can be asked for;
// otherwise they go straight to the backend kernels and save nothing. Undefined inputs are
// refused with twolayer's message by whichever of those runs (TwoLayerFunction::apply, the
// backend's checks), before anything reads them.

#include <utility>

#include <torch/library.h>

#include "math/six_equations.h"
#include "ops/op_handles.h"
#include "ops/registration.h"
#include "twolayer/two_layer_function.h"
#include "validation/checks.h"

namespace twolayer {
namespace {

bool needs_graph(std::initializer_list<const at::Tensor*> inputs) {
  if (!at::GradMode::is_enabled()) return false;
  for (const at::Tensor* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

// Forward-mode AD (torch.autograd.forward_ad, functorch's jvp and jacfwd): a dual input carries
// a tangent, which neither the backend kernels nor a C++ custom Function (no jvp) would
// propagate. Level 0, as PyTorch's own generated kernels read it.
bool has_tangent(std::initializer_list<const at::Tensor*> inputs) {
  for (const at::Tensor* t : inputs) {
    if (t->defined() && t->_fw_grad(/*level=*/0).defined()) return true;
  }
  return false;
}

// torch.func's grad, vjp, jacrev (and jvp, jacfwd): their wrapped tensors are differentiated by
// functorch, which refuses a C++ custom Function ("cannot use C++ torch::autograd::Function
// with functorch transforms") but transforms ATen operators.
bool under_functorch(std::initializer_list<const at::Tensor*> inputs) {
  for (const at::Tensor* t : inputs) {
    if (t->defined() && t->key_set().has(c10::DispatchKey::FuncTorchGradWrapper)) return true;
  }
  return false;
}

at::Tensor loss_autograd(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                         const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                         c10::string_view activation, c10::string_view output) {
  if (has_tangent({&X, &Y, &W1, &b1, &W2, &b2}) || under_functorch({&X, &Y, &W1, &b1, &W2, &b2})) {
    // The reference equations in ATen operators, at this level: ATen's forward-mode formulas
    // then give the tangent (and, for inputs that also require grad, autograd the gradient);
    // under torch.func, functorch differentiates them.
    check_network_sizes(X, Y, W1, b1, W2, b2, Labels::Required);
    const Activation g1 = parse_activation(activation);
    const OutputLayer g2 = parse_output(output);
    return network_cost(forward_propagation(X, W1, b1, W2, b2, g1), Y, g2);
  }
  if (needs_graph({&X, &Y, &W1, &b1, &W2, &b2})) {
    return TwoLayerFunction::apply(X, Y, W1, b1, W2, b2, activation, output);
  }
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  return ops::loss().call(X, Y, W1, b1, W2, b2, activation, output);
}

at::Tensor forward_autograd(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                            const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation,
                            c10::string_view output) {
  if (has_tangent({&X, &W1, &b1, &W2, &b2}) || under_functorch({&X, &W1, &b1, &W2, &b2})) {
    check_network_sizes(X, at::Tensor(), W1, b1, W2, b2, Labels::None);
    const Activation g1 = parse_activation(activation);
    const OutputLayer g2 = parse_output(output);
    return network_probabilities(forward_propagation(X, W1, b1, W2, b2, g1), g2);
  }
  if (needs_graph({&X, &W1, &b1, &W2, &b2})) {
    return TwoLayerProbabilitiesFunction::apply(X, W1, b1, W2, b2, activation, output);
  }
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  return ops::forward().call(X, W1, b1, W2, b2, activation, output);
}

// fit_ is an optimiser, not a differentiable function: like torch.optim's step it updates the
// parameters outside the graph, and bumps their versions so that a graph which saved them
// refuses to backward through the stale values. Inference-tensor parameters are refused by
// check_fit_arguments in the backend kernel, before the update: this kernel does not run at all
// when no argument carries the Autograd key.
at::Tensor fit_autograd(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                        const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                        double learning_rate, c10::string_view activation,
                        c10::string_view output) {
  const std::pair<const char*, const at::Tensor*> parameters[] = {
      {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}};
  for (const auto& [name, p] : parameters) {
    // An update in place of a tensor computed from others (a parametrization's output) never
    // reaches what it is computed from: the caller's training would do nothing while the costs
    // fall. A view shares its base's memory, so an update of it does reach the base.
    TORCH_CHECK(!p->requires_grad() || p->is_leaf() || p->is_view(),
                "twolayer: fit_ cannot update ", name,
                ": it is computed from other tensors (grad_fn ", p->grad_fn()->name(),
                "), and an update in place would not reach them; pass the leaf tensor itself, or "
                "train with loss().backward() and a torch.optim optimizer");
  }
  at::Tensor costs;
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    costs = ops::fit().call(W1, b1, W2, b2, X, Y, iterations, learning_rate, activation, output);
  }
  for (at::Tensor* p : {&W1, &b1, &W2, &b2}) p->unsafeGetTensorImpl()->bump_version();
  return costs;
}

}  // namespace
}  // namespace twolayer

TWOLAYER_LIBRARY_IMPL(Autograd, m) {
  m.impl("fit_", &twolayer::fit_autograd);
  m.impl("loss", &twolayer::loss_autograd);
  m.impl("forward", &twolayer::forward_autograd);
}
