// Edge cases that must fail cleanly or give autograd's answer, seen from C++:
// TwoLayerFunction::apply with undefined inputs, fit_'s refusals (overlapping arguments,
// inference-tensor parameters, iteration counts whose costs cannot be allocated) leaving the
// parameters untouched, relu's backward masking a NaN as autograd does, and the cost of an
// infinite logit.

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"
#include "throws_with_message.h"

namespace twolayer_test {
namespace {

NetInputs small_inputs(int64_t m = 5) {
  torch::manual_seed(7);
  const auto d = torch::kDouble;
  return {torch::randn({m, 2}, d), torch::rand({m, 1}, d),  torch::randn({4, 2}, d),
          torch::randn({4}, d),    torch::randn({1, 4}, d), torch::randn({1}, d)};
}

std::vector<at::Tensor> clones(const std::vector<at::Tensor>& ts) {
  std::vector<at::Tensor> out;
  for (const at::Tensor& t : ts) out.push_back(t.clone());
  return out;
}

void ExpectUnchanged(const std::vector<at::Tensor>& after, const std::vector<at::Tensor>& before) {
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(torch::equal(after[i], before[i])) << i;
}

// Before: "tensor does not have a device", from autograd's apply reading the inputs.
TEST(Reliability, FunctionApplyRefusesUndefinedInputs) {
  const NetInputs in = small_inputs().leaves(true);
  const at::Tensor none;
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::TwoLayerFunction::apply(none, in.Y, in.W1, in.b1, in.W2, in.b2, "tanh"); },
      "twolayer: X must be a defined tensor, but got an undefined one"));
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::TwoLayerFunction::apply(in.X, none, in.W1, in.b1, in.W2, in.b2, "tanh"); },
      "twolayer: Y must be a defined tensor, but got an undefined one"));
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::TwoLayerProbabilitiesFunction::apply(none, in.W1, in.b1, in.W2, in.b2, "tanh"); },
      "twolayer: X must be a defined tensor, but got an undefined one"));
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::TwoLayerProbabilitiesFunction::apply(in.X, in.W1, none, in.W2, in.b2, "tanh"); },
      "twolayer: b1 must be a defined tensor, but got an undefined one"));
  // And the defined call still works, against the reference.
  const at::Tensor J =
      twolayer::TwoLayerFunction::apply(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, "tanh");
  EXPECT_TRUE(torch::allclose(J, reference_loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, "tanh")));
}

TEST(Reliability, FitRefusesXSharingW1) {
  NetInputs in = small_inputs(/*m=*/4);  // X (4, 2) has W1's shape
  at::Tensor X = in.W1;
  const std::vector<at::Tensor> before = clones({in.W1, in.b1, in.W2, in.b2});
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::fit_(in.W1, in.b1, in.W2, in.b2, X, in.Y, 10, 1.2); },
      "twolayer: W1 and X must not share memory (fit_ updates W1 in place), but they overlap; "
      "pass a copy (e.g. X.clone())"));
  ExpectUnchanged({in.W1, in.b1, in.W2, in.b2}, before);
}

TEST(Reliability, FitRefusesInferenceParametersWhateverXAndYAre) {
  NetInputs in;
  {
    c10::InferenceMode guard;
    in = small_inputs();
    in = {in.X.clone(), in.Y.clone(), in.W1.clone(), in.b1.clone(), in.W2.clone(), in.b2.clone()};
  }
  const std::vector<at::Tensor> before = clones({in.W1, in.b1, in.W2, in.b2});
  EXPECT_TRUE(
      ThrowsWithMessage([&] { twolayer::fit_(in.W1, in.b1, in.W2, in.b2, in.X, in.Y, 3, 0.5); },
                        "twolayer: W1 is an inference tensor, which fit_ cannot update outside "
                        "torch.inference_mode()"));
  ExpectUnchanged({in.W1, in.b1, in.W2, in.b2}, before);
}

TEST(Reliability, FitRefusesIterationsWhoseCostsOverflow) {
  NetInputs in = small_inputs();
  const std::vector<at::Tensor> before = clones({in.W1, in.b1, in.W2, in.b2});
  const int64_t too_many = std::numeric_limits<int64_t>::max();
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::fit_(in.W1, in.b1, in.W2, in.b2, in.X, in.Y, too_many, 0.5); },
      "twolayer: iterations must be at most " + std::to_string(too_many / 8) +
          " (the returned costs, one float64 per iteration, must fit in memory), but got " +
          std::to_string(too_many)));
  ExpectUnchanged({in.W1, in.b1, in.W2, in.b2}, before);
}

// relu' as a mask: a NaN dZ2 in one example must not reach a hidden unit that is off for every
// example (autograd's threshold_backward gives it 0).
TEST(Reliability, ReluBackwardMasksNaN) {
  for (const int64_t n1 : {4, 40}) {  // the small-net kernel, the BLAS path
    torch::manual_seed(11);
    const auto d = torch::kDouble;
    NetInputs in{torch::randn({9, 2}, d), torch::rand({9, 1}, d),   torch::randn({n1, 2}, d),
                 torch::randn({n1}, d),   torch::randn({1, n1}, d), torch::randn({1}, d)};
    in.b1[0] = -1e3;
    in.Y[3][0] = std::numeric_limits<double>::quiet_NaN();
    const NetInputs ours = in.leaves(true), ref = in.leaves(true);
    twolayer::loss(ours.X, ours.Y, ours.W1, ours.b1, ours.W2, ours.b2, "relu").backward();
    reference_loss(ref.X, ref.Y, ref.W1, ref.b1, ref.W2, ref.b2, "relu").backward();
    ASSERT_EQ(ref.b1.grad()[0].item<double>(), 0.0);
    EXPECT_EQ(ours.b1.grad()[0].item<double>(), 0.0) << "n1 = " << n1;
    EXPECT_TRUE(torch::allclose(ours.W1.grad(), ref.W1.grad(), 1e-9, 1e-12, /*equal_nan=*/true))
        << "n1 = " << n1;
    EXPECT_TRUE(torch::allclose(ours.X.grad(), ref.X.grad(), 1e-9, 1e-12, /*equal_nan=*/true))
        << "n1 = " << n1;
  }
}

TEST(Reliability, InfiniteLogitWithLabelZeroCostsInf) {
  NetInputs in = small_inputs();
  in.b2[0] = std::numeric_limits<double>::infinity();
  in.Y.zero_();
  const double ref = reference_loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, "tanh").item<double>();
  ASSERT_EQ(ref, std::numeric_limits<double>::infinity());
  EXPECT_EQ(twolayer::loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, "tanh").item<double>(), ref);
}

}  // namespace
}  // namespace twolayer_test
