#pragma once

// Typed handles of the twolayer operators, looked up once, for calling them through the
// dispatcher from C++ (the public API and the autograd Functions).

#include <array>
#include <tuple>

#include <ATen/core/dispatch/Dispatcher.h>

#include "ops/registration.h"

namespace twolayer {
namespace ops {

using LossSignature = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                 const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                 c10::string_view, c10::string_view);
using ForwardSignature = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                    const at::Tensor&, const at::Tensor&, c10::string_view,
                                    c10::string_view);
using LogitsSignature = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                   const at::Tensor&, const at::Tensor&, c10::string_view);
using LossWithCacheSignature = std::tuple<at::Tensor, at::Tensor, at::Tensor>(
    const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
    const at::Tensor&, c10::string_view, c10::string_view);
using LossBackwardSignature =
    std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>(
        const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
        const at::Tensor&, const at::Tensor&, const at::Tensor&, c10::string_view,
        std::array<bool, 6>, c10::string_view);
using ForwardWithCacheSignature = std::tuple<at::Tensor, at::Tensor>(
    const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
    c10::string_view, c10::string_view);
using BackwardOfForwardSignature =
    std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>(
        const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
        const at::Tensor&, const at::Tensor&, c10::string_view, std::array<bool, 5>,
        c10::string_view);

using FitSignature = at::Tensor(at::Tensor&, at::Tensor&, at::Tensor&, at::Tensor&,
                                const at::Tensor&, const at::Tensor&, int64_t, double,
                                c10::string_view, c10::string_view);

template <typename Signature>
c10::TypedOperatorHandle<Signature> find(const char* name) {
  // A refused second copy would call the first copy's kernels through its own API: it throws.
  TORCH_CHECK(detail::refusal_message().empty(), detail::refusal_message());
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

#define TWOLAYER_OP_HANDLE(function, op_name, Signature)         \
  inline const c10::TypedOperatorHandle<Signature>& function() { \
    static const auto handle = find<Signature>(op_name);         \
    return handle;                                               \
  }

TWOLAYER_OP_HANDLE(loss, "twolayer::loss", LossSignature)
TWOLAYER_OP_HANDLE(forward, "twolayer::forward", ForwardSignature)
TWOLAYER_OP_HANDLE(loss_with_cache, "twolayer::_loss_with_cache", LossWithCacheSignature)
TWOLAYER_OP_HANDLE(loss_backward, "twolayer::_loss_backward", LossBackwardSignature)
TWOLAYER_OP_HANDLE(forward_with_cache, "twolayer::_forward_with_cache", ForwardWithCacheSignature)
TWOLAYER_OP_HANDLE(backward_of_forward, "twolayer::_backward_of_forward",
                   BackwardOfForwardSignature)
TWOLAYER_OP_HANDLE(fit, "twolayer::fit_", FitSignature)
TWOLAYER_OP_HANDLE(logits, "twolayer::_logits", LogitsSignature)

#undef TWOLAYER_OP_HANDLE

}  // namespace ops
}  // namespace twolayer
