#pragma once

// What TwoLayerNet's checkpoints hold beside the parameters, shared by the module (net.cpp) and
// the reader of checkpoint files (net_load.cpp).

#include <string>

#include <ATen/ATen.h>

namespace twolayer {
namespace detail {

// The activation travels in checkpoints as a buffer holding its name in ASCII, as the Python
// module stores it (python/twolayer/_net.py): a relu checkpoint cannot load into a tanh net.
constexpr const char* kActivationBuffer = "activation_name";
// The output layer travels the same way; checkpoints without it load as sigmoid, the only output
// layer there was when they were written.
constexpr const char* kOutputBuffer = "output_name";

at::Tensor activation_bytes(const std::string& name);
std::string activation_from_bytes(const at::Tensor& saved);

}  // namespace detail
}  // namespace twolayer
