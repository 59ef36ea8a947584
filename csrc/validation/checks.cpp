#include "validation/checks.h"

#include <string>
#include <utility>

#include <torch/version.h>

#include "math/precision.h"

namespace twolayer {

std::string dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kShort: return "int16";
    case at::kInt: return "int32";
    case at::kLong: return "int64";
    case at::kBool: return "bool";
    default: return c10::toString(dtype);
  }
}

namespace {

// Messages are assembled only when a check fails: the checks run on every call.
void check_rank(const at::Tensor& t, const char* name, const char* rows, const char* columns) {
  TORCH_CHECK(t.dim() == 2, "twolayer: ", name, " must be a 2-D tensor of shape (", rows, ", ",
              columns, "), but got a ", t.dim(), "-D tensor of shape ", t.sym_sizes());
}

void check_like_X(const at::Tensor& t, const char* name, const at::Tensor& X) {
  if (t.scalar_type() != X.scalar_type()) {
    // Labels of another dtype (integer or bool class labels above all) are the commonest
    // mistake: say how to mend them.
    const bool labels = name[0] == 'Y' && name[1] == '\0';
    TORCH_CHECK(
        false, "twolayer: ", name, " must have the same dtype as X (", dtype_name(X.scalar_type()),
        ")", labels && is_low_precision(X.scalar_type()) ? " or float32" : "", ", but got ",
        dtype_name(t.scalar_type()), labels ? "; convert the labels with Y.to(X.dtype)" : "");
  }
  TORCH_CHECK(t.device() == X.device(), "twolayer: ", name, " must be on the same device as X (",
              X.device(), "), but got ", t.device());
}

bool is_network_dtype(at::ScalarType t) {
  return t == at::kFloat || t == at::kDouble || is_low_precision(t);
}

// The Tensor method that converts to t: what a message tells the user to call.
const char* conversion_method(at::ScalarType t) {
  switch (t) {
    case at::kDouble: return "double()";
    case at::kBFloat16: return "bfloat16()";
    case at::kHalf: return "half()";
    default: return "float()";
  }
}

// X's dtype sets the network's: one of four, and float16 on the CPU only where ATen has its
// products (PyTorch 2).
void check_network_dtype(const at::Tensor& X) {
  TORCH_CHECK(is_network_dtype(X.scalar_type()),
              "twolayer: X must be float32, float64, bfloat16 or float16, but got ",
              dtype_name(X.scalar_type()));
#if TORCH_VERSION_MAJOR < 2
  TORCH_CHECK(
      X.scalar_type() != at::kHalf || !X.device().is_cpu(),
      "twolayer: X is float16, which on the CPU needs PyTorch 2.0 or later, but this is PyTorch ",
      TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR,
      ", whose CPU has no float16 matrix products; use bfloat16 (or float32) on the CPU");
#endif
}

// Labels in the network's dtype, or in float32 for a bfloat16 or float16 network (whose cost
// runs in float32: soft labels keep their digits).
void check_labels_like_X(const at::Tensor& Y, const char* name, const at::Tensor& X) {
  if (Y.scalar_type() == at::kFloat && is_low_precision(X.scalar_type())) {
    TORCH_CHECK(Y.device() == X.device(), "twolayer: ", name, " must be on the same device as X (",
                X.device(), "), but got ", Y.device());
    return;
  }
  check_like_X(Y, name, X);
}

// When the four parameters agree with each other and X alone differs, X is the odd one out
// (typically NumPy's float64 data into a float32 net): blaming W1, as comparing each parameter
// with X would, sends the user to the wrong tensor. Name X and both ways to mend it.
void check_parameters_agree_with_X(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                                   const at::Tensor& W2, const at::Tensor& b2) {
  const at::ScalarType p = W1.scalar_type();
  if (X.scalar_type() == p || b1.scalar_type() != p || W2.scalar_type() != p ||
      b2.scalar_type() != p || !is_network_dtype(p)) {
    return;  // nothing to say here, or a parameter is the odd one: check_layer names it
  }
  TORCH_CHECK(false, "twolayer: X is ", dtype_name(X.scalar_type()),
              ", but the parameters W1, b1, W2, b2 are ", dtype_name(p), ": convert X with X.",
              conversion_method(p), ", or build the net with dtype=torch.",
              dtype_name(X.scalar_type()));
}

// A layer's weight (units, inputs): its rows set the layer's width (returned), its columns must
// match what feeds the layer.
struct Layer {
  const char* weight;      // "W1"
  const char* bias;        // "b1"
  const char* units;       // "n1"
  const char* inputs;      // "n0"
  const char* kind;        // "hidden unit"
  const char* feed;        // "X": what the inputs come from
  const char* feed_units;  // "features"
};

c10::SymInt check_layer(const Layer& layer, const at::Tensor& W, const at::Tensor& b,
                        const at::Tensor& X, const c10::SymInt& inputs) {
  check_rank(W, layer.weight, layer.units, layer.inputs);
  check_like_X(W, layer.weight, X);
  c10::SymInt units = W.sym_size(0);
  TORCH_CHECK(units >= 1, "twolayer: ", layer.weight, " must have at least one ", layer.kind, " (",
              layer.units, " >= 1), but got shape ", W.sym_sizes());
  // Both sides are named: from a module, the mistake is usually in the data, not the weight.
  TORCH_CHECK(W.sym_size(1) == inputs, "twolayer: ", layer.weight, " has shape ", W.sym_sizes(),
              " (", layer.units, ", ", layer.inputs, "), which takes ", layer.inputs, " = ",
              W.sym_size(1), " ", layer.feed_units, ", but ", layer.feed, " has ", layer.inputs,
              " = ", inputs, " ", layer.feed_units, ": ", layer.feed, " must have ", W.sym_size(1),
              " ", layer.feed_units, ", or ", layer.weight, " shape (", units, ", ", inputs, ")");
  check_like_X(b, layer.bias, X);
  TORCH_CHECK(b.dim() == 1 && b.sym_size(0) == units, "twolayer: ", layer.bias,
              " must have shape (", layer.units, ") = (", units, ") to match ", layer.weight,
              " with ", layer.units, " = ", units, " ", layer.kind, "s, but got ", b.sym_sizes());
  return units;
}

}  // namespace

SymNetworkShape check_network_sizes(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                    const at::Tensor& b1, const at::Tensor& W2,
                                    const at::Tensor& b2, Labels labels) {
  const std::pair<const char*, const at::Tensor*> inputs[] = {{"X", &X},   {"W1", &W1}, {"b1", &b1},
                                                              {"W2", &W2}, {"b2", &b2}, {"Y", &Y}};
  for (const auto& [name, tensor] : inputs) {
    if (tensor == &Y && labels == Labels::None) continue;
    TORCH_CHECK(tensor->defined(), "twolayer: ", name,
                " must be a defined tensor, but got an undefined one");
  }
  // Before anything reads sizes or strides: sparse and mkldnn tensors have no strides.
  for (const auto& [name, tensor] : inputs) {
    if (tensor == &Y && labels == Labels::None) continue;
    TORCH_CHECK(tensor->layout() == at::kStrided, "twolayer: ", name,
                " must be a strided (dense) tensor, but got layout ", tensor->layout(),
                "; convert it with .to_dense()");
  }

  check_rank(X, "X", "m", "n0");
  check_network_dtype(X);
  c10::SymInt m = X.sym_size(0);
  c10::SymInt n0 = X.sym_size(1);
  TORCH_CHECK(m >= 1, "twolayer: X must hold at least one example (m >= 1), but got shape ",
              X.sym_sizes());
  TORCH_CHECK(n0 >= 1, "twolayer: X must have at least one feature (n0 >= 1), but got shape ",
              X.sym_sizes());

  check_parameters_agree_with_X(X, W1, b1, W2, b2);
  c10::SymInt n1 =
      check_layer({"W1", "b1", "n1", "n0", "hidden unit", "X", "features"}, W1, b1, X, n0);
  c10::SymInt n2 =
      check_layer({"W2", "b2", "n2", "n1", "output unit", "W1", "hidden units"}, W2, b2, X, n1);

  if (labels == Labels::Required) {
    check_labels_like_X(Y, "Y", X);
    const bool matches = Y.dim() == 2 && Y.sym_size(0) == m && Y.sym_size(1) == n2;
    if (!matches) {
      // Labels of shape (m,) for one output are the other common mistake.
      const bool flat = Y.dim() == 1 && Y.sym_size(0) == m && n2 == 1;
      TORCH_CHECK(false, "twolayer: Y must have shape (m, n2) = (", m, ", ", n2,
                  ") to match X with m = ", m, " examples and W2 with n2 = ", n2,
                  " output units, but got ", Y.sym_sizes(),
                  flat ? "; for one output pass Y.unsqueeze(1)" : "");
    }
  }
  return {std::move(m), std::move(n0), std::move(n1), std::move(n2)};
}

namespace {

void check_cache_matrix(const at::Tensor& t, const char* name, const char* rows,
                        const c10::SymInt& m, const char* columns, const c10::SymInt& n,
                        const at::Tensor& X) {
  check_like_X(t, name, X);
  TORCH_CHECK(t.dim() == 2 && t.sym_size(0) == m && t.sym_size(1) == n, "twolayer: ", name,
              " must have shape (", rows, ", ", columns, ") = (", m, ", ", n, "), but got ",
              t.sym_sizes());
}

}  // namespace

SymNetworkShape check_backward_sizes(const at::Tensor& grad, const char* grad_name,
                                     const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                     const at::Tensor& W2, const at::Tensor& A1,
                                     const at::Tensor& out, const char* out_name, Labels labels) {
  const std::pair<const char*, const at::Tensor*> inputs[] = {
      {grad_name, &grad}, {"X", &X},        {"W1", &W1}, {"W2", &W2},
      {"A1", &A1},        {out_name, &out}, {"Y", &Y}};
  for (const auto& [name, tensor] : inputs) {
    if (tensor == &Y && labels == Labels::None) continue;
    TORCH_CHECK(tensor->defined(), "twolayer: ", name,
                " must be a defined tensor, but got an undefined one");
    TORCH_CHECK(tensor->layout() == at::kStrided, "twolayer: ", name,
                " must be a strided (dense) tensor, but got layout ", tensor->layout());
  }
  check_rank(X, "X", "m", "n0");
  check_network_dtype(X);
  const c10::SymInt m = X.sym_size(0), n0 = X.sym_size(1);
  TORCH_CHECK(m >= 1 && n0 >= 1,
              "twolayer: X must have m >= 1 examples of n0 >= 1 features, "
              "but got shape ",
              X.sym_sizes());
  check_rank(W1, "W1", "n1", "n0");
  const c10::SymInt n1 = W1.sym_size(0);
  TORCH_CHECK(n1 >= 1, "twolayer: W1 must have n1 >= 1 rows, but got shape ", W1.sym_sizes());
  check_cache_matrix(W1, "W1", "n1", n1, "n0", n0, X);
  check_rank(W2, "W2", "n2", "n1");
  const c10::SymInt n2 = W2.sym_size(0);
  TORCH_CHECK(n2 >= 1, "twolayer: W2 must have n2 >= 1 rows, but got shape ", W2.sym_sizes());
  check_cache_matrix(W2, "W2", "n2", n2, "n1", n1, X);
  check_cache_matrix(A1, "A1", "m", m, "n1", n1, X);
  check_cache_matrix(out, out_name, "m", m, "n2", n2, X);
  if (labels == Labels::Required) {
    check_labels_like_X(Y, "Y", X);
    TORCH_CHECK(Y.dim() == 2 && Y.sym_size(0) == m && Y.sym_size(1) == n2,
                "twolayer: Y must have shape (m, n2) = (", m, ", ", n2, "), but got ",
                Y.sym_sizes());
    // The gradient of the cost, in the cost's dtype.
    const at::ScalarType cost_type = compute_type(X.scalar_type());
    TORCH_CHECK(grad.scalar_type() == cost_type, "twolayer: ", grad_name,
                " must have the cost's dtype (", dtype_name(cost_type), "), but got ",
                dtype_name(grad.scalar_type()));
    TORCH_CHECK(grad.device() == X.device(), "twolayer: ", grad_name,
                " must be on the same device as X (", X.device(), "), but got ", grad.device());
    TORCH_CHECK(grad.dim() == 0, "twolayer: ", grad_name,
                " must be a scalar (0-D) tensor, the gradient of the cost, but got shape ",
                grad.sym_sizes());
  } else {
    check_cache_matrix(grad, grad_name, "m", m, "n2", n2, X);
  }
  return {m, n0, n1, n2};
}

NetworkShape check_network_inputs(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                  const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                                  Labels labels) {
  return concrete(check_network_sizes(X, Y, W1, b1, W2, b2, labels));
}

NetworkShape concrete(const SymNetworkShape& s) {
  return {s.m.expect_int(), s.n0.expect_int(), s.n1.expect_int(), s.n2.expect_int()};
}

}  // namespace twolayer
