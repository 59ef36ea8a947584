// Kernels on the Autocast keys: under torch.autocast the network runs in autocast's dtype.
//
// As autocast runs nn.Linear, X, W1, b1, W2 and b2 are cast to autocast's dtype (bfloat16 or
// float16), so that the six products run there; the operators then run the rest in float32
// (math/precision.h), as autocast runs binary_cross_entropy_with_logits: the labels are cast to
// float32 and the cost J is float32. The probabilities come back in autocast's dtype, as
// sigmoid(linear(...)) would. float64 inputs are left alone, as autocast leaves them. The
// casts are differentiable, so float32 parameters get float32 gradients, and autocast's cache
// casts each parameter once per autocast region.

#include <ATen/autocast_mode.h>
#include <torch/library.h>
#include <torch/version.h>

#include "math/precision.h"
#include "ops/op_handles.h"
#include "ops/registration.h"

namespace twolayer {
namespace {

template <c10::DeviceType device>
at::ScalarType autocast_type() {
#if TORCH_VERSION_MAJOR >= 2
  return at::autocast::get_autocast_dtype(device);
#else
  return device == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype()
                                        : at::autocast::get_autocast_gpu_dtype();
#endif
}

template <c10::DeviceType device>
at::Tensor to_autocast_type(const at::Tensor& t) {
  return at::autocast::cached_cast(autocast_type<device>(), t, device);
}

// Labels for a network that autocast made low-precision: float32, the cost's dtype.
at::Tensor labels_for(const at::Tensor& Y, const at::Tensor& X) {
  if (!Y.defined() || !X.defined() || !is_low_precision(X.scalar_type())) return Y;
  return Y.to(at::kFloat);
}

template <c10::DispatchKey key, c10::DeviceType device>
at::Tensor loss_autocast(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                         const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                         c10::string_view activation, c10::string_view output) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(key);
  const at::Tensor X_cast = to_autocast_type<device>(X);
  return ops::loss().call(X_cast, labels_for(Y, X_cast), to_autocast_type<device>(W1),
                          to_autocast_type<device>(b1), to_autocast_type<device>(W2),
                          to_autocast_type<device>(b2), activation, output);
}

template <c10::DispatchKey key, c10::DeviceType device>
at::Tensor forward_autocast(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                            const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation,
                            c10::string_view output) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(key);
  return ops::forward().call(to_autocast_type<device>(X), to_autocast_type<device>(W1),
                             to_autocast_type<device>(b1), to_autocast_type<device>(W2),
                             to_autocast_type<device>(b2), activation, output);
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
