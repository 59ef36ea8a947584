// TwoLayerNet::load(path) in C++: a runnable net, with its sizes, dtype and activation, from a
// torch::save archive made here; anything else is refused with a c10::Error that says what is
// wrong (never a crash), and loading draws nothing from the global generator. The files Python
// writes are read in test_checkpoint.cpp and test_scripted_model.cpp (CheckpointCrossLanguage,
// ScriptedModel).

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "throws_with_message.h"

namespace twolayer_test {
namespace {

using twolayer::TwoLayerNet;
using twolayer::TwoLayerNetImpl;
using twolayer::TwoLayerNetOptions;

class Folder {
 public:
  Folder() {
    std::string pattern = ::testing::TempDir() + "twolayer_load_XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* made = mkdtemp(buf.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = made;
  }
  ~Folder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TwoLayerNet trained(const std::string& activation, at::ScalarType dtype) {
  TwoLayerNet net(
      TwoLayerNetOptions(3, 5, 2).activation(activation).dtype(dtype).seed(17).init_scale(0.5));
  const at::Tensor X = torch::randn({20, 3}, at::detail::createCPUGenerator(18)).to(dtype);
  const at::Tensor Y = (torch::rand({20, 2}, at::detail::createCPUGenerator(19)) > 0.5).to(dtype);
  net->fit(X, Y, 25, 0.5);  // non-zero biases, no init values left
  return net;
}

TEST(TwoLayerNetLoad, MakesTheSavedNetOfATorchSaveArchive) {
  Folder folder;
  for (const auto& [activation, dtype] :
       std::vector<std::pair<std::string, at::ScalarType>>{{"relu", at::kDouble},
                                                           {"leaky_relu", at::kFloat},
                                                           {"sigmoid", at::kFloat},
                                                           {"tanh", at::kDouble}}) {
    SCOPED_TRACE(activation);
    TwoLayerNet net = trained(activation, dtype);
    torch::save(net, folder.file("net.pt"));
    TwoLayerNet loaded = TwoLayerNetImpl::load(folder.file("net.pt"));
    EXPECT_EQ(loaded->activation(), activation);
    EXPECT_EQ(loaded->options.n0(), 3);
    EXPECT_EQ(loaded->options.n1(), 5);
    EXPECT_EQ(loaded->options.n2(), 2);
    EXPECT_FALSE(loaded->options.seed().has_value());
    for (const auto& item : net->named_parameters()) {
      const std::string& name = item.key();
      const at::Tensor& saved = item.value();
      const at::Tensor mine = loaded->named_parameters()[name];
      EXPECT_EQ(mine.scalar_type(), dtype) << name;
      EXPECT_TRUE(mine.requires_grad()) << name;
      EXPECT_TRUE(torch::equal(mine, saved)) << name;
    }
    const at::Tensor X = torch::randn({7, 3}).to(dtype);
    EXPECT_TRUE(torch::equal(loaded->forward(X), net->forward(X)));
    EXPECT_TRUE(torch::equal(loaded->activation_name, net->activation_name));
  }
}

TEST(TwoLayerNetLoad, DrawsNothingFromTheGlobalGenerator) {
  Folder folder;
  torch::save(trained("tanh", at::kFloat), folder.file("net.pt"));
  torch::manual_seed(123);
  const at::Tensor expected = torch::rand({3});
  torch::manual_seed(123);
  TwoLayerNetImpl::load(folder.file("net.pt"));
  EXPECT_TRUE(torch::equal(torch::rand({3}), expected));
}

// Archives written with torch::serialize::OutputArchive by hand: what a damaged or foreign
// checkpoint can hold.
std::string load_message(const Folder& folder,
                         const std::function<void(torch::serialize::OutputArchive&)>& fill) {
  torch::serialize::OutputArchive archive;
  fill(archive);
  archive.save_to(folder.file("made.pt"));
  return message_of([&] { TwoLayerNetImpl::load(folder.file("made.pt")); });
}

void write_net(torch::serialize::OutputArchive& archive, const std::vector<std::string>& skip = {}) {
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(1));
  for (const auto& item : net->named_parameters()) {
    if (std::find(skip.begin(), skip.end(), item.key()) == skip.end()) {
      archive.write(item.key(), item.value());
    }
  }
  if (std::find(skip.begin(), skip.end(), "activation_name") == skip.end()) {
    archive.write("activation_name", net->activation_name, /*is_buffer=*/true);
  }
}

TEST(TwoLayerNetLoad, RefusesWhatIsNoTwoLayerNetCheckpoint) {
  Folder folder;
  const std::string made = folder.file("made.pt");
  EXPECT_EQ(load_message(folder, [](auto& a) { write_net(a, {"W2"}); }),
            "twolayer: " + made + " is not a checkpoint of a TwoLayerNet: it has no W2");
  EXPECT_EQ(load_message(folder,
                         [](auto& a) {
                           write_net(a);
                           a.write("W3", torch::zeros({2}));
                         }),
            "twolayer: " + made +
                " is not a checkpoint of a TwoLayerNet: it holds W3, which a TwoLayerNet has not");
  EXPECT_EQ(load_message(folder,
                         [](auto& a) {
                           write_net(a, {"W1"});
                           a.write("W1", torch::zeros({8}));
                         }),
            "twolayer: the checkpoint's W1 must be 2-D, but has shape [8]");
  EXPECT_EQ(load_message(folder,
                         [](auto& a) {
                           write_net(a, {"b1"});
                           a.write("b1", torch::zeros({3}));
                         }),
            "twolayer: the checkpoint's b1 has shape [3], but its W1 and W2 make a "
            "TwoLayerNet(n0=2, n1=4, n2=1), whose b1 has shape [4]");
  EXPECT_EQ(load_message(folder,
                         [](auto& a) {
                           write_net(a, {"activation_name"});
                           a.write("activation_name", torch::tensor({1, 2, 3}, torch::kUInt8),
                                   /*is_buffer=*/true);
                         }),
            "twolayer: the checkpoint's activation_name holds bytes that name no activation: the "
            "checkpoint is damaged, or was saved from a net whose buffer was never written");
  // Without the activation: a checkpoint from before it was saved, when every net was tanh.
  EXPECT_EQ(load_message(folder, [](auto& a) { write_net(a, {"activation_name"}); }),
            "(no exception)");
  EXPECT_EQ(TwoLayerNetImpl::load(made)->activation(), "tanh");

  torch::nn::Linear linear(2, 3);
  torch::save(linear, folder.file("linear.pt"));
  EXPECT_EQ(message_of([&] { TwoLayerNetImpl::load(folder.file("linear.pt")); }),
            "twolayer: " + folder.file("linear.pt") +
                " is not a checkpoint of a TwoLayerNet: it has no W1");
  EXPECT_EQ(message_of([&] { TwoLayerNetImpl::load(folder.file("missing.pt")); }),
            "twolayer: no checkpoint file " + folder.file("missing.pt"));
}

TEST(TwoLayerNetLoad, RefusesFilesThatAreNoCheckpointAtAllWithAC10Error) {
  Folder folder;
  torch::save(trained("tanh", at::kDouble), folder.file("net.pt"));
  std::ifstream in(folder.file("net.pt"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<std::pair<std::string, std::string>> files = {
      {"text", "W1 = [[0.1, 0.2]]\n"},
      {"empty", ""},
      {"zip_signature_only", std::string("PK\x03\x04", 4) + std::string(100, 'x')},
      {"cut_in_half", bytes.substr(0, bytes.size() / 2)},
      {"cut_near_end", bytes.substr(0, bytes.size() - 30)}};
  for (const auto& [name, content] : files) {
    std::ofstream(folder.file(name), std::ios::binary) << content;
    const std::string expected_start = "twolayer: cannot read " + folder.file(name) +
                                       " as a TwoLayerNet checkpoint (a torch::save archive, a "
                                       "TorchScript file or a state dict saved with torch.save): ";
    // A copy: C++17 lambdas cannot capture a structured binding (clang refuses it).
    const std::string path = folder.file(name);
    const std::string message = message_of([&] { TwoLayerNetImpl::load(path); });
    EXPECT_EQ(message.rfind(expected_start, 0), 0u) << name << ": " << message;
    EXPECT_GT(message.size(), expected_start.size()) << name << ": the cause is missing";
  }
}

}  // namespace
}  // namespace twolayer_test
