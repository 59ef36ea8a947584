#include "math/checks.h"

#include <string>
#include <utility>

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
              columns, "), but got a ", t.dim(), "-D tensor of shape ", t.sizes());
}

void check_like_X(const at::Tensor& t, const char* name, const at::Tensor& X) {
  TORCH_CHECK(t.scalar_type() == X.scalar_type(), "twolayer: ", name,
              " must have the same dtype as X (", dtype_name(X.scalar_type()), "), but got ",
              dtype_name(t.scalar_type()));
  TORCH_CHECK(t.device() == X.device(), "twolayer: ", name, " must be on the same device as X (",
              X.device(), "), but got ", t.device());
}

// A layer's weight (units, inputs): its rows set the layer's width (returned), its columns must
// match the layer below.
struct Layer {
  const char* weight;       // "W1"
  const char* bias;         // "b1"
  const char* units;        // "n1"
  const char* inputs;       // "n0"
  const char* kind;         // "hidden unit"
  const char* below;        // "X": what the inputs come from
  const char* below_units;  // "features"
};

int64_t check_layer(const Layer& layer, const at::Tensor& W, const at::Tensor& b,
                    const at::Tensor& X, int64_t inputs) {
  check_rank(W, layer.weight, layer.units, layer.inputs);
  check_like_X(W, layer.weight, X);
  const int64_t units = W.size(0);
  TORCH_CHECK(units >= 1, "twolayer: ", layer.weight, " must have at least one ", layer.kind, " (",
              layer.units, " >= 1), but got shape ", W.sizes());
  TORCH_CHECK(W.size(1) == inputs, "twolayer: ", layer.weight, " must have shape (", layer.units,
              ", ", layer.inputs, ") = (", units, ", ", inputs, ") to match ", layer.below,
              " with ", layer.inputs, " = ", inputs, " ", layer.below_units, ", but got ",
              W.sizes());
  check_like_X(b, layer.bias, X);
  TORCH_CHECK(b.dim() == 1 && b.size(0) == units, "twolayer: ", layer.bias, " must have shape (",
              layer.units, ") = (", units, ") to match ", layer.weight, " with ", layer.units,
              " = ", units, " ", layer.kind, "s, but got ", b.sizes());
  return units;
}

}  // namespace

NetworkShape check_network_inputs(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                  const at::Tensor& b1, const at::Tensor& W2,
                                  const at::Tensor& b2, Labels labels) {
  const std::pair<const char*, const at::Tensor*> required[] = {
      {"X", &X}, {"W1", &W1}, {"b1", &b1}, {"W2", &W2}, {"b2", &b2}, {"Y", &Y}};
  for (const auto& [name, tensor] : required) {
    if (tensor == &Y && labels == Labels::None) continue;
    TORCH_CHECK(tensor->defined(), "twolayer: ", name,
                " must be a defined tensor, but got an undefined one");
  }

  check_rank(X, "X", "m", "n0");
  TORCH_CHECK(X.scalar_type() == at::kFloat || X.scalar_type() == at::kDouble,
              "twolayer: X must be float32 or float64, but got ", dtype_name(X.scalar_type()));
  const int64_t m = X.size(0);
  const int64_t n0 = X.size(1);
  TORCH_CHECK(m >= 1, "twolayer: X must hold at least one example (m >= 1), but got shape ",
              X.sizes());
  TORCH_CHECK(n0 >= 1, "twolayer: X must have at least one feature (n0 >= 1), but got shape ",
              X.sizes());

  const int64_t n1 =
      check_layer({"W1", "b1", "n1", "n0", "hidden unit", "X", "features"}, W1, b1, X, n0);
  const int64_t n2 =
      check_layer({"W2", "b2", "n2", "n1", "output unit", "W1", "hidden units"}, W2, b2, X, n1);

  if (labels == Labels::Required) {
    check_like_X(Y, "Y", X);
    TORCH_CHECK(Y.dim() == 2 && Y.size(0) == m && Y.size(1) == n2,
                "twolayer: Y must have shape (m, n2) = (", m, ", ", n2, ") to match X with m = ", m,
                " examples and W2 with n2 = ", n2, " output units, but got ", Y.sizes());
  }
  return {m, n0, n1, n2};
}

}  // namespace twolayer
