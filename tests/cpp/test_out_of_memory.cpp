// Out of memory is a c10::Error that names what could not be allocated and how many bytes, never
// a bare std::bad_alloc, and it leaves the parameters as they were. The shapes ask for 512 TiB
// of hidden layer (2^24 rows x 2^23 hidden units in float), more than any address space holds,
// while the inputs themselves take 192 MiB.

#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "throws_with_message.h"

namespace twolayer_test {
namespace {

constexpr int64_t kRows = int64_t{1} << 24;
constexpr int64_t kHidden = int64_t{1} << 23;
// m * n1 floats.
constexpr const char* kBytes = "562949953421312 bytes";

struct Huge {
  at::Tensor X = torch::zeros({kRows, 1});
  at::Tensor Y = torch::zeros({kRows, 1});
  at::Tensor W1 = torch::full({kHidden, 1}, 0.5f);
  at::Tensor b1 = torch::zeros({kHidden});
  at::Tensor W2 = torch::full({1, kHidden}, 0.25f);
  at::Tensor b2 = torch::zeros({1});
};

TEST(OutOfMemory, ACostWithoutGradientsNamesTheWorkspace) {
  Huge h;
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::loss(h.X, h.Y, h.W1, h.b1, h.W2, h.b2, "tanh"); }, "out of memory"));
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::loss(h.X, h.Y, h.W1, h.b1, h.W2, h.b2, "tanh"); }, kBytes));
}

TEST(OutOfMemory, ACostWithGradientsNamesTheCache) {
  Huge h;
  h.W1.requires_grad_();
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::loss(h.X, h.Y, h.W1, h.b1, h.W2, h.b2, "tanh"); }, kBytes));
}

TEST(OutOfMemory, FitLeavesTheParametersAsTheyWere) {
  Huge h;
  const std::vector<at::Tensor> before = {h.W1.clone(), h.b1.clone(), h.W2.clone(),
                                          h.b2.clone()};
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::fit_(h.W1, h.b1, h.W2, h.b2, h.X, h.Y, 3, 0.5, "tanh"); }, kBytes));
  EXPECT_TRUE(torch::equal(h.W1, before[0]));
  EXPECT_TRUE(torch::equal(h.b1, before[1]));
  EXPECT_TRUE(torch::equal(h.W2, before[2]));
  EXPECT_TRUE(torch::equal(h.b2, before[3]));
}

}  // namespace
}  // namespace twolayer_test
