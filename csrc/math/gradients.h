#pragma once

// The gradients of the two operators by name, in one order for both: X, W1, b1, W2, b2 and, for
// the cost only, Y. The schemas of the backward operators carry them as tuples and bool[]
// masks in this order; everything else reads them by name.

#include <array>
#include <tuple>

#include <ATen/core/Tensor.h>

namespace twolayer {

// Which gradients backward is asked for (ctx->needs_input_grad).
struct GradientMask {
  bool X = false, W1 = false, b1 = false, W2 = false, b2 = false, Y = false;

  // dZ1 is needed for any of the hidden layer's gradients and for dX.
  bool hidden() const { return X || W1 || b1; }
  // dZ2 is needed for everything but dY.
  bool through_dZ2() const { return hidden() || W2 || b2; }
  bool any() const { return through_dZ2() || Y; }

  // What gradient descent updates.
  static GradientMask parameters() { return {false, true, true, true, true, false}; }

  // The schemas' bool[6] (loss: X, W1, b1, W2, b2, Y) and bool[5] (forward: X, W1, b1, W2, b2).
  static GradientMask of_loss(std::array<bool, 6> m) {
    return {m[0], m[1], m[2], m[3], m[4], m[5]};
  }
  static GradientMask of_forward(std::array<bool, 5> m) { return {m[0], m[1], m[2], m[3], m[4]}; }
  std::array<bool, 6> loss_array() const { return {X, W1, b1, W2, b2, Y}; }
  std::array<bool, 5> forward_array() const { return {X, W1, b1, W2, b2}; }
};

// Gradients not asked for stay undefined.
struct Gradients {
  at::Tensor X, W1, b1, W2, b2, Y;

  using LossTuple =
      std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>;
  using ForwardTuple = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>;
  LossTuple loss_tuple() && {
    return {std::move(X), std::move(W1), std::move(b1), std::move(W2), std::move(b2), std::move(Y)};
  }
  ForwardTuple forward_tuple() && {
    return {std::move(X), std::move(W1), std::move(b1), std::move(W2), std::move(b2)};
  }
  static Gradients of_loss(LossTuple t) {
    auto& [X, W1, b1, W2, b2, Y] = t;
    return {std::move(X), std::move(W1), std::move(b1), std::move(W2), std::move(b2), std::move(Y)};
  }
  static Gradients of_forward(ForwardTuple t) {
    auto& [X, W1, b1, W2, b2] = t;
    return {std::move(X), std::move(W1), std::move(b1), std::move(W2), std::move(b2), at::Tensor()};
  }
};

}  // namespace twolayer
