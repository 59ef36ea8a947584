#pragma once

// Validation of the network's inputs. Every user-facing error of the operators comes from here
// and names the argument, what was expected and what arrived.

#include <ATen/ATen.h>

namespace twolayer {

struct NetworkShape {
  int64_t m;   // examples
  int64_t n0;  // input features
  int64_t n1;  // hidden units
  int64_t n2;  // output units
};

// The cost needs labels Y; the forward operator has none (pass an undefined Y).
enum class Labels { Required, None };

NetworkShape check_network_inputs(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                  const at::Tensor& b1, const at::Tensor& W2,
                                  const at::Tensor& b2, Labels labels);

// "float32", "int64", ...: the names Python users know.
std::string dtype_name(at::ScalarType dtype);

}  // namespace twolayer
