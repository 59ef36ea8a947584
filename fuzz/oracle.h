#pragma once

// What a call must do: raise the error that names the first bad argument in the spec's check
// order, or return what the reference network computes (tests/cpp/reference_network.h, shared
// with the GoogleTest suite: stock ATen operators in float64, with ATen's own autograd), within
// a per-element bound on the rounding error of a correct implementation.

#include <array>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/MemoryOverlap.h>
#include <torch/torch.h>

#include "decode.h"
#include "reference_network.h"

namespace twolayer_fuzz {

using twolayer_reference::reference_activation;
using twolayer_reference::reference_forward;
using twolayer_reference::reference_loss;
using twolayer_reference::tolerance;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

// The argument the call must refuse, with the start of the message naming it; `name` empty when
// the call is valid. `others`: arguments that may be named instead (any of several undefined
// tensors: the checks in front of autograd and those of the kernels go in different orders).
struct Blame {
  std::string name;
  std::string prefix;
  std::vector<std::string> others;
};

inline bool is_valid_activation(const std::string& a) {
  for (const auto& v : twolayer_reference::all_activations()) {
    if (a == v) return true;
  }
  return false;
}

// `overlapping`: for fit_, the parameter that shares memory with a later argument, or -1.
inline Blame blame(const Case& c, const std::array<at::Tensor, kInputs>& t, bool with_Y,
                   int overlapping = -1) {
  auto named = [](const std::string& name) { return Blame{name, "twolayer: " + name + " ", {}}; };
  Blame undefined;
  for (int k : {kX, kY, kW1, kb1, kW2, kb2}) {
    if (t[k].defined() || (k == kY && !with_Y)) continue;
    if (undefined.name.empty()) {
      undefined = named(input_name(k));
    } else {
      undefined.others.push_back(input_name(k));
    }
  }
  if (!undefined.name.empty()) return undefined;
  // Non-strided layouts are refused before anything reads a size, in the checks' order.
  for (int k : {kX, kW1, kb1, kW2, kb2, kY}) {
    if (k == kY && !with_Y) continue;
    if (t[k].layout() != at::kStrided) return named(input_name(k));
  }
  const at::Tensor& X = t[kX];
  if (X.dim() != 2 || (X.scalar_type() != at::kFloat && X.scalar_type() != at::kDouble) ||
      X.size(0) < 1 || X.size(1) < 1) {
    return named("X");
  }
  auto like_X = [&](const at::Tensor& u) {
    return u.scalar_type() == X.scalar_type() && u.device() == X.device();
  };
  // Parameters of one float dtype and an X of the other: X is the odd one out, and named.
  const at::ScalarType p = t[kW1].scalar_type();
  if ((p == at::kFloat || p == at::kDouble) && X.scalar_type() != p &&
      t[kb1].scalar_type() == p && t[kW2].scalar_type() == p && t[kb2].scalar_type() == p) {
    return named("X");
  }
  int64_t inputs = X.size(1);
  for (auto layer : {std::make_pair(kW1, kb1), std::make_pair(kW2, kb2)}) {
    const at::Tensor& W = t[layer.first];
    const at::Tensor& b = t[layer.second];
    if (W.dim() != 2 || !like_X(W) || W.size(0) < 1 || W.size(1) != inputs) {
      return named(input_name(layer.first));
    }
    if (!like_X(b) || b.dim() != 1 || b.size(0) != W.size(0)) {
      return named(input_name(layer.second));
    }
    inputs = W.size(0);
  }
  if (with_Y) {
    const at::Tensor& Y = t[kY];
    if (!like_X(Y) || Y.dim() != 2 || Y.size(0) != X.size(0) || Y.size(1) != inputs) {
      return named("Y");
    }
  }
  if (c.op == Op::Fit) {
    // In place, an element that shares its memory location with another cannot be updated.
    for (int k : {kW1, kb1, kW2, kb2}) {
      if (at::has_internal_overlap(t[k]) == at::MemOverlap::Yes) return named(input_name(k));
    }
    // A parameter that shares memory with another argument would change it while read.
    if (overlapping >= 0) return named(input_name(overlapping));
    if (c.iterations < 0) return named("iterations");
    if (!std::isfinite(c.learning_rate)) return named("learning_rate");
  }
  if (!is_valid_activation(c.activation)) {
    // The message is a C string: a NUL in the name ends it.
    const std::string shown = c.activation.substr(0, c.activation.find('\0'));
    const bool cut = shown.size() != c.activation.size();
    return Blame{"activation", "twolayer: unknown activation '" + shown + (cut ? "" : "'"), {}};
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Reference values and error bounds
// ---------------------------------------------------------------------------------------------

// Beyond this |z|, tanh and the sigmoid are 0 or +-1 in float64.
constexpr double kSaturated = 40.0;

// Below this a float32 result and the float64 reference may differ by underflow alone.
inline double abs_floor(at::ScalarType dtype) { return dtype == at::kDouble ? 1e-290 : 1e-30; }
// Above this a correct float32 result may overflow where the float64 reference does not.
inline double overflow_risk(at::ScalarType dtype) { return dtype == at::kDouble ? 1e300 : 1e36; }

// How far an error in Z1 moves g1': near Z1 (through A1) while the error stays in the linear
// regime, the Lipschitz constant of g1' beyond, and no bound (inf) across relu's kink.
inline at::Tensor slope_change(const at::Tensor& Z1, const at::Tensor& A1, const at::Tensor& S1,
                               const std::string& a, double tol) {
  if (a == "tanh" || a == "sigmoid") {
    const at::Tensor far = tol * S1 > (Z1.abs() - kSaturated).clamp_min(0.1);
    const at::Tensor local = a == "tanh" ? 2 * (1 - A1 * A1) : A1 * (1 - A1);
    return torch::where(far, torch::full_like(A1, a == "tanh" ? 0.77 : 0.1), local);
  }
  return torch::where(tol * S1 >= Z1.abs(), torch::full_like(A1, INFINITY), torch::zeros_like(A1));
}

struct Reference {
  at::Tensor out;                         // J or A2
  std::array<at::Tensor, kInputs> grads;  // by Input; Y's only for the cost
  at::Tensor out_scale;                   // error scales, per element
  std::array<at::Tensor, kInputs> grad_scale;
};

// v: float64 values of the inputs (Y unused for forward); grad: the incoming gradient.
inline Reference reference(const std::array<at::Tensor, kInputs>& v, const std::string& a,
                           const at::Tensor& grad, bool loss, at::ScalarType dtype) {
  std::array<at::Tensor, kInputs> leaf;
  std::vector<at::Tensor> wrt;
  for (int k = 0; k < kInputs; ++k) {
    if (k == kY && !loss) continue;
    leaf[k] = v[k].detach().clone().requires_grad_(true);
    wrt.push_back(leaf[k]);
  }
  Reference r;
  r.out = loss ? reference_loss(leaf[kX], leaf[kY], leaf[kW1], leaf[kb1], leaf[kW2], leaf[kb2], a)
               : reference_forward(leaf[kX], leaf[kW1], leaf[kb1], leaf[kW2], leaf[kb2], a);
  const auto g = torch::autograd::grad({r.out}, wrt, {grad});
  for (int k = 0, i = 0; k < kInputs; ++k) {
    if (k == kY && !loss) continue;
    r.grads[k] = g[i++];
  }
  r.out = r.out.detach();

  // Products of absolute values, with the error of Z1 and Z2 carried through g1, g1' and the
  // sigmoid: each bounds its quantity's rounding error divided by the unit roundoff, up to a
  // small factor. Where the error of Z1 or Z2 (tol times its scale) may reach past the linear
  // regime (float32 with +-1e30 weights that cancel), local slopes give way to global bounds.
  torch::NoGradGuard no_grad;
  const double tol = tolerance(dtype);
  const at::Tensor &X = v[kX], &W1 = v[kW1], &b1 = v[kb1], &W2 = v[kW2], &b2 = v[kb2];
  const int64_t m = X.size(0);
  const at::Tensor Z1 = torch::linear(X, W1, b1);
  const at::Tensor A1 = reference_activation(Z1, a);
  const at::Tensor Z2 = torch::linear(A1, W2, b2);
  const at::Tensor A2 = torch::sigmoid(Z2);
  const at::Tensor S1 = torch::linear(X.abs(), W1.abs(), b1.abs());
  const at::Tensor S2 = torch::linear(A1.abs() + S1, W2.abs(), b2.abs());
  const at::Tensor s2 = A2 * (1 - A2);
  const at::Tensor far2 = tol * S2 > (Z2.abs() - kSaturated).clamp_min(0.1);
  const at::Tensor slope2 = torch::where(far2, torch::full_like(s2, 0.25), s2);  // sigma' <= 1/4
  // For A2, 1 - A2 from a rounded A2 is off by up to eps A2: near saturation that is all of it.
  const at::Tensor D2 = loss ? grad.abs() * (1 + v[kY].abs() + slope2 * S2)
                             : grad.abs() * (s2 + slope2 * S2 + A2 * A2);
  const at::Tensor D1 = D2.mm(W2.abs()) * (1 + slope_change(Z1, A1, S1, a, tol) * S1);
  const double k = loss ? 1.0 / static_cast<double>(m) : 1.0;
  r.grad_scale[kX] = k * D1.mm(W1.abs());
  r.grad_scale[kW1] = k * D1.t().mm(X.abs());
  r.grad_scale[kb1] = k * D1.sum(0);
  r.grad_scale[kW2] = k * D2.t().mm(A1.abs() + S1);
  r.grad_scale[kb2] = k * D2.sum(0);
  if (loss) {
    r.out_scale = (1 + 2 * (1 + v[kY].abs()) * S2).sum() / static_cast<double>(m);
    r.grad_scale[kY] = grad.abs() / static_cast<double>(m) * S2;
  } else {
    r.out_scale = A2 + slope2 * S2;
  }
  return r;
}

// "" when `actual` has the dtype and shape of the reference; is not finite wherever the
// reference is not (a NaN or inf may not turn into a clean-looking number); is finite exactly
// where the reference is wherever the scale is finite and far from overflow; and lies within the
// bound wherever the scale is finite. Where the scale is not finite an inf or NaN input reaches
// the element, and a NaN may stand where the reference is finite: relu' masks a NaN to 0 in
// ATen's autograd, and is a factor 0 in twolayer.
inline std::string compare(const at::Tensor& actual, const at::Tensor& expected,
                           const at::Tensor& scale, at::ScalarType dtype) {
  if (!actual.defined()) return "missing";
  if (actual.scalar_type() != dtype) {
    return std::string("dtype ") + c10::toString(actual.scalar_type());
  }
  if (actual.sizes() != expected.sizes()) return "wrong shape";
  const at::Tensor a = actual.detach().to(at::kDouble);
  if ((~torch::isfinite(expected) & torch::isfinite(a)).any().item<bool>()) {
    return "finite where the reference is not";
  }
  const at::Tensor tame = torch::isfinite(scale) & (scale < overflow_risk(dtype));
  if ((tame & ~torch::isfinite(a) & torch::isfinite(expected)).any().item<bool>()) {
    return "not finite where the reference is";
  }
  const at::Tensor checked =
      torch::isfinite(scale) & torch::isfinite(expected) & torch::isfinite(a);
  const at::Tensor bound = tolerance(dtype) * scale + abs_floor(dtype);
  const at::Tensor bad = checked & ((a - expected).abs() > bound);
  if (bad.any().item<bool>()) {
    std::ostringstream os;
    os << "error " << (a - expected).abs().masked_select(bad).max().item<double>()
       << " above the bound " << bound.masked_select(bad).min().item<double>();
    return os.str();
  }
  return "";
}

}  // namespace twolayer_fuzz
