// twolayer::fit_ and TwoLayerNet::fit: the lecture's gradient descent run in C++ must take the
// steps that the reference network, differentiated by autograd, takes with manual updates.

#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"

namespace {

using twolayer_test::AllClose;
using twolayer_test::NetInputs;
using twolayer_test::Shape;

// Manual descent on plain ATen autograd: the oracle for fit_.
std::vector<at::Tensor> reference_descent(const NetInputs& in, const std::string& activation,
                                          int64_t steps, double lr, at::Tensor* costs) {
  std::vector<at::Tensor> p = {in.W1.clone().requires_grad_(), in.b1.clone().requires_grad_(),
                               in.W2.clone().requires_grad_(), in.b2.clone().requires_grad_()};
  std::vector<at::Tensor> cost;
  for (int64_t i = 0; i < steps; ++i) {
    at::Tensor J = twolayer_test::reference_loss(in.X, in.Y, p[0], p[1], p[2], p[3], activation);
    cost.push_back(J.detach());
    const auto grads = torch::autograd::grad({J}, p);
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < p.size(); ++k) p[k].sub_(grads[k] * lr);
  }
  *costs = torch::stack(cost);
  for (auto& t : p) t = t.detach();
  return p;
}

class FitSteps : public ::testing::TestWithParam<std::tuple<std::string, Shape>> {};

TEST_P(FitSteps, EqualManualDescentWithAutograd) {
  const auto& [activation, shape] = GetParam();
  torch::manual_seed(shape.m * 31 + shape.n1);
  const NetInputs in = twolayer_test::random_inputs(shape, torch::kDouble);
  at::Tensor W1 = in.W1.clone(), b1 = in.b1.clone(), W2 = in.W2.clone(), b2 = in.b2.clone();
  const at::Tensor costs = twolayer::fit_(W1, b1, W2, b2, in.X, in.Y, 15, 0.4, activation);

  at::Tensor expected_costs;
  const auto expected = reference_descent(in, activation, 15, 0.4, &expected_costs);
  EXPECT_TRUE(AllClose(costs, expected_costs, 1e-12));
  EXPECT_TRUE(AllClose(W1, expected[0], 1e-12));
  EXPECT_TRUE(AllClose(b1, expected[1], 1e-12));
  EXPECT_TRUE(AllClose(W2, expected[2], 1e-12));
  EXPECT_TRUE(AllClose(b2, expected[3], 1e-12));
  EXPECT_FALSE(torch::equal(W1, in.W1));  // the loop ran
}

// Small networks take the direct loops, larger ones the BLAS path.
INSTANTIATE_TEST_SUITE_P(ActivationsAndPaths, FitSteps,
                         ::testing::Combine(::testing::ValuesIn(twolayer_test::all_activations()),
                                            ::testing::Values(Shape{40, 2, 4, 1},
                                                              Shape{30, 8, 12, 3})),
                         [](const auto& info) {
                           std::ostringstream name;
                           name << std::get<0>(info.param) << "_" << std::get<1>(info.param);
                           return name.str();
                         });

TEST(Fit, ProgressReportsEveryNthIterationWithItsCost) {
  torch::manual_seed(3);
  const NetInputs in = twolayer_test::random_inputs({20, 2, 4, 1}, torch::kFloat);
  at::Tensor W1 = in.W1.clone(), b1 = in.b1.clone(), W2 = in.W2.clone(), b2 = in.b2.clone();
  std::vector<std::pair<int64_t, double>> reports;
  const at::Tensor costs = twolayer::fit_(
      W1, b1, W2, b2, in.X, in.Y, 25, 0.5, "tanh",
      [&](int64_t i, double cost) { reports.emplace_back(i, cost); }, 10);

  at::Tensor W1b = in.W1.clone(), b1b = in.b1.clone(), W2b = in.W2.clone(), b2b = in.b2.clone();
  const at::Tensor plain = twolayer::fit_(W1b, b1b, W2b, b2b, in.X, in.Y, 25, 0.5);
  EXPECT_TRUE(torch::equal(costs, plain));  // reporting must not change the steps
  EXPECT_TRUE(torch::equal(W1, W1b));
  // Every 10th iteration, then the last one (24).
  const std::vector<int64_t> expected{0, 10, 20, 24};
  ASSERT_EQ(reports.size(), expected.size());
  for (size_t k = 0; k < reports.size(); ++k) {
    EXPECT_EQ(reports[k].first, expected[k]);
    EXPECT_EQ(reports[k].second, costs[expected[k]].item<double>());
  }
}

TEST(Fit, NetFitUpdatesItsParameters) {
  torch::manual_seed(4);
  const NetInputs in = twolayer_test::random_inputs({30, 2, 4, 1}, torch::kFloat);
  twolayer::TwoLayerNet net(twolayer::TwoLayerNetOptions(2, 4, 1).seed(9));
  at::Tensor W1 = net->W1.detach().clone(), b1 = net->b1.detach().clone(),
             W2 = net->W2.detach().clone(), b2 = net->b2.detach().clone();
  const at::Tensor costs = net->fit(in.X, in.Y, 12, 1.2);
  const at::Tensor expected = twolayer::fit_(W1, b1, W2, b2, in.X, in.Y, 12, 1.2);
  EXPECT_TRUE(torch::equal(costs, expected));
  EXPECT_TRUE(torch::equal(net->W1, W1));
  EXPECT_TRUE(torch::equal(net->b2, b2));
  EXPECT_TRUE(net->W1.requires_grad());  // still a trainable parameter
}

TEST(Fit, BadArgumentsAreRefusedWithoutUpdating) {
  torch::manual_seed(5);
  const NetInputs in = twolayer_test::random_inputs({10, 3, 4, 1}, torch::kDouble);
  at::Tensor W1 = in.W1.clone(), b1 = in.b1.clone(), W2 = in.W2.clone(), b2 = in.b2.clone();
  try {
    twolayer::fit_(W1, b1, W2, b2, in.X, in.Y, -2, 0.1);
    FAIL() << "negative iterations accepted";
  } catch (const c10::Error& e) {
    EXPECT_EQ(std::string(e.what_without_backtrace())
                  .rfind("twolayer: iterations must be >= 0, but got -2", 0),
              0u)
        << e.what_without_backtrace();
  }
  EXPECT_THROW(twolayer::fit_(W1, b1, W2, b2, in.X, in.Y.t(), 3, 0.1), c10::Error);
  EXPECT_TRUE(torch::equal(W1, in.W1));
  EXPECT_TRUE(torch::equal(b2, in.b2));
}

}  // namespace
