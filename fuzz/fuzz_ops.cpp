// libFuzzer target for twolayer's operators: loss, forward, their backward (also with
// create_graph, which takes the differentiable ATen path), their forward-mode AD (dual inputs)
// and fit_ (also with overlapping arguments, which it must refuse).
//
// Each input decodes (decode.h, tensors.h) into one call. The call must either be refused with a
// c10::Error whose message starts with "twolayer: " and names the argument the spec's check order
// blames, leaving every input untouched, or succeed with values that agree with the float64
// ATen reference within a bound on rounding error (oracle.h). Anything else aborts, which
// libFuzzer reports as a crash: an accepted invalid call, a refused valid one, another kind of
// exception, a wrong value, a non-finite value where the reference is finite, a changed input.

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include <torch/csrc/autograd/forward_grad.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include "decode.h"
#include "oracle.h"
#include "tensors.h"

namespace twolayer_fuzz {
namespace {

// The inputs of the call under test, printed with a failure so that it can be reproduced
// without the fuzzer.
const std::array<at::Tensor, kInputs>* current_inputs = nullptr;

[[noreturn]] void fail(const Case& c, const std::string& what) {
  std::fprintf(stderr, "\nfuzz_ops: %s\n  case: %s\n", what.c_str(), describe(c).c_str());
  if (current_inputs != nullptr) {
    std::ostringstream os;
    os.precision(17);
    for (int k = 0; k < kInputs; ++k) {
      const at::Tensor& t = (*current_inputs)[k];
      os << input_name(k) << " = ";
      if (t.defined() && !t.is_meta()) {
        os << t.detach().to(at::kDouble) << "\n";
      } else {
        os << (t.defined() ? "(meta)" : "(undefined)") << "\n";
      }
    }
    std::fprintf(stderr, "%s", os.str().c_str());
  }
  std::abort();
}

bool same_values(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  if (!at::isFloatingType(a.scalar_type())) return torch::equal(a, b);
  return ((a == b) | (torch::isnan(a) & torch::isnan(b))).all().item<bool>();
}

at::Tensor incoming_gradient(const Case& c, at::IntArrayRef shape, at::ScalarType dtype) {
  // Deterministic, of both signs and away from 1 in places, so a dropped factor shows.
  const int64_t n = c10::multiply_integers(shape);
  const at::Tensor g =
      c.grad_scale * (1.0 + 0.5 * torch::sin(torch::arange(n, torch::kDouble) * 1.7));
  return g.reshape(shape).to(dtype);
}

// Values compared densely: a sparse input's values, as a strided tensor.
at::Tensor dense(const at::Tensor& t) {
  return t.layout() == at::kStrided ? t.detach() : t.detach().to_dense();
}

struct Snapshot {
  std::array<at::Tensor, kInputs> copies;
  explicit Snapshot(const std::array<at::Tensor, kInputs>& t) {
    for (int k = 0; k < kInputs; ++k) {
      if (t[k].defined() && !t[k].is_meta()) copies[k] = dense(t[k]).clone();
    }
  }
  void expect_unchanged(const Case& c, const std::array<at::Tensor, kInputs>& t,
                        std::initializer_list<int> which) const {
    for (int k : which) {
      if (copies[k].defined() && !same_values(dense(t[k]), copies[k])) {
        fail(c, std::string("the call changed its input ") + input_name(k));
      }
    }
  }
};

void expect_refusal(const Case& c, const Blame& blame, const std::string& message) {
  if (message.rfind(blame.prefix, 0) == 0) return;
  for (const std::string& other : blame.others) {
    if (message.rfind("twolayer: " + other + " ", 0) == 0) return;
  }
  fail(c, "expected an error starting with '" + blame.prefix + "', got: " + message);
}

// Runs `call`, which must succeed when no argument is to blame and otherwise be refused with a
// message naming the blamed one, leaving every input as it was. Returns whether the call ran.
template <typename Call>
bool ran_as_expected(const Case& c, const Blame& blame, const Snapshot& before,
                     const std::array<at::Tensor, kInputs>& t, Call&& call) {
  try {
    call();
  } catch (const c10::Error& e) {
    if (blame.name.empty()) {
      fail(c, std::string("refused a valid call: ") + e.what_without_backtrace());
    }
    expect_refusal(c, blame, e.what_without_backtrace());
    before.expect_unchanged(c, t, {kX, kY, kW1, kb1, kW2, kb2});
    return false;
  } catch (const std::exception& e) {
    fail(c, std::string("threw something else than a c10::Error: ") + e.what());
  }
  if (!blame.name.empty()) fail(c, "accepted a call with a bad " + blame.name);
  return true;
}

void check(const Case& c, const std::string& what, const std::string& verdict) {
  if (!verdict.empty()) fail(c, what + ": " + verdict);
}

std::array<at::Tensor, kInputs> float64_values(const std::array<at::Tensor, kInputs>& t) {
  std::array<at::Tensor, kInputs> v;
  for (int k = 0; k < kInputs; ++k) {
    if (t[k].defined()) v[k] = t[k].detach().to(at::kDouble).contiguous();
  }
  return v;
}

// A level of forward-mode AD, as torch.autograd.forward_ad.dual_level().
struct DualLevel {
  const uint64_t index = torch::autograd::ForwardADLevel::get_next_idx();
  ~DualLevel() { torch::autograd::ForwardADLevel::release_idx(index); }
};

// A tangent for each input that would require grad: deterministic, of both signs.
std::array<at::Tensor, kInputs> tangents_for(const Case& c,
                                             const std::array<at::Tensor, kInputs>& t) {
  std::array<at::Tensor, kInputs> tangents;
  for (int k = 0; k < kInputs; ++k) {
    const at::Tensor& u = t[k];
    if (!c.spec[k].requires_grad || !u.defined() || u.layout() != at::kStrided ||
        (u.scalar_type() != at::kFloat && u.scalar_type() != at::kDouble)) {
      continue;
    }
    const int64_t n = u.numel();
    const at::Tensor values =
        torch::cos(torch::arange(n, torch::kDouble) * (0.9 + 0.3 * k)).reshape(u.sizes());
    tangents[k] = u.is_meta() ? at::empty(u.sizes(), u.options()) : values.to(u.scalar_type());
  }
  return tangents;
}

// loss or forward with dual inputs: the tangent of J must be the reference's dJ . T (from its
// gradients), that of A2 the reference's forward-mode tangent.
void run_dual(const Case& c, const std::array<at::Tensor, kInputs>& t) {
  current_inputs = &t;
  const bool loss = c.op == Op::Loss;
  const Blame blame = twolayer_fuzz::blame(c, t, loss);
  const Snapshot before(t);
  std::array<at::Tensor, kInputs> tangents = tangents_for(c, t);
  const DualLevel level;
  std::array<at::Tensor, kInputs> d = t;
  bool any = false;
  for (int k = 0; k < kInputs; ++k) {
    if (!tangents[k].defined() || (!loss && k == kY)) continue;
    try {
      d[k] = at::_make_dual(t[k], tangents[k], level.index);
      // The tangent as stored: laid out like its primal, so where a view has several elements
      // in one place (an overlapping layout) they share one tangent value too.
      tangents[k] = d[k]._fw_grad(level.index);
      any = true;
    } catch (const c10::Error&) {
      // Forward-mode AD itself refuses some views: no dual then.
      tangents[k] = at::Tensor();
    }
  }
  at::Tensor out;
  const bool ran = ran_as_expected(c, blame, before, t, [&] {
    out = loss ? twolayer::loss(d[kX], d[kY], d[kW1], d[kb1], d[kW2], d[kb2], c.activation)
               : twolayer::forward(d[kX], d[kW1], d[kb1], d[kW2], d[kb2], c.activation);
  });
  if (!ran || !any) return;
  const at::Tensor tangent = out._fw_grad(level.index);
  if (!tangent.defined() || tangent.sizes() != out.sizes()) {
    fail(c, "dual inputs, but the output has no tangent of its shape");
  }
  if (t[kX].is_meta() || c.values == Values::Raw) return;
  const at::ScalarType dtype = t[kX].scalar_type();
  const std::array<at::Tensor, kInputs> v = float64_values(t);
  if (loss) {
    const Reference ref = reference(v, c.activation, torch::ones({}, torch::kDouble), true, dtype);
    check(c, "J", compare(out.detach(), ref.out, ref.out_scale, dtype));
    // With an inf or NaN input, forward and backward mode may meet 0 * inf in different places.
    if (c.values != Values::Normal && c.values != Values::LargeLogits) return;
    at::Tensor expected = torch::zeros({}, torch::kDouble);
    at::Tensor scale = torch::zeros({}, torch::kDouble);
    for (int k = 0; k < kInputs; ++k) {
      if (!tangents[k].defined()) continue;
      const at::Tensor T = tangents[k].to(at::kDouble);
      expected = expected + (ref.grads[k] * T).sum();
      scale = scale + (ref.grad_scale[k] * T.abs()).sum();
    }
    // Forward mode sums the same products in another order: twice the backward bound.
    check(c, "the tangent of J", compare(tangent, expected, 2 * scale, dtype));
    return;
  }
  // forward: the reference's own forward-mode AD, in float64, compared loosely. Its error
  // bound per element is not derived here; what is checked is that the tangent is there and
  // right, not that it is within rounding.
  if (c.values != Values::Normal) return;
  // At the same level: forward-mode AD takes one level at a time.
  std::array<at::Tensor, kInputs> r;
  for (int k = 0; k < kInputs; ++k) {
    if (k == kY || !v[k].defined()) continue;
    r[k] = tangents[k].defined() ? at::_make_dual(v[k], tangents[k].to(at::kDouble), level.index)
                                 : v[k];
  }
  const at::Tensor ref_out = reference_forward(r[kX], r[kW1], r[kb1], r[kW2], r[kb2], c.activation);
  const at::Tensor ref_tangent = ref_out._fw_grad(level.index);
  const double tol = dtype == at::kDouble ? 1e-8 : 1e-3;
  const double size = ref_tangent.abs().max().item<double>();
  if (!torch::allclose(tangent.to(at::kDouble), ref_tangent, tol, tol * (1 + size))) {
    fail(c, "the tangent of A2 differs from the reference's");
  }
}

// loss or forward, then their backward.
void run_differentiable(const Case& c, const std::array<at::Tensor, kInputs>& t) {
  if (c.grad_mode == GradMode::Dual) {
    run_dual(c, t);
    return;
  }
  current_inputs = &t;
  const bool loss = c.op == Op::Loss;
  const Blame blame = twolayer_fuzz::blame(c, t, loss);
  const Snapshot before(t);
  at::Tensor out;
  {
    c10::optional<torch::NoGradGuard> no_grad;
    c10::optional<c10::InferenceMode> inference;
    if (c.grad_mode == GradMode::NoGrad) no_grad.emplace();
    if (c.grad_mode == GradMode::Inference) inference.emplace();
    const bool ran = ran_as_expected(c, blame, before, t, [&] {
      out = loss ? twolayer::loss(t[kX], t[kY], t[kW1], t[kb1], t[kW2], t[kb2], c.activation)
                 : twolayer::forward(t[kX], t[kW1], t[kb1], t[kW2], t[kb2], c.activation);
    });
    if (!ran) return;
  }

  const at::ScalarType dtype = t[kX].scalar_type();
  const std::vector<int64_t> expected_shape =
      loss ? std::vector<int64_t>{} : std::vector<int64_t>{t[kX].size(0), t[kW2].size(0)};
  if (out.sizes() != at::IntArrayRef(expected_shape) || out.scalar_type() != dtype ||
      out.device() != t[kX].device()) {
    fail(c, "output of the wrong shape, dtype or device");
  }

  std::vector<int> wanted;
  for (int k = 0; k < kInputs; ++k) {
    if ((loss || k != kY) && t[k].requires_grad()) wanted.push_back(k);
  }
  const bool graph = c.grad_mode == GradMode::Enabled || c.grad_mode == GradMode::CreateGraph;
  if (out.requires_grad() != (graph && !wanted.empty())) {
    fail(c, "the output's requires_grad does not follow the inputs and the grad mode");
  }
  if (t[kX].is_meta()) return;  // shapes only

  const at::Tensor grad = incoming_gradient(c, out.sizes(), dtype);
  std::vector<at::Tensor> grads;
  if (out.requires_grad()) {
    std::vector<at::Tensor> inputs;
    for (int k : wanted) inputs.push_back(t[k]);
    try {
      grads = torch::autograd::grad({out}, inputs, {grad}, c10::nullopt,
                                    c.grad_mode == GradMode::CreateGraph);
    } catch (const c10::Error& e) {
      fail(c, std::string("backward threw: ") + e.what_without_backtrace());
    }
  }
  before.expect_unchanged(c, t, {kX, kY, kW1, kb1, kW2, kb2});
  if (c.values == Values::Raw) return;  // arbitrary bit patterns: no crash is all we ask

  const Reference ref =
      reference(float64_values(t), c.activation, grad.to(at::kDouble), loss, dtype);
  check(c, loss ? "J" : "A2", compare(out, ref.out, ref.out_scale, dtype));
  for (size_t i = 0; i < grads.size(); ++i) {
    check(c, std::string("d") + input_name(wanted[i]),
          compare(grads[i], ref.grads[wanted[i]], ref.grad_scale[wanted[i]], dtype));
  }
  if (c.values == Values::LargeLogits) {  // finite inputs, saturated sigmoids: nothing overflows
    if (!torch::isfinite(out).all().item<bool>()) fail(c, "not finite with large logits");
    for (const auto& g : grads) {
      if (!torch::isfinite(g).all().item<bool>()) fail(c, "a gradient not finite, large logits");
    }
  }
}

bool shares_memory_within(const Case& c, int k) {
  return c.spec[k].layout == Layout::Expanded || c.spec[k].layout == Layout::Overlapping;
}

// The first `count` elements of t's storage from t's first one, as a 1-D view, if there are
// that many.
at::Tensor leading_elements(const at::Tensor& t, int64_t count) {
  const int64_t needed = (t.storage_offset() + count) * static_cast<int64_t>(t.element_size());
  if (static_cast<int64_t>(t.storage().nbytes()) < needed) return at::Tensor();
  return t.as_strided({count}, {1}, t.storage_offset());
}

// Makes a valid call's parameter share memory with another argument, as c.alias asks; returns
// the parameter that must be blamed, or -1 if the alias does not apply.
int apply_alias(const Case& c, std::array<at::Tensor, kInputs>& t) {
  if (c.alias == Alias::None || !twolayer_fuzz::blame(c, t, true).name.empty()) return -1;
  if (t[kX].is_meta()) return -1;
  switch (c.alias) {
    case Alias::XIsW1:
      if (t[kX].sizes() != t[kW1].sizes()) return -1;
      t[kX] = t[kW1];
      return kW1;
    case Alias::b1InW1: {
      const at::Tensor b1 = leading_elements(t[kW1], t[kb1].numel());
      if (!b1.defined()) return -1;
      t[kb1] = b1;
      return kW1;
    }
    case Alias::b2InY: {
      const at::Tensor b2 = leading_elements(t[kY], t[kb2].numel());
      if (!b2.defined()) return -1;
      t[kb2] = b2;
      return kb2;
    }
    case Alias::None: break;
  }
  return -1;
}

void run_fit(const Case& c, std::array<at::Tensor, kInputs> t) {
  // A parameter that shares memory with another argument must be refused (apply_alias). A
  // parameter whose own elements share memory is refused too, but an overlapping layout that
  // has_internal_overlap cannot see (TooHard) may run: several updates land in one place, and
  // there is no right answer to compare with, only the absence of crashes and wrong errors.
  const int overlapping = apply_alias(c, t);
  current_inputs = &t;
  const bool ill_defined = shares_memory_within(c, kW1) || shares_memory_within(c, kb1) ||
                           shares_memory_within(c, kW2) || shares_memory_within(c, kb2);
  const Blame blame = twolayer_fuzz::blame(c, t, true, overlapping);
  const Snapshot before(t);
  at::Tensor costs;
  const bool ran = ran_as_expected(c, blame, before, t, [&] {
    costs = twolayer::fit_(t[kW1], t[kb1], t[kW2], t[kb2], t[kX], t[kY], c.iterations,
                           c.learning_rate, c.activation);
  });
  if (!ran) return;
  const at::ScalarType dtype = t[kX].scalar_type();
  if (costs.sizes() != at::IntArrayRef{c.iterations} || costs.scalar_type() != dtype) {
    fail(c, "costs of the wrong shape or dtype");
  }
  if (ill_defined || t[kX].is_meta() || c.values == Values::Raw || c.iterations == 0) return;
  before.expect_unchanged(c, t, {kX, kY});

  // The first cost is J at the starting parameters; after one step, W - lr dW.
  const std::array<at::Tensor, kInputs> v = float64_values(before.copies);
  const Reference ref = reference(v, c.activation, torch::ones({}, torch::kDouble), true, dtype);
  check(c, "costs[0]", compare(costs[0], ref.out, ref.out_scale, dtype));
  if (c.iterations != 1) return;
  for (int k : {kW1, kb1, kW2, kb2}) {
    const at::Tensor expected = v[k] - c.learning_rate * ref.grads[k];
    const at::Tensor scale = v[k].abs() + std::fabs(c.learning_rate) * ref.grad_scale[k];
    check(c, std::string("updated ") + input_name(k), compare(t[k], expected, scale, dtype));
  }
}

}  // namespace
}  // namespace twolayer_fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // One intra-op thread: the batches here are far too small to be cut into chunks anyway.
  at::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace twolayer_fuzz;
  const Case c = decode(data, size);
  static const bool describe_cases = std::getenv("FUZZ_OPS_DESCRIBE") != nullptr;
  if (describe_cases) std::fprintf(stderr, "%s\n", describe(c).c_str());
  const std::array<at::Tensor, kInputs> t = make_tensors(c);
  if (c.op == Op::Fit) {
    run_fit(c, t);
  } else {
    run_differentiable(c, t);
  }
  return 0;
}
