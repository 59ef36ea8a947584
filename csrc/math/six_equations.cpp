#include "math/six_equations.h"

namespace twolayer {

ForwardCache forward_propagation(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                                 const at::Tensor& W2, const at::Tensor& b2, Activation g1) {
  at::Tensor A1 = activate(at::addmm(b1, X, W1.t()), g1);
  at::Tensor Z2 = at::addmm(b2, A1, W2.t());
  return {std::move(A1), std::move(Z2)};
}

namespace {

// The last five of the six equations, from dZ2 down to the inputs, each product times `scale`
// (1/m for the cost; 1 for the probabilities).
Gradients backpropagate_dZ2(const at::Tensor& dZ2, const at::Tensor& X, const at::Tensor& W1,
                            const at::Tensor& W2, const at::Tensor& A1, Activation g1, double scale,
                            GradientMask want) {
  Gradients d;
  if (want.W2) d.W2 = at::mm(dZ2.t(), A1) * scale;  // dW2 = (1/m) dZ2^T A1
  if (want.b2) d.b2 = dZ2.sum(0) * scale;           // db2 = (1/m) sum_rows dZ2
  if (want.hidden()) {
    const at::Tensor dZ1 =
        activation_backward(at::mm(dZ2, W2), A1, g1);  // dZ1 = (dZ2 W2) * g1'(Z1)
    if (want.W1) d.W1 = at::mm(dZ1.t(), X) * scale;    // dW1 = (1/m) dZ1^T X
    if (want.b1) d.b1 = dZ1.sum(0) * scale;            // db1 = (1/m) sum_rows dZ1
    if (want.X) d.X = at::mm(dZ1, W1) * scale;         // and on to the input: dX = (1/m) dZ1 W1
  }
  return d;
}

}  // namespace

Gradients loss_backward(const at::Tensor& grad_J, const at::Tensor& X, const at::Tensor& Y,
                        const at::Tensor& W1, const at::Tensor& W2, const ForwardCache& cache,
                        Activation g1, OutputLayer g2, GradientMask want) {
  const double inv_m = 1.0 / static_cast<double>(X.size(0));
  Gradients d;
  if (want.through_dZ2()) {
    // dZ2 = A2 - Y
    const at::Tensor dZ2 = grad_J * output_delta(output_activation(cache.Z2, g2), Y, g2);
    d = backpropagate_dZ2(dZ2, X, W1, W2, cache.A1, g1, inv_m, want);
  }
  if (want.Y) d.Y = output_label_gradient(cache.Z2, Y, g2) * (grad_J * inv_m);
  return d;
}

Gradients backward_of_forward(const at::Tensor& grad_A2, const at::Tensor& X, const at::Tensor& W1,
                              const at::Tensor& W2, const at::Tensor& A1, const at::Tensor& A2,
                              Activation g1, OutputLayer g2, GradientMask want) {
  const at::Tensor dZ2 = output_backward(grad_A2, A2, g2);  // dA2 g2'(Z2)
  return backpropagate_dZ2(dZ2, X, W1, W2, A1, g1, 1.0, want);
}

}  // namespace twolayer
