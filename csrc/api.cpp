// The public C++ entry points: calls through the dispatcher, so C++ programs get the same
// autograd kernels, checks and backends as Python and TorchScript.

#include "twolayer/ops.h"

#include "ops/op_handles.h"
#include "twolayer/version.h"

namespace twolayer {

at::Tensor loss(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                c10::string_view activation) {
  return ops::loss().call(X, Y, W1, b1, W2, b2, activation);
}

at::Tensor forward(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                   const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation) {
  return ops::forward().call(X, W1, b1, W2, b2, activation);
}

int64_t library_version() {
  return TWOLAYER_VERSION_MAJOR * 10000 + TWOLAYER_VERSION_MINOR * 100 + TWOLAYER_VERSION_PATCH;
}

}  // namespace twolayer
