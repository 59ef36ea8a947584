// The public C++ entry points: calls through the dispatcher, so C++ programs get the same
// autograd kernels, checks and backends as Python and TorchScript.

#include "twolayer/ops.h"

#include <algorithm>
#include <vector>

#include "ops/op_handles.h"
#include "twolayer/version.h"

namespace twolayer {

at::Tensor loss(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                c10::string_view activation, c10::string_view output) {
  return ops::loss().call(X, Y, W1, b1, W2, b2, activation, output);
}

at::Tensor forward(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                   const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation,
                   c10::string_view output) {
  return ops::forward().call(X, W1, b1, W2, b2, activation, output);
}

at::Tensor fit_(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X,
                const at::Tensor& Y, int64_t iterations, double learning_rate,
                c10::string_view activation, const FitProgress& progress, int64_t progress_every) {
  return fit_(W1, b1, W2, b2, X, Y, iterations, learning_rate, activation, "sigmoid", progress,
              progress_every);
}

at::Tensor fit_(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X,
                const at::Tensor& Y, int64_t iterations, double learning_rate,
                c10::string_view activation, c10::string_view output, const FitProgress& progress,
                int64_t progress_every) {
  // No count to split (or a negative one, which the operator refuses with its own message, so
  // that every form of fit says the same).
  if (!progress || iterations <= 0) {
    return ops::fit().call(W1, b1, W2, b2, X, Y, iterations, learning_rate, activation, output);
  }
  TORCH_CHECK(progress_every >= 1, "twolayer: progress_every must be >= 1, but got ",
              progress_every);
  // The loop runs in C++ between reports; only the reports come back to the caller.
  std::vector<at::Tensor> costs;
  // Counted down rather than done += progress_every, which could overflow near INT64_MAX.
  for (int64_t done = 0, left = iterations; left > 0;) {
    const int64_t steps = std::min(progress_every, left);
    costs.push_back(
        ops::fit().call(W1, b1, W2, b2, X, Y, steps, learning_rate, activation, output));
    progress(done, costs.back()[0].item<double>());
    left -= steps;
    done += steps;
  }
  // The last iteration too, so that a display can show where the training ended.
  if ((iterations - 1) % progress_every != 0) {
    progress(iterations - 1, costs.back()[-1].item<double>());
  }
  return at::cat(costs);
}

int64_t library_version() {
  return TWOLAYER_VERSION_MAJOR * 10000 + TWOLAYER_VERSION_MINOR * 100 + TWOLAYER_VERSION_PATCH;
}

}  // namespace twolayer
