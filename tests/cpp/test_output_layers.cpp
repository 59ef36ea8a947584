// The output layers through the C++ API: twolayer::loss, forward and fit_ with output "softmax"
// and "identity" against autograd of the reference network (log_softmax, a squared error), on
// the small net and on both output regimes of the row passes.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"

namespace twolayer_test {
namespace {

using twolayer_reference::all_outputs;

// The small net, the row passes with outputs in the pass and by BLAS.
const std::vector<Shape> kPathShapes = {{9, 2, 4, 3}, {70, 6, 9, 3}, {50, 3, 11, 6}};


TEST(OutputLayers, LossForwardAndGradientsMatchTheReference) {
  torch::manual_seed(77);
  for (const std::string& output : all_outputs()) {
    for (const Shape& shape : kPathShapes) {
      for (at::ScalarType dtype : {at::kDouble, at::kFloat}) {
        std::ostringstream trace;
        trace << output << " " << shape << " " << dtype_tag(dtype);
        SCOPED_TRACE(trace.str());
        NetInputs data = random_inputs(shape, dtype);
        data.Y = targets_for(output, data.Y);
        const NetInputs ours = data.leaves(), ref = data.leaves();
        at::Tensor J = twolayer::loss(ours.X, ours.Y, ours.W1, ours.b1, ours.W2, ours.b2, "tanh",
                                      output);
        at::Tensor J_ref =
            reference_loss(ref.X, ref.Y, ref.W1, ref.b1, ref.W2, ref.b2, "tanh", output);
        EXPECT_TRUE(AllClose(J, J_ref, tolerance(dtype)));
        J.backward();
        J_ref.backward();
        for (size_t i = 0; i < ours.list().size(); ++i) {
          EXPECT_TRUE(AllClose(ours.list()[i].grad(), ref.list()[i].grad(), tolerance(dtype)))
              << "gradient of " << input_names()[i];
        }
        torch::NoGradGuard no_grad;
        const at::Tensor A2 = twolayer::forward(data.X, data.W1, data.b1, data.W2, data.b2,
                                                "relu", output);
        EXPECT_TRUE(AllClose(
            A2, reference_forward(data.X, data.W1, data.b1, data.W2, data.b2, "relu", output),
            tolerance(dtype)));
      }
    }
  }
}

TEST(OutputLayers, FitMatchesManualDescentAndReportsProgress) {
  torch::manual_seed(78);
  for (const std::string& output : {std::string("softmax"), std::string("identity")}) {
    SCOPED_TRACE(output);
    NetInputs data = random_inputs({40, 3, 6, 4}, at::kDouble);
    data.Y = targets_for(output, data.Y);
    at::Tensor W1 = data.W1.clone(), b1 = data.b1.clone(), W2 = data.W2.clone(),
               b2 = data.b2.clone();
    int64_t reports = 0;
    const at::Tensor costs =
        twolayer::fit_(W1, b1, W2, b2, data.X, data.Y, 5, 0.2, "tanh", output,
                       [&](int64_t, double) { ++reports; }, 2);
    EXPECT_EQ(reports, 3);  // iterations 0, 2 and 4, the last
    std::vector<at::Tensor> params;
    for (const at::Tensor& p : {data.W1, data.b1, data.W2, data.b2}) {
      params.push_back(p.clone().requires_grad_(true));
    }
    for (int64_t i = 0; i < 5; ++i) {
      const at::Tensor J = reference_loss(data.X, data.Y, params[0], params[1], params[2],
                                          params[3], "tanh", output);
      EXPECT_NEAR(costs[i].item<double>(), J.item<double>(), 1e-10);
      const auto grads = torch::autograd::grad({J}, params);
      torch::NoGradGuard no_grad;
      for (size_t k = 0; k < params.size(); ++k) params[k] -= 0.2 * grads[k];
    }
    EXPECT_TRUE(AllClose(W1, params[0].detach(), 1e-10));
    EXPECT_TRUE(AllClose(b2, params[3].detach(), 1e-10));
  }
}

TEST(OutputLayers, UnknownNamesAreRefusedWithTheValidOnes) {
  const NetInputs data = random_inputs({5, 2, 4, 1}, at::kFloat);
  try {
    twolayer::loss(data.X, data.Y, data.W1, data.b1, data.W2, data.b2, "tanh", "linear");
    FAIL() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "twolayer: unknown output layer 'linear'; expected one of sigmoid (binary or "
                  "multi-label), softmax (multi-class), identity (regression)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace twolayer_test
