#pragma once

// What the GoogleTest suite adds to the shared oracle (reference_network.h: the network in stock
// ATen operators, nothing calling twolayer): shapes, random inputs, leaves, and a GoogleTest
// assertion on relative error.

#include <cmath>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "reference_network.h"

namespace twolayer_test {

using twolayer_reference::all_activations;
using twolayer_reference::reference_activation;
using twolayer_reference::reference_forward;
using twolayer_reference::reference_logits;
using twolayer_reference::reference_loss;
using twolayer_reference::tolerance;

struct Shape {
  int64_t m, n0, n1, n2;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) {
  return os << "m" << s.m << "_n0_" << s.n0 << "_n1_" << s.n1 << "_n2_" << s.n2;
}

inline std::string dtype_tag(at::ScalarType dtype) {
  return dtype == at::kDouble ? "f64" : dtype == at::kFloat ? "f32" : c10::toString(dtype);
}

// The six tensors of the network in the order of twolayer::loss.
struct NetInputs {
  at::Tensor X, Y, W1, b1, W2, b2;

  std::vector<at::Tensor> list() const { return {X, Y, W1, b1, W2, b2}; }
  // Without Y, in the order of twolayer::forward.
  std::vector<at::Tensor> forward_list() const { return {X, W1, b1, W2, b2}; }

  // Fresh leaves, so that two computations never share .grad fields.
  NetInputs leaves(bool requires_grad = true) const {
    auto leaf = [&](const at::Tensor& t) {
      return t.detach().clone().requires_grad_(requires_grad);
    };
    return {leaf(X), leaf(Y), leaf(W1), leaf(b1), leaf(W2), leaf(b2)};
  }
};

inline const std::vector<std::string>& input_names() {
  static const std::vector<std::string> names = {"X", "Y", "W1", "b1", "W2", "b2"};
  return names;
}

inline const std::vector<std::string>& forward_input_names() {
  static const std::vector<std::string> names = {"X", "W1", "b1", "W2", "b2"};
  return names;
}

// Drawn in float64 and then cast, so that float32 and float64 cases see the same numbers.
// Weights and biases are O(1) (not the lecture's 0.01 init) so that every activation works
// in its non-linear range and a wrong g1' cannot hide behind a near-linear network.
inline NetInputs random_inputs(const Shape& s, at::ScalarType dtype) {
  const auto f64 = torch::kDouble;
  NetInputs in{torch::randn({s.m, s.n0}, f64),        torch::rand({s.m, s.n2}, f64),
               torch::randn({s.n1, s.n0}, f64) * 0.8, torch::randn({s.n1}, f64) * 0.5,
               torch::randn({s.n2, s.n1}, f64) * 0.8, torch::randn({s.n2}, f64) * 0.5};
  return {in.X.to(dtype),  in.Y.to(dtype),  in.W1.to(dtype),
          in.b1.to(dtype), in.W2.to(dtype), in.b2.to(dtype)};
}

// Labels as each output layer's users give them, from random labels Y in [0, 1): rows of
// probabilities for softmax, any reals for identity, Y itself for sigmoid.
inline at::Tensor targets_for(const std::string& output, const at::Tensor& Y) {
  if (output == "softmax") {
    const at::Tensor positive = Y + 0.05;
    return positive / positive.sum(1, /*keepdim=*/true);
  }
  if (output == "identity") return torch::randn_like(Y) * 2;
  return Y;
}

// A random incoming gradient away from 1, so that a backward ignoring grad_output fails.
inline at::Tensor random_scalar_grad(at::ScalarType dtype) {
  return (torch::rand({}, torch::kDouble) * 1.5 + 1.25).to(dtype);
}

// max|actual - expected| / max|expected| (the absolute error where expected is all zero).
inline double rel_error(const at::Tensor& actual, const at::Tensor& expected) {
  const at::Tensor a = actual.detach().to(torch::kDouble);
  const at::Tensor b = expected.detach().to(torch::kDouble);
  if (b.numel() == 0) return 0.0;
  const double num = (a - b).abs().max().item<double>();
  const double den = b.abs().max().item<double>();
  return den == 0.0 ? num : num / den;
}

inline std::string sizes_string(const at::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

// Same shape, same dtype, and within `tol` relative error; NaN never passes.
inline ::testing::AssertionResult AllClose(const at::Tensor& actual, const at::Tensor& expected,
                                           double tol) {
  if (!actual.defined()) return ::testing::AssertionFailure() << "actual tensor is undefined";
  if (!expected.defined()) return ::testing::AssertionFailure() << "expected tensor is undefined";
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << sizes_string(actual) << " != expected " << sizes_string(expected);
  }
  if (actual.scalar_type() != expected.scalar_type()) {
    return ::testing::AssertionFailure()
           << "dtype " << actual.scalar_type() << " != expected " << expected.scalar_type();
  }
  const double err = rel_error(actual, expected);
  if (!(err <= tol)) {
    return ::testing::AssertionFailure() << "relative error " << err << " > " << tol;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace twolayer_test
