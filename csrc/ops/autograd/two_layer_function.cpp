#include "twolayer/two_layer_function.h"

#include <array>
#include <initializer_list>
#include <utility>

#include "math/six_equations.h"
#include "ops/op_handles.h"

namespace twolayer {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

// The names in the order of the public signatures' Tensor arguments.
void check_defined(std::initializer_list<std::pair<const char*, const at::Tensor*>> inputs) {
  for (const auto& [name, tensor] : inputs) {
    TORCH_CHECK(tensor->defined(), "twolayer: ", name,
                " must be a defined tensor, but got an undefined one");
  }
}

// Both Functions keep the activation and the output layer the same way: as the enums' values.
void save_layers(AutogradContext* ctx, c10::string_view activation, c10::string_view output) {
  ctx->saved_data["activation"] = static_cast<int64_t>(parse_activation(activation));
  ctx->saved_data["output"] = static_cast<int64_t>(parse_output(output));
}

Activation saved_activation(AutogradContext* ctx) {
  return static_cast<Activation>(ctx->saved_data.at("activation").toInt());
}

OutputLayer saved_output(AutogradContext* ctx) {
  return static_cast<OutputLayer>(ctx->saved_data.at("output").toInt());
}

// Which of X, W1, b1, W2, b2 backward is asked for, given their positions among forward's
// arguments.
GradientMask asked(AutogradContext* ctx, std::array<size_t, 5> position) {
  GradientMask want;
  want.X = ctx->needs_input_grad(position[0]);
  want.W1 = ctx->needs_input_grad(position[1]);
  want.b1 = ctx->needs_input_grad(position[2]);
  want.W2 = ctx->needs_input_grad(position[3]);
  want.b2 = ctx->needs_input_grad(position[4]);
  return want;
}

}  // namespace

at::Tensor TwoLayerFunction::apply(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                   const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                                   c10::string_view activation, c10::string_view output) {
  check_defined({{"X", &X}, {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}, {"Y", &Y}});
  return Function<TwoLayerFunction>::apply(X, Y, W1, b1, W2, b2, activation, output);
}

at::Tensor TwoLayerProbabilitiesFunction::apply(const at::Tensor& X, const at::Tensor& W1,
                                                const at::Tensor& b1, const at::Tensor& W2,
                                                const at::Tensor& b2, c10::string_view activation,
                                                c10::string_view output) {
  check_defined({{"X", &X}, {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}});
  return Function<TwoLayerProbabilitiesFunction>::apply(X, W1, b1, W2, b2, activation, output);
}

// Forward propagation: J, and the lecture's cache (A1, Z2) for backpropagation.
at::Tensor TwoLayerFunction::forward(AutogradContext* ctx, const at::Tensor& X, const at::Tensor& Y,
                                     const at::Tensor& W1, const at::Tensor& b1,
                                     const at::Tensor& W2, const at::Tensor& b2,
                                     c10::string_view activation, c10::string_view output) {
  at::Tensor J, A1, Z2;
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    std::tie(J, A1, Z2) = ops::loss_with_cache().call(X, Y, W1, b1, W2, b2, activation, output);
  }
  // The inputs too: double backward recomputes the forward from them, and autograd then
  // catches one changed in place before backward.
  ctx->save_for_backward({X, Y, W1, b1, W2, b2, A1, Z2});
  save_layers(ctx, activation, output);
  return J;
}

// Backpropagation: dZ2, dW2, db2, dZ1, dW1, db1 (and dX, dY), only those asked for.
variable_list TwoLayerFunction::backward(AutogradContext* ctx, variable_list grad_outputs) {
  const variable_list saved = ctx->get_saved_variables();
  const at::Tensor &X = saved[0], &Y = saved[1], &W1 = saved[2], &b1 = saved[3], &W2 = saved[4],
                   &b2 = saved[5];
  const at::Tensor& grad_J = grad_outputs[0];
  // forward's arguments: X, Y, W1, b1, W2, b2
  GradientMask want = asked(ctx, {0, 2, 3, 4, 5});
  want.Y = ctx->needs_input_grad(1);
  const Activation g1 = saved_activation(ctx);
  const OutputLayer g2 = saved_output(ctx);
  Gradients d;
  if (at::GradMode::is_enabled()) {
    // create_graph=True: the same equations in differentiable ATen ops on a forward recomputed
    // from the inputs (the saved cache has no graph back to them), for autograd to
    // differentiate again.
    d = loss_backward(grad_J, X, Y, W1, W2, forward_propagation(X, W1, b1, W2, b2, g1), g1, g2,
                      want);
  } else {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    d = Gradients::of_loss(ops::loss_backward().call(grad_J, X, Y, W1, W2, saved[6], saved[7],
                                                     activation_name(g1), want.loss_array(),
                                                     output_name(g2)));
  }
  return {d.X, d.Y, d.W1, d.b1, d.W2, d.b2, at::Tensor(), at::Tensor()};
}

// Forward propagation to the probabilities; the cache is A1 and A2 itself.
at::Tensor TwoLayerProbabilitiesFunction::forward(AutogradContext* ctx, const at::Tensor& X,
                                                  const at::Tensor& W1, const at::Tensor& b1,
                                                  const at::Tensor& W2, const at::Tensor& b2,
                                                  c10::string_view activation,
                                                  c10::string_view output) {
  at::Tensor A2, A1;
  {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    std::tie(A2, A1) = ops::forward_with_cache().call(X, W1, b1, W2, b2, activation, output);
  }
  ctx->save_for_backward({X, W1, b1, W2, b2, A1, A2});
  save_layers(ctx, activation, output);
  return A2;
}

variable_list TwoLayerProbabilitiesFunction::backward(AutogradContext* ctx,
                                                      variable_list grad_outputs) {
  const variable_list saved = ctx->get_saved_variables();
  const at::Tensor &X = saved[0], &W1 = saved[1], &b1 = saved[2], &W2 = saved[3], &b2 = saved[4];
  const at::Tensor& grad_A2 = grad_outputs[0];
  const GradientMask want = asked(ctx, {0, 1, 2, 3, 4});  // X, W1, b1, W2, b2
  const Activation g1 = saved_activation(ctx);
  const OutputLayer g2 = saved_output(ctx);
  Gradients d;
  if (at::GradMode::is_enabled()) {
    // As TwoLayerFunction::backward: recomputed in the graph for double backward.
    const ForwardCache cache = forward_propagation(X, W1, b1, W2, b2, g1);
    d = backward_of_forward(grad_A2, X, W1, W2, cache.A1, network_probabilities(cache, g2), g1, g2,
                            want);
  } else {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    d = Gradients::of_forward(
        ops::backward_of_forward().call(grad_A2, X, W1, W2, saved[5], saved[6], activation_name(g1),
                                        want.forward_array(), output_name(g2)));
  }
  return {d.X, d.W1, d.b1, d.W2, d.b2, at::Tensor(), at::Tensor()};
}

}  // namespace twolayer
