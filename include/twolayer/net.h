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

struct TWOLAYER_API TwoLayerNetOptions {
  TwoLayerNetOptions(int64_t n0, int64_t n1, int64_t n2) : n0_(n0), n1_(n1), n2_(n2) {}
  TORCH_ARG(int64_t, n0);  // input features
  TORCH_ARG(int64_t, n1);  // hidden units
  TORCH_ARG(int64_t, n2);  // output units
  TORCH_ARG(std::string, activation) = "tanh";
  TORCH_ARG(double, init_scale) = 0.01;
  // With a seed the weights are drawn from a private generator seeded with it (the same numbers
  // as Python's TwoLayerNet(seed=...)); without one, from the global generator
  // (torch::manual_seed).
  TORCH_ARG(c10::optional<uint64_t>, seed) = c10::nullopt;
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

  // Probabilities A2, shape (m, n2).
  at::Tensor forward(const at::Tensor& X);
  // The cost J for labels Y, shape (m, n2).
  at::Tensor loss(const at::Tensor& X, const at::Tensor& Y);
  // Gradient descent on the parameters in place, as twolayer::fit_ (ops.h); returns the costs.
  at::Tensor fit(const at::Tensor& X, const at::Tensor& Y, int64_t iterations, double learning_rate,
                 const FitProgress& progress = nullptr, int64_t progress_every = 1000);
  // Hard labels: 1 where A2 > 0.5, else 0 (dtype of X).
  at::Tensor predict(const at::Tensor& X);

  // torch::load(net, path): like Python's load_state_dict, values are copied into the existing
  // parameters (converted to their dtype). A checkpoint of another shape or another activation
  // is refused before anything is copied: the net is then unchanged.
  void load(torch::serialize::InputArchive& archive) override;

  void pretty_print(std::ostream& stream) const override;

  TwoLayerNetOptions options;
  at::Tensor W1, b1, W2, b2;
  // The activation's name in ASCII (uint8): saved with the parameters so that a checkpoint
  // records the activation it was trained with. Always activation()'s bytes.
  at::Tensor activation_name;

 private:
  void write_activation_name();
  std::string activation_;
};

TORCH_MODULE(TwoLayerNet);

}  // namespace twolayer
