#pragma once

// A torch::nn::Module holding the parameters W1, b1, W2, b2 of the two-layer network,
// initialised as in the lecture: small random weights (init_scale * N(0, 1)) and zero biases.
// Parameter names match the Python twolayer.TwoLayerNet, so state dicts and checkpoints carry
// over between the two languages.

#include <cstdint>
#include <string>

#include <c10/util/Optional.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/serialize/input-archive.h>

#include "twolayer/export.h"
#include "twolayer/ops.h"

namespace twolayer {

class TwoLayerNet;

struct TWOLAYER_API TwoLayerNetOptions {
  TwoLayerNetOptions(int64_t n0, int64_t n1, int64_t n2) : n0_(n0), n1_(n1), n2_(n2) {}
  TORCH_ARG(int64_t, n0);  // input features
  TORCH_ARG(int64_t, n1);  // hidden units
  TORCH_ARG(int64_t, n2);  // output units
  TORCH_ARG(std::string, activation) = "tanh";
  // The output layer and its cost: "sigmoid" (binary or multi-label, the lecture's), "softmax"
  // (multi-class) or "identity" (regression); see ops.h.
  TORCH_ARG(std::string, output) = "sigmoid";
  TORCH_ARG(double, init_scale) = 0.01;
  // With a seed the weights are drawn from a private generator seeded with it (the same numbers
  // as Python's TwoLayerNet(seed=...)); without one, from the global generator
  // (torch::manual_seed).
  TORCH_ARG(c10::optional<uint64_t>, seed) = c10::nullopt;
  // float32, float64, bfloat16 or float16. A bfloat16 or float16 net runs its six matrix
  // products in that dtype and the rest in float32: forward() returns its dtype, loss() and
  // fit()'s costs float32 (docs/low_precision.md). float16 on the CPU needs LibTorch 2.0 or
  // later: on 1.x such a net is made, but its first computation on the CPU is refused.
  TORCH_ARG(at::ScalarType, dtype) = at::kFloat;
};

class TWOLAYER_API TwoLayerNetImpl : public torch::nn::Cloneable<TwoLayerNetImpl> {
 public:
  TwoLayerNetImpl(int64_t n0, int64_t n1, int64_t n2)
      : TwoLayerNetImpl(TwoLayerNetOptions(n0, n1, n2)) {}
  explicit TwoLayerNetImpl(TwoLayerNetOptions options);

  // Registers W1, b1, W2, b2 if they are not yet (construction, clone()), then
  // reset_parameters().
  void reset() override;
  // Draws new weights in place (the same ones again for a seeded net) and zeroes the biases.
  void reset_parameters();

  // The hidden activation the net computes with, which its checkpoints record (the buffer
  // activation_name). Fixed by the options at construction and by every reset(); change it with
  // set_activation(), which validates the name and rewrites the buffer with it. (Editing
  // options.activation() afterwards changes nothing until reset(), as for torch's own modules.)
  const std::string& activation() const { return activation_; }
  void set_activation(const std::string& name);
  // The output layer, recorded in the buffer output_name, as the activation is in its own.
  const std::string& output() const { return output_; }
  void set_output(const std::string& name);

  // The outputs A2 = g2(Z2), shape (m, n2): probabilities for sigmoid and softmax, the
  // predicted values for identity.
  at::Tensor forward(const at::Tensor& X);
  // The same A2, under the name scikit-learn users look for.
  at::Tensor predict_proba(const at::Tensor& X);
  // The logits Z2 (A2 = g2(Z2)), shape (m, n2), computed by the network: exact where A2
  // rounds to 0 or 1, for BCEWithLogitsLoss- or CrossEntropyLoss-style losses or calibration.
  at::Tensor logits(const at::Tensor& X);
  // The cost J for labels Y of shape (m, n2): in [0, 1] for sigmoid, rows of probabilities
  // (one-hot) for softmax, any values for identity. Also taken: for one sigmoid output, 0/1
  // labels of shape (m,); for one identity output, targets of shape (m,); for softmax, int64
  // class indices of shape (m,), each from 0 to n2 - 1 (made one-hot). Integer or bool labels
  // are converted to the net's dtype (0 or 1 only, for sigmoid and softmax rows), to float32 for
  // a bfloat16 or float16 net, which also takes float32 Y. J has the net's dtype, float32 for a
  // bfloat16 or float16 net.
  at::Tensor loss(const at::Tensor& X, const at::Tensor& Y);
  // Gradient descent on the parameters in place, as twolayer::fit_ (ops.h); returns the costs
  // (float32 for a bfloat16 or float16 net, whose parameters are updated in their own dtype).
  // Y as for loss().
  at::Tensor fit(const at::Tensor& X, const at::Tensor& Y, int64_t iterations, double learning_rate,
                 const FitProgress& progress = nullptr, int64_t progress_every = 1000);
  // The predictions, by output layer. sigmoid: labels (int64), 1 where A2 > threshold (0.5 by
  // default), else 0, shape (m,) for one output, (m, n2) for several (multi-label: each output
  // thresholded on its own). softmax: the int64 class of largest probability, shape (m,).
  // identity: the values A2, shape (m,) for one output (as scikit-learn's regressors), (m, n2)
  // for several. A threshold is refused but for sigmoid.
  at::Tensor predict(const at::Tensor& X, c10::optional<double> threshold = c10::nullopt);
  // sigmoid: the accuracy of predict(X) against 0/1 labels y of shape (m,) or (m, 1) for one
  // output, (m, n2) for several, where a row counts as right when all its n2 labels are (as
  // scikit-learn's accuracy_score). softmax: the accuracy against class indices y of shape (m,)
  // or (m, 1), or rows (m, n2) whose largest entry names the class. identity: R² against targets
  // of shape (m,) or (m, 1) for one output, (m, n2) for several, averaged over the outputs (as
  // scikit-learn's r2_score). Other shapes, which would broadcast, are refused.
  double score(const at::Tensor& X, const at::Tensor& y);

  // A net read from a checkpoint file, with the sizes, dtype, activation, output layer (sigmoid
  // for checkpoints written before it was saved) and parameters it holds: a torch::save(net,
  // path) archive, a TorchScript file of a Python TwoLayerNet
  // (torch.jit.save(torch.jit.script(net))) or a Python state dict saved with torch.save as a
  // plain dict (torch.save(dict(net.state_dict()))): LibTorch 1.13's unpickler cannot rebuild
  // the OrderedDict that state_dict() returns, and the error says so. The net lives on the CPU.
  // A file that is none of these is refused with a c10::Error.
  static TwoLayerNet load(const std::string& path);

  // torch::load(net, path): like Python's load_state_dict, values are copied into the existing
  // parameters (converted to their dtype). A checkpoint of another shape, activation or output
  // layer is refused before anything is copied: the net is then unchanged.
  void load(torch::serialize::InputArchive& archive) override;

  void pretty_print(std::ostream& stream) const override;

  TwoLayerNetOptions options;
  at::Tensor W1, b1, W2, b2;
  // The activation's name in ASCII (uint8): saved with the parameters so that a checkpoint
  // records the activation it was trained with. Always activation()'s bytes.
  at::Tensor activation_name;
  // The output layer's name in ASCII (uint8), likewise. Always output()'s bytes.
  at::Tensor output_name;

 private:
  void write_activation_name();
  std::string activation_;
  std::string output_ = "sigmoid";
};

TORCH_MODULE(TwoLayerNet);

}  // namespace twolayer
