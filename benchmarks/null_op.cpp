// twolayer_bench::null_loss: an operator with twolayer::loss's six tensor inputs and a
// hand-written backward that computes nothing (it returns uninitialised gradients of the
// parameters' shapes). Its step is the floor of the S target: what calling any custom
// operator through the dispatcher and taking its gradients costs before any arithmetic.

#include <torch/library.h>
#include <torch/torch.h>

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct NullLoss : public torch::autograd::Function<NullLoss> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& X, const at::Tensor& Y,
                            const at::Tensor& W1, const at::Tensor& b1, const at::Tensor& W2,
                            const at::Tensor& b2) {
    (void)Y;
    ctx->save_for_backward({W1, b1, W2, b2});  // for their shapes
    return at::empty({}, X.options());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    (void)grad_outputs;
    const variable_list saved = ctx->get_saved_variables();
    variable_list grads = {at::Tensor(), at::Tensor()};
    for (const at::Tensor& p : saved) grads.push_back(at::empty_like(p));
    return grads;
  }
};

at::Tensor null_loss(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                     const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2) {
  return NullLoss::apply(X, Y, W1, b1, W2, b2);
}

// The inference floor: forward's five inputs, and an uninitialised (m, n2) result, all that a
// prediction must allocate.
at::Tensor null_forward(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                        const at::Tensor& W2, const at::Tensor& b2) {
  (void)W1, (void)b1, (void)b2;
  return at::empty({X.size(0), W2.size(0)}, X.options());
}

}  // namespace

TORCH_LIBRARY(twolayer_bench, m) {
  m.def("null_loss(Tensor X, Tensor Y, Tensor W1, Tensor b1, Tensor W2, Tensor b2) -> Tensor");
  m.def("null_forward(Tensor X, Tensor W1, Tensor b1, Tensor W2, Tensor b2) -> Tensor");
}

TORCH_LIBRARY_IMPL(twolayer_bench, CompositeImplicitAutograd, m) {
  m.impl("null_loss", &null_loss);
  m.impl("null_forward", &null_forward);
}
