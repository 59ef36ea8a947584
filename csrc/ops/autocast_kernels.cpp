// Kernels on the Autocast keys: under torch.autocast the network runs in float32.
//
// Autocast hands an op whatever its producer made, e.g. bfloat16 activations from an
// nn.Linear, while the kernels here (and their error checks) take float32 or float64. As
// torchvision does for its ops, float16/bfloat16 inputs are cast to float32 and the op runs
// there; its result stays float32, the precision the cost and the probabilities need (the
// same reason autocast runs binary_cross_entropy_with_logits in float32). The casts are
// differentiable, so gradients reach a low-precision producer in its own dtype. float64 inputs
// are left alone, and outside autocast half types are refused by the usual checks.

#include <ATen/autocast_mode.h>
#include <torch/library.h>

#include "ops/op_handles.h"
#include "ops/registration.h"

namespace twolayer {
namespace {

template <c10::DeviceType device>
at::Tensor to_float(const at::Tensor& t) {
  return at::autocast::cached_cast(at::kFloat, t, device);
}

template <c10::DispatchKey key, c10::DeviceType device>
at::Tensor loss_autocast(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                         const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                         c10::string_view activation, c10::string_view output) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(key);
  return ops::loss().call(to_float<device>(X), to_float<device>(Y), to_float<device>(W1),
                          to_float<device>(b1), to_float<device>(W2), to_float<device>(b2),
                          activation, output);
}

template <c10::DispatchKey key, c10::DeviceType device>
at::Tensor forward_autocast(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                            const at::Tensor& W2, const at::Tensor& b2,
                            c10::string_view activation, c10::string_view output) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(key);
  return ops::forward().call(to_float<device>(X), to_float<device>(W1), to_float<device>(b1),
                             to_float<device>(W2), to_float<device>(b2), activation,
                             output);
}

}  // namespace
}  // namespace twolayer

TWOLAYER_LIBRARY_IMPL(AutocastCPU, m) {
  m.impl("loss", &twolayer::loss_autocast<c10::DispatchKey::AutocastCPU, c10::DeviceType::CPU>);
  m.impl("forward",
         &twolayer::forward_autocast<c10::DispatchKey::AutocastCPU, c10::DeviceType::CPU>);
}

TWOLAYER_LIBRARY_IMPL(AutocastCUDA, m) {
  m.impl("loss", &twolayer::loss_autocast<c10::DispatchKey::AutocastCUDA, c10::DeviceType::CUDA>);
  m.impl("forward",
         &twolayer::forward_autocast<c10::DispatchKey::AutocastCUDA, c10::DeviceType::CUDA>);
}
