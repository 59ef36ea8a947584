#include "math/fit.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <utility>
#include <vector>

#include <ATen/MemoryOverlap.h>
#include <c10/core/InferenceMode.h>

#include "math/six_equations.h"

namespace twolayer {

namespace {

struct Named {
  const char* name;
  const at::Tensor* tensor;
};

// The storage offsets of t's elements, sorted.
std::vector<int64_t> element_offsets(const at::Tensor& t) {
  std::vector<int64_t> offsets{t.storage_offset()};
  for (int64_t d = 0; d < t.dim(); ++d) {
    std::vector<int64_t> next;
    next.reserve(offsets.size() * static_cast<size_t>(t.size(d)));
    for (int64_t base : offsets) {
      for (int64_t i = 0; i < t.size(d); ++i) next.push_back(base + i * t.stride(d));
    }
    offsets = std::move(next);
  }
  std::sort(offsets.begin(), offsets.end());
  return offsets;
}

// Whether two strided tensors share an element. ATen's answer is exact for No and Full; Partial
// and TooHard only say that the byte ranges may meet (interleaved columns of one buffer share
// a range but no element), so those are compared element by element, which only tensors in
// one storage ever need.
bool overlap(const at::Tensor& a, const at::Tensor& b) {
  // Meta (and fake) tensors have no memory to share, and possibly symbolic sizes.
  if (!a.defined() || !b.defined() || a.is_meta() || b.is_meta()) return false;
  if (!a.has_storage() || !b.has_storage() || a.numel() == 0 || b.numel() == 0) return false;
  const at::MemOverlapStatus status = at::get_overlap_status(a, b);
  if (status == at::MemOverlapStatus::No) return false;
  if (status == at::MemOverlapStatus::Full) return true;
  if (!a.storage().is_alias_of(b.storage())) return false;
  const std::vector<int64_t> in_a = element_offsets(a), in_b = element_offsets(b);
  std::vector<int64_t> common;
  std::set_intersection(in_a.begin(), in_a.end(), in_b.begin(), in_b.end(),
                        std::back_inserter(common));
  return !common.empty();
}

}  // namespace

SymNetworkShape check_fit_arguments(const at::Tensor& W1, const at::Tensor& b1,
                                    const at::Tensor& W2, const at::Tensor& b2, const at::Tensor& X,
                                    const at::Tensor& Y, int64_t iterations, double learning_rate) {
  const Named parameters[] = {{"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}};
  // Outside inference mode an inference tensor cannot be updated in place. Checked here, in
  // every backend's kernel, because with inference tensors for X and Y too no argument carries
  // the Autograd key and the autograd kernel never runs.
  if (!c10::InferenceMode::is_enabled()) {
    for (const auto& [name, p] : parameters) {
      TORCH_CHECK(!p->defined() || !p->is_inference(), "twolayer: ", name,
                  " is an inference tensor, which fit_ cannot update outside "
                  "torch.inference_mode()");
    }
  }
  SymNetworkShape shape = check_network_sizes(X, Y, W1, b1, W2, b2, Labels::Required);
  // An expanded parameter (several elements on one memory location) cannot be updated in place;
  // refuse it before the first update rather than fail halfway through.
  for (const auto& [name, tensor] : parameters) {
    TORCH_CHECK(at::has_internal_overlap(*tensor) != at::MemOverlap::Yes, "twolayer: ", name,
                " must not be an expanded tensor (fit_ updates it in place), but got strides ",
                tensor->strides());
  }
  // A parameter that shares memory with another argument changes that argument as it is
  // updated, and each kernel would see a different mix of old and new values.
  const Named arguments[] = {{"W1", &W1}, {"b1", &b1}, {"W2", &W2},
                             {"b2", &b2}, {"X", &X},   {"Y", &Y}};
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = i + 1; j < 6; ++j) {
      TORCH_CHECK(
          !overlap(*arguments[i].tensor, *arguments[j].tensor), "twolayer: ", arguments[i].name,
          " and ", arguments[j].name, " must not share memory (fit_ updates ", arguments[i].name,
          " in place), but they overlap; pass a copy (e.g. ", arguments[j].name, ".clone())");
    }
  }
  TORCH_CHECK(iterations >= 0, "twolayer: iterations must be >= 0, but got ", iterations);
  const at::ScalarType cost_type = compute_type(X.scalar_type());
  const int64_t max_iterations =
      std::numeric_limits<int64_t>::max() / static_cast<int64_t>(c10::elementSize(cost_type));
  TORCH_CHECK(iterations <= max_iterations, "twolayer: iterations must be at most ", max_iterations,
              " (the returned costs, one ", dtype_name(cost_type),
              " per iteration, must fit in memory), but got ", iterations);
  TORCH_CHECK(std::isfinite(learning_rate), "twolayer: learning_rate must be finite, but got ",
              learning_rate);
  return shape;
}

at::Tensor allocate_costs(int64_t iterations, const at::TensorOptions& options) {
  try {
    return at::empty({iterations}, options);
  } catch (const c10::Error& e) {
    // Before the first update: the parameters are still as they came.
    TORCH_CHECK(false, "twolayer: iterations = ", iterations, " needs a cost tensor of ",
                iterations, " values, which cannot be allocated (", e.what_without_backtrace(),
                ")");
  }
}

at::Tensor reference_fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                         const at::Tensor& X, const at::Tensor& Y, int64_t iterations,
                         double learning_rate, Activation activation, OutputLayer output) {
  const at::TensorOptions cost_options = X.options().dtype(compute_type(X.scalar_type()));
  at::Tensor costs = allocate_costs(iterations, cost_options);
  const at::Tensor one = at::ones({}, cost_options);
  for (int64_t i = 0; i < iterations; ++i) {
    const ForwardCache cache = forward_propagation(X, W1, b1, W2, b2, activation);
    costs[i].copy_(network_cost(cache, Y, output));  // a copy, not item(): no device sync
    const Gradients d =
        loss_backward(one, X, Y, W1, W2, cache, activation, output, GradientMask::parameters());
    W1.sub_(d.W1, learning_rate);
    b1.sub_(d.b1, learning_rate);
    W2.sub_(d.W2, learning_rate);
    b2.sub_(d.b2, learning_rate);
  }
  return costs;
}

}  // namespace twolayer
