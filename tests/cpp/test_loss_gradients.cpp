// twolayer::loss against autograd of the reference network: the cost and the gradients with
// respect to all six inputs, first and second order.

#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"
#include "sample_shapes.h"

namespace twolayer_test {
namespace {

using LossParam = std::tuple<std::string, at::ScalarType, Shape>;

// The shapes of sample_shapes.h, shared with test_forward_gradients.cpp; the degenerate
// n0 = n1 = 1 shapes are covered by EdgeShapes below.
const std::vector<Shape>& kShapes = kSampleShapes;

std::string loss_param_name(const ::testing::TestParamInfo<LossParam>& info) {
  std::ostringstream os;
  os << std::get<0>(info.param) << "_" << dtype_tag(std::get<1>(info.param)) << "_"
     << std::get<2>(info.param);
  return os.str();
}

class LossGradients : public ::testing::TestWithParam<LossParam> {
 protected:
  void SetUp() override { torch::manual_seed(1234); }
};

TEST_P(LossGradients, ValueAndAllGradientsMatchReference) {
  const auto& [activation, dtype, shape] = GetParam();
  const NetInputs data = random_inputs(shape, dtype);
  const NetInputs ours = data.leaves();
  const NetInputs ref = data.leaves();

  at::Tensor J = twolayer::loss(ours.X, ours.Y, ours.W1, ours.b1, ours.W2, ours.b2, activation);
  at::Tensor J_ref = reference_loss(ref.X, ref.Y, ref.W1, ref.b1, ref.W2, ref.b2, activation);
  ASSERT_EQ(J.dim(), 0);
  EXPECT_TRUE(AllClose(J, J_ref, tolerance(dtype)));
  ASSERT_TRUE(J.requires_grad());

  const at::Tensor g = random_scalar_grad(dtype);
  J.backward(g);
  J_ref.backward(g);
  const auto ours_list = ours.list();
  const auto ref_list = ref.list();
  for (size_t i = 0; i < ours_list.size(); ++i) {
    EXPECT_TRUE(AllClose(ours_list[i].grad(), ref_list[i].grad(), tolerance(dtype)))
        << "gradient of " << input_names()[i];
  }
}

INSTANTIATE_TEST_SUITE_P(AllActivationsDtypesShapes, LossGradients,
                         ::testing::Combine(::testing::ValuesIn(all_activations()),
                                            ::testing::Values(at::kDouble, at::kFloat),
                                            ::testing::ValuesIn(kShapes)),
                         loss_param_name);

// One input feature and one hidden unit: the shapes where broadcasting or squeezing can make
// a wrong formula produce a right-shaped result.
TEST(LossGradientsEdgeShapes, SingleFeatureAndSingleHiddenUnit) {
  torch::manual_seed(55);
  for (const Shape& shape : kEdgeShapes) {
    for (const std::string& activation : all_activations()) {
      std::ostringstream trace;
      trace << activation << " " << shape;
      SCOPED_TRACE(trace.str());
      const NetInputs data = random_inputs(shape, at::kDouble);
      const NetInputs ours = data.leaves(), ref = data.leaves();
      at::Tensor J = twolayer::loss(ours.X, ours.Y, ours.W1, ours.b1, ours.W2, ours.b2, activation);
      at::Tensor J_ref = reference_loss(ref.X, ref.Y, ref.W1, ref.b1, ref.W2, ref.b2, activation);
      EXPECT_TRUE(AllClose(J, J_ref, 1e-10));
      const at::Tensor g = random_scalar_grad(at::kDouble);
      J.backward(g);
      J_ref.backward(g);
      const auto o = ours.list(), r = ref.list();
      for (size_t i = 0; i < o.size(); ++i) {
        EXPECT_TRUE(AllClose(o[i].grad(), r[i].grad(), 1e-10)) << input_names()[i];
      }
    }
  }
}

// The backward computes only what is asked for; asking for one gradient at a time checks
// that each masked branch is right by itself and that nothing else gets a gradient.
TEST(LossGradientSubsets, OnlyRequestedGradientsAreProducedAndCorrect) {
  torch::manual_seed(99);
  const NetInputs data = random_inputs({6, 3, 4, 2}, at::kDouble);
  for (const std::string& activation : all_activations()) {
    for (size_t wanted = 0; wanted < 6; ++wanted) {
      SCOPED_TRACE(activation + ", only " + input_names()[wanted] + " requires grad");
      std::vector<at::Tensor> ours = data.leaves(false).list();
      std::vector<at::Tensor> ref = data.leaves(false).list();
      ours[wanted].requires_grad_(true);
      ref[wanted].requires_grad_(true);
      at::Tensor J =
          twolayer::loss(ours[0], ours[1], ours[2], ours[3], ours[4], ours[5], activation);
      at::Tensor J_ref = reference_loss(ref[0], ref[1], ref[2], ref[3], ref[4], ref[5], activation);
      const at::Tensor g = random_scalar_grad(at::kDouble);
      J.backward(g);
      J_ref.backward(g);
      for (size_t i = 0; i < 6; ++i) {
        if (i == wanted) {
          EXPECT_TRUE(AllClose(ours[i].grad(), ref[i].grad(), 1e-10)) << input_names()[i];
        } else {
          EXPECT_FALSE(ours[i].grad().defined()) << input_names()[i];
        }
      }
    }
  }
}

class TwoLayerFunctionApply : public ::testing::TestWithParam<at::ScalarType> {
 protected:
  void SetUp() override { torch::manual_seed(7); }
};

// C++ users may call the autograd Function without the dispatcher; it must be the same
// computation as the operator, and right on its own terms.
TEST_P(TwoLayerFunctionApply, SameAsLossOperatorAndReference) {
  const at::ScalarType dtype = GetParam();
  const NetInputs data = random_inputs({5, 3, 4, 2}, dtype);
  for (const std::string& activation : all_activations()) {
    SCOPED_TRACE(activation);
    const NetInputs direct = data.leaves();
    const NetInputs op = data.leaves();
    const NetInputs ref = data.leaves();

    at::Tensor J_direct = twolayer::TwoLayerFunction::apply(
        direct.X, direct.Y, direct.W1, direct.b1, direct.W2, direct.b2, activation);
    at::Tensor J_op = twolayer::loss(op.X, op.Y, op.W1, op.b1, op.W2, op.b2, activation);
    at::Tensor J_ref = reference_loss(ref.X, ref.Y, ref.W1, ref.b1, ref.W2, ref.b2, activation);
    ASSERT_EQ(J_direct.dim(), 0);
    EXPECT_TRUE(AllClose(J_direct, J_op, 1e-12));
    EXPECT_TRUE(AllClose(J_direct, J_ref, tolerance(dtype)));

    const at::Tensor g = random_scalar_grad(dtype);
    J_direct.backward(g);
    J_op.backward(g);
    J_ref.backward(g);
    const auto d = direct.list(), o = op.list(), r = ref.list();
    for (size_t i = 0; i < d.size(); ++i) {
      EXPECT_TRUE(AllClose(d[i].grad(), o[i].grad(), 1e-12)) << input_names()[i];
      EXPECT_TRUE(AllClose(d[i].grad(), r[i].grad(), tolerance(dtype))) << input_names()[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, TwoLayerFunctionApply, ::testing::Values(at::kDouble, at::kFloat),
                         [](const ::testing::TestParamInfo<at::ScalarType>& info) {
                           return dtype_tag(info.param);
                         });

// An undefined second-order gradient means "zero" to autograd; the two implementations may
// legitimately differ in which zeros they materialise.
at::Tensor or_zeros(const at::Tensor& grad, const at::Tensor& like) {
  return grad.defined() ? grad : torch::zeros_like(like);
}

class LossDoubleBackward : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { torch::manual_seed(2024); }
};

// Second derivatives of J along a random direction of the first derivatives: this is what
// gradient penalties and Hessian-vector products compute, and it checks the differentiable
// re-evaluation of the six equations used under create_graph.
TEST_P(LossDoubleBackward, MatchesReferenceDoubleBackward) {
  const std::string activation = GetParam();
  for (const Shape& shape : {Shape{1, 2, 3, 1}, Shape{6, 3, 4, 3}}) {
    std::ostringstream trace;
    trace << shape;
    SCOPED_TRACE(trace.str());
    const NetInputs data = random_inputs(shape, at::kDouble);
    const std::vector<at::Tensor> ours = data.leaves().list();
    const std::vector<at::Tensor> ref = data.leaves().list();
    std::vector<at::Tensor> directions;
    for (const auto& t : ours) directions.push_back(torch::randn_like(t));
    const at::Tensor g = random_scalar_grad(at::kDouble);

    at::Tensor J = twolayer::loss(ours[0], ours[1], ours[2], ours[3], ours[4], ours[5], activation);
    at::Tensor J_ref = reference_loss(ref[0], ref[1], ref[2], ref[3], ref[4], ref[5], activation);
    const auto first = torch::autograd::grad({J}, ours, {g}, /*retain_graph=*/true,
                                             /*create_graph=*/true);
    const auto first_ref = torch::autograd::grad({J_ref}, ref, {g}, /*retain_graph=*/true,
                                                 /*create_graph=*/true);
    at::Tensor S = torch::zeros({}, torch::kDouble);
    at::Tensor S_ref = torch::zeros({}, torch::kDouble);
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_TRUE(AllClose(first[i], first_ref[i], 1e-10)) << "first-order d" << input_names()[i];
      EXPECT_TRUE(first[i].requires_grad())
          << "d" << input_names()[i] << " is not differentiable under create_graph";
      S = S + (first[i] * directions[i]).sum();
      S_ref = S_ref + (first_ref[i] * directions[i]).sum();
    }
    const auto second = torch::autograd::grad({S}, ours, {}, /*retain_graph=*/false,
                                              /*create_graph=*/false, /*allow_unused=*/true);
    const auto second_ref = torch::autograd::grad({S_ref}, ref, {}, /*retain_graph=*/false,
                                                  /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_TRUE(AllClose(or_zeros(second[i], ours[i]), or_zeros(second_ref[i], ref[i]), 1e-9))
          << "second-order gradient with respect to " << input_names()[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllActivations, LossDoubleBackward, ::testing::ValuesIn(all_activations()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace twolayer_test
