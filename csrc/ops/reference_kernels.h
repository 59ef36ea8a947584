#pragma once

// The operators' kernels from ATen operators (math/six_equations): every backend's, registered
// as CompositeExplicitAutograd (composite_kernels.cpp), and the CPU's for bfloat16 and float16
// networks, whose products ATen's own kernels run fastest.

#include <array>
#include <tuple>

#include <ATen/ATen.h>

#include "math/gradients.h"

namespace twolayer {
namespace reference {

std::tuple<at::Tensor, at::Tensor, at::Tensor> loss_with_cache(
    const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1, const at::Tensor& b1,
    const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation,
    c10::string_view output);

Gradients::LossTuple loss_backward(const at::Tensor& grad_J, const at::Tensor& X,
                                   const at::Tensor& Y, const at::Tensor& W1, const at::Tensor& W2,
                                   const at::Tensor& A1, const at::Tensor& Z2,
                                   c10::string_view activation, std::array<bool, 6> output_mask,
                                   c10::string_view output);

std::tuple<at::Tensor, at::Tensor> forward_with_cache(const at::Tensor& X, const at::Tensor& W1,
                                                      const at::Tensor& b1, const at::Tensor& W2,
                                                      const at::Tensor& b2,
                                                      c10::string_view activation,
                                                      c10::string_view output);

Gradients::ForwardTuple backward_of_forward(const at::Tensor& grad_A2, const at::Tensor& X,
                                            const at::Tensor& W1, const at::Tensor& W2,
                                            const at::Tensor& A1, const at::Tensor& A2,
                                            c10::string_view activation,
                                            std::array<bool, 5> output_mask,
                                            c10::string_view output);

// The public operators without autograd: the forward pieces, dispatched, minus the cache.
at::Tensor loss(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                c10::string_view activation, c10::string_view output);

at::Tensor forward(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                   const at::Tensor& W2, const at::Tensor& b2, c10::string_view activation,
                   c10::string_view output);

at::Tensor fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X,
               const at::Tensor& Y, int64_t iterations, double learning_rate,
               c10::string_view activation, c10::string_view output);

}  // namespace reference
}  // namespace twolayer
