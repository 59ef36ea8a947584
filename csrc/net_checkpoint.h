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

at::Tensor activation_bytes(const std::string& name);
std::string activation_from_bytes(const at::Tensor& saved);

}  // namespace detail
}  // namespace twolayer
