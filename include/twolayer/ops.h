#pragma once

// The operators of the two-layer network, called through the PyTorch dispatcher so that C++
// callers get exactly what Python and TorchScript callers get: the same checks and the same
// hand-written backward (TwoLayerFunction) whenever an input requires grad.
//
// Shapes (batch-first, like torch::nn::Linear):
//   X (m, n0), Y (m, n2) with values in [0, 1], W1 (n1, n0), b1 (n1), W2 (n2, n1), b2 (n2).
// activation is the hidden non-linearity g1: "tanh", "relu", "sigmoid" or "leaky_relu" (0.01).
// output is the output layer and its cost:
//   "sigmoid"  A2 = sigmoid(Z2), the cross-entropy -[Y log A2 + (1 - Y) log(1 - A2)] (binary or
//              multi-label; Y in [0, 1]);
//   "softmax"  A2 = softmax(Z2) along each row, -sum_j Y_j log A2_j (multi-class; rows of Y
//              one-hot or probabilities);
//   "identity" A2 = Z2, (1/2) (A2 - Y)^2 (regression).
// Each cost is averaged over the m examples (summed over the outputs), and each makes the
// lecture's dZ2 = A2 - Y.

#include <functional>

#include <ATen/ATen.h>
#include <c10/util/string_view.h>

#include "twolayer/export.h"

namespace twolayer {

// The cost J of the output layer, computed stably from the logits Z2. Returns a 0-dim tensor.
TWOLAYER_API at::Tensor loss(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                             const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                             c10::string_view activation = "tanh",
                             c10::string_view output = "sigmoid");

// The outputs A2 = g2(g1(X W1^T + b1) W2^T + b2), shape (m, n2): probabilities for sigmoid and
// softmax, the predictions for identity.
TWOLAYER_API at::Tensor forward(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                                const at::Tensor& W2, const at::Tensor& b2,
                                c10::string_view activation = "tanh",
                                c10::string_view output = "sigmoid");

// Called as progress(iteration, cost) with the cost computed at that iteration.
using FitProgress = std::function<void(int64_t iteration, double cost)>;

// The lecture's gradient descent without leaving C++: `iterations` full-batch steps of
// W := W - learning_rate * dW on W1, b1, W2, b2, in place. Returns the cost of every iteration
// (1-D, taken before that iteration's update). Gives the same parameters, to rounding, as the same
// number of loss() + backward() + manual updates. Like an optimizer step it is not differentiable.
// With `progress`, it reports every `progress_every` iterations (0, progress_every, ...) and
// the last one (iterations - 1). A negative `iterations` is refused in every form.
TWOLAYER_API at::Tensor fit_(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                             const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                             double learning_rate, c10::string_view activation = "tanh",
                             const FitProgress& progress = nullptr, int64_t progress_every = 1000);
// The same with an output layer other than sigmoid (a separate overload: the one above keeps
// its progress argument where C++ callers pass it).
TWOLAYER_API at::Tensor fit_(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                             const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                             double learning_rate, c10::string_view activation,
                             c10::string_view output, const FitProgress& progress = nullptr,
                             int64_t progress_every = 1000);

// The TorchScript operators are registered when libtwolayer is loaded. An application that
// only runs a TorchScript model never names a symbol of ours, and a linker using --as-needed
// would then drop the library and its registrations; every file that includes this header
// references it (the CMake package also links it with --no-as-needed).
TWOLAYER_API int64_t library_version();
namespace detail {
inline const int64_t keep_library_linked = library_version();
}  // namespace detail

}  // namespace twolayer
