#include "math/checks.h"

#include <sstream>

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

void check_rank(const at::Tensor& t, const char* name, const char* dims) {
  TORCH_CHECK(t.dim() == 2, "twolayer: ", name, " must be a 2-D tensor of shape ", dims,
              ", but got a ", t.dim(), "-D tensor of shape ", t.sizes());
}

void check_like_X(const at::Tensor& t, const char* name, const at::Tensor& X) {
  TORCH_CHECK(t.scalar_type() == X.scalar_type(), "twolayer: ", name,
              " must have the same dtype as X (", dtype_name(X.scalar_type()), "), but got ",
              dtype_name(t.scalar_type()));
  TORCH_CHECK(t.device() == X.device(), "twolayer: ", name, " must be on the same device as X (",
              X.device(), "), but got ", t.device());
}

}  // namespace

NetworkShape check_network_inputs(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                  const at::Tensor& b1, const at::Tensor& W2,
                                  const at::Tensor& b2) {
  TORCH_CHECK(X.defined() && W1.defined() && b1.defined() && W2.defined() && b2.defined(),
              "twolayer: X, W1, b1, W2 and b2 must all be defined tensors");

  check_rank(X, "X", "(m, n0)");
  TORCH_CHECK(X.scalar_type() == at::kFloat || X.scalar_type() == at::kDouble,
              "twolayer: X must be float32 or float64, but got ", dtype_name(X.scalar_type()));
  const int64_t m = X.size(0);
  const int64_t n0 = X.size(1);
  TORCH_CHECK(m >= 1, "twolayer: X must hold at least one example (m >= 1), but got shape ",
              X.sizes());
  TORCH_CHECK(n0 >= 1, "twolayer: X must have at least one feature (n0 >= 1), but got shape ",
              X.sizes());

  check_rank(W1, "W1", "(n1, n0)");
  check_like_X(W1, "W1", X);
  const int64_t n1 = W1.size(0);
  TORCH_CHECK(n1 >= 1, "twolayer: W1 must have at least one hidden unit (n1 >= 1), but got shape ",
              W1.sizes());
  TORCH_CHECK(W1.size(1) == n0, "twolayer: W1 must have shape (n1, n0) = (", n1, ", ", n0,
              ") to match X with n0 = ", n0, " features, but got ", W1.sizes());

  check_like_X(b1, "b1", X);
  TORCH_CHECK(b1.dim() == 1 && b1.size(0) == n1, "twolayer: b1 must have shape (n1) = (", n1,
              ") to match W1 with n1 = ", n1, " hidden units, but got ", b1.sizes());

  check_rank(W2, "W2", "(n2, n1)");
  check_like_X(W2, "W2", X);
  const int64_t n2 = W2.size(0);
  TORCH_CHECK(n2 >= 1, "twolayer: W2 must have at least one output unit (n2 >= 1), but got shape ",
              W2.sizes());
  TORCH_CHECK(W2.size(1) == n1, "twolayer: W2 must have shape (n2, n1) = (", n2, ", ", n1,
              ") to match W1 with n1 = ", n1, " hidden units, but got ", W2.sizes());

  check_like_X(b2, "b2", X);
  TORCH_CHECK(b2.dim() == 1 && b2.size(0) == n2, "twolayer: b2 must have shape (n2) = (", n2,
              ") to match W2 with n2 = ", n2, " output units, but got ", b2.sizes());

  if (Y.defined()) {
    check_like_X(Y, "Y", X);
    TORCH_CHECK(Y.dim() == 2 && Y.size(0) == m && Y.size(1) == n2,
                "twolayer: Y must have shape (m, n2) = (", m, ", ", n2, ") to match X with m = ", m,
                " examples and W2 with n2 = ", n2, " output units, but got ", Y.sizes());
  }
  return {m, n0, n1, n2};
}

}  // namespace twolayer
