#include "math/activation.h"

namespace twolayer {

Activation parse_activation(c10::string_view name) {
  if (name == "tanh") return Activation::Tanh;
  if (name == "relu") return Activation::Relu;
  if (name == "sigmoid") return Activation::Sigmoid;
  if (name == "leaky_relu") return Activation::LeakyRelu;
  TORCH_CHECK(false, "twolayer: unknown activation '", std::string(name.data(), name.size()),
              "'; expected one of tanh, relu, sigmoid, leaky_relu");
}

at::Tensor activate(const at::Tensor& Z1, Activation activation) {
  switch (activation) {
    case Activation::Tanh: return at::tanh(Z1);
    case Activation::Relu: return at::relu(Z1);
    case Activation::Sigmoid: return at::sigmoid(Z1);
    case Activation::LeakyRelu: return at::leaky_relu(Z1, kLeakyReluSlope);
  }
  TORCH_INTERNAL_ASSERT(false, "unhandled activation");
}

at::Tensor activation_backward(const at::Tensor& dA1, const at::Tensor& A1,
                               Activation activation) {
  switch (activation) {
    case Activation::Tanh: return dA1 * (1 - A1 * A1);
    case Activation::Sigmoid: return dA1 * (A1 * (1 - A1));
    // A1 > 0 exactly where Z1 > 0. Selected, not multiplied by a 0/1 slope: a NaN in dA1 stays
    // out of the units that are off, as in autograd's threshold_backward (which also passes dA1
    // where A1 is NaN). The condition is constant, so double backward sees a zero second
    // derivative.
    case Activation::Relu: return at::where(A1 <= 0, at::zeros({}, dA1.options()), dA1);
    case Activation::LeakyRelu:
      return dA1 * at::where(A1 > 0, at::ones({}, A1.options()),
                             at::full({}, kLeakyReluSlope, A1.options()));
  }
  TORCH_INTERNAL_ASSERT(false, "unhandled activation");
}

}  // namespace twolayer
