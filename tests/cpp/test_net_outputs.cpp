// TwoLayerNet's output layers in C++ (sigmoid, softmax, identity): the option and its
// validation, the labels loss and fit take, what predict and score return, and checkpoints that
// carry the output layer. The messages are the Python module's, word for word. Expected values
// come from plain LibTorch (cross_entropy, mse_loss, autograd, a hand-written R²).

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "throws_with_message.h"

#include "reference.h"

namespace twolayer_test {
namespace {

using twolayer::TwoLayerNet;
using twolayer::TwoLayerNetImpl;
using twolayer::TwoLayerNetOptions;

const char* const kUnknownOutput =
    "twolayer: unknown output layer 'softplus'; expected one of sigmoid (binary or "
    "multi-label), softmax (multi-class), identity (regression)";

TwoLayerNet make_net(int64_t n2, const std::string& output, uint64_t seed = 4) {
  return TwoLayerNet(TwoLayerNetOptions(3, 5, n2)
                         .output(output)
                         .init_scale(1.0)
                         .seed(seed)
                         .dtype(torch::kDouble));
}

at::Tensor some_X(int64_t m, uint64_t seed = 3) {
  return torch::randn({m, 3}, at::detail::createCPUGenerator(seed), torch::kDouble);
}

at::Tensor logits_of(const TwoLayerNet& net, const at::Tensor& X) {
  return reference_logits(X, net->W1.detach(), net->b1.detach(), net->W2.detach(),
                          net->b2.detach(), "tanh");
}

std::string bytes_of(const at::Tensor& t) {
  const at::Tensor b = t.contiguous();
  return std::string(b.data_ptr<uint8_t>(), b.data_ptr<uint8_t>() + b.numel());
}

// scikit-learn's r2_score (uniform average; constant targets score 1 if exact, else 0).
double hand_r2(const at::Tensor& prediction, const at::Tensor& target) {
  const at::Tensor p = prediction.reshape({target.size(0), -1}).to(torch::kDouble);
  const at::Tensor y = target.reshape({target.size(0), -1}).to(torch::kDouble);
  double sum = 0;
  for (int64_t j = 0; j < y.size(1); ++j) {
    const double residual = (y.select(1, j) - p.select(1, j)).pow(2).sum().item<double>();
    const double total = (y.select(1, j) - y.select(1, j).mean()).pow(2).sum().item<double>();
    sum += total != 0 ? 1.0 - residual / total : (residual == 0 ? 1.0 : 0.0);
  }
  return sum / static_cast<double>(y.size(1));
}

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("twolayer_net_outputs_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

TEST(TwoLayerNetOutputs, DefaultsToSigmoidAndRefusesUnknownNames) {
  TwoLayerNet net(TwoLayerNetOptions(2, 3, 1));
  EXPECT_EQ(net->output(), "sigmoid");
  EXPECT_EQ(bytes_of(net->output_name), "sigmoid");
  EXPECT_EQ(message_of([] { TwoLayerNet(TwoLayerNetOptions(2, 3, 1).output("softplus")); }),
            kUnknownOutput);
  TwoLayerNet softmax = make_net(3, "softmax");
  EXPECT_EQ(message_of([&] { softmax->set_output("softplus"); }), kUnknownOutput);
  EXPECT_EQ(softmax->output(), "softmax");
  EXPECT_EQ(bytes_of(softmax->output_name), "softmax");
  softmax->set_output("identity");
  EXPECT_EQ(bytes_of(softmax->named_buffers()["output_name"]), "identity");
  std::ostringstream text;
  softmax->pretty_print(text);
  EXPECT_EQ(text.str(),
            "twolayer::TwoLayerNet(n0=3, n1=5, n2=3, activation=tanh, output=identity)");
}

TEST(TwoLayerNetOutputs, SoftmaxLossOnClassIndicesIsCrossEntropy) {
  TwoLayerNet net = make_net(4, "softmax");
  const at::Tensor X = some_X(12);
  const at::Tensor y = torch::arange(12, torch::kLong).remainder(4);
  const at::Tensor Z2 = logits_of(net, X);
  const at::Tensor expected = torch::nn::functional::cross_entropy(Z2, y);
  EXPECT_TRUE(torch::allclose(net->loss(X, y).detach(), expected, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(net->loss(X, torch::one_hot(y, 4)).detach(), expected, 1e-12,
                              1e-12));
  EXPECT_TRUE(torch::allclose(net->forward(X).detach(), torch::softmax(Z2, 1), 1e-12, 1e-12));
  EXPECT_EQ(message_of([&] { net->loss(X, y + 1); }),
            "twolayer: class indices Y must be in [0, n2) = [0, 4) for a net with 4 outputs, "
            "but got 4");
  EXPECT_EQ(message_of([&] { net->fit(X, y - 1, 3, 0.1); }),
            "twolayer: class indices Y must be in [0, n2) = [0, 4) for a net with 4 outputs, "
            "but got -1");
}

TEST(TwoLayerNetOutputs, SoftmaxFitEqualsAutogradDescent) {
  TwoLayerNet net = make_net(3, "softmax", 7);
  const at::Tensor X = some_X(30, 5);
  const at::Tensor y = torch::arange(30, torch::kLong).remainder(3);
  std::vector<at::Tensor> params = {net->W1.detach().clone().requires_grad_(),
                                    net->b1.detach().clone().requires_grad_(),
                                    net->W2.detach().clone().requires_grad_(),
                                    net->b2.detach().clone().requires_grad_()};
  net->fit(X, y, 20, 0.5);
  for (int i = 0; i < 20; ++i) {
    const at::Tensor Z2 = reference_logits(X, params[0], params[1], params[2], params[3], "tanh");
    const auto grads = torch::autograd::grad({torch::nn::functional::cross_entropy(Z2, y)}, params);
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < params.size(); ++k) params[k] -= 0.5 * grads[k];
  }
  EXPECT_TRUE(torch::allclose(net->W1.detach(), params[0].detach(), 1e-10, 1e-12));
  EXPECT_TRUE(torch::allclose(net->b2.detach(), params[3].detach(), 1e-10, 1e-12));
}

TEST(TwoLayerNetOutputs, PredictAndScoreBySoftmax) {
  TwoLayerNet net = make_net(3, "softmax");
  const at::Tensor X = some_X(12);
  const at::Tensor classes = logits_of(net, X).argmax(1);
  const at::Tensor labels = net->predict(X);
  EXPECT_EQ(labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(labels, classes));
  at::Tensor y = classes.clone();
  y.slice(0, 0, 3).add_(1).remainder_(3);  // three wrong
  EXPECT_DOUBLE_EQ(net->score(X, y), 9.0 / 12.0);
  EXPECT_DOUBLE_EQ(net->score(X, y.reshape({-1, 1})), 9.0 / 12.0);
  EXPECT_DOUBLE_EQ(net->score(X, torch::one_hot(y, 3)), 9.0 / 12.0);
  EXPECT_EQ(message_of([&] { net->score(X, torch::zeros({12, 2}, torch::kLong)); }),
            "twolayer: score needs class indices y of shape (m,) or (m, 1) = (12,) or (12, 1), "
            "or rows of shape (m, n2) = (12, 3), for a net with a softmax output, but got "
            "[12, 2]; other shapes would broadcast against the predictions");
  EXPECT_EQ(message_of([&] { net->score(X, torch::full({12}, 3, torch::kLong)); }),
            "twolayer: score needs class indices y from 0 to n2 - 1 = 2 for a net with 3 "
            "outputs, but got 3");
  EXPECT_EQ(message_of([&] { net->predict(X, 0.5); }),
            "twolayer: predict's threshold applies to a sigmoid output only; a net with a "
            "softmax output predicts the class of largest probability");
}

TEST(TwoLayerNetOutputs, IdentityTakesTargetsAndScoresR2) {
  TwoLayerNet net = make_net(1, "identity");
  const at::Tensor X = some_X(20, 2);
  const at::Tensor Z2 = logits_of(net, X).reshape({-1});
  const at::Tensor y = Z2 + 0.3 * torch::cos(torch::arange(20, torch::kDouble));
  const at::Tensor expected = 0.5 * torch::nn::functional::mse_loss(Z2, y);
  EXPECT_TRUE(torch::allclose(net->loss(X, y).detach(), expected, 1e-12, 1e-12));
  // Integer targets outside [0, 1] are targets, not labels.
  const at::Tensor counts = torch::arange(20, torch::kLong) * 3 - 10;
  EXPECT_TRUE(torch::allclose(net->loss(X, counts).detach(),
                              0.5 * torch::nn::functional::mse_loss(Z2, counts.to(torch::kDouble)),
                              1e-12, 1e-12));
  const at::Tensor prediction = net->predict(X);
  EXPECT_EQ(prediction.sizes(), (std::vector<int64_t>{20}));
  EXPECT_EQ(prediction.scalar_type(), torch::kDouble);
  EXPECT_NEAR(net->score(X, y), hand_r2(Z2, y), 1e-12);
  EXPECT_NEAR(net->score(X, y.reshape({-1, 1})), hand_r2(Z2, y), 1e-12);
  EXPECT_EQ(net->score(X, Z2), 1.0);
  EXPECT_EQ(message_of([&] { net->score(X, torch::zeros({20, 2})); }),
            "twolayer: score needs targets y of shape (m,) or (m, 1) = (20,) or (20, 1) for a "
            "net with one output, but got [20, 2]; other shapes would broadcast against the "
            "predictions");
  EXPECT_EQ(message_of([&] { net->predict(X, 0.5); }),
            "twolayer: predict's threshold applies to a sigmoid output only; a net with an "
            "identity output predicts the values A2");
  TwoLayerNet two = make_net(2, "identity");
  EXPECT_EQ(two->predict(X).sizes(), (std::vector<int64_t>{20, 2}));
  EXPECT_EQ(message_of([&] { two->score(X, torch::zeros({20})); }),
            "twolayer: score needs targets y of shape (m, n2) = (20, 2) for a net with 2 "
            "outputs, but got [20]; other shapes would broadcast against the predictions");
}

TEST(TwoLayerNetOutputs, CheckpointsCarryTheOutputLayer) {
  const std::string path = temp_file("softmax.pt");
  TwoLayerNet net = make_net(3, "softmax");
  torch::save(net, path);
  TwoLayerNet loaded = TwoLayerNetImpl::load(path);
  EXPECT_EQ(loaded->output(), "softmax");
  const at::Tensor X = some_X(12);
  EXPECT_TRUE(torch::equal(loaded->predict(X), net->predict(X)));
  EXPECT_TRUE(torch::equal(loaded->predict_proba(X), net->predict_proba(X)));
  // torch::load into a net of another output layer is refused before anything is copied.
  TwoLayerNet sigmoid = make_net(3, "sigmoid", 9);
  const at::Tensor before = sigmoid->W1.detach().clone();
  EXPECT_EQ(message_of([&] { torch::load(sigmoid, path); }),
            "twolayer: the checkpoint's output layer is 'softmax', but this TwoLayerNet's "
            "output layer is 'sigmoid'");
  EXPECT_TRUE(torch::equal(sigmoid->W1.detach(), before));

  // Written before the output layer was saved: no output_name, loads as sigmoid.
  const std::string old_path = temp_file("old.pt");
  TwoLayerNet old = make_net(2, "sigmoid");
  torch::serialize::OutputArchive archive;
  for (const auto& item : old->named_parameters()) archive.write(item.key(), item.value());
  archive.write("activation_name", old->activation_name, /*is_buffer=*/true);
  archive.save_to(old_path);
  TwoLayerNet old_loaded = TwoLayerNetImpl::load(old_path);
  EXPECT_EQ(old_loaded->output(), "sigmoid");
  EXPECT_TRUE(torch::equal(old_loaded->forward(X), old->forward(X)));
  TwoLayerNet into = make_net(2, "sigmoid", 11);
  torch::load(into, old_path);
  EXPECT_TRUE(torch::equal(into->forward(X), old->forward(X)));

  // A damaged name is refused.
  const std::string damaged = temp_file("damaged.pt");
  torch::serialize::OutputArchive bad;
  for (const auto& item : old->named_parameters()) bad.write(item.key(), item.value());
  bad.write("output_name", torch::tensor({1, 2, 3}, torch::kUInt8), /*is_buffer=*/true);
  bad.save_to(damaged);
  EXPECT_EQ(message_of([&] { TwoLayerNetImpl::load(damaged); }),
            "twolayer: the checkpoint's output_name holds bytes that name no output layer: the "
            "checkpoint is damaged, or was saved from a net whose buffer was never written");
  for (const std::string& file : {path, old_path, damaged}) std::remove(file.c_str());
}

}  // namespace
}  // namespace twolayer_test
