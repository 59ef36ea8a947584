#include "math/output_layer.h"

namespace twolayer {
namespace {

// softplus(Z2) - Y Z2 as (1 - Y) Z2 + softplus(-Z2), binary_cross_entropy_with_logits' form:
// it costs +inf, not NaN, for Z2 = +inf with Y = 0. softplus(-Z2) is taken from two smooth
// pieces, log1p(exp(-Z2)) above 0 and -Z2 + log1p(exp(Z2)) up to 0, each on its side's part
// of Z2 (no overflow, so no NaN gradient from the piece not taken): autograd and forward AD,
// which differentiate this, then get softplus's slope at Z2 = 0 too. Written as
// max(-Z2, 0) + log1p(exp(-|Z2|)) they took the kinks of max and abs there and were 1/2 off.
// The parts come from `where`, not clamp: PyTorch 2.x's clamp has slope 0 at its bound.
at::Tensor binary_cross_entropy_sum(const at::Tensor& Z2, const at::Tensor& Y) {
  const at::Tensor positive = Z2 > 0, zero = at::zeros({}, Z2.options());
  const at::Tensor above = at::where(positive, Z2, zero), below = at::where(positive, zero, Z2);
  at::Tensor softplus_of_minus =
      at::where(positive, at::log1p(at::exp(-above)), at::log1p(at::exp(below)) - below);
  return ((1 - Y) * Z2 + softplus_of_minus).sum();
}

}  // namespace

OutputLayer parse_output(c10::string_view name) {
  for (OutputLayer o : {OutputLayer::Sigmoid, OutputLayer::Softmax, OutputLayer::Identity}) {
    if (name == output_name(o)) return o;
  }
  TORCH_CHECK(false, "twolayer: unknown output layer '", std::string(name.data(), name.size()),
              "'; expected one of sigmoid (binary or multi-label), softmax (multi-class), "
              "identity (regression)");
}

const char* output_name(OutputLayer output) {
  constexpr const char* names[] = {"sigmoid", "softmax", "identity"};  // enum order
  return names[static_cast<int>(output)];
}

at::Tensor output_activation(const at::Tensor& Z2, OutputLayer output) {
  switch (output) {
    case OutputLayer::Sigmoid: return at::sigmoid(Z2);
    case OutputLayer::Softmax: return at::softmax(Z2, 1);
    case OutputLayer::Identity: break;
  }
  return Z2.clone();  // a tensor of its own, as the other layers give
}

at::Tensor output_cost(const at::Tensor& Z2, const at::Tensor& Y, OutputLayer output) {
  const double m = static_cast<double>(Z2.size(0));
  switch (output) {
    case OutputLayer::Sigmoid: return binary_cross_entropy_sum(Z2, Y) / m;
    // -sum Y log softmax(Z2), F.cross_entropy's with probability targets.
    case OutputLayer::Softmax: return -(Y * at::log_softmax(Z2, 1)).sum() / m;
    case OutputLayer::Identity: break;
  }
  return (Z2 - Y).square().sum() / (2 * m);
}

at::Tensor output_delta(const at::Tensor& A2, const at::Tensor& Y, OutputLayer output) {
  if (output == OutputLayer::Softmax) return A2 * Y.sum(1, /*keepdim=*/true) - Y;
  return A2 - Y;
}

at::Tensor output_label_gradient(const at::Tensor& Z2, const at::Tensor& Y, OutputLayer output) {
  switch (output) {
    case OutputLayer::Sigmoid: return -Z2;
    case OutputLayer::Softmax: return -at::log_softmax(Z2, 1);
    case OutputLayer::Identity: break;
  }
  return Y - Z2;
}

at::Tensor output_backward(const at::Tensor& dA2, const at::Tensor& A2, OutputLayer output) {
  switch (output) {
    case OutputLayer::Sigmoid: return dA2 * A2 * (1 - A2);  // sigmoid' = A2 (1 - A2)
    // The softmax's Jacobian diag(A2) - A2 A2^T, row by row, applied to dA2.
    case OutputLayer::Softmax: return A2 * (dA2 - (dA2 * A2).sum(1, /*keepdim=*/true));
    case OutputLayer::Identity: break;
  }
  return dA2.clone();
}

}  // namespace twolayer
