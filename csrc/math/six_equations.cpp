#include "math/six_equations.h"

namespace twolayer {

ForwardCache forward_propagation(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                                 const at::Tensor& W2, const at::Tensor& b2, Activation g1) {
  const at::Tensor Z1 = at::addmm(b1, X, W1.t());
  at::Tensor A1 = activate(in_compute_type(Z1), g1).to(X.scalar_type());
  at::Tensor Z2 = at::addmm(b2, A1, W2.t());
  return {std::move(A1), std::move(Z2)};
}

at::Tensor network_cost(const ForwardCache& cache, const at::Tensor& Y, OutputLayer g2) {
  const at::Tensor Z2 = in_compute_type(cache.Z2);
  return output_cost(Z2, Y.to(Z2.scalar_type()), g2);
}

at::Tensor network_probabilities(const ForwardCache& cache, OutputLayer g2) {
  return output_activation(in_compute_type(cache.Z2), g2).to(cache.Z2.scalar_type());
}

namespace {

// The last five of the six equations, from dZ2 (in the compute precision, scaled already: 1/m
// for the cost) down to the inputs. dZ2 and dZ1 are rounded to the network's dtype only to enter
// the products; the sums are taken before rounding.
Gradients backpropagate_dZ2(const at::Tensor& dZ2, const at::Tensor& X, const at::Tensor& W1,
                            const at::Tensor& W2, const at::Tensor& A1, Activation g1,
                            GradientMask want) {
  const at::ScalarType network = X.scalar_type();
  const at::Tensor dZ2_product = dZ2.to(network);
  Gradients d;
  if (want.W2) d.W2 = at::mm(dZ2_product.t(), A1);  // dW2 = (1/m) dZ2^T A1
  if (want.b2) d.b2 = dZ2.sum(0).to(network);       // db2 = (1/m) sum_rows dZ2
  if (want.hidden()) {
    const at::Tensor dA1 = in_compute_type(at::mm(dZ2_product, W2));
    const at::Tensor dZ1 =
        activation_backward(dA1, A1.to(dA1.scalar_type()), g1);  // dZ1 = (dZ2 W2) * g1'(Z1)
    const at::Tensor dZ1_product = dZ1.to(network);
    if (want.W1) d.W1 = at::mm(dZ1_product.t(), X);  // dW1 = (1/m) dZ1^T X
    if (want.b1) d.b1 = dZ1.sum(0).to(network);      // db1 = (1/m) sum_rows dZ1
    if (want.X) d.X = at::mm(dZ1_product, W1);       // and on to the input: dX = (1/m) dZ1 W1
  }
  return d;
}

}  // namespace

Gradients loss_backward(const at::Tensor& grad_J, const at::Tensor& X, const at::Tensor& Y,
                        const at::Tensor& W1, const at::Tensor& W2, const ForwardCache& cache,
                        Activation g1, OutputLayer g2, GradientMask want) {
  const double inv_m = 1.0 / static_cast<double>(X.size(0));
  const at::Tensor Z2 = in_compute_type(cache.Z2);
  const at::Tensor labels = Y.to(Z2.scalar_type());
  // grad_J / m, once: the products then need no scaling, and a low-precision network's dZ2 is
  // scaled before it is rounded (as autocast's binary_cross_entropy_with_logits hands its
  // float32 gradient to the cast back).
  const at::Tensor scale = grad_J.to(Z2.scalar_type()) * inv_m;
  Gradients d;
  if (want.through_dZ2()) {
    const at::Tensor dZ2 =
        scale * output_delta(output_activation(Z2, g2), labels, g2);  // dZ2 = A2 - Y
    d = backpropagate_dZ2(dZ2, X, W1, W2, cache.A1, g1, want);
  }
  if (want.Y) d.Y = (output_label_gradient(Z2, labels, g2) * scale).to(Y.scalar_type());
  return d;
}

Gradients backward_of_forward(const at::Tensor& grad_A2, const at::Tensor& X, const at::Tensor& W1,
                              const at::Tensor& W2, const at::Tensor& A1, const at::Tensor& A2,
                              Activation g1, OutputLayer g2, GradientMask want) {
  const at::Tensor probabilities = in_compute_type(A2);
  const at::Tensor dZ2 = output_backward(grad_A2.to(probabilities.scalar_type()), probabilities,
                                         g2);  // dA2 g2'(Z2)
  return backpropagate_dZ2(dZ2, X, W1, W2, A1, g1, want);
}

}  // namespace twolayer
