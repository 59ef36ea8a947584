#pragma once

// Builds the tensors a decoded Case describes: values scaled per value mode, cast to the
// requested dtype, seen through the requested strided view, on CPU or meta, or undefined.

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "decode.h"

namespace twolayer_fuzz {

// The case's values, then a fixed pseudo-random sequence once they run out, so that a short
// input still gives a network whose units are not all equal.
class ValueStream {
 public:
  explicit ValueStream(const std::vector<double>& data) : data_(data) {}
  double next() {
    if (next_ < data_.size()) return data_[next_++];
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(static_cast<int64_t>(state_ >> 56) - 128) / 32.0;
  }

 private:
  const std::vector<double>& data_;
  size_t next_ = 0;
  uint64_t state_ = 0x9e3779b97f4a7c15ULL;
};

inline int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// float64 values of every tensor in its own shape, contiguous.
inline std::array<at::Tensor, kInputs> draw_values(const Case& c) {
  ValueStream stream(c.data);
  std::array<at::Tensor, kInputs> v;
  for (int k = 0; k < kInputs; ++k) {
    const auto& shape = c.spec[k].shape;
    std::vector<double> values(numel_of(shape));
    for (double& x : values) x = stream.next();
    v[k] = torch::tensor(values, torch::kDouble).reshape(shape);
  }
  if (c.values == Values::Raw) return v;

  const double n0 = std::max<double>(1.0, c.spec[kW1].shape.empty() ? 1 : c.spec[kW1].shape.back());
  const double n1 = std::max<double>(1.0, c.spec[kW2].shape.empty() ? 1 : c.spec[kW2].shape.back());
  v[kW1] = v[kW1] * (1.5 / std::sqrt(n0));
  v[kb1] = v[kb1] * 0.5;
  v[kW2] = v[kW2] * (2.0 / std::sqrt(n1));
  v[kb2] = v[kb2] * 0.5;
  v[kY] = (v[kY] * 0.25 + 0.5).clamp(0.0, 1.0);  // labels in [0, 1], often exactly 0 or 1

  auto place = [&](int target, const std::vector<double>& specials) {
    at::Tensor flat = v[target].view({-1});
    const int count = 1 + static_cast<int>(std::fabs(stream.next() * 32.0)) % 3;
    for (int i = 0; i < count && flat.numel() > 0; ++i) {
      const int64_t at = static_cast<int64_t>(std::fabs(stream.next() * 32.0)) % flat.numel();
      const size_t which = static_cast<size_t>(std::fabs(stream.next() * 32.0)) % specials.size();
      flat[at] = specials[which];
    }
  };
  const int chooser = static_cast<int>(std::fabs(stream.next() * 32.0));
  switch (c.values) {
    case Values::LargeLogits: {  // |Z2| up to about 1e4
      const double logit = std::pow(10.0, 1.0 + static_cast<double>(chooser % 31) / 10.0);
      v[kW2] = v[kW2] * (logit / 2.0);
      v[kb2] = v[kb2] * logit;
      break;
    }
    case Values::Extreme: {  // in one factor of each product only, so that none overflows
      static const int targets[] = {kX, kW1, kb1, kW2, kb2};
      place(targets[chooser % 5], {1e30, -1e30});
      break;
    }
    case Values::NonFinite: place(chooser % kInputs, {std::nan(""), INFINITY, -INFINITY}); break;
    default: break;
  }
  return v;
}

// `base` (contiguous) seen through a strided view with the same values, except for Expanded and
// Overlapping, whose values follow from the view.
inline at::Tensor view_as_layout(const at::Tensor& base, Layout layout) {
  const auto dim = base.dim();
  switch (layout) {
    case Layout::Transposed:
      if (dim == 2) return base.t().contiguous().t();
      break;
    case Layout::Sliced:
      if (dim >= 1) {
        std::vector<int64_t> big_shape;
        for (int64_t d : base.sizes()) big_shape.push_back(2 * d + 1);
        at::Tensor big = at::zeros(big_shape, base.options());
        at::Tensor view = big;
        for (int64_t d = 0; d < dim; ++d) view = view.slice(d, 1, c10::nullopt, 2);
        view.copy_(base);
        return view;
      }
      break;
    case Layout::Expanded:  // every row equal to the first, stride 0
      if (dim >= 1 && base.size(0) >= 1) return base.narrow(0, 0, 1).expand(base.sizes());
      break;
    case Layout::Overlapping:  // rows that share all but one element: strides (1, 1)
      if (dim == 2 && base.numel() > 0) {
        const at::Tensor storage =
            base.reshape({-1}).narrow(0, 0, base.size(0) + base.size(1) - 1).clone();
        return storage.as_strided(base.sizes(), {1, 1});
      }
      break;
    default: break;
  }
  return base;
}

inline std::array<at::Tensor, kInputs> make_tensors(const Case& c) {
  const std::array<at::Tensor, kInputs> values = draw_values(c);
  std::array<at::Tensor, kInputs> t;
  for (int k = 0; k < kInputs; ++k) {
    const TensorSpec& s = c.spec[k];
    if (s.undefined) continue;
    if (s.meta) {
      t[k] = at::empty(s.shape, at::TensorOptions().dtype(s.dtype).device(at::kMeta));
      continue;
    }
    at::Tensor base = values[k];
    if (s.dtype == at::kBool) {
      base = base > 0;
    } else if (!at::isFloatingType(s.dtype)) {
      base = base.nan_to_num(0.0, 0.0, 0.0).clamp(-1e6, 1e6).round();
    }
    t[k] = view_as_layout(base.to(s.dtype), s.layout);
    // A non-strided layout; any dtype and rank go (to_sparse takes them all).
    if (s.sparse) t[k] = t[k].to_sparse();
    if (s.requires_grad && c.grad_mode != GradMode::Dual &&
        (s.dtype == at::kFloat || s.dtype == at::kDouble)) {
      t[k].requires_grad_(true);
    }
  }
  return t;
}

}  // namespace twolayer_fuzz
