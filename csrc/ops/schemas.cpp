// The operator schemas of the namespace twolayer. The public ones are what Python, TorchScript
// and C++ programs call; the underscored ones are the pieces the autograd Functions dispatch to,
// so that every backend (CPU, CUDA, Meta) can provide its own kernel for them. The tests' hooks
// have a namespace of their own (testing_hooks.cpp).

#include <ATen/core/dispatch/Dispatcher.h>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

#include "ops/registration.h"
#include "twolayer/version.h"

namespace twolayer {
namespace detail {

std::vector<std::string> this_copy() {
  std::string path = "(unknown file)";
#if defined(__unix__) || defined(__APPLE__)
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&this_copy_registers), &info) != 0 && info.dli_fname) {
    path = info.dli_fname;
  }
#endif
  return {path, std::to_string(TWOLAYER_VERSION_MAJOR) + "." +
                    std::to_string(TWOLAYER_VERSION_MINOR) + "." +
                    std::to_string(TWOLAYER_VERSION_PATCH)};
}

namespace {

// The copy that defined the operators, as it reports itself through twolayer::_library.
std::vector<std::string> serving_copy() {
  const auto op = c10::Dispatcher::singleton().findSchema({"twolayer::_library", ""});
  if (!op.has_value()) return {"(a build of twolayer too old to name its file)", "unknown"};
  try {
    return op->typed<std::vector<std::string>()>().call();
  } catch (const std::exception&) {
    return {"(a build of twolayer that could not name its file)", "unknown"};
  }
}

// Asked first by whichever of this copy's registrations runs first, so before this copy has
// defined anything: the operators are defined already only if another copy defined them.
std::string decide_refusal() {
  if (!c10::Dispatcher::singleton().findSchema({"twolayer::loss", ""}).has_value()) return "";
  const auto serving = serving_copy();
  const auto mine = this_copy();
  return "twolayer: two copies of the library are loaded in one process: " + serving[0] +
         " (version " + serving[1] + ") serves the operators, and " + mine[0] + " (version " +
         mine[1] + "), loaded after it, was refused. Load one copy: link C++ applications "
         "against the Python package's library (CMAKE_PREFIX_PATH with twolayer.cmake_prefix_path) "
         "or load only the CMake install's.";
}

}  // namespace

const std::string& refusal_message() {
  static const std::string message = [] {
    std::string refusal = decide_refusal();
    // Said at load time too: a program that loaded the copy for its registrations alone (a
    // TorchScript runner, torch.ops.load_library) never calls the entry points that throw.
    if (!refusal.empty()) TORCH_WARN(refusal);
    return refusal;
  }();
  return message;
}

bool this_copy_registers() { return refusal_message().empty(); }

}  // namespace detail
}  // namespace twolayer

TWOLAYER_LIBRARY(m) {
  // `output`, the output layer (math/output_layer.h), comes last with its default: calls and
  // TorchScript models written before it existed keep their meaning.
  m.def(
      "loss(Tensor X, Tensor Y, Tensor W1, Tensor b1, Tensor W2, Tensor b2, "
      "str activation=\"tanh\", str output=\"sigmoid\") -> Tensor");
  m.def(
      "forward(Tensor X, Tensor W1, Tensor b1, Tensor W2, Tensor b2, "
      "str activation=\"tanh\", str output=\"sigmoid\") -> Tensor");

  // Full-batch gradient descent in place, the lecture's W := W - alpha dW loop, without leaving
  // C++. Returns the cost of every iteration (computed before that iteration's update).
  m.def(
      "fit_(Tensor(a!) W1, Tensor(b!) b1, Tensor(c!) W2, Tensor(d!) b2, Tensor X, Tensor Y, "
      "int iterations, float learning_rate, str activation=\"tanh\", str output=\"sigmoid\") -> Tensor");

  // The pieces of TwoLayerFunction, the lecture's forward propagation and backpropagation.
  // Forward: J and the cache backward needs, (J, A1, Z2).
  m.def(
      "_loss_with_cache(Tensor X, Tensor Y, Tensor W1, Tensor b1, Tensor W2, Tensor b2, "
      "str activation, str output=\"sigmoid\") -> (Tensor, Tensor, Tensor)");
  // Backward: the six equations times grad_J, (dX, dW1, db1, dW2, db2, dY); those not in
  // output_mask (same order) come back undefined.
  m.def(
      "_loss_backward(Tensor grad_J, Tensor X, Tensor Y, Tensor W1, Tensor W2, Tensor A1, "
      "Tensor Z2, str activation, bool[6] output_mask, str output=\"sigmoid\") "
      "-> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  // The pieces of TwoLayerProbabilitiesFunction. Forward: the probabilities and the cache, (A2, A1).
  m.def(
      "_forward_with_cache(Tensor X, Tensor W1, Tensor b1, Tensor W2, Tensor b2, "
      "str activation, str output=\"sigmoid\") -> (Tensor, Tensor)");
  // Backward of the operator `forward`, from dA2: (dX, dW1, db1, dW2, db2), as _loss_backward.
  m.def(
      "_backward_of_forward(Tensor grad_A2, Tensor X, Tensor W1, Tensor W2, Tensor A1, "
      "Tensor A2, str activation, bool[5] output_mask, str output=\"sigmoid\") "
      "-> (Tensor, Tensor, Tensor, Tensor, Tensor)");

  // The logits Z2 = g1(X W1^T + b1) W2^T + b2, for TwoLayerNet.logits: computed by the network,
  // not recovered from A2 (logit(sigmoid(Z2)) is lost where A2 rounds to 0 or 1).
  m.def(
      "_logits(Tensor X, Tensor W1, Tensor b1, Tensor W2, Tensor b2, str activation) -> Tensor");

  // {path, version} of the copy of the library that serves the process: the Python package
  // checks that it is its own, a second copy names it in its refusal.
  m.def("_library() -> str[]", [] { return twolayer::detail::this_copy(); });
}
