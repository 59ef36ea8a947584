#include "math/six_equations.h"

namespace twolayer {

ForwardCache forward_cache(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                           const at::Tensor& W2, const at::Tensor& b2, Activation activation) {
  at::Tensor A1 = activate(at::addmm(b1, X, W1.t()), activation);
  at::Tensor Z2 = at::addmm(b2, A1, W2.t());
  return {std::move(A1), std::move(Z2)};
}

at::Tensor cost_from_logits(const at::Tensor& Z2, const at::Tensor& Y) {
  // softplus(Z2) - Y Z2 as (1 - Y) Z2 + softplus(-Z2), binary_cross_entropy_with_logits' form:
  // it costs +inf, not NaN, for Z2 = +inf with Y = 0. softplus(-Z2) is taken from two smooth
  // pieces, log1p(exp(-Z2)) above 0 and -Z2 + log1p(exp(Z2)) up to 0, each on its side's part
  // of Z2 (no overflow, so no NaN gradient from the piece not taken): autograd and forward AD,
  // which differentiate this, then get softplus's slope at Z2 = 0 too. Written as
  // max(-Z2, 0) + log1p(exp(-|Z2|)) they took the kinks of max and abs there and were 1/2 off.
  // The parts come from `where`, not clamp: PyTorch 2.x's clamp has slope 0 at its bound.
  const at::Tensor positive = Z2 > 0, zero = at::zeros({}, Z2.options());
  const at::Tensor above = at::where(positive, Z2, zero), below = at::where(positive, zero, Z2);
  at::Tensor softplus_of_minus =
      at::where(positive, at::log1p(at::exp(-above)), at::log1p(at::exp(below)) - below);
  return ((1 - Y) * Z2 + softplus_of_minus).sum() / static_cast<double>(Z2.size(0));
}

namespace {

// From dZ2 down to the inputs: the last five of the six equations, each product scaled by
// `scale` (1/m for the cost, whose 1/m the gradients carry; 1 for the probabilities).
// Order of gradients and mask: X, W1, b1, W2, b2.
ForwardGradients backprop_from_dZ2(const at::Tensor& dZ2, const at::Tensor& X,
                                   const at::Tensor& W1, const at::Tensor& W2,
                                   const at::Tensor& A1, Activation activation, double scale,
                                   std::array<bool, 5> mask) {
  ForwardGradients grads;
  if (mask[3]) grads[3] = at::mm(dZ2.t(), A1) * scale;
  if (mask[4]) grads[4] = dZ2.sum(0) * scale;
  if (mask[0] || mask[1] || mask[2]) {
    at::Tensor dZ1 = activation_backward(at::mm(dZ2, W2), A1, activation);
    if (mask[1]) grads[1] = at::mm(dZ1.t(), X) * scale;
    if (mask[2]) grads[2] = dZ1.sum(0) * scale;
    if (mask[0]) grads[0] = at::mm(dZ1, W1) * scale;
  }
  return grads;
}

}  // namespace

LossGradients loss_gradients(const at::Tensor& grad_J, const at::Tensor& X, const at::Tensor& Y,
                             const at::Tensor& W1, const at::Tensor& W2, const at::Tensor& A1,
                             const at::Tensor& Z2, Activation activation,
                             std::array<bool, 6> mask) {
  const double inv_m = 1.0 / static_cast<double>(X.size(0));
  const at::Tensor dZ2 = grad_J * (at::sigmoid(Z2) - Y);
  const ForwardGradients g = backprop_from_dZ2(dZ2, X, W1, W2, A1, activation, inv_m,
                                               {mask[0], mask[2], mask[3], mask[4], mask[5]});
  // dJ/dY = -(1/m) Z2: the cost is softplus(Z2) - Y Z2, linear in Y.
  at::Tensor dY = mask[1] ? Z2 * (grad_J * -inv_m) : at::Tensor();
  return {g[0], std::move(dY), g[1], g[2], g[3], g[4]};
}

ForwardGradients forward_gradients(const at::Tensor& grad_A2, const at::Tensor& X,
                                   const at::Tensor& W1, const at::Tensor& W2,
                                   const at::Tensor& A1, const at::Tensor& A2,
                                   Activation activation, std::array<bool, 5> mask) {
  const at::Tensor dZ2 = grad_A2 * A2 * (1 - A2);
  return backprop_from_dZ2(dZ2, X, W1, W2, A1, activation, 1.0, mask);
}

}  // namespace twolayer
