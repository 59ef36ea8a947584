// The error messages are part of the API (users read them, the Python tests match them): each
// is checked word for word, through both operators, with and without autograd, and the
// inputs must come out of a failed call untouched.

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"
#include "throws_with_message.h"

namespace twolayer_test {
namespace {

struct ErrorCase {
  std::string name;
  // Turns the valid float32 inputs X (5, 2), Y (5, 1), W1 (4, 2), b1 (4), W2 (1, 4), b2 (1)
  // into invalid ones.
  std::function<void(NetInputs&)> break_inputs;
  std::string activation;
  std::string message;
  // Cases about Y only concern loss; forward has no Y.
  bool applies_to_forward;
};

NetInputs valid_inputs() {
  const auto f = torch::kFloat;
  return {torch::randn({5, 2}, f), torch::rand({5, 1}, f),  torch::randn({4, 2}, f),
          torch::randn({4}, f),    torch::randn({1, 4}, f), torch::randn({1}, f)};
}

at::Tensor on_meta(const at::Tensor& t) {
  return torch::empty(t.sizes(), t.options().device(torch::kMeta));
}

ErrorCase loss_and_forward(std::string name, std::function<void(NetInputs&)> f, std::string message,
                           std::string activation = "tanh") {
  return {std::move(name), std::move(f), std::move(activation), std::move(message), true};
}

ErrorCase loss_only(std::string name, std::function<void(NetInputs&)> f, std::string message,
                    std::string activation = "tanh") {
  return {std::move(name), std::move(f), std::move(activation), std::move(message), false};
}

std::vector<ErrorCase> error_cases() {
  const auto f32 = torch::kFloat, f64 = torch::kDouble;
  return {
    // Rank.
    loss_and_forward(
        "rank/X_rank3",
        [](NetInputs& in) {
          in.X = torch::randn({2, 3, 4});
        },
        "twolayer: X must be a 2-D tensor of shape (m, n0), but got a 3-D tensor "
        "of shape [2, 3, 4]"),
        loss_and_forward(
            "rank/X_rank1", [](NetInputs& in) { in.X = torch::randn({5}); },
            "twolayer: X must be a 2-D tensor of shape (m, n0), but got a 1-D tensor "
            "of shape [5]"),
        loss_and_forward(
            "rank/W1_rank3",
            [](NetInputs& in) {
              in.W1 = torch::randn({4, 2, 1});
            },
            "twolayer: W1 must be a 2-D tensor of shape (n1, n0), but got a 3-D "
            "tensor of shape [4, 2, 1]"),
        loss_and_forward(
            "rank/W2_rank1", [](NetInputs& in) { in.W2 = torch::randn({4}); },
            "twolayer: W2 must be a 2-D tensor of shape (n2, n1), but got a 1-D "
            "tensor of shape [4]"),
        // Dtype of X.
        loss_and_forward(
            "dtype/X_int64",
            [](NetInputs& in) {
              in.X = torch::randint(0, 3, {5, 2}, torch::kLong);
            },
            "twolayer: X must be float32, float64, bfloat16 or float16, but got int64"),
        loss_and_forward(
            "dtype/X_int32",
            [](NetInputs& in) {
              in.X = torch::randint(0, 3, {5, 2}, torch::kInt);
            },
            "twolayer: X must be float32, float64, bfloat16 or float16, but got int32"),
        loss_and_forward(
            "dtype/X_uint8",
            [](NetInputs& in) {
              in.X = torch::randint(0, 3, {5, 2}, torch::kByte);
            },
            "twolayer: X must be float32, float64, bfloat16 or float16, but got uint8"),
        loss_and_forward(
            "dtype/X_bool", [](NetInputs& in) { in.X = in.X > 0; },
            "twolayer: X must be float32, float64, bfloat16 or float16, but got bool"),
        // A low-precision X into a float32 net: X is the odd one out.
        loss_and_forward(
            "dtype/X_float16", [](NetInputs& in) { in.X = in.X.to(torch::kHalf); },
#if TORCH_VERSION_MAJOR < 2
            "twolayer: X is float16, which on the CPU needs PyTorch 2.0 or later, but this is "
            "PyTorch " +
                std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                ", whose CPU has no float16 matrix products; use bfloat16 (or float32) on the CPU"),
#else
            "twolayer: X is float16, but the parameters W1, b1, W2, b2 are float32: convert X "
            "with X.float(), or build the net with dtype=torch.float16"),
#endif
        loss_and_forward(
            "dtype/X_bfloat16", [](NetInputs& in) { in.X = in.X.to(torch::kBFloat16); },
            "twolayer: X is bfloat16, but the parameters W1, b1, W2, b2 are float32: convert X "
            "with X.float(), or build the net with dtype=torch.bfloat16"),
        // Mixed dtypes.
        loss_and_forward(
            "mixed_dtype/W1_float64", [=](NetInputs& in) { in.W1 = in.W1.to(f64); },
            "twolayer: W1 must have the same dtype as X (float32), but got float64"),
        loss_and_forward(
            "mixed_dtype/b1_float64", [=](NetInputs& in) { in.b1 = in.b1.to(f64); },
            "twolayer: b1 must have the same dtype as X (float32), but got float64"),
        loss_and_forward(
            "mixed_dtype/W2_float64", [=](NetInputs& in) { in.W2 = in.W2.to(f64); },
            "twolayer: W2 must have the same dtype as X (float32), but got float64"),
        loss_and_forward(
            "mixed_dtype/b2_float64", [=](NetInputs& in) { in.b2 = in.b2.to(f64); },
            "twolayer: b2 must have the same dtype as X (float32), but got float64"),
        loss_only(
            "mixed_dtype/Y_float64", [=](NetInputs& in) { in.Y = in.Y.to(f64); },
            "twolayer: Y must have the same dtype as X (float32), but got float64; convert the "
            "labels with Y.to(X.dtype)"),
        loss_and_forward(
            "mixed_dtype/W1_int64", [](NetInputs& in) { in.W1 = in.W1.to(torch::kLong); },
            "twolayer: W1 must have the same dtype as X (float32), but got int64"),
        loss_and_forward(
            "mixed_dtype/X_float64_W1_float32",
            [=](NetInputs& in) {
              in.X = in.X.to(f64);
              in.Y = in.Y.to(f64);
              in.b1 = in.b1.to(f64);
              in.W2 = in.W2.to(f64);
              in.b2 = in.b2.to(f64);
            },
            "twolayer: W1 must have the same dtype as X (float64), but got float32"),
        // X alone differs from parameters that agree with each other: X is named, with the fix.
        loss_and_forward(
            "mixed_dtype/X_float64_parameters_float32", [=](NetInputs& in) { in.X = in.X.to(f64); },
            "twolayer: X is float64, but the parameters W1, b1, W2, b2 are float32: convert X with "
            "X.float(), or build the net with dtype=torch.float64"),
        loss_and_forward(
            "mixed_dtype/X_float32_parameters_float64",
            [=](NetInputs& in) {
              in.Y = in.Y.to(f64);
              in.W1 = in.W1.to(f64);
              in.b1 = in.b1.to(f64);
              in.W2 = in.W2.to(f64);
              in.b2 = in.b2.to(f64);
            },
            "twolayer: X is float32, but the parameters W1, b1, W2, b2 are float64: convert X with "
            "X.double(), or build the net with dtype=torch.float32"),
        // Devices.
        loss_and_forward(
            "device/W1_meta", [](NetInputs& in) { in.W1 = on_meta(in.W1); },
            "twolayer: W1 must be on the same device as X (cpu), but got meta"),
        loss_and_forward(
            "device/b1_meta", [](NetInputs& in) { in.b1 = on_meta(in.b1); },
            "twolayer: b1 must be on the same device as X (cpu), but got meta"),
        loss_and_forward(
            "device/W2_meta", [](NetInputs& in) { in.W2 = on_meta(in.W2); },
            "twolayer: W2 must be on the same device as X (cpu), but got meta"),
        loss_and_forward(
            "device/b2_meta", [](NetInputs& in) { in.b2 = on_meta(in.b2); },
            "twolayer: b2 must be on the same device as X (cpu), but got meta"),
        loss_only(
            "device/Y_meta", [](NetInputs& in) { in.Y = on_meta(in.Y); },
            "twolayer: Y must be on the same device as X (cpu), but got meta"),
        loss_and_forward(
            "device/X_meta", [](NetInputs& in) { in.X = on_meta(in.X); },
            "twolayer: W1 must be on the same device as X (meta), but got cpu"),
        // Empty dimensions.
        loss_and_forward(
            "empty/m_0",
            [=](NetInputs& in) {
              in.X = torch::randn({0, 2}, f32);
              in.Y = torch::rand({0, 1}, f32);
            },
            "twolayer: X must hold at least one example (m >= 1), but got shape "
            "[0, 2]"),
        loss_and_forward(
            "empty/n0_0",
            [=](NetInputs& in) {
              in.X = torch::randn({5, 0}, f32);
              in.W1 = torch::randn({4, 0}, f32);
            },
            "twolayer: X must have at least one feature (n0 >= 1), but got shape "
            "[5, 0]"),
        loss_and_forward(
            "empty/n1_0",
            [=](NetInputs& in) {
              in.W1 = torch::randn({0, 2}, f32);
              in.b1 = torch::randn({0}, f32);
              in.W2 = torch::randn({1, 0}, f32);
            },
            "twolayer: W1 must have at least one hidden unit (n1 >= 1), but got "
            "shape [0, 2]"),
        loss_and_forward(
            "empty/n2_0",
            [=](NetInputs& in) {
              in.W2 = torch::randn({0, 4}, f32);
              in.b2 = torch::randn({0}, f32);
              in.Y = torch::rand({5, 0}, f32);
            },
            "twolayer: W2 must have at least one output unit (n2 >= 1), but got "
            "shape [0, 4]"),
        // Shape mismatches.
        loss_and_forward(
            "shape/W1_shape",
            [=](NetInputs& in) {
              in.W1 = torch::randn({4, 3}, f32);
            },
            "twolayer: W1 has shape [4, 3] (n1, n0), which takes n0 = 3 features, "
            "but X has n0 = 2 features: X must have 3 features, or W1 shape (4, 2)"),
        loss_and_forward(
            "shape/b1_shape", [=](NetInputs& in) { in.b1 = torch::randn({3}, f32); },
            "twolayer: b1 must have shape (n1) = (4) to match W1 with n1 = 4 hidden "
            "units, but got [3]"),
        loss_and_forward(
            "shape/b1_rank2",
            [=](NetInputs& in) {
              in.b1 = torch::randn({1, 4}, f32);
            },
            "twolayer: b1 must have shape (n1) = (4) to match W1 with n1 = 4 hidden "
            "units, but got [1, 4]"),
        loss_and_forward(
            "shape/W2_shape",
            [=](NetInputs& in) {
              in.W2 = torch::randn({1, 3}, f32);
            },
            "twolayer: W2 has shape [1, 3] (n2, n1), which takes n1 = 3 hidden units, "
            "but W1 has n1 = 4 hidden units: W1 must have 3 hidden units, or W2 shape "
            "(1, 4)"),
        loss_and_forward(
            "shape/b2_shape", [=](NetInputs& in) { in.b2 = torch::randn({2}, f32); },
            "twolayer: b2 must have shape (n2) = (1) to match W2 with n2 = 1 output "
            "units, but got [2]"),
        loss_only(
            "shape/Y_rank1", [=](NetInputs& in) { in.Y = torch::rand({5}, f32); },
            "twolayer: Y must have shape (m, n2) = (5, 1) to match X with m = 5 examples "
            "and W2 with n2 = 1 output units, but got [5]; for one output pass "
            "Y.unsqueeze(1)"),
        loss_only(
            "shape/Y_wrong_m",
            [=](NetInputs& in) {
              in.Y = torch::rand({4, 1}, f32);
            },
            "twolayer: Y must have shape (m, n2) = (5, 1) to match X with m = 5 examples "
            "and W2 with n2 = 1 output units, but got [4, 1]"),
        loss_only(
            "shape/Y_wrong_n2",
            [=](NetInputs& in) {
              in.Y = torch::rand({5, 2}, f32);
            },
            "twolayer: Y must have shape (m, n2) = (5, 1) to match X with m = 5 examples "
            "and W2 with n2 = 1 output units, but got [5, 2]"),
        // Activation.
        loss_and_forward(
            "activation/activation_foo", [](NetInputs&) {},
            "twolayer: unknown activation 'foo'; expected one of tanh, relu, sigmoid, "
            "leaky_relu",
            "foo"),
        loss_and_forward(
            "activation/activation_case_sensitive", [](NetInputs&) {},
            "twolayer: unknown activation 'Tanh'; expected one of tanh, relu, "
            "sigmoid, leaky_relu",
            "Tanh"),
        loss_and_forward(
            "activation/activation_empty", [](NetInputs&) {},
            "twolayer: unknown activation ''; expected one of tanh, relu, sigmoid, "
            "leaky_relu",
            ""),
        // Check order (spec): with two faults, the one checked first is reported.
        loss_and_forward(
            "order/order_X_rank_before_X_dtype",
            [](NetInputs& in) {
              in.X = torch::randint(0, 3, {2, 3, 4});
            },
            "twolayer: X must be a 2-D tensor of shape (m, n0), but got a 3-D tensor "
            "of shape [2, 3, 4]"),
        loss_and_forward(
            "order/order_X_dtype_before_W1",
            [=](NetInputs& in) {
              in.X = torch::randint(0, 3, {5, 2}, torch::kLong);
              in.W1 = torch::randn({4, 3}, f32);
            },
            "twolayer: X must be float32, float64, bfloat16 or float16, but got int64"),
        loss_and_forward(
            "order/order_m_before_n0",
            [=](NetInputs& in) {
              in.X = torch::randn({0, 0}, f32);
            },
            "twolayer: X must hold at least one example (m >= 1), but got shape "
            "[0, 0]"),
        loss_and_forward(
            "order/order_W1_dtype_before_W1_device",
            [=](NetInputs& in) { in.W1 = on_meta(in.W1.to(f64)); },
            "twolayer: W1 must have the same dtype as X (float32), but got float64"),
        loss_and_forward(
            "order/order_W1_device_before_W1_shape",
            [=](NetInputs& in) {
              in.W1 = on_meta(torch::randn({4, 3}, f32));
            },
            "twolayer: W1 must be on the same device as X (cpu), but got meta"),
        loss_and_forward(
            "order/order_b1_before_W2",
            [=](NetInputs& in) {
              in.b1 = torch::randn({3}, f32);
              in.W2 = torch::randn({1, 3}, f32);
            },
            "twolayer: b1 must have shape (n1) = (4) to match W1 with n1 = 4 hidden "
            "units, but got [3]"),
        loss_and_forward(
            "order/order_W2_before_b2",
            [=](NetInputs& in) {
              in.W2 = in.W2.to(f64);
              in.b2 = torch::randn({2}, f32);
            },
            "twolayer: W2 must have the same dtype as X (float32), but got float64"),
        loss_and_forward(
            "order/order_b2_before_activation",
            [=](NetInputs& in) { in.b2 = torch::randn({2}, f32); },
            "twolayer: b2 must have shape (n2) = (1) to match W2 with n2 = 1 output "
            "units, but got [2]",
            "foo"),
        loss_only(
            "order/order_Y_before_activation", [=](NetInputs& in) { in.Y = torch::rand({5}, f32); },
            "twolayer: Y must have shape (m, n2) = (5, 1) to match X with m = 5 examples "
            "and W2 with n2 = 1 output units, but got [5]; for one output pass "
            "Y.unsqueeze(1)",
            "foo"),
  };
}

// Tensors that can be compared by value (meta tensors have no values, so shape and dtype).
::testing::AssertionResult Unchanged(const at::Tensor& after, const at::Tensor& before) {
  if (after.sizes() != before.sizes() || after.scalar_type() != before.scalar_type() ||
      after.device() != before.device()) {
    return ::testing::AssertionFailure() << "shape, dtype or device changed";
  }
  if (!after.is_meta() && !torch::equal(after, before)) {
    return ::testing::AssertionFailure() << "values changed";
  }
  if (after.requires_grad() && after.grad().defined()) {
    return ::testing::AssertionFailure() << "a gradient was accumulated";
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> error_groups() {
  std::vector<std::string> groups;
  for (const ErrorCase& c : error_cases()) {
    const std::string group = c.name.substr(0, c.name.find('/'));
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) groups.push_back(group);
  }
  return groups;
}

// One test per group of cases rather than per case: every test is a process under ctest, and
// loading LibTorch dominates the time of these checks. Each case reports under its own name.
class Errors : public ::testing::TestWithParam<std::string> {};

TEST_P(Errors, ExactMessageAndInputsUnchanged) {
  int cases = 0;
  for (const ErrorCase& c : error_cases()) {
    if (c.name.substr(0, c.name.find('/')) != GetParam()) continue;
    ++cases;
    SCOPED_TRACE("case " + c.name);
    torch::manual_seed(3);
    NetInputs broken = valid_inputs();
    c.break_inputs(broken);

    // Without autograd the backend kernel checks; with it, TwoLayerFunction's forward does.
    for (bool requires_grad : {false, true}) {
      SCOPED_TRACE(requires_grad ? "inputs require grad" : "no input requires grad");
      NetInputs in = broken.leaves(false);
      for (at::Tensor* t : {&in.X, &in.Y, &in.W1, &in.b1, &in.W2, &in.b2}) {
        if (requires_grad && t->is_floating_point()) t->requires_grad_(true);
      }
      const NetInputs before = in.leaves(false);

      EXPECT_TRUE(ThrowsWithMessage(
          [&] { twolayer::loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, c.activation); }, c.message))
          << "twolayer::loss";
      if (c.applies_to_forward) {
        EXPECT_TRUE(ThrowsWithMessage(
            [&] { twolayer::forward(in.X, in.W1, in.b1, in.W2, in.b2, c.activation); }, c.message))
            << "twolayer::forward";
      }
      const auto a = in.list(), b = before.list();
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_TRUE(Unchanged(a[i], b[i])) << input_names()[i];
      }
    }
  }
  EXPECT_GT(cases, 0);
}

INSTANTIATE_TEST_SUITE_P(Groups, Errors, ::testing::ValuesIn(error_groups()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// The cases above only break what they name; the unbroken inputs must really be valid, or a
// case could pass on an error it did not mean to provoke.
TEST(ErrorsBaseline, ValidInputsDoNotThrow) {
  torch::manual_seed(3);
  const NetInputs in = valid_inputs();
  for (const std::string& activation : all_activations()) {
    EXPECT_NO_THROW(twolayer::loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, activation));
    EXPECT_NO_THROW(twolayer::forward(in.X, in.W1, in.b1, in.W2, in.b2, activation));
  }
}

// TwoLayerFunction::apply bypasses the dispatcher's autograd kernel; it must check as well.
TEST(ErrorsBaseline, FunctionApplyChecksToo) {
  torch::manual_seed(3);
  NetInputs in = valid_inputs().leaves(true);
  in.W1 = torch::randn({4, 3}).requires_grad_(true);
  const std::string message =
      "twolayer: W1 has shape [4, 3] (n1, n0), which takes n0 = 3 features, but X has n0 = 2 "
      "features: X must have 3 features, or W1 shape (4, 2)";
  EXPECT_TRUE(ThrowsWithMessage(
      [&] { twolayer::TwoLayerFunction::apply(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, "tanh"); },
      message));
  EXPECT_TRUE(ThrowsWithMessage(
      [&] {
        twolayer::TwoLayerProbabilitiesFunction::apply(in.X, in.W1, in.b1, in.W2, in.b2, "tanh");
      },
      message));
}

}  // namespace
}  // namespace twolayer_test
