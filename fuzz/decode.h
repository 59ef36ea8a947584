#pragma once

// Turns the fuzzer's bytes into a call of one operator: shapes (with empty dimensions and wrong
// ranks), dtypes, devices, undefined tensors, strided views, sparse layouts, values (ordinary,
// saturating logits, +-1e30, NaN and inf, raw bit patterns), activation names, dual tensors of
// forward-mode AD, and fit_'s arguments, overlapping ones included.
// Every byte string decodes to some case. The fields are read one byte each from the end of the
// input (FuzzedDataProvider), so a mutated byte changes one field; the bytes left over are the
// values.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>
#include <torch/torch.h>

#include "reference_network.h"  // tests/cpp: the activation names of the spec

namespace twolayer_fuzz {

enum Input { kX, kY, kW1, kb1, kW2, kb2, kInputs };
inline const char* input_name(int k) {
  static const char* names[kInputs] = {"X", "Y", "W1", "b1", "W2", "b2"};
  return names[k];
}

enum class Op { Loss, Forward, Fit };
enum class Layout { Contiguous, Transposed, Sliced, Expanded, Overlapping };
// Raw: arbitrary bit patterns, where only the absence of crashes and wrong errors is checked.
enum class Values { Normal, LargeLogits, Extreme, NonFinite, Raw };
// Dual: the inputs marked requires_grad become dual tensors of forward-mode AD instead.
enum class GradMode { Enabled, NoGrad, Inference, CreateGraph, Dual };
// fit_ with a parameter that shares memory with another argument.
enum class Alias { None, XIsW1, b1InW1, b2InY };

struct TensorSpec {
  std::vector<int64_t> shape;
  at::ScalarType dtype = at::kFloat;
  bool undefined = false;
  bool meta = false;
  bool sparse = false;  // a sparse COO tensor of the values
  Layout layout = Layout::Contiguous;
  bool requires_grad = false;
};

struct Case {
  Op op = Op::Loss;
  TensorSpec spec[kInputs];
  std::string activation = "tanh";
  Values values = Values::Normal;
  GradMode grad_mode = GradMode::Enabled;
  double grad_scale = 1.0;  // the incoming gradient of J, or the scale of that of A2
  int64_t iterations = 1;   // fit_
  double learning_rate = 0.5;
  Alias alias = Alias::None;
  std::vector<double> data;  // values, consumed element by element
};

template <typename T>
T pick(FuzzedDataProvider& in, const std::vector<T>& table) {
  return table[in.ConsumeIntegralInRange<size_t>(0, table.size() - 1)];
}

inline void apply_fault(FuzzedDataProvider& in, Case& c) {
  const int target = in.ConsumeIntegralInRange<int>(0, kInputs - 1);
  TensorSpec& t = c.spec[target];
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: {  // rank
      t.shape.assign(pick<size_t>(in, {0, 1, 3, 4}), 2);
      for (auto& d : t.shape) d = in.ConsumeIntegralInRange<int64_t>(0, 3);
      break;
    }
    case 1:  // dtype
      t.dtype = pick<at::ScalarType>(
          in, {at::kLong, at::kHalf, at::kBool, at::kBFloat16, at::kInt, at::kFloat, at::kDouble});
      break;
    case 2:  // an empty dimension
      if (!t.shape.empty()) t.shape[in.ConsumeIntegralInRange<size_t>(0, t.shape.size() - 1)] = 0;
      break;
    case 3:  // a size off by a little
      for (auto& d : t.shape) {
        d = std::max<int64_t>(0, d + in.ConsumeIntegralInRange<int64_t>(-1, 2));
      }
      break;
    case 4: t.meta = true; break;
    case 5: t.undefined = true; break;
    case 6: c.activation = in.ConsumeRandomLengthString(12); break;
    case 7: t.sparse = true; break;
  }
}

inline Case decode(const uint8_t* bytes, size_t size) {
  FuzzedDataProvider in(bytes, size);
  Case c;
  c.op = pick<Op>(in, {Op::Loss, Op::Forward, Op::Fit});
  const at::ScalarType dtype = in.ConsumeBool() ? at::kFloat : at::kDouble;
  // The CPU paths (csrc/ops/cpu/cpu_paths.h): n1 (n0 + n2) <= 64 weights the small net, up to
  // 32768 the row blocks, more (n0 = 190 with n1 = 180) the whole-batch rows path; on the row
  // paths n2 <= 4 outputs in the row pass, more (5, 17) by BLAS; on the row blocks the layers
  // by the row kernel dense_rows for n0 <= 64 with n1 >= 4 (4, 7, 24, 180), else by BLAS
  // (n0 = 190, or n1 = 1, 2). Sizes are appended to their tables, so that the corpus's older
  // files decode as before.
  const int64_t m = pick<int64_t>(in, {1, 2, 3, 5, 9, 1, 4});
  const int64_t n0 = pick<int64_t>(in, {1, 2, 3, 5, 190});
  const int64_t n1 = pick<int64_t>(in, {1, 2, 4, 7, 24, 180});
  const int64_t n2 = pick<int64_t>(in, {1, 2, 3, 17, 5});
  const std::vector<std::vector<int64_t>> shapes = {{m, n0}, {m, n2},  {n1, n0},
                                                    {n1},    {n2, n1}, {n2}};
  const uint8_t grads = in.ConsumeIntegral<uint8_t>();
  for (int k = 0; k < kInputs; ++k) {
    c.spec[k].shape = shapes[k];
    c.spec[k].dtype = dtype;
    c.spec[k].layout = pick<Layout>(in, {Layout::Contiguous, Layout::Contiguous, Layout::Transposed,
                                         Layout::Sliced, Layout::Expanded, Layout::Overlapping});
    c.spec[k].requires_grad = (grads >> k) & 1;
  }
  c.activation = pick(in, twolayer_reference::all_activations());
  c.values = pick<Values>(in, {Values::Normal, Values::Normal, Values::LargeLogits, Values::Extreme,
                               Values::NonFinite, Values::Raw});
  c.grad_mode = pick<GradMode>(in, {GradMode::Enabled, GradMode::Enabled, GradMode::NoGrad,
                                    GradMode::Inference, GradMode::CreateGraph, GradMode::Dual});
  c.grad_scale = pick<double>(in, {1.0, -0.75, 2.5, 0.0});
  c.iterations = pick<int64_t>(in, {1, 1, 2, 3, 0, -1});
  c.learning_rate = pick<double>(
      in, {0.5, 1.2, 0.0, -0.3, 1e30, std::nan(""), std::numeric_limits<double>::infinity()});
  // Mostly none: 1..13 (the corpus writes 1) decode to Alias::None.
  switch (in.ConsumeIntegralInRange<int>(0, 15)) {
    case 0: c.alias = Alias::XIsW1; break;
    case 14: c.alias = Alias::b1InW1; break;
    case 15: c.alias = Alias::b2InY; break;
    default: c.alias = Alias::None; break;
  }
  const int faults = pick<int>(in, {0, 0, 0, 1, 1, 2});
  for (int f = 0; f < faults; ++f) apply_fault(in, c);

  // What is left are the values. Raw mode reads them as bit patterns of doubles; the others
  // read small integers, scaled per tensor by the value mode in make_tensors.
  while (in.remaining_bytes() > 0 && c.data.size() < 4096) {
    if (c.values == Values::Raw && in.remaining_bytes() >= 8) {
      const uint64_t bits = in.ConsumeIntegral<uint64_t>();
      double v;
      std::memcpy(&v, &bits, sizeof v);
      c.data.push_back(v);
    } else {
      c.data.push_back(static_cast<double>(in.ConsumeIntegral<int8_t>()) / 32.0);
    }
  }
  return c;
}

// One line per case, for the report of a failing input.
inline std::string describe(const Case& c) {
  static const char* ops[] = {"loss", "forward", "fit_"};
  static const char* layouts[] = {"contiguous", "transposed", "sliced", "expanded", "overlapping"};
  static const char* values[] = {"normal", "large_logits", "extreme", "nonfinite", "raw"};
  static const char* modes[] = {"grad", "no_grad", "inference", "create_graph", "dual"};
  static const char* aliases[] = {"", " alias X=W1", " alias b1 in W1", " alias b2 in Y"};
  std::string s = std::string(ops[static_cast<int>(c.op)]) + " activation='" + c.activation +
                  "' values=" + values[static_cast<int>(c.values)] +
                  " mode=" + modes[static_cast<int>(c.grad_mode)] +
                  " grad=" + std::to_string(c.grad_scale);
  if (c.op == Op::Fit) {
    s += " iterations=" + std::to_string(c.iterations) + " lr=" + std::to_string(c.learning_rate) +
         aliases[static_cast<int>(c.alias)];
  }
  for (int k = 0; k < kInputs; ++k) {
    const TensorSpec& t = c.spec[k];
    s += std::string("\n  ") + input_name(k) + ": ";
    if (t.undefined) {
      s += "undefined";
      continue;
    }
    s += "[";
    for (size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
    s += std::string("] ") + c10::toString(t.dtype) + " " + layouts[static_cast<int>(t.layout)] +
         (t.meta ? " meta" : "") + (t.sparse ? " sparse" : "") +
         (t.requires_grad ? " requires_grad" : "");
  }
  return s;
}

}  // namespace twolayer_fuzz
