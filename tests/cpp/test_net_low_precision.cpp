// twolayer::TwoLayerNet in bfloat16 and float16 (TwoLayerNetOptions::dtype): made with the
// float32 draws rounded to its dtype; forward in its dtype, loss and fit's costs in float32
// (docs/low_precision.md); predict, score, and checkpoints that keep the dtype. The operators'
// own low-precision results are tested with the operators; these are the module's.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <twolayer/twolayer.h>

#include "throws_with_message.h"

namespace twolayer_test {
namespace {

using twolayer::TwoLayerNet;
using twolayer::TwoLayerNetImpl;
using twolayer::TwoLayerNetOptions;

// float16 matrix products on the CPU came with PyTorch 2.0; 1.x refuses a float16 net's calls.
constexpr bool kCpuHalf = TORCH_VERSION_MAJOR >= 2;

// A problem a 2-4-1 net learns in a few hundred steps: the sign of the first feature.
struct Problem {
  at::Tensor X, y;  // X (m, 2) float32, y (m,) int64 0/1
};

Problem separable(int64_t m = 200) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const at::Tensor X = torch::randn({m, 2}, gen, torch::kFloat);
  return {X, (X.select(1, 0) > 0).to(torch::kLong)};
}

class LowPrecisionNet : public ::testing::TestWithParam<at::ScalarType> {
 protected:
  void SetUp() override {
    if (GetParam() == at::kHalf && !kCpuHalf) GTEST_SKIP() << "no float16 products on 1.x";
  }
};

// Making a net computes nothing: float16 too on every LibTorch.
TEST(LowPrecisionNetInit, HoldsTheFloat32DrawsRoundedToItsDtype) {
  for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    TwoLayerNet low(TwoLayerNetOptions(3, 5, 2).seed(7).dtype(dtype));
    TwoLayerNet f32(TwoLayerNetOptions(3, 5, 2).seed(7));
    for (const auto& p : low->named_parameters()) {
      EXPECT_EQ(p.value().scalar_type(), dtype) << p.key();
      EXPECT_TRUE(p.value().requires_grad()) << p.key();
    }
    EXPECT_TRUE(torch::equal(low->W1, f32->W1.to(dtype))) << dtype;
    EXPECT_TRUE(torch::equal(low->W2, f32->W2.to(dtype))) << dtype;
    EXPECT_TRUE(torch::equal(low->b1, torch::zeros({5}, dtype))) << dtype;
    EXPECT_EQ(low->activation_name.scalar_type(), at::kByte);
  }
}

TEST_P(LowPrecisionNet, ForwardInItsDtypeLossInFloat32GradientsInItsDtype) {
  const at::ScalarType dtype = GetParam();
  TwoLayerNet low(TwoLayerNetOptions(2, 4, 1).seed(1).init_scale(1.0).dtype(dtype));
  TwoLayerNet f32(TwoLayerNetOptions(2, 4, 1).seed(1).init_scale(1.0));
  {
    torch::NoGradGuard no_grad;  // the same (rounded) weights in both
    for (const auto& p : f32->named_parameters()) {
      p.value().copy_(low->named_parameters()[p.key()]);
    }
  }
  const Problem data = separable();
  const at::Tensor X = data.X.to(dtype);

  const at::Tensor A2 = low->forward(X);
  EXPECT_EQ(A2.scalar_type(), dtype);
  EXPECT_EQ(A2.sizes(), (std::vector<int64_t>{200, 1}));
  EXPECT_TRUE(torch::allclose(A2.to(torch::kFloat), f32->forward(X.to(torch::kFloat)), 0.0,
                              2e-2));
  EXPECT_EQ(low->logits(X).scalar_type(), dtype);
  EXPECT_EQ(low->predict_proba(X).scalar_type(), dtype);

  // Labels of shape (m,) as int64, converted by the module.
  const at::Tensor J = low->loss(X, data.y);
  EXPECT_EQ(J.scalar_type(), torch::kFloat);
  EXPECT_EQ(J.dim(), 0);
  const at::Tensor J32 = f32->loss(X.to(torch::kFloat), data.y);
  EXPECT_NEAR(J.item<double>(), J32.item<double>(), 2e-2 * J32.item<double>());
  J.backward();
  J32.backward();
  for (const auto& p : low->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_EQ(p.value().grad().scalar_type(), dtype) << p.key();
    const at::Tensor ref = f32->named_parameters()[p.key()].grad();
    const double scale = ref.abs().max().item<double>();
    EXPECT_LE((p.value().grad().to(torch::kFloat) - ref).abs().max().item<double>(),
              5e-2 * scale + 1e-3)
        << p.key();
  }
}

TEST_P(LowPrecisionNet, TakesFloat32LabelsToo) {
  const at::ScalarType dtype = GetParam();
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(1).dtype(dtype));
  const Problem data = separable();
  const at::Tensor X = data.X.to(dtype);
  const at::Tensor J_int = net->loss(X, data.y);
  const at::Tensor J_f32 = net->loss(X, data.y.to(torch::kFloat).unsqueeze(1));
  const at::Tensor J_own = net->loss(X, data.y.to(dtype).unsqueeze(1));
  EXPECT_EQ(J_f32.scalar_type(), torch::kFloat);
  // 0/1 labels are exact in every dtype: the three are one cost.
  EXPECT_EQ(J_int.item<float>(), J_f32.item<float>());
  EXPECT_EQ(J_own.item<float>(), J_f32.item<float>());
}

TEST_P(LowPrecisionNet, FitReturnsFloat32CostsAndTrainsInItsDtype) {
  const at::ScalarType dtype = GetParam();
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(2).init_scale(1.0).dtype(dtype));
  const Problem data = separable();
  const at::Tensor X = data.X.to(dtype);
  int64_t reports = 0;
  const at::Tensor costs = net->fit(
      X, data.y, 300, 1.0, [&](int64_t, double cost) { reports += std::isfinite(cost) ? 1 : 0; },
      100);
  EXPECT_EQ(costs.scalar_type(), torch::kFloat);
  EXPECT_EQ(costs.sizes(), (std::vector<int64_t>{300}));
  EXPECT_GE(reports, 3);
  EXPECT_LT(costs[-1].item<double>(), 0.5 * costs[0].item<double>());
  for (const auto& p : net->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), dtype) << p.key();
  }
  const at::Tensor labels = net->predict(X);
  EXPECT_EQ(labels.scalar_type(), torch::kLong);
  EXPECT_EQ(labels.sizes(), (std::vector<int64_t>{200}));
  EXPECT_GT(net->score(X, data.y), 0.9);
}

TEST_P(LowPrecisionNet, CheckpointsKeepTheDtypeAndTheValues) {
  const at::ScalarType dtype = GetParam();
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(4).init_scale(1.0).dtype(dtype));
  const Problem data = separable();
  net->fit(data.X.to(dtype), data.y, 20, 1.0);

  const std::string path = ::testing::TempDir() + "twolayer_low_precision_" +
                           std::string(c10::toString(dtype)) + ".pt";
  torch::save(net, path);
  TwoLayerNet loaded = TwoLayerNetImpl::load(path);
  std::remove(path.c_str());
  for (const auto& p : loaded->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), dtype) << p.key();
    EXPECT_TRUE(torch::equal(p.value(), net->named_parameters()[p.key()])) << p.key();
  }
  EXPECT_TRUE(torch::equal(loaded->forward(data.X.to(dtype)), net->forward(data.X.to(dtype))));

  // torch::load into a net of the same dtype copies the values.
  std::stringstream stream;
  torch::save(net, stream);
  TwoLayerNet other(TwoLayerNetOptions(2, 4, 1).seed(9).dtype(dtype));
  torch::load(other, stream);
  EXPECT_TRUE(torch::equal(other->W1, net->W1));
  EXPECT_EQ(other->W1.scalar_type(), dtype);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LowPrecisionNet, ::testing::Values(at::kBFloat16, at::kHalf),
                         [](const ::testing::TestParamInfo<at::ScalarType>& info) {
                           return info.param == at::kBFloat16 ? "bfloat16" : "float16";
                         });

TEST(LowPrecisionNetTorch1, AFloat16NetIsMadeButItsCpuCallsAreRefusedOn1x) {
  if (kCpuHalf) GTEST_SKIP() << "LibTorch " << TORCH_VERSION << " has float16 products on the CPU";
  // Made, saved and converted like any module (to CUDA, or to another dtype)...
  TwoLayerNet net(TwoLayerNetOptions(2, 4, 1).seed(1).dtype(at::kHalf));
  EXPECT_EQ(net->W1.scalar_type(), at::kHalf);
  // ...but no computation on the CPU: the operators' message names float16 and bfloat16.
  const std::string message = message_of([&] { net->forward(torch::zeros({3, 2}, at::kHalf)); });
  EXPECT_NE(message.find("float16"), std::string::npos) << message;
  EXPECT_NE(message.find("bfloat16"), std::string::npos) << message;
  net->to(at::kBFloat16);
  EXPECT_EQ(net->forward(torch::zeros({3, 2}, at::kBFloat16)).scalar_type(), at::kBFloat16);
}

// Python's bfloat16 checkpoints (tests/python/save_checkpoints.py, run first by ctest, which
// sets TWOLAYER_CHECKPOINT_DIR; kept out of the plain run like CheckpointCrossLanguage.*): a
// pickled state dict and a TorchScript file, each made into a bfloat16 net with the same
// trained parameters.
TEST(CheckpointCrossLanguageLowPrecision, LoadMakesBfloat16NetsOfPythonFiles) {
  const char* dir = std::getenv("TWOLAYER_CHECKPOINT_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "TWOLAYER_CHECKPOINT_DIR is not set";
  const std::string state = std::string(dir) + "/python_bfloat16_state_dict.pt";
  const std::string scripted = std::string(dir) + "/python_bfloat16_scripted_net.pt";
  ASSERT_TRUE(std::ifstream(state).good()) << state << " is missing";
  ASSERT_TRUE(std::ifstream(scripted).good()) << scripted << " is missing";
  TwoLayerNet from_state = TwoLayerNetImpl::load(state);
  TwoLayerNet from_script = TwoLayerNetImpl::load(scripted);
  // Trained: not the seeded initial weights (save_checkpoints.py's seed 5).
  TwoLayerNet initial(TwoLayerNetOptions(2, 4, 1).seed(5).dtype(at::kBFloat16));
  for (const auto& p : from_state->named_parameters()) {
    EXPECT_EQ(p.value().scalar_type(), at::kBFloat16) << p.key();
    EXPECT_TRUE(torch::equal(p.value(), from_script->named_parameters()[p.key()])) << p.key();
  }
  EXPECT_FALSE(torch::equal(from_state->W1, initial->W1));
  const at::Tensor X = torch::randn({10, 2}).to(at::kBFloat16);
  EXPECT_EQ(from_state->forward(X).scalar_type(), at::kBFloat16);
  EXPECT_TRUE(torch::equal(from_state->forward(X), from_script->forward(X)));
}

}  // namespace
}  // namespace twolayer_test
