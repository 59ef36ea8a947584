// Users call the operators from many threads at once. Whatever those threads share (read-only
// inputs, the registered operators, the CPU kernels' chunking), eight concurrent callers must get
// exactly, bit for bit, what the same calls give when made one after another.
//
// The intra-op thread count is set to 2 for these tests, so the fused CPU kernels cut the large
// batches below into two chunks inside every caller: each caller's sums then depend on a thread
// count that other callers could disturb if it were not read consistently.

#include <atomic>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "reference.h"

namespace twolayer_test {
namespace {

constexpr int kThreads = 8;
constexpr int kRounds = 2;  // calls per thread, so that each thread overlaps others more than once

// The lecture's small network (the CPU kernels' own loops) and a wider one (their BLAS
// products), each with enough examples (over 2048) for two chunks of rows.
const std::vector<Shape>& shapes() {
  static const std::vector<Shape> s = {{2100, 2, 4, 1}, {2100, 5, 12, 2}};
  return s;
}

class ThreadsTest : public ::testing::TestWithParam<std::tuple<Shape, at::ScalarType>> {
 protected:
  void SetUp() override {
    previous_threads_ = at::get_num_threads();
    at::set_num_threads(2);
    torch::manual_seed(1234);
  }
  void TearDown() override { at::set_num_threads(previous_threads_); }

  Shape shape() const { return std::get<0>(GetParam()); }
  at::ScalarType dtype() const { return std::get<1>(GetParam()); }

 private:
  int previous_threads_ = 1;
};

// Runs body(i) for i in [0, kThreads) on kThreads threads released at the same moment, and
// rethrows the first exception any of them threw.
template <typename Body>
void run_concurrently(const Body& body) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::exception_ptr> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (!go.load()) std::this_thread::yield();
      try {
        body(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  while (ready.load() < kThreads) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

const std::string& activation_of(int thread) {
  return all_activations()[thread % all_activations().size()];
}

::testing::AssertionResult AllEqual(const std::vector<at::Tensor>& actual,
                                    const std::vector<at::Tensor>& expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << actual.size() << " tensors, expected " << expected.size();
  }
  for (size_t k = 0; k < actual.size(); ++k) {
    if (actual[k].defined() != expected[k].defined() ||
        (actual[k].defined() && !torch::equal(actual[k], expected[k]))) {
      return ::testing::AssertionFailure()
             << "tensor " << k << " differs (max |diff| "
             << (actual[k].defined() && expected[k].defined()
                     ? (actual[k] - expected[k]).abs().max().item<double>()
                     : -1.0)
             << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

// J, A2, without autograd and with it, and every gradient of both, all from the same shared
// tensors: torch::autograd::grad returns the gradients, so the shared leaves' .grad is not
// written and the threads only read what they share.
std::vector<at::Tensor> everything_from_shared(const NetInputs& in, const std::string& activation,
                                               const at::Tensor& grad_J,
                                               const at::Tensor& grad_A2) {
  std::vector<at::Tensor> out;
  {
    torch::NoGradGuard no_grad;
    out.push_back(twolayer::loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, activation));
    out.push_back(twolayer::forward(in.X, in.W1, in.b1, in.W2, in.b2, activation));
  }
  const at::Tensor J = twolayer::loss(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, activation);
  out.push_back(J.detach());
  for (const auto& g : torch::autograd::grad({J}, in.list(), {grad_J})) out.push_back(g);
  const at::Tensor A2 = twolayer::forward(in.X, in.W1, in.b1, in.W2, in.b2, activation);
  out.push_back(A2.detach());
  for (const auto& g : torch::autograd::grad({A2}, in.forward_list(), {grad_A2})) {
    out.push_back(g);
  }
  return out;
}

TEST_P(ThreadsTest, SharedInputsGiveTheSequentialResults) {
  NetInputs in = random_inputs(shape(), dtype());
  for (at::Tensor* t : {&in.X, &in.Y, &in.W1, &in.b1, &in.W2, &in.b2}) t->requires_grad_(true);
  const at::Tensor grad_J = random_scalar_grad(dtype());
  const at::Tensor grad_A2 = torch::randn({shape().m, shape().n2}, dtype());

  std::vector<std::vector<at::Tensor>> expected(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    expected[i] = everything_from_shared(in, activation_of(i), grad_J, grad_A2);
  }
  std::vector<std::vector<std::vector<at::Tensor>>> got(kThreads);
  run_concurrently([&](int i) {
    for (int r = 0; r < kRounds; ++r) {
      got[i].push_back(everything_from_shared(in, activation_of(i), grad_J, grad_A2));
    }
  });
  for (int i = 0; i < kThreads; ++i) {
    for (int r = 0; r < kRounds; ++r) {
      EXPECT_TRUE(AllEqual(got[i][r], expected[i]))
          << "thread " << i << " (" << activation_of(i) << "), round " << r;
    }
  }
}

// Parameters of one thread, leaves with their own .grad.
struct Parameters {
  at::Tensor W1, b1, W2, b2;
  std::vector<at::Tensor> list() const { return {W1, b1, W2, b2}; }
};

std::vector<Parameters> parameters_per_thread(const Shape& s, at::ScalarType dtype) {
  std::vector<Parameters> params;
  for (int i = 0; i < kThreads; ++i) {
    const NetInputs r = random_inputs(s, dtype);
    params.push_back({r.W1, r.b1, r.W2, r.b2});
  }
  return params;
}

Parameters fresh_leaves(const Parameters& p) {
  auto leaf = [](const at::Tensor& t) { return t.detach().clone().requires_grad_(true); };
  return {leaf(p.W1), leaf(p.b1), leaf(p.W2), leaf(p.b2)};
}

// J.backward() and A2.backward() into the parameters' own .grad, as a training loop does.
std::vector<at::Tensor> backward_into_own_parameters(const at::Tensor& X, const at::Tensor& Y,
                                                     const Parameters& p,
                                                     const std::string& activation,
                                                     const at::Tensor& grad_A2) {
  std::vector<at::Tensor> out;
  Parameters q = fresh_leaves(p);
  const at::Tensor J = twolayer::loss(X, Y, q.W1, q.b1, q.W2, q.b2, activation);
  J.backward();
  out.push_back(J.detach());
  for (const auto& t : q.list()) out.push_back(t.grad());
  q = fresh_leaves(p);
  const at::Tensor A2 = twolayer::forward(X, q.W1, q.b1, q.W2, q.b2, activation);
  A2.backward(grad_A2);
  out.push_back(A2.detach());
  for (const auto& t : q.list()) out.push_back(t.grad());
  return out;
}

TEST_P(ThreadsTest, SeparateParametersGiveTheSequentialResults) {
  const NetInputs data = random_inputs(shape(), dtype());
  const std::vector<Parameters> params = parameters_per_thread(shape(), dtype());
  const at::Tensor grad_A2 = torch::randn({shape().m, shape().n2}, dtype());

  std::vector<std::vector<at::Tensor>> expected(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    expected[i] =
        backward_into_own_parameters(data.X, data.Y, params[i], activation_of(i), grad_A2);
  }
  std::vector<std::vector<std::vector<at::Tensor>>> got(kThreads);
  run_concurrently([&](int i) {
    for (int r = 0; r < kRounds; ++r) {
      got[i].push_back(
          backward_into_own_parameters(data.X, data.Y, params[i], activation_of(i), grad_A2));
    }
  });
  for (int i = 0; i < kThreads; ++i) {
    for (int r = 0; r < kRounds; ++r) {
      EXPECT_TRUE(AllEqual(got[i][r], expected[i]))
          << "thread " << i << " (" << activation_of(i) << "), round " << r;
    }
  }
}

// fit_ updates its parameters in place: each thread trains its own copy on the shared data.
std::vector<at::Tensor> fit_copy(const at::Tensor& X, const at::Tensor& Y, const Parameters& p,
                                 const std::string& activation) {
  at::Tensor W1 = p.W1.clone(), b1 = p.b1.clone(), W2 = p.W2.clone(), b2 = p.b2.clone();
  const at::Tensor costs = twolayer::fit_(W1, b1, W2, b2, X, Y, 5, 0.5, activation);
  return {costs, W1, b1, W2, b2};
}

TEST_P(ThreadsTest, FitOnSeparateParametersGivesTheSequentialResults) {
  const NetInputs data = random_inputs(shape(), dtype());
  const std::vector<Parameters> params = parameters_per_thread(shape(), dtype());

  std::vector<std::vector<at::Tensor>> expected(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    expected[i] = fit_copy(data.X, data.Y, params[i], activation_of(i));
  }
  std::vector<std::vector<at::Tensor>> got(kThreads);
  run_concurrently([&](int i) { got[i] = fit_copy(data.X, data.Y, params[i], activation_of(i)); });
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_TRUE(AllEqual(got[i], expected[i])) << "thread " << i << " (" << activation_of(i) << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(ShapesAndDtypes, ThreadsTest,
                         ::testing::Combine(::testing::ValuesIn(shapes()),
                                            ::testing::Values(at::kFloat, at::kDouble)),
                         [](const ::testing::TestParamInfo<ThreadsTest::ParamType>& info) {
                           std::ostringstream os;
                           os << std::get<0>(info.param) << "_"
                              << dtype_tag(std::get<1>(info.param));
                           return os.str();
                         });

}  // namespace
}  // namespace twolayer_test
