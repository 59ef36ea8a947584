#pragma once

// Labels as users hold them, turned into what the operators take (for TwoLayerNet's loss and
// fit) or compared with predictions (score). The Python module does the same in
// python/twolayer/_inputs.py, with the same messages.

#include <ATen/ATen.h>

namespace twolayer {

// Y for the cost of a net with n2 outputs and parameters of `dtype`: 0/1 labels of shape (m,)
// for one output become (m, 1), and integer or bool labels, which must be 0 or 1, become
// `dtype`. Anything else is passed on unchanged, for the operator to check.
at::Tensor labels_for_cost(const at::Tensor& X, const at::Tensor& Y, int64_t n2,
                           at::ScalarType dtype);

// Refuses a threshold outside [0, 1] (or NaN): it would turn every probability into one label.
void check_threshold(double threshold);

// The fraction of rows of `predicted` (int64, (m,) or (m, n2)) that the 0/1 labels y match
// entirely. y must have shape (m,) or (m, 1) for one output, (m, n2) for several.
double accuracy(const at::Tensor& predicted, const at::Tensor& y, int64_t n2);

}  // namespace twolayer
