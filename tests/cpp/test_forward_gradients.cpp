// twolayer::forward against autograd of the reference network, plus the behaviours both
// operators share: no graph when none is wanted, strided inputs, meta tensors.

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

using ForwardParam = std::tuple<std::string, at::ScalarType, Shape>;

// The shapes of sample_shapes.h, shared with test_loss_gradients.cpp.
const std::vector<Shape>& kShapes = kSampleShapes;

class ForwardGradients : public ::testing::TestWithParam<ForwardParam> {
 protected:
  void SetUp() override { torch::manual_seed(4321); }
};

TEST_P(ForwardGradients, ProbabilitiesAndAllGradientsMatchReference) {
  const auto& [activation, dtype, shape] = GetParam();
  const NetInputs data = random_inputs(shape, dtype);
  const NetInputs ours = data.leaves();
  const NetInputs ref = data.leaves();

  at::Tensor A2 = twolayer::forward(ours.X, ours.W1, ours.b1, ours.W2, ours.b2, activation);
  at::Tensor A2_ref = reference_forward(ref.X, ref.W1, ref.b1, ref.W2, ref.b2, activation);
  ASSERT_EQ(A2.sizes(), (std::vector<int64_t>{shape.m, shape.n2}));
  EXPECT_TRUE(AllClose(A2, A2_ref, tolerance(dtype)));

  // A non-uniform dA2 (with negative entries) so that a backward that ignores or sums the
  // incoming gradient over examples or output units fails.
  const at::Tensor dA2 = torch::randn({shape.m, shape.n2}, torch::kDouble).to(dtype);
  A2.backward(dA2);
  A2_ref.backward(dA2);
  const auto o = ours.forward_list(), r = ref.forward_list();
  for (size_t i = 0; i < o.size(); ++i) {
    EXPECT_TRUE(AllClose(o[i].grad(), r[i].grad(), tolerance(dtype)))
        << "gradient of " << forward_input_names()[i];
  }
  EXPECT_FALSE(ours.Y.grad().defined()) << "Y is not an input of forward";
}

INSTANTIATE_TEST_SUITE_P(AllActivationsDtypesShapes, ForwardGradients,
                         ::testing::Combine(::testing::ValuesIn(all_activations()),
                                            ::testing::Values(at::kDouble, at::kFloat),
                                            ::testing::ValuesIn(kShapes)),
                         [](const ::testing::TestParamInfo<ForwardParam>& info) {
                           std::ostringstream os;
                           os << std::get<0>(info.param) << "_"
                              << dtype_tag(std::get<1>(info.param)) << "_"
                              << std::get<2>(info.param);
                           return os.str();
                         });

TEST(ForwardGradientsEdgeShapes, SingleFeatureAndSingleHiddenUnit) {
  torch::manual_seed(56);
  for (const Shape& shape : kEdgeShapes) {
    for (const std::string& activation : all_activations()) {
      std::ostringstream trace;
      trace << activation << " " << shape;
      SCOPED_TRACE(trace.str());
      const NetInputs data = random_inputs(shape, at::kDouble);
      const NetInputs ours = data.leaves(), ref = data.leaves();
      at::Tensor A2 = twolayer::forward(ours.X, ours.W1, ours.b1, ours.W2, ours.b2, activation);
      at::Tensor A2_ref = reference_forward(ref.X, ref.W1, ref.b1, ref.W2, ref.b2, activation);
      EXPECT_TRUE(AllClose(A2, A2_ref, 1e-10));
      const at::Tensor dA2 = torch::randn({shape.m, shape.n2}, torch::kDouble);
      A2.backward(dA2);
      A2_ref.backward(dA2);
      const auto o = ours.forward_list(), r = ref.forward_list();
      for (size_t i = 0; i < o.size(); ++i) {
        EXPECT_TRUE(AllClose(o[i].grad(), r[i].grad(), 1e-10)) << forward_input_names()[i];
      }
    }
  }
}

TEST(ForwardFunctionApply, SameAsForwardOperatorAndReference) {
  torch::manual_seed(8);
  const NetInputs data = random_inputs({5, 3, 4, 2}, at::kDouble);
  for (const std::string& activation : all_activations()) {
    SCOPED_TRACE(activation);
    const NetInputs direct = data.leaves(), op = data.leaves(), ref = data.leaves();

    at::Tensor A2_direct = twolayer::TwoLayerProbabilitiesFunction::apply(
        direct.X, direct.W1, direct.b1, direct.W2, direct.b2, activation);
    at::Tensor A2_op = twolayer::forward(op.X, op.W1, op.b1, op.W2, op.b2, activation);
    at::Tensor A2_ref = reference_forward(ref.X, ref.W1, ref.b1, ref.W2, ref.b2, activation);
    EXPECT_TRUE(AllClose(A2_direct, A2_op, 1e-12));
    EXPECT_TRUE(AllClose(A2_direct, A2_ref, 1e-10));

    const at::Tensor dA2 = torch::randn({5, 2}, torch::kDouble);
    A2_direct.backward(dA2);
    A2_op.backward(dA2);
    A2_ref.backward(dA2);
    const auto d = direct.forward_list(), o = op.forward_list(), r = ref.forward_list();
    for (size_t i = 0; i < d.size(); ++i) {
      EXPECT_TRUE(AllClose(d[i].grad(), o[i].grad(), 1e-12)) << forward_input_names()[i];
      EXPECT_TRUE(AllClose(d[i].grad(), r[i].grad(), 1e-10)) << forward_input_names()[i];
    }
  }
}

at::Tensor or_zeros(const at::Tensor& grad, const at::Tensor& like) {
  return grad.defined() ? grad : torch::zeros_like(like);
}

TEST(ForwardDoubleBackward, MatchesReferenceDoubleBackward) {
  torch::manual_seed(77);
  const NetInputs data = random_inputs({6, 3, 4, 2}, at::kDouble);
  for (const std::string& activation : all_activations()) {
    SCOPED_TRACE(activation);
    const std::vector<at::Tensor> ours = data.leaves().forward_list();
    const std::vector<at::Tensor> ref = data.leaves().forward_list();
    std::vector<at::Tensor> directions;
    for (const auto& t : ours) directions.push_back(torch::randn_like(t));
    const at::Tensor dA2 = torch::randn({6, 2}, torch::kDouble);

    at::Tensor A2 = twolayer::forward(ours[0], ours[1], ours[2], ours[3], ours[4], activation);
    at::Tensor A2_ref = reference_forward(ref[0], ref[1], ref[2], ref[3], ref[4], activation);
    const auto first = torch::autograd::grad({A2}, ours, {dA2}, true, /*create_graph=*/true);
    const auto first_ref = torch::autograd::grad({A2_ref}, ref, {dA2}, true, true);
    at::Tensor S = torch::zeros({}, torch::kDouble), S_ref = torch::zeros({}, torch::kDouble);
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_TRUE(AllClose(first[i], first_ref[i], 1e-10)) << forward_input_names()[i];
      S = S + (first[i] * directions[i]).sum();
      S_ref = S_ref + (first_ref[i] * directions[i]).sum();
    }
    const auto second = torch::autograd::grad({S}, ours, {}, false, false, /*allow_unused=*/true);
    const auto second_ref = torch::autograd::grad({S_ref}, ref, {}, false, false, true);
    for (size_t i = 0; i < ours.size(); ++i) {
      EXPECT_TRUE(AllClose(or_zeros(second[i], ours[i]), or_zeros(second_ref[i], ref[i]), 1e-9))
          << "second-order gradient with respect to " << forward_input_names()[i];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// No graph when no gradient can be asked for: evaluation loops must not keep activations alive.

class NoGrad : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(5);
    data = random_inputs({5, 3, 4, 2}, at::kDouble);
  }
  NetInputs data;
};

TEST_F(NoGrad, NoGradGuardGivesNoGraphButSameValues) {
  const NetInputs in = data.leaves(/*requires_grad=*/true);
  at::Tensor J, A2;
  {
    torch::NoGradGuard no_grad;
    J = twolayer::loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, "tanh");
    A2 = twolayer::forward(in.X, in.W1, in.b1, in.W2, in.b2, "tanh");
  }
  EXPECT_EQ(J.grad_fn(), nullptr);
  EXPECT_FALSE(J.requires_grad());
  EXPECT_EQ(A2.grad_fn(), nullptr);
  EXPECT_FALSE(A2.requires_grad());
  const NetInputs d = data;
  EXPECT_TRUE(AllClose(J, reference_loss(d.X, d.Y, d.W1, d.b1, d.W2, d.b2, "tanh"), 1e-10));
  EXPECT_TRUE(AllClose(A2, reference_forward(d.X, d.W1, d.b1, d.W2, d.b2, "tanh"), 1e-10));
}

TEST_F(NoGrad, InferenceModeGivesNoGraph) {
  const NetInputs in = data.leaves(/*requires_grad=*/true);
  c10::InferenceMode inference;
  const at::Tensor J = twolayer::loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, "relu");
  const at::Tensor A2 = twolayer::forward(in.X, in.W1, in.b1, in.W2, in.b2, "relu");
  EXPECT_EQ(J.grad_fn(), nullptr);
  EXPECT_FALSE(J.requires_grad());
  EXPECT_EQ(A2.grad_fn(), nullptr);
  EXPECT_FALSE(A2.requires_grad());
}

TEST_F(NoGrad, NoInputRequiringGradGivesNoGraph) {
  const NetInputs in = data.leaves(/*requires_grad=*/false);
  const at::Tensor J = twolayer::loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, "sigmoid");
  const at::Tensor A2 = twolayer::forward(in.X, in.W1, in.b1, in.W2, in.b2, "sigmoid");
  EXPECT_EQ(J.grad_fn(), nullptr);
  EXPECT_FALSE(J.requires_grad());
  EXPECT_EQ(A2.grad_fn(), nullptr);
  EXPECT_FALSE(A2.requires_grad());
  EXPECT_TRUE(
      AllClose(J, reference_loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, "sigmoid"), 1e-10));
}

// The counterpart of the tests above, so that they cannot pass by never building a graph.
TEST_F(NoGrad, AnyInputRequiringGradGivesGraph) {
  for (size_t i = 0; i < 6; ++i) {
    std::vector<at::Tensor> in = data.leaves(false).list();
    in[i].requires_grad_(true);
    const at::Tensor J = twolayer::loss(in[0], in[1], in[2], in[3], in[4], in[5], "tanh");
    EXPECT_NE(J.grad_fn(), nullptr) << "only " << input_names()[i] << " requires grad";
    if (i == 1) continue;  // Y is no input of forward
    const at::Tensor A2 = twolayer::forward(in[0], in[2], in[3], in[4], in[5], "tanh");
    EXPECT_NE(A2.grad_fn(), nullptr) << "only " << input_names()[i] << " requires grad";
  }
}

// ---------------------------------------------------------------------------------------------
// Strided inputs: the same numbers laid out differently must give the same results, with
// gradients shaped like the inputs (the layout of the gradient itself is free).

TEST(NonContiguous, StridedInputsGiveSameValuesAndGradients) {
  torch::manual_seed(11);
  const NetInputs data = random_inputs({6, 3, 4, 2}, at::kDouble);

  for (const std::string& activation : all_activations()) {
    SCOPED_TRACE(activation);
    const NetInputs plain = data.leaves();
    const NetInputs leaves = data.leaves();
    // Differentiable strided views of the leaves: column-major X, Y, W1, W2 and biases with
    // stride 2, so that any kernel assuming contiguous memory reads the wrong numbers.
    auto column_major = [](const at::Tensor& t) { return t.t().contiguous().t(); };
    auto every_other = [](const at::Tensor& t) {
      return torch::stack({t, torch::full_like(t, 1e6)}, 1).select(1, 0);
    };
    const NetInputs views{column_major(leaves.X), column_major(leaves.Y),  column_major(leaves.W1),
                          every_other(leaves.b1), column_major(leaves.W2), every_other(leaves.b2)};
    const auto v = views.list();
    for (size_t i = 0; i < v.size(); ++i) {
      ASSERT_FALSE(v[i].is_contiguous()) << input_names()[i];
      ASSERT_TRUE(torch::equal(v[i], data.list()[i])) << input_names()[i];
    }

    at::Tensor J =
        twolayer::loss(plain.X, plain.Y, plain.W1, plain.b1, plain.W2, plain.b2, activation);
    at::Tensor J_s =
        twolayer::loss(views.X, views.Y, views.W1, views.b1, views.W2, views.b2, activation);
    EXPECT_TRUE(AllClose(J_s, J, 1e-13));
    J.backward();
    J_s.backward();
    const auto p = plain.list(), l = leaves.list();
    for (size_t i = 0; i < p.size(); ++i) {
      EXPECT_TRUE(AllClose(l[i].grad(), p[i].grad(), 1e-13)) << input_names()[i];
    }

    const at::Tensor A2 =
        twolayer::forward(plain.X, plain.W1, plain.b1, plain.W2, plain.b2, activation);
    const at::Tensor A2_s =
        twolayer::forward(views.X, views.W1, views.b1, views.W2, views.b2, activation);
    EXPECT_TRUE(AllClose(A2_s, A2, 1e-13));

    // The same views without autograd take the backend kernels directly.
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(AllClose(
        twolayer::loss(views.X, views.Y, views.W1, views.b1, views.W2, views.b2, activation), J,
        1e-13));
    EXPECT_TRUE(AllClose(
        twolayer::forward(views.X, views.W1, views.b1, views.W2, views.b2, activation), A2, 1e-13));
  }
}

// ---------------------------------------------------------------------------------------------
// Meta tensors: shape inference without data, as used by tracing tools.

TEST(Meta, OutputsAndGradientsHaveTheRightShapes) {
  const auto meta = torch::TensorOptions().dtype(torch::kFloat).device(torch::kMeta);
  auto make = [&](std::vector<int64_t> sizes) {
    return torch::empty(sizes, meta).requires_grad_(true);
  };
  const std::vector<at::Tensor> in = {make({7, 3}), make({7, 2}), make({5, 3}),
                                      make({5}),    make({2, 5}), make({2})};
  const at::Tensor J = twolayer::loss(in[0], in[1], in[2], in[3], in[4], in[5], "relu");
  EXPECT_TRUE(J.is_meta());
  EXPECT_EQ(J.dim(), 0);
  EXPECT_EQ(J.scalar_type(), torch::kFloat);
  const at::Tensor A2 = twolayer::forward(in[0], in[2], in[3], in[4], in[5], "relu");
  EXPECT_TRUE(A2.is_meta());
  EXPECT_EQ(A2.sizes(), (std::vector<int64_t>{7, 2}));

  const auto grads = torch::autograd::grad({J}, in, {torch::ones({}, meta)});
  for (size_t i = 0; i < in.size(); ++i) {
    ASSERT_TRUE(grads[i].defined()) << input_names()[i];
    EXPECT_TRUE(grads[i].is_meta()) << input_names()[i];
    EXPECT_EQ(grads[i].sizes(), in[i].sizes()) << input_names()[i];
  }
  const std::vector<at::Tensor> fin = {in[0], in[2], in[3], in[4], in[5]};
  const auto fgrads = torch::autograd::grad({A2}, fin, {torch::ones({7, 2}, meta)});
  for (size_t i = 0; i < fin.size(); ++i) {
    ASSERT_TRUE(fgrads[i].defined()) << forward_input_names()[i];
    EXPECT_EQ(fgrads[i].sizes(), fin[i].sizes()) << forward_input_names()[i];
  }
}

}  // namespace
}  // namespace twolayer_test
