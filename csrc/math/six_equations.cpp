#include "math/six_equations.h"

namespace twolayer {

ForwardCache forward_propagation(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                                 const at::Tensor& W2, const at::Tensor& b2, Activation g1) {
  at::Tensor A1 = activate(at::addmm(b1, X, W1.t()), g1);
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
                        Activation g1, GradientMask want) {
  const double inv_m = 1.0 / static_cast<double>(X.size(0));
  const at::Tensor dZ2 = grad_J * (at::sigmoid(cache.Z2) - Y);  // dZ2 = A2 - Y
  Gradients d = backpropagate_dZ2(dZ2, X, W1, W2, cache.A1, g1, inv_m, want);
  // dJ/dY = -(1/m) Z2: the cost is softplus(Z2) - Y Z2, linear in Y.
  if (want.Y) d.Y = cache.Z2 * (grad_J * -inv_m);
  return d;
}

Gradients backward_of_forward(const at::Tensor& grad_A2, const at::Tensor& X, const at::Tensor& W1,
                              const at::Tensor& W2, const at::Tensor& A1, const at::Tensor& A2,
                              Activation g1, GradientMask want) {
  const at::Tensor dZ2 = grad_A2 * A2 * (1 - A2);  // sigmoid'(Z2) = A2 (1 - A2)
  return backpropagate_dZ2(dZ2, X, W1, W2, A1, g1, 1.0, want);
}

}  // namespace twolayer
