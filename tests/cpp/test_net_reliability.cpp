// twolayer::TwoLayerNet refusals that must leave the net whole: a checkpoint of another shape or
// activation, a dtype the operators refuse, and a negative iteration count with a progress callback;
// and the callback's last report. A caller that catches the error must still hold a usable net.

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

namespace twolayer_test {
namespace {

using twolayer::TwoLayerNet;
using twolayer::TwoLayerNetOptions;

// The message of the c10::Error that `body` throws, without the C++ backtrace; "" if none.
template <typename Body>
std::string error_message(Body&& body) {
  try {
    body();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "";
}

std::vector<at::Tensor> snapshot(TwoLayerNet& net) {
  std::vector<at::Tensor> copies;
  for (const auto& p : net->parameters()) copies.push_back(p.detach().clone());
  return copies;
}

void ExpectUnchanged(TwoLayerNet& net, const std::vector<at::Tensor>& before) {
  const auto now = net->parameters();
  ASSERT_EQ(now.size(), before.size());
  for (size_t i = 0; i < now.size(); ++i) {
    EXPECT_TRUE(torch::equal(now[i], before[i])) << net->named_parameters().keys()[i];
  }
}

std::string saved(TwoLayerNet net) {
  std::stringstream stream;
  torch::save(net, stream);
  return stream.str();
}

void load(TwoLayerNet& net, const std::string& bytes) {
  std::stringstream stream(bytes);
  torch::load(net, stream);
}

TEST(TwoLayerNetReliability, DtypesTheOpsRefuseAreRefused) {
  // bfloat16 and float16 nets: test_net_low_precision.cpp.
  EXPECT_EQ(error_message([] { TwoLayerNet(TwoLayerNetOptions(2, 4, 1).dtype(at::kLong)); }),
            "twolayer: TwoLayerNet dtype must be float32, float64, bfloat16 or float16, but got "
            "int64");
  EXPECT_EQ(error_message([] { TwoLayerNet(TwoLayerNetOptions(2, 4, 1).dtype(at::kInt)); }),
            "twolayer: TwoLayerNet dtype must be float32, float64, bfloat16 or float16, but got "
            "int32");
}

TEST(TwoLayerNetReliability, TheActivationIsSavedAsABuffer) {
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).activation("relu").seed(1));
  const auto buffers = net->named_buffers();
  ASSERT_TRUE(buffers.contains("activation_name"));
  const at::Tensor bytes = buffers["activation_name"];
  EXPECT_EQ(bytes.scalar_type(), at::kByte);
  EXPECT_TRUE(torch::equal(bytes, torch::tensor({'r', 'e', 'l', 'u'}, torch::kUInt8)));
}

TEST(TwoLayerNetReliability, ACheckpointOfAnotherActivationIsRefusedAndNothingChanges) {
  const std::string relu =
      saved(TwoLayerNet(TwoLayerNetOptions(2, 4, 1).activation("relu").seed(1)));
  TwoLayerNet tanh_net(TwoLayerNetOptions(2, 4, 1).seed(2));
  const auto before = snapshot(tanh_net);
  EXPECT_EQ(error_message([&] { load(tanh_net, relu); }),
            "twolayer: the checkpoint's activation is 'relu', but this TwoLayerNet's activation "
            "is 'tanh'");
  ExpectUnchanged(tanh_net, before);
  EXPECT_EQ(tanh_net->options.activation(), "tanh");
}

TEST(TwoLayerNetReliability, ACheckpointOfAnotherShapeIsRefusedBeforeAnythingIsCopied) {
  // W1 and b1 agree (2-4-...), W2 does not: before the fix W1 and b1 were already overwritten.
  const std::string small = saved(TwoLayerNet(TwoLayerNetOptions(2, 4, 1).seed(1)));
  TwoLayerNet wide(TwoLayerNetOptions(2, 4, 3).seed(2));
  const auto before = snapshot(wide);
  EXPECT_EQ(error_message([&] { load(wide, small); }),
            "twolayer: the checkpoint's W2 has shape [1, 4], but this TwoLayerNet's W2 has "
            "shape [3, 4]");
  ExpectUnchanged(wide, before);
}

TEST(TwoLayerNetReliability, ACheckpointOfTheSameActivationLoads) {
  TwoLayerNet source(TwoLayerNetOptions(2, 4, 1).activation("sigmoid").seed(1));
  TwoLayerNet target(TwoLayerNetOptions(2, 4, 1).activation("sigmoid").seed(2));
  load(target, saved(source));
  EXPECT_TRUE(torch::equal(target->W1, source->W1));
  EXPECT_TRUE(torch::equal(target->W2, source->W2));
}

TEST(TwoLayerNetReliability, NegativeIterationsAreRefusedWithACallbackToo) {
  const at::Tensor X = torch::randn({10, 2});
  const at::Tensor Y = (torch::rand({10, 1}) > 0.5).to(torch::kFloat);
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(3));
  const std::string without = error_message([&] { net->fit(X, Y, -5, 1.2); });
  ASSERT_NE(without, "");
  int64_t calls = 0;
  const auto before = snapshot(net);
  EXPECT_EQ(error_message([&] { net->fit(X, Y, -5, 1.2, [&](int64_t, double) { ++calls; }); }),
            without);
  EXPECT_EQ(calls, 0);
  ExpectUnchanged(net, before);
}

TEST(TwoLayerNetReliability, TheCallbackGetsTheLastIterationToo) {
  const at::Tensor X = torch::randn({10, 2});
  const at::Tensor Y = (torch::rand({10, 1}) > 0.5).to(torch::kFloat);
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(3).init_scale(0.5));
  std::vector<std::pair<int64_t, double>> reports;
  const at::Tensor costs = net->fit(
      X, Y, 25, 0.5, [&](int64_t i, double cost) { reports.emplace_back(i, cost); }, 10);
  ASSERT_EQ(costs.numel(), 25);
  const std::vector<int64_t> expected{0, 10, 20, 24};
  ASSERT_EQ(reports.size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(reports[k].first, expected[k]);
    EXPECT_EQ(reports[k].second, costs[expected[k]].item<double>()) << expected[k];
  }
  // An iteration count that the reports divide evenly is not reported twice at its end.
  reports.clear();
  net->fit(
      X, Y, 21, 0.5, [&](int64_t i, double cost) { reports.emplace_back(i, cost); }, 10);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports.back().first, 20);
}

}  // namespace
}  // namespace twolayer_test
