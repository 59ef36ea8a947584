#include "twolayer/two_layer_function.h"

#include <initializer_list>
#include <string>
#include <utility>

#include <torch/csrc/autograd/graph_task.h>

#include "math/six_equations.h"
#include "ops/op_handles.h"

namespace twolayer {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

std::string saved_activation(AutogradContext* ctx) {
  return ctx->saved_data.at("activation").toStringRef();
}

// Whether an incoming gradient is the number 1, read without a kernel call (and without a
// device sync: only CPU tensors are read). Tensors without real data (a Python subclass such as
// FakeTensor, a functorch wrapper) answer false and take the general path.
bool is_one(const at::Tensor& g) {
  const c10::TensorImpl* impl = g.defined() ? g.unsafeGetTensorImpl() : nullptr;
  if (impl == nullptr || !g.is_cpu() || g.numel() != 1 || !impl->has_storage() ||
      impl->is_python_dispatch()) {
    return false;
  }
  switch (g.scalar_type()) {
    case at::kFloat: return *g.data_ptr<float>() == 1.0f;
    case at::kDouble: return *g.data_ptr<double>() == 1.0;
    default: return false;
  }
}

// The names in the order of the public signatures' Tensor arguments.
void check_defined(std::initializer_list<std::pair<const char*, const at::Tensor*>> inputs) {
  for (const auto& [name, tensor] : inputs) {
    TORCH_CHECK(tensor->defined(), "twolayer: ", name,
                " must be a defined tensor, but got an undefined one");
  }
}

}  // namespace

at::Tensor TwoLayerFunction::apply(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                   const at::Tensor& b1, const at::Tensor& W2,
                                   const at::Tensor& b2, c10::string_view activation) {
  check_defined({{"X", &X}, {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}, {"Y", &Y}});
  return Function<TwoLayerFunction>::apply(X, Y, W1, b1, W2, b2, activation);
}

at::Tensor TwoLayerForwardFunction::apply(const at::Tensor& X, const at::Tensor& W1,
                                          const at::Tensor& b1, const at::Tensor& W2,
                                          const at::Tensor& b2, c10::string_view activation) {
  check_defined({{"X", &X}, {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}});
  return Function<TwoLayerForwardFunction>::apply(X, W1, b1, W2, b2, activation);
}

at::Tensor TwoLayerFunction::forward(AutogradContext* ctx, const at::Tensor& X,
                                     const at::Tensor& Y, const at::Tensor& W1,
                                     const at::Tensor& b1, const at::Tensor& W2,
                                     const at::Tensor& b2, c10::string_view activation) {
  // J is a scalar, so its gradients are those of J itself times one number: compute them now,
  // in the same pass as J, for the inputs that can ask for one. Backward then keeps only
  // parameter-sized results instead of the hidden activations (m x n1), and runs no kernel.
  const std::array<bool, 6> mask = {X.requires_grad(),  Y.requires_grad(),  W1.requires_grad(),
                                    b1.requires_grad(), W2.requires_grad(), b2.requires_grad()};
  at::Tensor J;
  LossGradients g;
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    std::tie(J, g[0], g[1], g[2], g[3], g[4], g[5]) =
        ops::loss_and_gradients().call(X, Y, W1, b1, W2, b2, activation, mask);
  }
  // The inputs are kept for double backward, which recomputes from them (and so that changing
  // one in place before backward is caught, as autograd catches it).
  ctx->save_for_backward({X, Y, W1, b1, W2, b2, g[0], g[1], g[2], g[3], g[4], g[5]});
  ctx->saved_data["activation"] = static_cast<int64_t>(parse_activation(activation));
  return J;
}

variable_list TwoLayerFunction::backward(AutogradContext* ctx, variable_list grad_outputs) {
  const variable_list saved = ctx->get_saved_variables();
  const at::Tensor& grad_J = grad_outputs[0];
  LossGradients grads;
  if (at::GradMode::is_enabled()) {
    // create_graph=True: recompute the forward from the inputs and evaluate the six equations
    // in differentiable ATen ops, so that autograd can differentiate them again.
    const at::Tensor &X = saved[0], &Y = saved[1], &W1 = saved[2], &b1 = saved[3],
                     &W2 = saved[4], &b2 = saved[5];
    const std::array<bool, 6> mask = {ctx->needs_input_grad(0), ctx->needs_input_grad(1),
                                      ctx->needs_input_grad(2), ctx->needs_input_grad(3),
                                      ctx->needs_input_grad(4), ctx->needs_input_grad(5)};
    const auto g1 = static_cast<Activation>(ctx->saved_data.at("activation").toInt());
    const ForwardCache cache = forward_cache(X, W1, b1, W2, b2, g1);
    grads = loss_gradients(grad_J, X, Y, W1, W2, cache.A1, cache.Z2, g1, mask);
  } else {
    // The usual J.backward() brings a gradient of exactly 1: the saved gradients are the
    // answer. They are handed over as they are unless the graph is kept for another backward,
    // which must find them unchanged.
    const bool unit = is_one(grad_J);
    const bool hand_over = unit && !torch::autograd::get_current_graph_task_keep_graph();
    for (size_t i = 0; i < grads.size(); ++i) {
      const at::Tensor& g = saved[6 + i];
      if (!g.defined() || !ctx->needs_input_grad(i)) continue;
      grads[i] = hand_over ? g : unit ? g.clone() : g * grad_J;
    }
  }
  return {grads[0], grads[1], grads[2], grads[3], grads[4], grads[5], at::Tensor()};
}

at::Tensor TwoLayerForwardFunction::forward(AutogradContext* ctx, const at::Tensor& X,
                                            const at::Tensor& W1, const at::Tensor& b1,
                                            const at::Tensor& W2, const at::Tensor& b2,
                                            c10::string_view activation) {
  at::Tensor A2, A1;
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    std::tie(A2, A1) = ops::forward_with_cache().call(X, W1, b1, W2, b2, activation);
  }
  ctx->save_for_backward({X, W1, b1, W2, b2, A1, A2});
  ctx->saved_data["activation"] = std::string(activation.data(), activation.size());
  return A2;
}

variable_list TwoLayerForwardFunction::backward(AutogradContext* ctx,
                                                variable_list grad_outputs) {
  const variable_list saved = ctx->get_saved_variables();
  const at::Tensor &X = saved[0], &W1 = saved[1], &b1 = saved[2], &W2 = saved[3], &b2 = saved[4];
  const at::Tensor& grad_A2 = grad_outputs[0];
  const std::string activation = saved_activation(ctx);
  const std::array<bool, 5> mask = {ctx->needs_input_grad(0), ctx->needs_input_grad(1),
                                    ctx->needs_input_grad(2), ctx->needs_input_grad(3),
                                    ctx->needs_input_grad(4)};

  ForwardGradients grads;
  if (at::GradMode::is_enabled()) {
    // See TwoLayerFunction::backward: recompute in the graph for double backward.
    const Activation g1 = parse_activation(activation);
    const ForwardCache cache = forward_cache(X, W1, b1, W2, b2, g1);
    grads = forward_gradients(grad_A2, X, W1, W2, cache.A1, at::sigmoid(cache.Z2), g1, mask);
  } else {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    std::tie(grads[0], grads[1], grads[2], grads[3], grads[4]) =
        ops::forward_backward().call(grad_A2, X, W1, W2, saved[5], saved[6], activation, mask);
  }
  return {grads[0], grads[1], grads[2], grads[3], grads[4], at::Tensor()};
}

}  // namespace twolayer
