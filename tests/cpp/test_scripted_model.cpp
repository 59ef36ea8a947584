// Cross-language: TorchScript files written by Python (tests/python/save_scripted_models.py)
// must load and run in a C++ program that only links libtwolayer, and give the numbers that
// Python computed with the plain-PyTorch reference. This is how deployed models use the ops.
//
// The files' directory comes from TWOLAYER_SCRIPTED_MODELS_DIR, which ctest sets after running
// the script. A missing directory is a failure, not a skip, so that CI cannot silently lose
// these tests; set TWOLAYER_ALLOW_MISSING_MODELS=1 to skip them on purpose when running the
// binary by hand.

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"

namespace twolayer_test {
namespace {

class ScriptedModel : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("TWOLAYER_SCRIPTED_MODELS_DIR");
    if (dir == nullptr || *dir == '\0') {
      const char* allow = std::getenv("TWOLAYER_ALLOW_MISSING_MODELS");
      if (allow != nullptr && std::string(allow) == "1") {
        GTEST_SKIP() << "TWOLAYER_SCRIPTED_MODELS_DIR is not set and "
                        "TWOLAYER_ALLOW_MISSING_MODELS=1";
      }
      FAIL() << "TWOLAYER_SCRIPTED_MODELS_DIR is not set. Run "
                "tests/python/save_scripted_models.py <dir> with a Python that has twolayer "
                "installed and set TWOLAYER_SCRIPTED_MODELS_DIR=<dir> (ctest does both when "
                "configured with -DTWOLAYER_PYTHON=...), or set TWOLAYER_ALLOW_MISSING_MODELS=1 "
                "to skip the cross-language tests.";
    }
    dir_ = dir;
    for (const char* name : {"loss_module.pt", "net.pt", "expected.pt"}) {
      ASSERT_TRUE(std::ifstream(path(name)).good())
          << path(name) << " is missing; rerun tests/python/save_scripted_models.py " << dir_;
    }
    expected_ = torch::jit::load(path("expected.pt"));
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  at::Tensor expected(const std::string& name) const {
    if (!expected_.hasattr(name)) {
      ADD_FAILURE() << "expected.pt has no tensor '" << name << "'";
      return at::Tensor();
    }
    return expected_.attr(name).toTensor();
  }

  std::string dir_;
  torch::jit::Module expected_;
};

TEST_F(ScriptedModel, LossModuleMatchesPythonReference) {
  torch::jit::Module loss_module = torch::jit::load(path("loss_module.pt"));
  // The module must really call our operator, or this test would not be about twolayer.
  const std::string graph = loss_module.get_method("forward").graph()->toString();
  EXPECT_NE(graph.find("twolayer::loss"), std::string::npos) << graph;

  std::vector<at::Tensor> inputs;
  for (const char* name : {"X", "Y", "W1", "b1", "W2", "b2"}) {
    const at::Tensor t = expected(name);
    ASSERT_TRUE(t.defined()) << name;
    ASSERT_EQ(t.scalar_type(), torch::kDouble) << name;
    inputs.push_back(t.detach().clone().requires_grad_(true));
  }
  const at::Tensor J =
      loss_module.forward({inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], inputs[5]})
          .toTensor();
  ASSERT_EQ(J.dim(), 0);
  EXPECT_TRUE(AllClose(J, expected("J"), 1e-10));

  J.backward(expected("g"));
  const std::vector<std::string> grad_names = {"dX", "dY", "dW1", "db1", "dW2", "db2"};
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_TRUE(AllClose(inputs[i].grad(), expected(grad_names[i]), 1e-10)) << grad_names[i];
  }
}

TEST_F(ScriptedModel, ScriptedNetHasTheSameWeightsAsCppNetWithSameSeed) {
  torch::jit::Module scripted = torch::jit::load(path("net.pt"));
  twolayer::TwoLayerNet net(twolayer::TwoLayerNetOptions(2, 4, 1).seed(7));
  std::vector<std::string> names;
  for (const auto& p : scripted.named_parameters(/*recurse=*/false)) {
    names.push_back(p.name);
    ASSERT_TRUE(net->named_parameters().contains(p.name)) << p.name;
    // Same seed, same generator, same draws: bitwise equal by contract.
    EXPECT_TRUE(torch::equal(p.value, net->named_parameters()[p.name])) << p.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"W1", "b1", "W2", "b2"}));
}

TEST_F(ScriptedModel, ScriptedNetForwardAndLossMatchCppNet) {
  torch::jit::Module scripted = torch::jit::load(path("net.pt"));
  twolayer::TwoLayerNet net(twolayer::TwoLayerNetOptions(2, 4, 1).seed(7));
  const at::Tensor X = expected("net_X");
  const at::Tensor Y = expected("net_Y");
  ASSERT_TRUE(X.defined() && Y.defined());

  const at::Tensor A2_scripted = scripted.forward({X}).toTensor();
  const at::Tensor A2_cpp = net->forward(X);
  EXPECT_TRUE(torch::equal(A2_scripted, A2_cpp));
  // Python's reference on the Python net's weights: anchors both to independent numbers.
  EXPECT_TRUE(AllClose(A2_cpp, expected("net_A2"), 1e-5));

  const at::Tensor J_scripted = scripted.get_method("loss")({X, Y}).toTensor();
  EXPECT_TRUE(torch::equal(J_scripted, net->loss(X, Y)));
  EXPECT_TRUE(AllClose(J_scripted, expected("net_J"), 1e-5));
}

// The scripted net keeps the prediction API (@torch.jit.export), computing what the C++ module
// computes; and TwoLayerNet::load makes a C++ net of the file.
TEST_F(ScriptedModel, ScriptedNetKeepsThePredictionApiAndLoadsAsANet) {
  torch::jit::Module scripted = torch::jit::load(path("net.pt"));
  twolayer::TwoLayerNet net(twolayer::TwoLayerNetOptions(2, 4, 1).seed(7));
  const at::Tensor X = expected("net_X");
  const at::Tensor Y = expected("net_Y");
  ASSERT_TRUE(X.defined() && Y.defined());
  const at::Tensor y = Y.reshape({-1}).to(torch::kLong);  // labels of shape (m,)

  EXPECT_TRUE(torch::equal(scripted.get_method("predict_proba")({X}).toTensor(),
                           net->predict_proba(X)));
  EXPECT_TRUE(AllClose(scripted.get_method("logits")({X}).toTensor(),
                       reference_logits(X, net->W1, net->b1, net->W2, net->b2, "tanh"), 1e-5));
  const at::Tensor labels = scripted.get_method("predict")({X, 0.5}).toTensor();
  EXPECT_EQ(labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(labels, net->predict(X)));
  EXPECT_TRUE(torch::equal(scripted.get_method("predict")({X, 0.3}).toTensor(),
                           net->predict(X, 0.3)));
  EXPECT_EQ(scripted.get_method("score")({X, y}).toDouble(), net->score(X, y));
  EXPECT_TRUE(torch::equal(scripted.get_method("loss")({X, y}).toTensor(), net->loss(X, Y)));

  twolayer::TwoLayerNet loaded = twolayer::TwoLayerNetImpl::load(path("net.pt"));
  EXPECT_EQ(loaded->activation(), "tanh");
  EXPECT_EQ(loaded->W1.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(loaded->forward(X), net->forward(X)));
}

}  // namespace
}  // namespace twolayer_test
