#pragma once

// The output layer A2 = g2(Z2) and the cost that goes with it. Each pairing is the one whose
// gradient with respect to the logits is the lecture's first equation, dZ2 = A2 - Y, so that
// backpropagation continues with the same five equations whatever the output:
//   sigmoid  (binary, multi-label): J = (1/m) sum -[Y log A2 + (1 - Y) log(1 - A2)]
//   softmax  (multi-class):         J = (1/m) sum over rows of -sum_j Y_j log A2_j
//   identity (regression):          J = (1/2m) sum (A2 - Y)^2
// For softmax, dJ/dZ2 = (1/m) (A2 * sum_j Y_j - Y): A2 - Y exactly when each row of Y sums to
// 1 (one-hot rows or probabilities), and still the true gradient for any Y.

#include <type_traits>

#include <ATen/ATen.h>
#include <c10/util/string_view.h>

namespace twolayer {

enum class OutputLayer { Sigmoid, Softmax, Identity };

// Throws "twolayer: unknown output layer ..." with the valid names for anything else.
OutputLayer parse_output(c10::string_view name);
// The name parse_output takes.
const char* output_name(OutputLayer output);

template <OutputLayer O>
using OutputTag = std::integral_constant<OutputLayer, O>;

// The one switch over the output layers, as visit_activation is for the hidden one.
template <typename F>
inline __attribute__((always_inline)) decltype(auto) visit_output(OutputLayer output, F&& f) {
  switch (output) {
    case OutputLayer::Sigmoid: return f(OutputTag<OutputLayer::Sigmoid>{});
    case OutputLayer::Softmax: return f(OutputTag<OutputLayer::Softmax>{});
    case OutputLayer::Identity: return f(OutputTag<OutputLayer::Identity>{});
  }
  __builtin_unreachable();  // parse_output makes no other value
}

// In ATen operators (differentiable: double backward and forward-mode AD go through them).
// A2 = g2(Z2).
at::Tensor output_activation(const at::Tensor& Z2, OutputLayer output);
// J from the logits: never the log of a probability that rounded to 0.
at::Tensor output_cost(const at::Tensor& Z2, const at::Tensor& Y, OutputLayer output);
// m dJ/dZ2 from A2 and Y: A2 - Y (softmax: A2 * sum_j Y_j - Y).
at::Tensor output_delta(const at::Tensor& A2, const at::Tensor& Y, OutputLayer output);
// m dJ/dY: the cost is linear in Y for sigmoid and softmax (-Z2, -log_softmax(Z2)); identity's
// is Y - Z2.
at::Tensor output_label_gradient(const at::Tensor& Z2, const at::Tensor& Y, OutputLayer output);
// dZ2 from an incoming dA2 (the probabilities' backward): dA2 * g2'(Z2) through A2.
at::Tensor output_backward(const at::Tensor& dA2, const at::Tensor& A2, OutputLayer output);

}  // namespace twolayer
