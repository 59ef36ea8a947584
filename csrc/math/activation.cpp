#include "math/activation.h"

namespace twolayer {
namespace {

// Each activation in ATen ops: value, value in place, and backward through A1.
template <Activation A>
struct AtenActivation;

template <>
struct AtenActivation<Activation::Tanh> {
  static at::Tensor value(const at::Tensor& Z) { return at::tanh(Z); }
  static at::Tensor backward(const at::Tensor& dA, const at::Tensor& A) { return dA * (1 - A * A); }
};

template <>
struct AtenActivation<Activation::Sigmoid> {
  static at::Tensor value(const at::Tensor& Z) { return at::sigmoid(Z); }
  static at::Tensor backward(const at::Tensor& dA, const at::Tensor& A) {
    return dA * (A * (1 - A));
  }
};

template <>
struct AtenActivation<Activation::Relu> {
  static at::Tensor value(const at::Tensor& Z) { return at::relu(Z); }
  // A1 > 0 exactly where Z1 > 0. Selected, not multiplied by a 0/1 slope: a NaN in dA1 stays
  // out of the units that are off, as in autograd's threshold_backward (which also passes dA1
  // where A1 is NaN). The condition is constant, so double backward sees a zero second
  // derivative.
  static at::Tensor backward(const at::Tensor& dA, const at::Tensor& A) {
    return at::where(A <= 0, at::zeros({}, dA.options()), dA);
  }
};

template <>
struct AtenActivation<Activation::LeakyRelu> {
  static at::Tensor value(const at::Tensor& Z) { return at::leaky_relu(Z, kLeakyReluSlope); }
  static at::Tensor backward(const at::Tensor& dA, const at::Tensor& A) {
    return dA *
           at::where(A > 0, at::ones({}, A.options()), at::full({}, kLeakyReluSlope, A.options()));
  }
};

}  // namespace

Activation parse_activation(c10::string_view name) {
  for (Activation a :
       {Activation::Tanh, Activation::Relu, Activation::Sigmoid, Activation::LeakyRelu}) {
    if (name == activation_name(a)) return a;
  }
  TORCH_CHECK(false, "twolayer: unknown activation '", std::string(name.data(), name.size()),
              "'; expected one of tanh, relu, sigmoid, leaky_relu");
}

const char* activation_name(Activation activation) {
  constexpr const char* names[] = {"tanh", "relu", "sigmoid", "leaky_relu"};  // enum order
  return names[static_cast<int>(activation)];
}

at::Tensor activate(const at::Tensor& Z1, Activation activation) {
  return visit_activation(
      activation, [&](auto tag) { return AtenActivation<decltype(tag)::value>::value(Z1); });
}

at::Tensor activation_backward(const at::Tensor& dA1, const at::Tensor& A1, Activation activation) {
  return visit_activation(activation, [&](auto tag) {
    return AtenActivation<decltype(tag)::value>::backward(dA1, A1);
  });
}

}  // namespace twolayer
