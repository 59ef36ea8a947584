// bfloat16 networks through the C++ API (the low-precision contract): twolayer::loss and forward
// give J in float32, A2 and every gradient in their input's dtype, and agree with the reference
// network (reference_network.h, autograd in float64) on the same rounded numbers within a few
// bfloat16 roundings; a TwoLayerNet built with dtype(at::kBFloat16) trains with fit.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"

namespace twolayer_test {
namespace {

using twolayer_reference::all_outputs;

// The small net, the row passes with outputs in the pass and by BLAS, the whole-batch path.
const std::vector<Shape> kPathShapes = {
    {9, 2, 4, 3}, {70, 6, 9, 3}, {50, 3, 11, 6}, {5, 190, 180, 3}};

// bfloat16 keeps 8 significant bits: one rounding is a relative error of up to
// u = 2^-8 = 0.0039. The yardstick of a result is the error that eager bfloat16 autograd (the
// reference network run on the bfloat16 tensors) makes against float64 on the same rounded
// numbers: twolayer's may be at most twice that plus 2u (a rounding of the result to bfloat16
// and the roundings of Z1, A1, Z2, dZ2, dZ1 the contract makes; eager's error can cancel by luck).
// Saturated units make both errors large together (1 - A1^2 of an A1 rounded near 1), which a
// fixed bound could not tell from a fault. The cost, a float32 of bfloat16 logits, gets the
// fixed bound too: a wrong equation is off by far more.
constexpr double kUnitRoundoff = 1.0 / 256;
constexpr double kCostTolerance = 0.02;

// The inputs rounded to bfloat16, and the same numbers in float64 for the reference.
NetInputs round_to(const NetInputs& in, at::ScalarType dtype) {
  return {in.X.to(dtype),  in.Y.to(dtype),  in.W1.to(dtype),
          in.b1.to(dtype), in.W2.to(dtype), in.b2.to(dtype)};
}

::testing::AssertionResult Near(const at::Tensor& actual, const at::Tensor& expected, double tol) {
  if (!actual.defined()) return ::testing::AssertionFailure() << "undefined";
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure() << "shape " << sizes_string(actual);
  }
  if (!torch::isfinite(actual.to(torch::kDouble)).all().item<bool>()) {
    return ::testing::AssertionFailure() << "not finite";
  }
  const double err = rel_error(actual, expected);
  if (!(err <= tol))
    return ::testing::AssertionFailure() << "relative error " << err << " > " << tol;
  return ::testing::AssertionSuccess();
}

// twolayer's error against the float64 reference at most twice eager's plus 2u.
::testing::AssertionResult WithinEager(const at::Tensor& ours, const at::Tensor& eager,
                                       const at::Tensor& ref) {
  if (!ours.defined()) return ::testing::AssertionFailure() << "undefined";
  if (ours.sizes() != ref.sizes())
    return ::testing::AssertionFailure() << "shape " << sizes_string(ours);
  if (!torch::isfinite(ours.to(torch::kDouble)).all().item<bool>()) {
    return ::testing::AssertionFailure() << "not finite";
  }
  const double err = rel_error(ours, ref), eager_err = rel_error(eager, ref);
  if (!(err <= 2 * eager_err + 2 * kUnitRoundoff)) {
    return ::testing::AssertionFailure() << "relative error " << err << " > 2 x eager bfloat16's "
                                         << eager_err << " + 2 x " << kUnitRoundoff;
  }
  return ::testing::AssertionSuccess();
}

TEST(LowPrecision, BFloat16LossGivesFloat32CostAndBFloat16GradientsNearFloat64) {
  torch::manual_seed(91);
  for (const std::string& output : all_outputs()) {
    for (const std::string& activation : all_activations()) {
      for (const Shape& shape : kPathShapes) {
        for (at::ScalarType y_dtype : {at::kBFloat16, at::kFloat}) {
          std::ostringstream trace;
          trace << output << " " << activation << " " << shape << " Y " << dtype_tag(y_dtype);
          SCOPED_TRACE(trace.str());
          NetInputs data = random_inputs(shape, at::kDouble);
          data.Y = targets_for(output, data.Y);
          NetInputs low = round_to(data, at::kBFloat16);
          low.Y = data.Y.to(y_dtype);
          const NetInputs ours = low.leaves();
          NetInputs ref_in = round_to(low, at::kDouble);
          const NetInputs ref = ref_in.leaves();
          // eager bfloat16 needs Y in bfloat16: measured on Y rounded, against its own reference
          NetInputs eager_in = low;
          eager_in.Y = low.Y.to(at::kBFloat16);
          const NetInputs eager = eager_in.leaves(),
                          eager_ref = round_to(eager_in, at::kDouble).leaves();
          at::Tensor J_eager = reference_loss(eager.X, eager.Y, eager.W1, eager.b1, eager.W2,
                                              eager.b2, activation, output);
          at::Tensor J_eager_ref =
              reference_loss(eager_ref.X, eager_ref.Y, eager_ref.W1, eager_ref.b1, eager_ref.W2,
                             eager_ref.b2, activation, output);
          J_eager.backward();
          J_eager_ref.backward();
          at::Tensor J = twolayer::loss(ours.X, ours.Y, ours.W1, ours.b1, ours.W2, ours.b2,
                                        activation, output);
          at::Tensor J_ref =
              reference_loss(ref.X, ref.Y, ref.W1, ref.b1, ref.W2, ref.b2, activation, output);
          EXPECT_EQ(J.scalar_type(), at::kFloat);
          EXPECT_TRUE(Near(J, J_ref, kCostTolerance));
          J.backward();
          J_ref.backward();
          for (size_t i = 0; i < ours.list().size(); ++i) {
            const at::Tensor leaf = ours.list()[i];  // a copy: list() is a temporary
            ASSERT_TRUE(leaf.grad().defined()) << "gradient of " << input_names()[i];
            EXPECT_EQ(leaf.grad().scalar_type(), leaf.scalar_type())
                << "gradient of " << input_names()[i];
            // eager's error, shifted onto this reference: eager - eager_ref + ref
            const at::Tensor eager_here = eager.list()[i].grad().to(torch::kDouble) -
                                          eager_ref.list()[i].grad() + ref.list()[i].grad();
            EXPECT_TRUE(WithinEager(leaf.grad(), eager_here, ref.list()[i].grad()))
                << "gradient of " << input_names()[i];
          }
        }
      }
    }
  }
}

TEST(LowPrecision, BFloat16ForwardGivesBFloat16ProbabilitiesNearFloat64) {
  torch::manual_seed(92);
  for (const std::string& output : all_outputs()) {
    for (const Shape& shape : kPathShapes) {
      std::ostringstream trace;
      trace << output << " " << shape;
      SCOPED_TRACE(trace.str());
      const NetInputs low = round_to(random_inputs(shape, at::kDouble), at::kBFloat16);
      const NetInputs ours = low.leaves();
      const NetInputs ref = round_to(low, at::kDouble).leaves(), eager = low.leaves();
      at::Tensor A2_eager =
          reference_forward(eager.X, eager.W1, eager.b1, eager.W2, eager.b2, "tanh", output);
      at::Tensor A2 = twolayer::forward(ours.X, ours.W1, ours.b1, ours.W2, ours.b2, "tanh", output);
      at::Tensor A2_ref = reference_forward(ref.X, ref.W1, ref.b1, ref.W2, ref.b2, "tanh", output);
      EXPECT_EQ(A2.scalar_type(), at::kBFloat16);
      EXPECT_TRUE(WithinEager(A2, A2_eager, A2_ref));
      const at::Tensor grad = torch::randn(A2.sizes(), torch::kDouble);
      A2.backward(grad.to(at::kBFloat16));
      A2_eager.backward(grad.to(at::kBFloat16));
      A2_ref.backward(grad.to(at::kBFloat16).to(at::kDouble));
      const std::vector<at::Tensor> a = ours.forward_list(), b = ref.forward_list();
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].grad().scalar_type(), at::kBFloat16) << forward_input_names()[i];
        EXPECT_TRUE(WithinEager(a[i].grad(), eager.forward_list()[i].grad(), b[i].grad()))
            << forward_input_names()[i];
      }
    }
  }
}

TEST(LowPrecision, FitInBFloat16ReturnsFloat32CostsAndUpdatesInBFloat16) {
  torch::manual_seed(93);
  const NetInputs low = round_to(random_inputs({40, 3, 6, 2}, at::kDouble), at::kBFloat16);
  at::Tensor W1 = low.W1.clone(), b1 = low.b1.clone(), W2 = low.W2.clone(), b2 = low.b2.clone();
  const at::Tensor costs = twolayer::fit_(W1, b1, W2, b2, low.X, low.Y, 30, 0.5, "tanh");
  EXPECT_EQ(costs.scalar_type(), at::kFloat);
  ASSERT_EQ(costs.numel(), 30);
  for (const at::Tensor& p : {W1, b1, W2, b2}) EXPECT_EQ(p.scalar_type(), at::kBFloat16);
  EXPECT_LT(costs[29].item<double>(), costs[0].item<double>());
  // The first cost is the cost of the starting point, against the float64 reference.
  const NetInputs ref = round_to(low, at::kDouble);
  EXPECT_NEAR(costs[0].item<double>(),
              reference_loss(ref.X, ref.Y, ref.W1, ref.b1, ref.W2, ref.b2, "tanh").item<double>(),
              kCostTolerance * costs[0].item<double>());
}

TEST(LowPrecision, BFloat16NetTrainsWithFit) {
  torch::manual_seed(94);
  const at::Tensor X = torch::randn({400, 2});
  const at::Tensor Y = (X.select(1, 0) * X.select(1, 1) > 0).unsqueeze(1).to(torch::kFloat);
  const at::Tensor X_low = X.to(at::kBFloat16), Y_low = Y.to(at::kBFloat16);
  twolayer::TwoLayerNet net(
      twolayer::TwoLayerNetOptions(2, 4, 1).init_scale(1.0).seed(1).dtype(at::kBFloat16));
  EXPECT_EQ(net->W1.scalar_type(), at::kBFloat16);
  EXPECT_EQ(net->b2.scalar_type(), at::kBFloat16);
  const at::Tensor before = net->loss(X_low, Y_low);
  EXPECT_EQ(before.scalar_type(), at::kFloat);
  const at::Tensor costs = net->fit(X_low, Y_low, 3000, 1.2);
  EXPECT_EQ(costs.scalar_type(), at::kFloat);
  EXPECT_EQ(net->W1.scalar_type(), at::kBFloat16);
  const double after = net->loss(X_low, Y_low).item<double>();
  EXPECT_LT(after, 0.6 * before.item<double>())
      << "cost " << before.item<double>() << " -> " << after;
  EXPECT_LT(costs[costs.numel() - 1].item<double>(), costs[0].item<double>());
  // float32 labels for a bfloat16 net are taken too, with the same cost up to rounding.
  EXPECT_NEAR(net->loss(X_low, Y).item<double>(), after, 1e-6 + 1e-3 * after);
  const at::Tensor A2 = net->forward(X_low);
  EXPECT_EQ(A2.scalar_type(), at::kBFloat16);
  EXPECT_EQ(net->predict(X_low).scalar_type(), at::kLong);
  // The quadrant problem of the README, which float32 learns to about 90 % in 5000 steps.
  EXPECT_GT(net->score(X_low, Y_low), 0.8);
}

TEST(LowPrecision, BFloat16NetSaveLoadRoundTrip) {
  twolayer::TwoLayerNet saved(
      twolayer::TwoLayerNetOptions(3, 4, 2).init_scale(1.0).seed(5).dtype(at::kBFloat16));
  std::stringstream stream;
  torch::save(saved, stream);
  twolayer::TwoLayerNet loaded(twolayer::TwoLayerNetOptions(3, 4, 2).seed(6).dtype(at::kBFloat16));
  torch::load(loaded, stream);
  EXPECT_EQ(loaded->W1.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(torch::equal(loaded->W1, saved->W1));
  EXPECT_TRUE(torch::equal(loaded->b2, saved->b2));
  const at::Tensor X = torch::randn({5, 3}).to(at::kBFloat16);
  EXPECT_TRUE(torch::equal(loaded->forward(X), saved->forward(X)));
}

}  // namespace
}  // namespace twolayer_test
