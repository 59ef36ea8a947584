// The small-net path (cpu_paths.h): every step of the network in the vectorised one-pass
// kernel of small_net_kernel.h, which calls no ATen operator and makes no intermediate tensor.

#include <algorithm>
#include <vector>

#include <ATen/Dispatch.h>
#include <c10/util/SmallVector.h>

#include "ops/cpu/cpu_steps.h"
#include "ops/cpu/cpu_tensors.h"
#include "ops/cpu/row_chunks.h"
#include "ops/cpu/vector_kernels.h"
#include "ops/cpu/workspace.h"

namespace twolayer {
namespace cpu {
namespace {

template <typename T>
SmallNetProblem<T> small_net_problem(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                     const at::Tensor& b1, const at::Tensor& W2,
                                     const at::Tensor& b2, const NetworkShape& s,
                                     Activation activation, OutputLayer output) {
  SmallNetProblem<T> p{};
  p.shape = s;
  p.activation = activation;
  p.output = output;
  p.W1 = W1.data_ptr<T>();
  p.b1 = b1.defined() ? b1.data_ptr<T>() : nullptr;  // backpropagation reads no bias
  p.W2 = W2.data_ptr<T>();
  p.b2 = b2.defined() ? b2.data_ptr<T>() : nullptr;
  // The kernel reads X and Y element by element: any strides will do, no copy needed.
  p.X = X.data_ptr<T>();
  p.x_strides[0] = X.stride(0);
  p.x_strides[1] = X.stride(1);
  if (Y.defined()) {  // the probabilities read no labels
    p.Y = Y.data_ptr<T>();
    p.y_strides[0] = Y.stride(0);
    p.y_strides[1] = Y.stride(1);
  }
  return p;
}

// Chunks' gradient sums (chunks x gradient_sums_size): on the stack at the lecture's sizes.
using SumsBuffer = c10::SmallVector<double, 256>;

// Runs the kernel over the examples in chunks; returns the cost times m. `sums` receives the
// chunks' gradient sums, if p.gradients.
template <typename T>
double run_small_net(const SmallNetProblem<T>& p, int64_t chunks, SumsBuffer& sums) {
  // One cost per chunk, on the stack up to 16 chunks. (Not a c10::SmallVector: GCC 16 warns
  // that its growth path may read it uninitialised.)
  double on_stack[16] = {};
  std::vector<double> on_heap(chunks > 16 ? chunks : 0, 0.0);
  double* costs = chunks > 16 ? on_heap.data() : on_stack;
  const int64_t width = gradient_sums_size(p.shape);
  std::fill(sums.begin(), sums.end(), 0.0);
  for_each_row_chunk(p.shape.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    small_net_pass(p, begin, end, &costs[c], p.gradients ? sums.data() + c * width : nullptr);
  });
  double total = 0.0;
  for (int64_t c = 0; c < chunks; ++c) total += costs[c];
  return total;
}

// Where each parameter's sums start: [dW1 | db1 | dW2 | db2].
struct SumOffsets {
  int64_t W1, b1, W2, b2, width;
  explicit SumOffsets(const NetworkShape& s)
      : W1(0), b1(s.n1 * s.n0), W2(b1 + s.n1), b2(W2 + s.n2 * s.n1), width(b2 + s.n2) {}
};

template <typename T>
ForwardResult forward_for(const NetworkInputs& in, ForwardOutput output, bool keep_cache) {
  const NetworkShape& s = in.shape;
  const bool cost = output == ForwardOutput::Cost;
  SmallNetProblem<T> p =
      small_net_problem<T>(in.X, in.Y, in.W1, in.b1, in.W2, in.b2, s, in.activation, in.output);
  ForwardResult out;
  if (cost) {
    out.J = new_cpu_tensor({}, in.X.options());
  } else {
    out.A2 = new_cpu_tensor({s.m, s.n2}, in.X.options());
    p.A2_out = out.A2.data_ptr<T>();
  }
  if (keep_cache) {
    out.A1 = recycled_cache(CacheSlot::A1, s.m, s.n1, in.X.options());
    p.A1_out = out.A1.data_ptr<T>();
    if (cost) {  // the probabilities' backward reads A2 instead
      out.Z2 = recycled_cache(CacheSlot::Z2, s.m, s.n2, in.X.options());
      p.Z2_out = out.Z2.data_ptr<T>();
    }
  }
  SumsBuffer no_sums;
  const double total = run_small_net(p, row_chunk_count(s.m), no_sums);
  if (cost) *out.J.data_ptr<T>() = static_cast<T>(total / static_cast<double>(s.m));
  return out;
}

template <typename T>
Gradients backward_for(const BackwardInputs& in, GradientMask want) {
  const NetworkShape& s = in.shape;
  const double scale = in.grad_J / static_cast<double>(s.m);  // grad_J (1/m)
  Gradients d = empty_gradients(s, in.X.options(), want);
  if (want.Y) store_label_gradient(in, scale, d.Y);
  if (!want.through_dZ2()) return d;
  SmallNetProblem<T> p = small_net_problem<T>(in.X, in.Y, in.W1, at::Tensor(), in.W2, at::Tensor(),
                                              s, in.activation, in.output);
  const at::Tensor A1 = in.A1.contiguous(), Z2 = in.Z2.contiguous();
  p.A1_in = A1.data_ptr<T>();
  p.Z2_in = Z2.data_ptr<T>();
  p.gradients = true;
  p.hidden_gradients = want.hidden();
  if (want.X) {
    p.dX = d.X.data_ptr<T>();
    p.dX_scale = static_cast<T>(scale);
  }
  const int64_t chunks = row_chunk_count(s.m);
  const SumOffsets offsets(s);
  SumsBuffer sums(chunks * offsets.width);
  run_small_net(p, chunks, sums);
  const auto store = [&](const at::Tensor& g, int64_t offset, int64_t count) {
    if (g.defined()) store_sums(sums, chunks, offsets.width, offset, count, scale, g.data_ptr<T>());
  };
  store(d.W1, offsets.W1, s.n1 * s.n0);
  store(d.b1, offsets.b1, s.n1);
  store(d.W2, offsets.W2, s.n2 * s.n1);
  store(d.b2, offsets.b2, s.n2);
  return d;
}

template <typename T>
void fit_for(const NetworkInputs& in, at::Tensor& W1, at::Tensor& b1, at::Tensor& W2,
             at::Tensor& b2, int64_t iterations, double learning_rate, T* costs) {
  const NetworkShape& s = in.shape;
  // X and Y as columns (each feature's examples consecutive), read every iteration with whole
  // vector loads; they are the same every iteration.
  const at::Tensor Xt = in.X.t().contiguous(), Yt = in.Y.t().contiguous();
  SmallNetProblem<T> p =
      small_net_problem<T>(Xt.t(), Yt.t(), W1, b1, W2, b2, s, in.activation, in.output);
  p.gradients = p.hidden_gradients = true;
  const int64_t chunks = row_chunk_count(s.m);
  const SumOffsets offsets(s);
  SumsBuffer sums(chunks * offsets.width);
  // The parameters in the order of the gradient sums: dW1 | db1 | dW2 | db2.
  T* params[4] = {W1.data_ptr<T>(), b1.data_ptr<T>(), W2.data_ptr<T>(), b2.data_ptr<T>()};
  const int64_t sizes[4] = {s.n1 * s.n0, s.n1, s.n2 * s.n1, s.n2};
  const double inv_m = 1.0 / static_cast<double>(s.m);
  const T alpha = static_cast<T>(learning_rate);
  for (int64_t it = 0; it < iterations; ++it) {
    costs[it] = static_cast<T>(run_small_net(p, chunks, sums) * inv_m);
    int64_t offset = 0;
    for (int q = 0; q < 4; ++q) {
      for (int64_t k = 0; k < sizes[q]; ++k, ++offset) {
        double gradient = 0.0;
        for (int64_t c = 0; c < chunks; ++c) gradient += sums[c * offsets.width + offset];
        // W := W - alpha dW, with dW rounded to T first as the gradients of loss() are.
        params[q][k] -= alpha * static_cast<T>(gradient * inv_m);
      }
    }
  }
}

}  // namespace

ForwardResult small_net_forward(const NetworkInputs& in, ForwardOutput output, bool keep_cache) {
  return AT_DISPATCH_FLOATING_TYPES(in.X.scalar_type(), "twolayer_small_net_forward",
                                    [&] { return forward_for<scalar_t>(in, output, keep_cache); });
}

Gradients small_net_backward(const BackwardInputs& in, GradientMask want) {
  return AT_DISPATCH_FLOATING_TYPES(in.X.scalar_type(), "twolayer_small_net_backward",
                                    [&] { return backward_for<scalar_t>(in, want); });
}

void small_net_fit(const NetworkInputs& in, at::Tensor& W1, at::Tensor& b1, at::Tensor& W2,
                   at::Tensor& b2, int64_t iterations, double learning_rate, at::Tensor& costs) {
  AT_DISPATCH_FLOATING_TYPES(in.X.scalar_type(), "twolayer_small_net_fit", [&] {
    fit_for<scalar_t>(in, W1, b1, W2, b2, iterations, learning_rate, costs.data_ptr<scalar_t>());
  });
}

}  // namespace cpu
}  // namespace twolayer
