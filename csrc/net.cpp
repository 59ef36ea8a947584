#include "twolayer/net.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include <algorithm>
#include <string>
#include <vector>

#include "math/activation.h"
#include "math/output_layer.h"
#include "math/precision.h"
#include "net_checkpoint.h"
#include "net_labels.h"
#include "ops/op_handles.h"
#include "twolayer/ops.h"
#include "validation/checks.h"

namespace twolayer {

namespace detail {

at::Tensor activation_bytes(const std::string& name) {
  at::Tensor bytes = torch::empty({static_cast<int64_t>(name.size())}, torch::kUInt8);
  std::copy(name.begin(), name.end(), bytes.data_ptr<uint8_t>());
  return bytes;
}

std::string activation_from_bytes(const at::Tensor& saved) {
  const at::Tensor bytes = saved.to(torch::kCPU, torch::kUInt8).contiguous().reshape({-1});
  const uint8_t* data = bytes.data_ptr<uint8_t>();
  return std::string(data, data + bytes.numel());
}

}  // namespace detail

using detail::activation_bytes;
using detail::activation_from_bytes;
using detail::kActivationBuffer;
using detail::kOutputBuffer;

TwoLayerNetImpl::TwoLayerNetImpl(TwoLayerNetOptions options_) : options(std::move(options_)) {
  reset();
}

void TwoLayerNetImpl::reset() {
  const int64_t n0 = options.n0(), n1 = options.n1(), n2 = options.n2();
  TORCH_CHECK(n0 >= 1 && n1 >= 1 && n2 >= 1,
              "twolayer: TwoLayerNet needs n0, n1, n2 >= 1, but got n0 = ", n0, ", n1 = ", n1,
              ", n2 = ", n2);
  // The operators' dtypes. float16 is taken on every LibTorch, as torch::nn::Linear takes it:
  // on 1.x the CPU has no float16 matrix products and the operators refuse the net's first call
  // there (saying to use bfloat16 or float32), but the net can still be made, saved, loaded and
  // moved to CUDA or to another dtype.
  const at::ScalarType dtype = options.dtype();
  TORCH_CHECK(dtype == at::kFloat || dtype == at::kDouble || dtype == at::kBFloat16 ||
                  dtype == at::kHalf,
              "twolayer: TwoLayerNet dtype must be float32, float64, bfloat16 or float16, but got ",
              dtype_name(dtype));
  parse_activation(options.activation());
  parse_output(options.output());
  activation_ = options.activation();
  output_ = options.output();

  // Registering twice throws, and clone() calls reset() on a copy whose registry is empty.
  if (!named_parameters(/*recurse=*/false).contains("W1")) {
    const auto dtype = torch::dtype(options.dtype());
    W1 = register_parameter("W1", torch::empty({n1, n0}, dtype));
    b1 = register_parameter("b1", torch::empty({n1}, dtype));
    W2 = register_parameter("W2", torch::empty({n2, n1}, dtype));
    b2 = register_parameter("b2", torch::empty({n2}, dtype));
    activation_name = register_buffer(kActivationBuffer, activation_bytes(activation_));
    output_name = register_buffer(kOutputBuffer, activation_bytes(output_));
  }
  reset_parameters();
}

void TwoLayerNetImpl::set_activation(const std::string& name) {
  parse_activation(name);  // refuses an unknown name before anything changes
  options.activation(name);
  activation_ = name;
  write_activation_name();
}

void TwoLayerNetImpl::set_output(const std::string& name) {
  parse_output(name);  // refuses an unknown name before anything changes
  options.output(name);
  output_ = name;
  write_activation_name();
}

void TwoLayerNetImpl::write_activation_name() {
  // set_, not copy_: the name's length may differ. The same tensor (the registered buffer)
  // takes the new bytes, on its device. The output layer's buffer likewise.
  torch::NoGradGuard no_grad;
  activation_name.set_(activation_bytes(activation_).to(activation_name.device()));
  output_name.set_(activation_bytes(output_).to(output_name.device()));
}

void TwoLayerNetImpl::reset_parameters() {
  // The lecture's initialisation: random weights break the symmetry between hidden units, and
  // small ones keep tanh and sigmoid away from their flat tails. Drawn in float32 whatever the
  // dtype, so that C++ and Python draw the same numbers from the same seed (a bfloat16 or
  // float16 net holds them rounded by copy_).
  c10::optional<at::Generator> generator;
  if (options.seed().has_value()) generator = at::detail::createCPUGenerator(*options.seed());
  auto small_random = [&](const at::Tensor& like) {
    return torch::randn(like.sizes(), generator, torch::kFloat) * options.init_scale();
  };
  write_activation_name();
  torch::NoGradGuard no_grad;
  W1.copy_(small_random(W1));
  W2.copy_(small_random(W2));
  b1.zero_();
  b2.zero_();
}

at::Tensor TwoLayerNetImpl::forward(const at::Tensor& X) {
  return twolayer::forward(X, W1, b1, W2, b2, activation_, output_);
}

at::Tensor TwoLayerNetImpl::predict_proba(const at::Tensor& X) { return forward(X); }

at::Tensor TwoLayerNetImpl::logits(const at::Tensor& X) {
  return ops::logits().call(X, W1, b1, W2, b2, activation_);
}

// Labels in the cost's dtype: float32 for a bfloat16 or float16 net, whose Y the operators take
// in float32 (soft labels and regression targets keep their digits). Python: _inputs.label_dtype.
at::Tensor TwoLayerNetImpl::loss(const at::Tensor& X, const at::Tensor& Y) {
  const at::Tensor labels =
      labels_for_cost(X, Y, W2.size(0), compute_type(W1.scalar_type()), parse_output(output_));
  return twolayer::loss(X, labels, W1, b1, W2, b2, activation_, output_);
}

at::Tensor TwoLayerNetImpl::fit(const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                                double learning_rate, const FitProgress& progress,
                                int64_t progress_every) {
  const at::Tensor labels =
      labels_for_cost(X, Y, W2.size(0), compute_type(W1.scalar_type()), parse_output(output_));
  return twolayer::fit_(W1, b1, W2, b2, X, labels, iterations, learning_rate, activation_, output_,
                        progress, progress_every);
}

at::Tensor TwoLayerNetImpl::predict(const at::Tensor& X, c10::optional<double> threshold) {
  const OutputLayer output = parse_output(output_);
  // A wrong threshold is refused before the forward pass.
  if (output == OutputLayer::Sigmoid) check_threshold(threshold.value_or(0.5));
  torch::NoGradGuard no_grad;
  return predictions(forward(X), output, threshold);
}

double TwoLayerNetImpl::score(const at::Tensor& X, const at::Tensor& y) {
  switch (parse_output(output_)) {
    case OutputLayer::Identity: {
      torch::NoGradGuard no_grad;
      return r2_score(forward(X), y);
    }
    case OutputLayer::Softmax: return class_accuracy(predict(X), y, W2.size(0));
    case OutputLayer::Sigmoid: break;
  }
  return accuracy(predict(X), y, W2.size(0));
}

void TwoLayerNetImpl::load(torch::serialize::InputArchive& archive) {
  // The default load swaps in the saved tensors as they are: another shape or dtype would then
  // sit in this net unchecked. Read everything into fresh tensors and check it all before the
  // first copy, so that a refused checkpoint leaves the net as it was.
  at::Tensor saved_activation;
  if (archive.try_read(kActivationBuffer, saved_activation, /*is_buffer=*/true)) {
    const std::string saved = activation_from_bytes(saved_activation);
    TORCH_CHECK(saved == activation_, "twolayer: the checkpoint's activation is '", saved,
                "', but this TwoLayerNet's activation is '", activation_, "'");
  }
  // (Checkpoints written before the activation was saved hold the parameters only.)
  at::Tensor saved_output;
  if (archive.try_read(kOutputBuffer, saved_output, /*is_buffer=*/true)) {
    const std::string saved = activation_from_bytes(saved_output);
    TORCH_CHECK(saved == output_, "twolayer: the checkpoint's output layer is '", saved,
                "', but this TwoLayerNet's output layer is '", output_, "'");
  }
  // (And those written before the output layer was saved hold no output_name: sigmoid nets.)
  auto parameters = named_parameters(/*recurse=*/false);
  std::vector<at::Tensor> saved(parameters.size());
  for (size_t i = 0; i < parameters.size(); ++i) {
    const std::string& name = parameters[i].key();
    archive.read(name, saved[i]);
    const at::Tensor& mine = parameters[i].value();
    TORCH_CHECK(saved[i].sizes() == mine.sizes(), "twolayer: the checkpoint's ", name,
                " has shape ", saved[i].sizes(), ", but this TwoLayerNet's ", name, " has shape ",
                mine.sizes());
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters.size(); ++i) parameters[i].value().copy_(saved[i]);
}

void TwoLayerNetImpl::pretty_print(std::ostream& stream) const {
  stream << "twolayer::TwoLayerNet(n0=" << options.n0() << ", n1=" << options.n1()
         << ", n2=" << options.n2() << ", activation=" << activation_ << ", output=" << output_
         << ")";
}

}  // namespace twolayer
