#include "net_labels.h"

#include <sstream>

namespace twolayer {

namespace {

// The first element of t that is neither 0 nor 1, or an undefined tensor when there is none.
at::Tensor first_non_binary(const at::Tensor& t) {
  const at::Tensor bad = t.masked_select((t != 0).logical_and(t != 1));
  return bad.numel() > 0 ? bad[0] : at::Tensor();
}

std::string value_text(const at::Tensor& value) {
  std::ostringstream text;
  if (value.is_floating_point()) {
    text << value.item<double>();
  } else {
    text << value.item<int64_t>();
  }
  return text.str();
}

}  // namespace

at::Tensor labels_for_cost(const at::Tensor& X, const at::Tensor& Y, int64_t n2,
                           at::ScalarType dtype) {
  if (!Y.defined() || !X.defined() || Y.layout() != at::kStrided) return Y;
  at::Tensor labels = Y;
  // Only when the lengths agree: otherwise the operator reports the shape as the user gave it.
  if (labels.dim() == 1 && n2 == 1 && X.dim() >= 1 && labels.size(0) == X.size(0)) {
    labels = labels.unsqueeze(1);
  }
  if (at::isIntegralType(labels.scalar_type(), /*includeBool=*/true)) {
    if (labels.scalar_type() != at::kBool) {
      const at::Tensor bad = first_non_binary(labels);
      TORCH_CHECK(!bad.defined(), "twolayer: integer labels Y must be 0 or 1, but got ",
                  value_text(bad));
    }
    labels = labels.to(dtype);
  }
  return labels;
}

void check_threshold(double threshold) {
  TORCH_CHECK(threshold >= 0.0 && threshold <= 1.0,
              "twolayer: predict's threshold must be in [0, 1], but got ", threshold);
}

double accuracy(const at::Tensor& predicted, const at::Tensor& y, int64_t n2) {
  TORCH_CHECK(y.defined(), "twolayer: score needs labels y, but got an undefined tensor");
  const int64_t m = predicted.size(0);
  if (n2 == 1) {
    const bool fits = (y.dim() == 1 && y.size(0) == m) ||
                      (y.dim() == 2 && y.size(0) == m && y.size(1) == 1);
    TORCH_CHECK(fits, "twolayer: score needs labels y of shape (m,) or (m, 1) = (", m, ",) or (",
                m, ", 1) for a net with one output, but got ", y.sizes(),
                "; other shapes would broadcast against the predictions");
  } else {
    const bool fits = y.dim() == 2 && y.size(0) == m && y.size(1) == n2;
    TORCH_CHECK(fits, "twolayer: score needs labels y of shape (m, n2) = (", m, ", ", n2,
                ") for a net with ", n2, " outputs, but got ", y.sizes(),
                "; other shapes would broadcast against the predictions");
  }
  const at::Tensor labels = y.to(predicted.device()).reshape(predicted.sizes());
  const at::Tensor bad = first_non_binary(labels);
  TORCH_CHECK(!bad.defined(), "twolayer: score needs labels y of 0 or 1, but got ",
              value_text(bad));
  at::Tensor right = predicted == labels.to(at::kLong);
  if (right.dim() == 2) right = right.all(/*dim=*/1);
  return right.to(at::kDouble).mean().item<double>();
}

}  // namespace twolayer
