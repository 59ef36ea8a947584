#pragma once

// The hidden non-linearity g1 and its derivative. The derivative is computed from the
// activation A1 = g1(Z1) rather than from Z1, so the forward need not keep Z1 for backward.

#include <type_traits>

#include <ATen/ATen.h>
#include <c10/util/string_view.h>

namespace twolayer {

enum class Activation { Tanh, Relu, Sigmoid, LeakyRelu };

// Throws "twolayer: unknown activation ..." for anything but the four names.
Activation parse_activation(c10::string_view name);
// The name parse_activation takes.
const char* activation_name(Activation activation);

// Slope of leaky_relu for negative inputs, as torch.nn.functional.leaky_relu's default.
constexpr double kLeakyReluSlope = 0.01;

template <Activation A>
using ActivationTag = std::integral_constant<Activation, A>;

// The one switch over the activations: calls f(ActivationTag<A>{}) for the A that `activation`
// holds, so that each user picks its own implementation of A at compile time (the ATen ops
// below, the vectorised functors of ops/cpu/activation_functors.h). Always inlined: the CPU
// kernels call it from code compiled for AVX2, which must not call out to a shared copy.
template <typename F>
inline __attribute__((always_inline)) decltype(auto) visit_activation(Activation activation,
                                                                      F&& f) {
  switch (activation) {
    case Activation::Tanh: return f(ActivationTag<Activation::Tanh>{});
    case Activation::Relu: return f(ActivationTag<Activation::Relu>{});
    case Activation::Sigmoid: return f(ActivationTag<Activation::Sigmoid>{});
    case Activation::LeakyRelu: return f(ActivationTag<Activation::LeakyRelu>{});
  }
  __builtin_unreachable();  // parse_activation makes no other value
}

at::Tensor activate(const at::Tensor& Z1, Activation activation);

// dZ1 = dA1 * g1'(Z1), g1' expressed through A1. At Z1 = 0 it follows PyTorch: relu' = 0,
// leaky_relu' = 0.01; relu masks dA1 (where A1 <= 0: 0) rather than multiplying by 0.
at::Tensor activation_backward(const at::Tensor& dA1, const at::Tensor& A1, Activation activation);

}  // namespace twolayer
