// twolayer::TwoLayerNet: the parameter layout that checkpoints and the Python class rely on,
// the lecture's initialisation drawn exactly as specified, and the module plumbing
// (clone, serialisation) that torch::nn users expect to work.

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"

namespace twolayer_test {
namespace {

using twolayer::TwoLayerNet;
using twolayer::TwoLayerNetOptions;

// The specified initialisation, written out independently of the module.
std::pair<at::Tensor, at::Tensor> expected_weights(uint64_t seed, int64_t n0, int64_t n1,
                                                   int64_t n2, double scale, at::ScalarType dtype) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const at::Tensor W1 = torch::randn({n1, n0}, gen, torch::kFloat) * scale;
  const at::Tensor W2 = torch::randn({n2, n1}, gen, torch::kFloat) * scale;
  return {W1.to(dtype), W2.to(dtype)};
}

TEST(TwoLayerNet, ParameterNamesOrderAndShapes) {
  TwoLayerNet net(TwoLayerNetOptions(3, 5, 2).seed(1));
  const auto params = net->named_parameters();
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(params.keys(), (std::vector<std::string>{"W1", "b1", "W2", "b2"}));
  EXPECT_EQ(params["W1"].sizes(), (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(params["b1"].sizes(), (std::vector<int64_t>{5}));
  EXPECT_EQ(params["W2"].sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(params["b2"].sizes(), (std::vector<int64_t>{2}));
  for (const auto& p : params) {
    EXPECT_TRUE(p.value().requires_grad()) << p.key();
    EXPECT_EQ(p.value().scalar_type(), torch::kFloat) << p.key();
  }
  // The public members are the registered parameters, not copies: optimisers update the
  // registered ones and forward reads the members.
  EXPECT_TRUE(net->W1.is_same(params["W1"]));
  EXPECT_TRUE(net->b1.is_same(params["b1"]));
  EXPECT_TRUE(net->W2.is_same(params["W2"]));
  EXPECT_TRUE(net->b2.is_same(params["b2"]));
  // Two buffers: the activation and the output layer, saved with the parameters
  // (test_net_reliability.cpp, test_net_outputs.cpp).
  EXPECT_EQ(net->named_buffers().keys(),
            (std::vector<std::string>{"activation_name", "output_name"}));
  EXPECT_TRUE(net->activation_name.is_same(net->named_buffers()["activation_name"]));
  EXPECT_TRUE(net->output_name.is_same(net->named_buffers()["output_name"]));
}

TEST(TwoLayerNet, ThreeArgumentConstructorUsesDefaults) {
  TwoLayerNet net(4, 3, 1);
  EXPECT_EQ(net->W1.sizes(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(net->W2.sizes(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(net->options.activation(), "tanh");
  EXPECT_DOUBLE_EQ(net->options.init_scale(), 0.01);
  EXPECT_EQ(net->W1.scalar_type(), torch::kFloat);
}

TEST(TwoLayerNet, BiasesStartAtZero) {
  TwoLayerNet net(TwoLayerNetOptions(3, 6, 2).seed(5).init_scale(1.0));
  EXPECT_TRUE(torch::equal(net->b1, torch::zeros({6})));
  EXPECT_TRUE(torch::equal(net->b2, torch::zeros({2})));
}

TEST(TwoLayerNet, SeededInitIsDeterministicAndSeedDependent) {
  TwoLayerNet a(TwoLayerNetOptions(3, 4, 2).seed(42));
  TwoLayerNet b(TwoLayerNetOptions(3, 4, 2).seed(42));
  TwoLayerNet c(TwoLayerNetOptions(3, 4, 2).seed(43));
  EXPECT_TRUE(torch::equal(a->W1, b->W1));
  EXPECT_TRUE(torch::equal(a->W2, b->W2));
  EXPECT_FALSE(torch::equal(a->W1, c->W1));
  EXPECT_FALSE(torch::equal(a->W2, c->W2));
}

// A seeded net must not depend on, nor disturb, the global generator.
TEST(TwoLayerNet, SeededInitIgnoresGlobalGenerator) {
  torch::manual_seed(1);
  TwoLayerNet a(TwoLayerNetOptions(3, 4, 2).seed(42));
  const at::Tensor next_global = torch::randn({3});
  torch::manual_seed(2);
  TwoLayerNet b(TwoLayerNetOptions(3, 4, 2).seed(42));
  EXPECT_TRUE(torch::equal(a->W1, b->W1));
  EXPECT_TRUE(torch::equal(a->W2, b->W2));
  torch::manual_seed(1);
  EXPECT_TRUE(torch::equal(torch::randn({3}), next_global));
}

TEST(TwoLayerNet, SeededInitEqualsScaledRandnFromSeededCpuGenerator) {
  for (uint64_t seed : {0ull, 7ull, 123456789ull}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TwoLayerNet net(TwoLayerNetOptions(3, 5, 2).seed(seed));
    const auto [W1, W2] = expected_weights(seed, 3, 5, 2, 0.01, torch::kFloat);
    EXPECT_TRUE(torch::equal(net->W1, W1));
    EXPECT_TRUE(torch::equal(net->W2, W2));
  }
}

TEST(TwoLayerNet, InitScaleAndDtypeOptions) {
  TwoLayerNet net(TwoLayerNetOptions(2, 3, 1).seed(9).init_scale(0.5).dtype(torch::kDouble));
  const auto [W1, W2] = expected_weights(9, 2, 3, 1, 0.5, torch::kDouble);
  for (const auto& p : net->parameters()) EXPECT_EQ(p.scalar_type(), torch::kDouble);
  // Drawn in float32 and then cast: the same numbers as a float32 net, in float64.
  EXPECT_TRUE(torch::equal(net->W1, W1));
  EXPECT_TRUE(torch::equal(net->W2, W2));
  EXPECT_TRUE(torch::equal(net->b1, torch::zeros({3}, torch::kDouble)));
}

TEST(TwoLayerNet, UnseededInitDrawsFromGlobalGenerator) {
  torch::manual_seed(31);
  TwoLayerNet a(3, 4, 2);
  torch::manual_seed(31);
  const at::Tensor W1 = torch::randn({4, 3}) * 0.01;
  const at::Tensor W2 = torch::randn({2, 4}) * 0.01;
  EXPECT_TRUE(torch::equal(a->W1, W1));
  EXPECT_TRUE(torch::equal(a->W2, W2));
  TwoLayerNet b(3, 4, 2);  // the global generator has moved on
  EXPECT_FALSE(torch::equal(a->W1, b->W1));
}

// reset() on a constructed net must redraw in place, not register the parameters a second time.
TEST(TwoLayerNet, ResetRedrawsTheInitialisation) {
  TwoLayerNet net(TwoLayerNetOptions(3, 4, 2).seed(42));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.add_(1.0);
  }
  net->reset();
  const auto [W1, W2] = expected_weights(42, 3, 4, 2, 0.01, torch::kFloat);
  EXPECT_TRUE(torch::equal(net->W1, W1));
  EXPECT_TRUE(torch::equal(net->W2, W2));
  EXPECT_TRUE(torch::equal(net->b1, torch::zeros({4})));
  EXPECT_TRUE(torch::equal(net->b2, torch::zeros({2})));
  EXPECT_EQ(net->named_parameters().keys(), (std::vector<std::string>{"W1", "b1", "W2", "b2"}));
  EXPECT_TRUE(net->W1.is_same(net->named_parameters()["W1"]));
}

class TwoLayerNetOps : public ::testing::TestWithParam<std::string> {};

// The module is a thin holder: forward and loss are the operators on its parameters, and the
// configured activation is the one used.
TEST_P(TwoLayerNetOps, ForwardLossPredictMatchOperatorsAndReference) {
  const std::string activation = GetParam();
  torch::manual_seed(17);
  // init_scale 1: with the default 0.01 every probability is ~0.5 and the activations are
  // nearly linear, so a wrong activation or a wrong threshold could go unnoticed.
  TwoLayerNet net(TwoLayerNetOptions(3, 5, 2).seed(3).init_scale(1.0).activation(activation));
  {
    torch::NoGradGuard no_grad;
    net->b1.copy_(torch::randn({5}));
    net->b2.copy_(torch::randn({2}));
  }
  const at::Tensor X = torch::randn({9, 3});
  const at::Tensor Y = (torch::rand({9, 2}) > 0.5).to(torch::kFloat);
  const at::Tensor W1 = net->W1.detach(), b1 = net->b1.detach(), W2 = net->W2.detach(),
                   b2 = net->b2.detach();

  const at::Tensor A2 = net->forward(X);
  EXPECT_TRUE(AllClose(A2, twolayer::forward(X, W1, b1, W2, b2, activation), 1e-6));
  EXPECT_TRUE(AllClose(A2, reference_forward(X, W1, b1, W2, b2, activation), 1e-5));
  EXPECT_NE(A2.grad_fn(), nullptr) << "forward must be differentiable w.r.t. the parameters";

  const at::Tensor J = net->loss(X, Y);
  EXPECT_TRUE(AllClose(J, twolayer::loss(X, Y, W1, b1, W2, b2, activation), 1e-6));
  EXPECT_TRUE(AllClose(J, reference_loss(X, Y, W1, b1, W2, b2, activation), 1e-5));

  // The gradients reach the registered parameters.
  J.backward();
  const NetInputs ref = NetInputs{X, Y, W1, b1, W2, b2}.leaves();
  reference_loss(ref.X, ref.Y, ref.W1, ref.b1, ref.W2, ref.b2, activation).backward();
  EXPECT_TRUE(AllClose(net->W1.grad(), ref.W1.grad(), 1e-4));
  EXPECT_TRUE(AllClose(net->b1.grad(), ref.b1.grad(), 1e-4));
  EXPECT_TRUE(AllClose(net->W2.grad(), ref.W2.grad(), 1e-4));
  EXPECT_TRUE(AllClose(net->b2.grad(), ref.b2.grad(), 1e-4));

  const at::Tensor labels = net->predict(X);
  const at::Tensor expected_labels =
      (reference_forward(X, W1, b1, W2, b2, activation) > 0.5).to(torch::kLong);
  EXPECT_EQ(labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(labels, expected_labels));
  EXPECT_FALSE(labels.requires_grad());
  // Both classes occur, or the comparison above proves little.
  EXPECT_GT(expected_labels.sum().item<int64_t>(), 0);
  EXPECT_LT(expected_labels.sum().item<int64_t>(), expected_labels.numel());
}

INSTANTIATE_TEST_SUITE_P(AllActivations, TwoLayerNetOps, ::testing::ValuesIn(all_activations()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// int64 labels of shape (m,) for one output, whatever the dtype: compared with labels of shape
// (m,) they cannot broadcast to (m, m).
TEST(TwoLayerNet, PredictReturnsInt64LabelsOfShapeMForOneOutput) {
  TwoLayerNet net(TwoLayerNetOptions(2, 3, 1).seed(4).dtype(torch::kDouble).init_scale(1.0));
  const at::Tensor X = torch::randn({6, 2}, torch::kDouble);
  const at::Tensor labels = net->predict(X);
  EXPECT_EQ(labels.scalar_type(), torch::kLong);
  EXPECT_EQ(labels.sizes(), (std::vector<int64_t>{6}));
  EXPECT_TRUE(torch::equal(
      labels, (reference_forward(X, net->W1, net->b1, net->W2, net->b2, "tanh") > 0.5)
                  .to(torch::kLong)
                  .reshape({-1})));
}

TEST(TwoLayerNet, CloneIsEqualAndIndependent) {
  TwoLayerNet net(TwoLayerNetOptions(3, 4, 2).seed(8).init_scale(1.0).activation("relu"));
  auto copy = std::dynamic_pointer_cast<twolayer::TwoLayerNetImpl>(net->clone());
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->options.activation(), "relu");
  const auto original = net->named_parameters();
  const auto cloned = copy->named_parameters();
  ASSERT_EQ(cloned.keys(), original.keys());
  for (const auto& key : original.keys()) {
    EXPECT_TRUE(torch::equal(cloned[key], original[key])) << key;
    EXPECT_NE(cloned[key].data_ptr(), original[key].data_ptr()) << key << " shares storage";
    EXPECT_TRUE(cloned[key].requires_grad()) << key;
  }
  // The clone's members must be its own registered parameters holding the copied values.
  EXPECT_TRUE(copy->W1.is_same(cloned["W1"]));
  EXPECT_TRUE(torch::equal(copy->W2, net->W2));

  const at::Tensor X = torch::randn({5, 3});
  EXPECT_TRUE(torch::equal(copy->forward(X), net->forward(X)));

  const at::Tensor W1_before = net->W1.detach().clone();
  {
    torch::NoGradGuard no_grad;
    copy->W1.add_(1.0);
  }
  EXPECT_TRUE(torch::equal(net->W1, W1_before)) << "changing the clone changed the original";
  EXPECT_FALSE(torch::equal(copy->forward(X), net->forward(X)));
}

TEST(TwoLayerNet, SaveLoadRoundTripRestoresParameters) {
  TwoLayerNet saved(TwoLayerNetOptions(3, 4, 2).seed(10).init_scale(1.0));
  {
    torch::NoGradGuard no_grad;
    saved->b1.copy_(torch::arange(4, torch::kFloat));  // non-zero, so that biases round-trip too
  }
  std::stringstream stream;
  torch::save(saved, stream);

  TwoLayerNet loaded(TwoLayerNetOptions(3, 4, 2).seed(11));
  ASSERT_FALSE(torch::equal(loaded->W1, saved->W1));
  torch::load(loaded, stream);
  const auto a = saved->named_parameters(), b = loaded->named_parameters();
  for (const auto& key : a.keys()) {
    EXPECT_TRUE(torch::equal(b[key], a[key])) << key;
  }
  // Loading fills the registered parameters in place; forward must see the loaded values.
  const at::Tensor X = torch::randn({5, 3});
  EXPECT_TRUE(torch::equal(loaded->forward(X), saved->forward(X)));
}

TEST(TwoLayerNet, SaveLoadRoundTripThroughAFile) {
  TwoLayerNet saved(TwoLayerNetOptions(2, 3, 1).seed(12).dtype(torch::kDouble));
  const std::string path = ::testing::TempDir() + "twolayer_net_roundtrip.pt";
  torch::save(saved, path);
  TwoLayerNet loaded(TwoLayerNetOptions(2, 3, 1).seed(13).dtype(torch::kDouble));
  torch::load(loaded, path);
  std::remove(path.c_str());
  EXPECT_TRUE(torch::equal(loaded->W1, saved->W1));
  EXPECT_TRUE(torch::equal(loaded->W2, saved->W2));
  EXPECT_EQ(loaded->W1.scalar_type(), torch::kDouble);
}

TEST(TwoLayerNet, InvalidOptionsAreRejected) {
  EXPECT_THROW(TwoLayerNet(TwoLayerNetOptions(0, 3, 1)), c10::Error);
  EXPECT_THROW(TwoLayerNet(TwoLayerNetOptions(2, 3, 1).activation("foo")), c10::Error);
  EXPECT_THROW(TwoLayerNet(TwoLayerNetOptions(2, 3, 1).dtype(torch::kLong)), c10::Error);
}

}  // namespace
}  // namespace twolayer_test
