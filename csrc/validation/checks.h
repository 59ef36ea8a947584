#pragma once

// Validation of the network's inputs. Every user-facing error of the operators comes from here
// and names the argument, what was expected and what arrived.
//
// Sizes are read as c10::SymInt: under torch.compile / torch.export a fake tensor's batch size
// is a symbol, and reading it as an integer would turn it into a constant of the trace. Real
// tensors' SymInts hold plain integers, so eager calls pay nothing for it.

#include <ATen/ATen.h>

namespace twolayer {

// The network's sizes, symbolic under tracing: what Meta kernels allocate with.
struct SymNetworkShape {
  c10::SymInt m;   // examples
  c10::SymInt n0;  // input features
  c10::SymInt n1;  // hidden units
  c10::SymInt n2;  // output units
};

// The same sizes as integers: what the CPU kernels loop over.
struct NetworkShape {
  int64_t m;
  int64_t n0;
  int64_t n1;
  int64_t n2;
};

// The cost needs labels Y; the forward operator has none (pass an undefined Y).
enum class Labels { Required, None };

SymNetworkShape check_network_sizes(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                    const at::Tensor& b1, const at::Tensor& W2,
                                    const at::Tensor& b2, Labels labels);

// The sizes of tensors with real data, whose sizes are never symbols.
NetworkShape concrete(const SymNetworkShape& s);

// check_network_sizes for tensors with real data.
NetworkShape check_network_inputs(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                  const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                                  Labels labels);

// The inputs of a backward operator: the incoming gradient (a scalar for the cost, (m, n2) for
// the probabilities), X, W1, W2, Y (if Labels::Required) and the cache forward made: A1 (m, n1)
// and `out` (m, n2), Z2 or A2.
SymNetworkShape check_backward_sizes(const at::Tensor& grad, const char* grad_name,
                                     const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                     const at::Tensor& W2, const at::Tensor& A1,
                                     const at::Tensor& out, const char* out_name, Labels labels);

// "float32", "int64", ...: the names Python users know.
std::string dtype_name(at::ScalarType dtype);

}  // namespace twolayer
