// TwoLayerNet's prediction API in C++: predict_proba, logits, predict (int64 labels, a
// threshold), score (accuracy, refusing labels that would broadcast), and loss and fit on 0/1
// labels of shape (m,) or of an integer dtype. The messages are the Python module's, word for
// word. Expected values come from the reference network or from nets whose outputs are set by
// hand (W2 = 0, so that every probability is sigmoid(b2)).

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "throws_with_message.h"

#include "reference.h"

namespace twolayer_test {
namespace {

using twolayer::TwoLayerNet;
using twolayer::TwoLayerNetOptions;

std::vector<at::Tensor> params_of(const TwoLayerNet& net) {
  return {net->W1.detach(), net->b1.detach(), net->W2.detach(), net->b2.detach()};
}

// Every probability is sigmoid(b2[j]) for output j.
TwoLayerNet net_with_outputs(const std::vector<double>& b2) {
  TwoLayerNet net(TwoLayerNetOptions(2, 3, static_cast<int64_t>(b2.size()))
                      .seed(0)
                      .dtype(torch::kDouble));
  torch::NoGradGuard no_grad;
  net->W2.zero_();
  net->b2.copy_(torch::tensor(b2, torch::kDouble));
  return net;
}

at::Tensor some_X(int64_t m) {
  return torch::randn({m, 2}, at::detail::createCPUGenerator(5), torch::kDouble);
}

TEST(TwoLayerNetPredict, ProbabilitiesAndLogitsMatchTheReference) {
  for (const std::string& activation : all_activations()) {
    TwoLayerNet net(TwoLayerNetOptions(3, 5, 2)
                        .seed(4)
                        .init_scale(1.0)
                        .dtype(torch::kDouble)
                        .activation(activation));
    {
      torch::NoGradGuard no_grad;
      net->b1.copy_(torch::randn({5}, at::detail::createCPUGenerator(1), torch::kDouble));
    }
    const at::Tensor X = torch::randn({9, 3}, at::detail::createCPUGenerator(3), torch::kDouble);
    const auto p = params_of(net);
    EXPECT_TRUE(AllClose(net->logits(X),
                         twolayer_reference::reference_logits(X, p[0], p[1], p[2], p[3],
                                                              activation),
                         1e-12))
        << activation;
    EXPECT_TRUE(AllClose(net->predict_proba(X),
                         reference_forward(X, p[0], p[1], p[2], p[3], activation), 1e-12))
        << activation;
  }
}

// Logits of about +-40: float32's sigmoid rounds them to 1, from which no logit can be had back.
TEST(TwoLayerNetPredict, LogitsStayExactWhereTheProbabilitiesSaturate) {
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(5));
  const at::Tensor X = torch::tensor({1.0f, 2.0f, -1.0f, -2.0f}).reshape({2, 2});
  {
    torch::NoGradGuard no_grad;
    net->W1.fill_(1.0);
    net->b1.zero_();
    net->W2.fill_(10.0 / 0.995);
    net->b2.zero_();
  }
  const auto p = params_of(net);
  const at::Tensor expected = twolayer_reference::reference_logits(
      X.to(torch::kDouble), p[0].to(torch::kDouble), p[1].to(torch::kDouble),
      p[2].to(torch::kDouble), p[3].to(torch::kDouble), "tanh");
  ASSERT_GT(expected.abs().min().item<double>(), 35.0);
  EXPECT_EQ(net->predict_proba(X)[0][0].item<float>(), 1.0f);
  EXPECT_TRUE(AllClose(net->logits(X).to(torch::kDouble), expected, 1e-6));
}

TEST(TwoLayerNetPredict, PredictThresholdsEachOutputAndGivesInt64) {
  TwoLayerNet several = net_with_outputs({1e-3, 0.0, -1e-3});
  const at::Tensor labels = several->predict(some_X(4));
  EXPECT_EQ(labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(labels, torch::tensor({1, 0, 0}, torch::kLong).repeat({4, 1})));

  TwoLayerNet one = net_with_outputs({1.0});
  const double p = 1.0 / (1.0 + std::exp(-1.0));
  const at::Tensor ones = torch::ones({5}, torch::kLong), zeros = torch::zeros({5}, torch::kLong);
  EXPECT_TRUE(torch::equal(one->predict(some_X(5)), ones));
  EXPECT_TRUE(torch::equal(one->predict(some_X(5), p - 1e-6), ones));
  EXPECT_TRUE(torch::equal(one->predict(some_X(5), p + 1e-6), zeros));
  EXPECT_EQ(message_of([&] { one->predict(some_X(5), 1.5); }),
            "twolayer: predict's threshold must be in [0, 1], but got 1.5");
  EXPECT_EQ(message_of([&] { one->predict(some_X(5), std::nan("")); }),
            "twolayer: predict's threshold must be in [0, 1], but got nan");
}

TEST(TwoLayerNetPredict, ScoreIsTheAccuracyForLabelsOfShapeMOrM1) {
  TwoLayerNet net = net_with_outputs({2.0});  // predicts 1 everywhere
  const at::Tensor y = torch::tensor({1, 0, 1, 1, 0}, torch::kLong);
  for (const at::Tensor& labels : {y, y.reshape({5, 1}), y.to(torch::kBool),
                                   y.to(torch::kFloat).reshape({5, 1}), y.to(torch::kDouble)}) {
    EXPECT_EQ(net->score(some_X(5), labels), 3.0 / 5.0) << labels.sizes();
  }
  TwoLayerNet two = net_with_outputs({2.0, -2.0});  // predicts (1, 0) everywhere
  const at::Tensor rows = torch::tensor({1, 0, 1, 1, 0, 0, 1, 0}, torch::kLong).reshape({4, 2});
  EXPECT_EQ(two->score(some_X(4), rows), 2.0 / 4.0);
}

TEST(TwoLayerNetPredict, ScoreRefusesLabelsThatWouldBroadcast) {
  TwoLayerNet net = net_with_outputs({2.0});
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{5, 5}, {1}, {5, 2}, {6}, {5, 1, 1}}) {
    EXPECT_EQ(message_of([&] { net->score(some_X(5), torch::zeros(shape)); }),
              "twolayer: score needs labels y of shape (m,) or (m, 1) = (5,) or (5, 1) for a net "
              "with one output, but got " +
                  c10::str(c10::IntArrayRef(shape)) +
                  "; other shapes would broadcast against the predictions");
  }
  TwoLayerNet two = net_with_outputs({2.0, -2.0});
  EXPECT_EQ(message_of([&] { two->score(some_X(4), torch::zeros({4})); }),
            "twolayer: score needs labels y of shape (m, n2) = (4, 2) for a net with 2 outputs, "
            "but got [4]; other shapes would broadcast against the predictions");
  EXPECT_EQ(message_of([&] { net->score(some_X(5), torch::tensor({0, 1, 2, 1, 0})); }),
            "twolayer: score needs labels y of 0 or 1, but got 2");
  EXPECT_EQ(message_of([&] {
              net->score(some_X(5), torch::tensor({0.0, 0.5, 1.0, 1.0, 0.0}));
            }),
            "twolayer: score needs labels y of 0 or 1, but got 0.5");
}

TEST(TwoLayerNetPredict, LossAndFitTakeZeroOneLabelsOfShapeMAndIntegerLabels) {
  const at::Tensor X = torch::randn({12, 2}, at::detail::createCPUGenerator(21), torch::kDouble);
  const at::Tensor y = torch::tensor({1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0}, torch::kLong);
  const at::Tensor Y = y.to(torch::kDouble).reshape({12, 1});  // what the operator takes
  auto make = [] {
    return TwoLayerNet(TwoLayerNetOptions(2, 4, 1).seed(3).init_scale(0.5).dtype(torch::kDouble));
  };
  TwoLayerNet net = make();
  const auto p = params_of(net);
  const at::Tensor expected = twolayer::loss(X, Y, p[0], p[1], p[2], p[3], "tanh");
  for (const at::Tensor& labels : {y, y.to(torch::kBool), y.to(torch::kInt).reshape({12, 1}),
                                   y.to(torch::kDouble)}) {
    EXPECT_TRUE(torch::equal(net->loss(X, labels).detach(), expected)) << labels.sizes();
  }
  TwoLayerNet flat = make(), reference = make();
  const at::Tensor costs = flat->fit(X, y, 20, 0.5);
  EXPECT_TRUE(torch::equal(costs, reference->fit(X, Y, 20, 0.5)));
  EXPECT_TRUE(torch::equal(flat->W1, reference->W1));

  at::Tensor bad = y.clone();
  bad[3] = 2;
  const auto before = params_of(flat)[0].clone();
  EXPECT_EQ(message_of([&] { flat->loss(X, bad); }),
            "twolayer: integer labels Y must be 0 or 1, but got 2");
  EXPECT_EQ(message_of([&] { flat->fit(X, bad, 5, 0.5); }),
            "twolayer: integer labels Y must be 0 or 1, but got 2");
  EXPECT_TRUE(torch::equal(flat->W1.detach(), before));
  // Labels of another length keep their shape, for the operator to report as given.
  EXPECT_EQ(message_of([&] { flat->loss(X, torch::zeros({13}, torch::kDouble)); }),
            "twolayer: Y must have shape (m, n2) = (12, 1) to match X with m = 12 examples and "
            "W2 with n2 = 1 output units, but got [13]");
}

}  // namespace
}  // namespace twolayer_test
