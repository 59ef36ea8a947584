#pragma once

// Labels as users hold them, turned into what the operators take (for TwoLayerNet's loss and
// fit) or compared with predictions (score). The Python module does the same in
// python/twolayer/_inputs.py, with the same messages.

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include "math/output_layer.h"

namespace twolayer {

// Y for the cost of a net with n2 outputs, parameters of `dtype` and the output layer `output`:
// labels of shape (m,) for one output become (m, 1); for softmax, integer class indices of shape
// (m,) become one-hot rows after a check that each is in [0, n2); integer or bool labels become
// `dtype` (0 or 1 only, but for identity). Anything else is passed on unchanged, for the
// operator to check.
at::Tensor labels_for_cost(const at::Tensor& X, const at::Tensor& Y, int64_t n2,
                           at::ScalarType dtype, OutputLayer output = OutputLayer::Sigmoid);

// Refuses a threshold outside [0, 1] (or NaN): it would turn every probability into one label.
void check_threshold(double threshold);

// What predict returns for the outputs A2 (m, n2): thresholded int64 labels for sigmoid ((m,) for
// one output), the argmax class for softmax, A2 for identity ((m,) for one output). A threshold
// is refused but for sigmoid.
at::Tensor predictions(const at::Tensor& A2, OutputLayer output, c10::optional<double> threshold);

// The fraction of rows of `predicted` (int64, (m,) or (m, n2)) that the 0/1 labels y match
// entirely. y must have shape (m,) or (m, 1) for one output, (m, n2) for several.
double accuracy(const at::Tensor& predicted, const at::Tensor& y, int64_t n2);

// The fraction of the classes `predicted` (int64, (m,)) equal to y: class indices of shape (m,)
// or (m, 1), from 0 to n2 - 1, or rows of shape (m, n2) whose largest entry names the class.
double class_accuracy(const at::Tensor& predicted, const at::Tensor& y, int64_t n2);

// R² of the predictions A2 (m, n2) for the targets y ((m,) or (m, 1) for one output, (m, n2)
// for several), averaged over the outputs as scikit-learn's r2_score; NaN for m < 2.
double r2_score(const at::Tensor& A2, const at::Tensor& y);

}  // namespace twolayer
