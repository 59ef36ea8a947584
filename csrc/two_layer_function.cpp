#include "twolayer/two_layer_function.h"

#include <string>

#include "math/six_equations.h"
#include "ops/op_handles.h"

namespace twolayer {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

std::string saved_activation(AutogradContext* ctx) {
  return ctx->saved_data.at("activation").toStringRef();
}

}  // namespace

at::Tensor TwoLayerFunction::forward(AutogradContext* ctx, const at::Tensor& X,
                                     const at::Tensor& Y, const at::Tensor& W1,
                                     const at::Tensor& b1, const at::Tensor& W2,
                                     const at::Tensor& b2, c10::string_view activation) {
  at::Tensor J, A1, Z2;
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    std::tie(J, A1, Z2) = ops::loss_with_cache().call(X, Y, W1, b1, W2, b2, activation);
  }
  // A1 and Z2 are all backward needs besides the inputs: g1' comes from A1, A2 = sigmoid(Z2),
  // and Z2 itself is dJ/dY up to a factor. b1 and b2 are kept only for double backward.
  ctx->save_for_backward({X, Y, W1, b1, W2, b2, A1, Z2});
  ctx->saved_data["activation"] = std::string(activation.data(), activation.size());
  return J;
}

variable_list TwoLayerFunction::backward(AutogradContext* ctx, variable_list grad_outputs) {
  const variable_list saved = ctx->get_saved_variables();
  const at::Tensor &X = saved[0], &Y = saved[1], &W1 = saved[2], &b1 = saved[3], &W2 = saved[4],
                   &b2 = saved[5];
  const at::Tensor& grad_J = grad_outputs[0];
  const std::string activation = saved_activation(ctx);
  const std::array<bool, 6> mask = {ctx->needs_input_grad(0), ctx->needs_input_grad(1),
                                    ctx->needs_input_grad(2), ctx->needs_input_grad(3),
                                    ctx->needs_input_grad(4), ctx->needs_input_grad(5)};

  LossGradients grads;
  if (at::GradMode::is_enabled()) {
    // create_graph=True: the saved A1 and Z2 were computed outside the graph, so recompute them
    // from the inputs, and the six equations in differentiable ATen ops, for double backward.
    const Activation g1 = parse_activation(activation);
    const ForwardCache cache = forward_cache(X, W1, b1, W2, b2, g1);
    grads = loss_gradients(grad_J, X, Y, W1, W2, cache.A1, cache.Z2, g1, mask);
  } else {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    std::tie(grads[0], grads[1], grads[2], grads[3], grads[4], grads[5]) =
        ops::loss_backward().call(grad_J, X, Y, W1, W2, saved[6], saved[7], activation, mask);
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
