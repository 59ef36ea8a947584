// The CPU kernels of the cost (loss, _loss_with_cache, _loss_backward), of the probabilities
// (forward, _forward_with_cache) and of fit_: the checks, the choice of path (cpu_paths.h) and
// the registration. Other backends, and the probabilities' backward (_backward_of_forward),
// keep the ATen reference kernels (composite_kernels.cpp). bfloat16 and float16 networks take
// a path of their own (low_precision_path.h).

#include <cstring>

#include <torch/library.h>

#include "math/fit.h"
#include "math/precision.h"
#include "ops/cpu/cpu_paths.h"
#include "ops/cpu/cpu_steps.h"
#include "ops/cpu/low_precision_path.h"
#include "ops/cpu/vector_kernels.h"
#include "ops/cpu/workspace.h"
#include "ops/registration.h"

namespace twolayer {
namespace {

// The parameters are small: contiguous copies of strided ones cost nothing worth avoiding. The
// rows path reads X and Y as rows; the small-net kernel reads any strides. Y is undefined for
// the probabilities.
cpu::NetworkInputs network_inputs(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                  const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                                  const NetworkShape& shape, c10::string_view activation,
                                  c10::string_view output) {
  const Activation g1 = parse_activation(activation);
  const OutputLayer g2 = parse_output(output);
  cpu::vector_kernels_version();  // refuses a bad TWOLAYER_CPU_KERNEL here, not in a worker thread
  const bool rows = cpu::cpu_path(shape) != cpu::CpuPath::SmallNet;
  const at::Tensor labels = rows && Y.defined() ? Y.contiguous() : Y;
  return {rows ? X.contiguous() : X,
          labels,
          W1.contiguous(),
          b1.contiguous(),
          W2.contiguous(),
          b2.contiguous(),
          shape,
          g1,
          g2};
}

// Forward propagation to the cost or to the probabilities, with the cache when kept: (A1, Z2)
// for the cost, A1 for the probabilities. A kept A1 outlives the call; else the row passes make
// the hidden layer in per-thread memory.
cpu::ForwardResult forward_propagation_cpu(const cpu::NetworkInputs& in, cpu::ForwardOutput output,
                                           bool keep_cache) {
  if (is_low_precision(in.X.scalar_type())) {
    return cpu::low_precision_forward(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, in.activation,
                                      in.output, output, keep_cache);
  }
  if (cpu::cpu_path(in.shape) == cpu::CpuPath::SmallNet) {
    return cpu::small_net_forward(in, output, keep_cache);
  }
  const NetworkShape& s = in.shape;
  at::Tensor A1;
  if (keep_cache) A1 = cpu::recycled_cache(cpu::CacheSlot::A1, s.m, s.n1, in.X.options());
  const bool keep_Z2 = keep_cache && output == cpu::ForwardOutput::Cost;
  return cpu::row_passes_forward(in, output, std::move(A1), keep_Z2);
}

Gradients backpropagation_cpu(const cpu::BackwardInputs& in, GradientMask want) {
  if (is_low_precision(in.X.scalar_type())) {
    return cpu::low_precision_backward(in.grad_J, in.X, in.Y, in.W1, in.W2, in.A1, in.Z2,
                                       in.activation, in.output, want);
  }
  if (cpu::cpu_path(in.shape) == cpu::CpuPath::SmallNet) return cpu::small_net_backward(in, want);
  return cpu::row_passes_backward(in, want);
}

at::Tensor loss_cpu(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                    const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                    c10::string_view activation, c10::string_view output) {
  const NetworkShape shape = check_network_inputs(X, Y, W1, b1, W2, b2, Labels::Required);
  return forward_propagation_cpu(network_inputs(X, Y, W1, b1, W2, b2, shape, activation, output),
                                 cpu::ForwardOutput::Cost, false)
      .J;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> loss_with_cache_cpu(
    const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1, const at::Tensor& b1,
    const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation,
    c10::string_view output) {
  const NetworkShape shape = check_network_inputs(X, Y, W1, b1, W2, b2, Labels::Required);
  cpu::ForwardResult out =
      forward_propagation_cpu(network_inputs(X, Y, W1, b1, W2, b2, shape, activation, output),
                              cpu::ForwardOutput::Cost, true);
  return {std::move(out.J), std::move(out.A1), std::move(out.Z2)};
}

// The operator `forward` without autograd (no_grad, inference_mode, or no input requiring
// grad): the probabilities A2, and nothing kept.
at::Tensor probabilities_cpu(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                             const at::Tensor& W2, const at::Tensor& b2,
                             c10::string_view activation, c10::string_view output) {
  const NetworkShape shape = check_network_inputs(X, at::Tensor(), W1, b1, W2, b2, Labels::None);
  return forward_propagation_cpu(
             network_inputs(X, at::Tensor(), W1, b1, W2, b2, shape, activation, output),
             cpu::ForwardOutput::Probabilities, false)
      .A2;
}

// The forward of TwoLayerProbabilitiesFunction: (A2, A1), the probabilities and their cache.
std::tuple<at::Tensor, at::Tensor> probabilities_with_cache_cpu(
    const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1, const at::Tensor& W2,
    const at::Tensor& b2, c10::string_view activation, c10::string_view output) {
  const NetworkShape shape = check_network_inputs(X, at::Tensor(), W1, b1, W2, b2, Labels::None);
  cpu::ForwardResult out = forward_propagation_cpu(
      network_inputs(X, at::Tensor(), W1, b1, W2, b2, shape, activation, output),
      cpu::ForwardOutput::Probabilities, true);
  return {std::move(out.A2), std::move(out.A1)};
}

Gradients::LossTuple loss_backward_cpu(const at::Tensor& grad_J, const at::Tensor& X,
                                       const at::Tensor& Y, const at::Tensor& W1,
                                       const at::Tensor& W2, const at::Tensor& A1,
                                       const at::Tensor& Z2, c10::string_view activation,
                                       std::array<bool, 6> output_mask, c10::string_view output) {
  const NetworkShape shape = concrete(
      check_backward_sizes(grad_J, "grad_J", X, Y, W1, W2, A1, Z2, "Z2", Labels::Required));
  const Activation g1 = parse_activation(activation);
  const OutputLayer g2 = parse_output(output);
  cpu::vector_kernels_version();
  const bool rows = cpu::cpu_path(shape) != cpu::CpuPath::SmallNet;
  // Read directly, not with item(): a dispatched call costs as much as a small net's arithmetic.
  const double incoming =
      grad_J.scalar_type() == at::kFloat ? *grad_J.data_ptr<float>() : *grad_J.data_ptr<double>();
  const cpu::BackwardInputs in{incoming,
                               rows ? X.contiguous() : X,
                               rows ? Y.contiguous() : Y,
                               W1.contiguous(),
                               W2.contiguous(),
                               A1,
                               Z2,
                               shape,
                               g1,
                               g2};
  return backpropagation_cpu(in, GradientMask::of_loss(output_mask)).loss_tuple();
}

at::Tensor fit_cpu(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                   const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                   double learning_rate, c10::string_view activation, c10::string_view output) {
  const NetworkShape shape =
      concrete(check_fit_arguments(W1, b1, W2, b2, X, Y, iterations, learning_rate));
  const cpu::NetworkInputs first = network_inputs(X, Y, W1, b1, W2, b2, shape, activation, output);
  const bool low_precision = is_low_precision(X.scalar_type());
  at::Tensor costs = allocate_costs(  // before any update
      iterations, X.options().dtype(compute_type(X.scalar_type())));
  const bool in_place =
      W1.is_contiguous() && b1.is_contiguous() && W2.is_contiguous() && b2.is_contiguous();
  if (in_place && !low_precision && cpu::cpu_path(shape) == cpu::CpuPath::SmallNet) {
    // The one-pass kernel: forward and backward together, no cache.
    cpu::small_net_fit(first, W1, b1, W2, b2, iterations, learning_rate, costs);
    return costs;
  }
  const bool rows = !low_precision && cpu::cpu_path(shape) != cpu::CpuPath::SmallNet;
  for (int64_t i = 0; i < iterations; ++i) {
    cpu::NetworkInputs in = first;
    if (i > 0) {  // this iteration's parameters
      in.W1 = W1.contiguous(), in.b1 = b1.contiguous(), in.W2 = W2.contiguous();
      in.b2 = b2.contiguous();
    }
    // The cache never leaves the iteration: A1 in the workspace, dZ1 written over it.
    const at::Tensor A1 =
        rows ? cpu::hidden_workspace(shape.m, shape.n1, X.options()) : at::Tensor();
    const cpu::ForwardResult f =
        rows ? cpu::row_passes_forward(in, cpu::ForwardOutput::Cost, A1, true)
             : forward_propagation_cpu(in, cpu::ForwardOutput::Cost, true);
    std::memcpy(static_cast<char*>(costs.data_ptr()) + i * costs.element_size(), f.J.data_ptr(),
                costs.element_size());
    const cpu::BackwardInputs b{1.0,  in.X,  in.Y,          in.W1,     in.W2, f.A1,
                                f.Z2, shape, in.activation, in.output, true};
    const Gradients d = backpropagation_cpu(b, GradientMask::parameters());
    W1.sub_(d.W1, learning_rate);
    b1.sub_(d.b1, learning_rate);
    W2.sub_(d.W2, learning_rate);
    b2.sub_(d.b2, learning_rate);
  }
  return costs;
}

}  // namespace
}  // namespace twolayer

TWOLAYER_LIBRARY_IMPL(CPU, m) {
  m.impl("fit_", &twolayer::fit_cpu);
  m.impl("loss", &twolayer::loss_cpu);
  m.impl("_loss_with_cache", &twolayer::loss_with_cache_cpu);
  m.impl("_loss_backward", &twolayer::loss_backward_cpu);
  m.impl("forward", &twolayer::probabilities_cpu);
  m.impl("_forward_with_cache", &twolayer::probabilities_with_cache_cpu);
}
