// Meta kernels: the same checks as the real kernels and outputs of the right shape and dtype,
// without data. They let torch.compile, FakeTensor and shape inference trace the operators.

#include <torch/library.h>

#include "math/activation.h"
#include "math/checks.h"
#include "math/fit.h"
#include "ops/registration.h"

namespace twolayer {
namespace {

// Sizes stay symbolic (sym_sizes, empty_symint): a fake tensor's batch size is a symbol under
// torch.compile and torch.export, and reading it as an integer would specialise the trace.
at::Tensor empty_if(bool wanted, const at::Tensor& like) {
  return wanted ? at::empty_symint(like.sym_sizes(), like.options()) : at::Tensor();
}

at::Tensor empty_vector_if(bool wanted, const c10::SymInt& size, const at::Tensor& like) {
  return wanted ? at::empty_symint({size}, like.options()) : at::Tensor();
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>
loss_and_gradients_meta(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                        const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                        c10::string_view activation, std::array<bool, 6> mask) {
  check_network_sizes(X, Y, W1, b1, W2, b2, Labels::Required);
  parse_activation(activation);
  return {at::empty({}, X.options()), empty_if(mask[0], X), empty_if(mask[1], Y),
          empty_if(mask[2], W1),      empty_if(mask[3], b1), empty_if(mask[4], W2),
          empty_if(mask[5], b2)};
}

std::tuple<at::Tensor, at::Tensor> forward_with_cache_meta(const at::Tensor& X,
                                                           const at::Tensor& W1,
                                                           const at::Tensor& b1,
                                                           const at::Tensor& W2,
                                                           const at::Tensor& b2,
                                                           c10::string_view activation) {
  const SymNetworkShape s = check_network_sizes(X, at::Tensor(), W1, b1, W2, b2, Labels::None);
  parse_activation(activation);
  return {at::empty_symint({s.m, s.n2}, X.options()), at::empty_symint({s.m, s.n1}, X.options())};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> forward_backward_meta(
    const at::Tensor& /*grad_A2*/, const at::Tensor& X, const at::Tensor& W1,
    const at::Tensor& W2, const at::Tensor& /*A1*/, const at::Tensor& /*A2*/,
    c10::string_view /*activation*/, std::array<bool, 5> mask) {
  return {empty_if(mask[0], X),
          empty_if(mask[1], W1),
          empty_vector_if(mask[2], W1.sym_size(0), W1),
          empty_if(mask[3], W2),
          empty_vector_if(mask[4], W2.sym_size(0), W2)};
}

at::Tensor fit_meta(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                    const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                    double learning_rate, c10::string_view activation) {
  check_fit_arguments(W1, b1, W2, b2, X, Y, iterations, learning_rate);
  parse_activation(activation);
  return at::empty({iterations}, X.options());
}

}  // namespace
}  // namespace twolayer

TWOLAYER_LIBRARY_IMPL(Meta, m) {
  m.impl("fit_", &twolayer::fit_meta);
  m.impl("_loss_and_gradients", &twolayer::loss_and_gradients_meta);
  m.impl("_forward_with_cache", &twolayer::forward_with_cache_meta);
  m.impl("_forward_backward", &twolayer::forward_backward_meta);
}
