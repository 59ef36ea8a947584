// CPU kernels of the cost's operators and of fit_: the fused implementation of loss_cpu.h.
// Other backends keep the ATen reference kernels (composite_kernels.cpp).

#include <torch/library.h>

#include "math/fit.h"
#include "ops/cpu/loss_cpu.h"
#include "ops/registration.h"

namespace twolayer {
namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>
loss_and_gradients_cpu(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                       const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                       c10::string_view activation, std::array<bool, 6> mask) {
  const NetworkShape shape = check_network_inputs(X, Y, W1, b1, W2, b2, Labels::Required);
  cpu::CostAndGradients out =
      cpu::loss_and_gradients(X, Y, W1, b1, W2, b2, shape, parse_activation(activation), mask);
  const LossGradients& g = out.gradients;
  return {std::move(out.J), g[0], g[1], g[2], g[3], g[4], g[5]};
}

// The cost alone goes straight to the kernel: one dispatch fewer than the composite loss.
at::Tensor loss_cpu(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                    const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                    c10::string_view activation) {
  const NetworkShape shape = check_network_inputs(X, Y, W1, b1, W2, b2, Labels::Required);
  return cpu::loss_and_gradients(X, Y, W1, b1, W2, b2, shape, parse_activation(activation), {})
      .J;
}

at::Tensor fit_cpu(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                   const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                   double learning_rate, c10::string_view activation) {
  const NetworkShape shape =
      concrete(check_fit_arguments(W1, b1, W2, b2, X, Y, iterations, learning_rate));
  return cpu::fit(W1, b1, W2, b2, X, Y, shape, iterations, learning_rate,
                  parse_activation(activation));
}

}  // namespace
}  // namespace twolayer

TWOLAYER_LIBRARY_IMPL(CPU, m) {
  m.impl("fit_", &twolayer::fit_cpu);
  m.impl("loss", &twolayer::loss_cpu);
  m.impl("_loss_and_gradients", &twolayer::loss_and_gradients_cpu);
}
