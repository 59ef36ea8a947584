#include "net_labels.h"

#include <limits>
#include <sstream>
#include <string>

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
                           at::ScalarType dtype, OutputLayer output) {
  if (!Y.defined() || !X.defined() || Y.layout() != at::kStrided) return Y;
  const bool integral = at::isIntegralType(Y.scalar_type(), /*includeBool=*/true);
  if (output == OutputLayer::Softmax && integral && Y.scalar_type() != at::kBool &&
      Y.dim() == 1 && X.dim() >= 1 && Y.size(0) == X.size(0)) {
    const at::Tensor bad = Y.masked_select((Y < 0).logical_or(Y >= n2));
    TORCH_CHECK(bad.numel() == 0, "twolayer: class indices Y must be in [0, n2) = [0, ", n2,
                ") for a net with ", n2, " outputs, but got ", bad[0].item<int64_t>());
    return at::one_hot(Y.to(at::kLong), n2).to(dtype);
  }
  at::Tensor labels = Y;
  // Only when the lengths agree: otherwise the operator reports the shape as the user gave it.
  if (labels.dim() == 1 && n2 == 1 && X.dim() >= 1 && labels.size(0) == X.size(0)) {
    labels = labels.unsqueeze(1);
  }
  if (integral) {
    if (labels.scalar_type() != at::kBool && output != OutputLayer::Identity) {
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

at::Tensor predictions(const at::Tensor& A2, OutputLayer output, c10::optional<double> threshold) {
  if (output == OutputLayer::Sigmoid) {
    const double t = threshold.value_or(0.5);
    check_threshold(t);
    // Sigmoid outputs are independent yes/no answers, each thresholded on its own.
    const at::Tensor labels = (A2 > t).to(at::kLong);
    return labels.size(1) == 1 ? labels.reshape({-1}) : labels;
  }
  TORCH_CHECK(!threshold.has_value(),
              "twolayer: predict's threshold applies to a sigmoid output only; a net with ",
              output == OutputLayer::Softmax
                  ? "a softmax output predicts the class of largest probability"
                  : "an identity output predicts the values A2");
  if (output == OutputLayer::Softmax) return A2.argmax(/*dim=*/1);
  return A2.size(1) == 1 ? A2.reshape({-1}) : A2;
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

double class_accuracy(const at::Tensor& predicted, const at::Tensor& y, int64_t n2) {
  TORCH_CHECK(y.defined(), "twolayer: score needs labels y, but got an undefined tensor");
  const int64_t m = predicted.size(0);
  at::Tensor classes;
  if (y.dim() == 2 && y.size(0) == m && y.size(1) == n2 && n2 > 1) {
    classes = y.to(predicted.device()).argmax(/*dim=*/1);
  } else if ((y.dim() == 1 && y.size(0) == m) ||
             (y.dim() == 2 && y.size(0) == m && y.size(1) == 1)) {
    classes = y.to(predicted.device()).reshape({-1});
    const at::Tensor bad = classes.masked_select(
        (classes < 0).logical_or(classes >= n2).logical_or(classes != at::floor(classes)));
    TORCH_CHECK(bad.numel() == 0, "twolayer: score needs class indices y from 0 to n2 - 1 = ",
                n2 - 1, " for a net with ", n2, " outputs, but got ", value_text(bad[0]));
    classes = classes.to(at::kLong);
  } else {
    TORCH_CHECK(false, "twolayer: score needs class indices y of shape (m,) or (m, 1) = (", m,
                ",) or (", m, ", 1), or rows of shape (m, n2) = (", m, ", ", n2,
                "), for a net with a softmax output, but got ", y.sizes(),
                "; other shapes would broadcast against the predictions");
  }
  return (predicted == classes).to(at::kDouble).mean().item<double>();
}

double r2_score(const at::Tensor& A2, const at::Tensor& y) {
  TORCH_CHECK(y.defined(), "twolayer: score needs targets y, but got an undefined tensor");
  const int64_t m = A2.size(0), n2 = A2.size(1);
  if (n2 == 1) {
    const bool fits = (y.dim() == 1 && y.size(0) == m) ||
                      (y.dim() == 2 && y.size(0) == m && y.size(1) == 1);
    TORCH_CHECK(fits, "twolayer: score needs targets y of shape (m,) or (m, 1) = (", m,
                ",) or (", m, ", 1) for a net with one output, but got ", y.sizes(),
                "; other shapes would broadcast against the predictions");
  } else {
    const bool fits = y.dim() == 2 && y.size(0) == m && y.size(1) == n2;
    TORCH_CHECK(fits, "twolayer: score needs targets y of shape (m, n2) = (", m, ", ", n2,
                ") for a net with ", n2, " outputs, but got ", y.sizes(),
                "; other shapes would broadcast against the predictions");
  }
  if (m < 2) return std::numeric_limits<double>::quiet_NaN();  // as scikit-learn
  const at::Tensor predicted = A2.detach().to(at::kDouble);
  const at::Tensor targets = y.to(predicted.device(), at::kDouble).reshape(predicted.sizes());
  const at::Tensor residual = (targets - predicted).pow(2).sum(/*dim=*/0);
  const at::Tensor total = (targets - targets.mean(/*dim=*/0)).pow(2).sum(/*dim=*/0);
  const at::Tensor ones = at::ones_like(total);
  // An output with constant targets scores 1 when predicted exactly, else 0 (scikit-learn).
  const at::Tensor scores =
      at::where(total != 0, 1.0 - residual / at::where(total != 0, total, ones),
                at::where(residual == 0, ones, at::zeros_like(total)));
  return scores.mean().item<double>();
}

}  // namespace twolayer
