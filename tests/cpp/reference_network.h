#pragma once

// The independent oracle of the C++ checks, shared by the GoogleTest suite (reference.h) and the
// fuzz target (fuzz/oracle.h): the two-layer network written with stock ATen operators
// (torch::linear, the stock activations, BCE-with-logits, log_softmax), so that ATen's autograd, not
// twolayer's hand-written six equations, supplies every derivative compared against.
// Nothing in here calls twolayer, and nothing needs GoogleTest or libFuzzer.
// The Python tests' counterpart is tests/python/reference.py.

#include <stdexcept>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace twolayer_reference {

// The activation names of the spec, spelled out here rather than taken from twolayer, so that a
// check can catch a library that drops or renames one.
inline const std::vector<std::string>& all_activations() {
  static const std::vector<std::string> names = {"tanh", "relu", "sigmoid", "leaky_relu"};
  return names;
}

// The spec's relative error bound per dtype.
inline double tolerance(at::ScalarType dtype) { return dtype == at::kDouble ? 1e-10 : 1e-4; }

// A1 = g1(Z1).
inline at::Tensor reference_activation(const at::Tensor& Z1, const std::string& activation) {
  if (activation == "tanh") return torch::tanh(Z1);
  if (activation == "relu") return torch::relu(Z1);
  if (activation == "sigmoid") return torch::sigmoid(Z1);
  if (activation == "leaky_relu") return torch::leaky_relu(Z1, 0.01);
  throw std::invalid_argument("reference: unknown activation " + activation);
}

// Z2 = g1(X W1^T + b1) W2^T + b2.
inline at::Tensor reference_logits(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                                   const at::Tensor& W2, const at::Tensor& b2,
                                   const std::string& activation) {
  return torch::linear(reference_activation(torch::linear(X, W1, b1), activation), W2, b2);
}

// The output layer names of the spec.
inline const std::vector<std::string>& all_outputs() {
  static const std::vector<std::string> names = {"sigmoid", "softmax", "identity"};
  return names;
}

// A2 = g2(Z2).
inline at::Tensor reference_forward(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                                    const at::Tensor& W2, const at::Tensor& b2,
                                    const std::string& activation,
                                    const std::string& output = "sigmoid") {
  const at::Tensor Z2 = reference_logits(X, W1, b1, W2, b2, activation);
  if (output == "sigmoid") return torch::sigmoid(Z2);
  if (output == "softmax") return torch::softmax(Z2, 1);
  if (output == "identity") return Z2;
  throw std::invalid_argument("reference: unknown output layer " + output);
}

// J: the output layer's cost (binary cross-entropy, cross-entropy with probability targets, or
// half the squared error), summed over every element and divided by m.
inline at::Tensor reference_loss(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                 const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                                 const std::string& activation,
                                 const std::string& output = "sigmoid") {
  const at::Tensor Z2 = reference_logits(X, W1, b1, W2, b2, activation);
  const double m = static_cast<double>(X.size(0));
  if (output == "sigmoid") {
    return torch::binary_cross_entropy_with_logits(Z2, Y, {}, {}, at::Reduction::Sum) / m;
  }
  if (output == "softmax") return -(Y * torch::log_softmax(Z2, 1)).sum() / m;
  if (output == "identity") return (Z2 - Y).pow(2).sum() / (2 * m);
  throw std::invalid_argument("reference: unknown output layer " + output);
}

}  // namespace twolayer_reference
