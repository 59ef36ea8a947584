// The activation of a twolayer::TwoLayerNet is one value: what forward, loss and fit compute with
// is what the buffer activation_name records, whatever is done to the options after
// construction, and set_activation() changes both or, refused, neither.

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"
#include "throws_with_message.h"

namespace twolayer_test {
namespace {

using twolayer::TwoLayerNet;
using twolayer::TwoLayerNetOptions;

std::string recorded(TwoLayerNet& net) {
  const at::Tensor bytes = net->named_buffers()["activation_name"].contiguous();
  return std::string(bytes.data_ptr<uint8_t>(), bytes.data_ptr<uint8_t>() + bytes.numel());
}

at::Tensor expected_loss(TwoLayerNet& net, const at::Tensor& X, const at::Tensor& Y,
                         const std::string& activation) {
  return reference_loss(X, Y, net->W1, net->b1, net->W2, net->b2, activation);
}

TEST(TwoLayerNetActivation, SetActivationChangesTheComputationAndTheCheckpointTogether) {
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(1).dtype(at::kDouble));
  const at::Tensor X = torch::randn({16, 2}, torch::kDouble) * 3;
  const at::Tensor Y = (X.narrow(1, 0, 1) > 0).to(torch::kDouble);
  net->set_activation("relu");
  EXPECT_EQ(net->activation(), "relu");
  EXPECT_EQ(recorded(net), "relu");
  EXPECT_TRUE(torch::allclose(net->loss(X, Y), expected_loss(net, X, Y, "relu"), 1e-12));

  // Its checkpoint loads into a relu net, and a tanh net refuses it.
  std::stringstream stream;
  torch::save(net, stream);
  TwoLayerNet tanh_net(TwoLayerNetOptions(2, 4, 1).dtype(at::kDouble));
  EXPECT_TRUE(ThrowsWithMessage(
      [&] {
        std::stringstream copy(stream.str());
        torch::load(tanh_net, copy);
      },
      "twolayer: the checkpoint's activation is 'relu', but this TwoLayerNet's activation is "
      "'tanh'"));
}

TEST(TwoLayerNetActivation, AnUnknownActivationIsRefusedAndNothingChanges) {
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).activation("sigmoid"));
  EXPECT_TRUE(ThrowsWithMessage([&] { net->set_activation("gelu"); }, "gelu"));
  EXPECT_EQ(net->activation(), "sigmoid");
  EXPECT_EQ(net->options.activation(), "sigmoid");
  EXPECT_EQ(recorded(net), "sigmoid");
}

TEST(TwoLayerNetActivation, EditingTheOptionsAfterConstructionDoesNotDetachTheTwo) {
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(1).dtype(at::kDouble));
  const at::Tensor X = torch::randn({16, 2}, torch::kDouble) * 3;
  const at::Tensor Y = (X.narrow(1, 0, 1) > 0).to(torch::kDouble);
  net->options.activation("relu");  // read by reset(), as torch's modules read theirs
  EXPECT_EQ(net->activation(), "tanh");
  EXPECT_EQ(recorded(net), "tanh");
  EXPECT_TRUE(torch::allclose(net->loss(X, Y), expected_loss(net, X, Y, "tanh"), 1e-12));
  net->reset();
  EXPECT_EQ(net->activation(), "relu");
  EXPECT_EQ(recorded(net), "relu");
  EXPECT_TRUE(torch::allclose(net->loss(X, Y), expected_loss(net, X, Y, "relu"), 1e-12));
}

TEST(TwoLayerNetActivation, AClonedNetKeepsItsActivationInStep) {
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(1));
  net->set_activation("leaky_relu");
  auto copy = std::dynamic_pointer_cast<twolayer::TwoLayerNetImpl>(net->clone());
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->activation(), "leaky_relu");
  const at::Tensor bytes = copy->named_buffers()["activation_name"].contiguous();
  EXPECT_EQ(std::string(bytes.data_ptr<uint8_t>(), bytes.data_ptr<uint8_t>() + bytes.numel()),
            "leaky_relu");
}

}  // namespace
}  // namespace twolayer_test
