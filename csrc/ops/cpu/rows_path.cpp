// The rows path (cpu_paths.h): the large products by BLAS with the 1/m folded in, everything
// between them in passes over the rows (row_kernels.h), each row read while it is in cache.

#include <vector>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include "ops/cpu/cpu_paths.h"
#include "ops/cpu/cpu_steps.h"
#include "ops/cpu/cpu_tensors.h"
#include "ops/cpu/fast_math.h"
#include "ops/cpu/row_chunks.h"
#include "ops/cpu/row_kernels.h"
#include "ops/cpu/workspace.h"

namespace twolayer {
namespace cpu {
namespace {

// The chunks' costs, added in chunk order, as the 0-dim J.
template <typename T>
at::Tensor cost_tensor(const std::vector<double>& costs, int64_t m,
                       const at::TensorOptions& options) {
  double cost = 0.0;
  for (double c : costs) cost += c;
  at::Tensor J = new_cpu_tensor({}, options);
  *J.data_ptr<T>() = static_cast<T>(cost / static_cast<double>(m));
  return J;
}

template <typename T>
ForwardResult forward_for(const NetworkInputs& in, ForwardOutput output, const at::Tensor& A1,
                          bool keep_Z2) {
  const NetworkShape& s = in.shape;
  const bool cost = output == ForwardOutput::Cost;
  ForwardResult out;
  out.A1 = A1;
  if (!cost) out.A2 = new_cpu_tensor({s.m, s.n2}, in.X.options());
  const int64_t chunks = row_chunk_count(s.m);
  std::vector<double> costs(cost ? chunks : 0, 0.0);
  // Z1 = X W1^T; the bias and g1 in a vectorised row pass (fast_math.h's tanh costs a fraction
  // of ATen's exact one in float, and the pass saves ATen's own over Z1).
  at::mm_out(out.A1, in.X, in.W1.t());
  if (s.n2 <= kRowsMaxOutputs) {
    if (keep_Z2) out.Z2 = recycled_cache(CacheSlot::Z2, s.m, s.n2, in.X.options());
    OutputRows<T> p{};
    p.A1 = out.A1.data_ptr<T>();
    p.b1 = in.b1.data_ptr<T>();
    p.W2 = in.W2.data_ptr<T>();
    p.b2 = in.b2.data_ptr<T>();
    p.Y = cost ? in.Y.data_ptr<T>() : nullptr;
    p.Z2 = keep_Z2 ? out.Z2.data_ptr<T>() : nullptr;
    p.A2 = cost ? nullptr : out.A2.data_ptr<T>();
    p.n1 = s.n1;
    p.n2 = s.n2;
    p.activation = in.activation;
    for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
      output_rows(p, begin, end, cost ? &costs[c] : nullptr);
    });
    if (cost) out.J = cost_tensor<T>(costs, s.m, in.X.options());
    return out;
  }
  T* Z = out.A1.data_ptr<T>();
  const T* b = in.b1.data_ptr<T>();
  at::parallel_for(0, s.m, std::max<int64_t>(1, 32768 / s.n1), [&](int64_t begin, int64_t end) {
    bias_activation_rows(Z, b, s.n1, begin, end, in.activation);
  });
  // Z2 = A1 W2^T + b2: into the probabilities' memory, where the sigmoid then runs in place.
  at::Tensor Z2 = !cost     ? out.A2
                  : keep_Z2 ? recycled_cache(CacheSlot::Z2, s.m, s.n2, in.X.options())
                            : new_cpu_tensor({s.m, s.n2}, in.X.options());
  at::addmm_out(Z2, in.b2, out.A1, in.W2.t());
  T* z2 = Z2.data_ptr<T>();
  for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    if (cost) {
      output_cost_rows(z2, in.Y.data_ptr<T>(), s.n2, begin, end, &costs[c]);
    } else {
      probability_rows(z2, s.n2, begin, end);
    }
  });
  if (cost) out.J = cost_tensor<T>(costs, s.m, in.X.options());
  if (keep_Z2) out.Z2 = std::move(Z2);
  return out;
}

template <typename T>
Gradients backward_for(const BackwardInputs& in, GradientMask want, const at::Tensor& dZ1) {
  const NetworkShape& s = in.shape;
  const double scale = in.grad_J / static_cast<double>(s.m);  // grad_J (1/m)
  Gradients d = empty_gradients(s, in.X.options(), want);
  if (want.Y) at::mul_out(d.Y, in.Z2, at::scalar_tensor(-scale, in.Z2.options()));  // -(1/m) Z2
  if (!want.through_dZ2()) return d;
  const at::Tensor A1 = in.A1.contiguous(), Z2 = in.Z2.contiguous();
  const int64_t chunks = row_chunk_count(s.m);
  T* dZ1_rows = want.hidden() ? dZ1.data_ptr<T>() : nullptr;
  if (s.n2 <= kRowsMaxOutputs) {
    // One pass: dZ2, db2, dW2, dZ1, db1.
    DeltaRows<T> p{};
    p.A1 = A1.data_ptr<T>();
    p.Z2 = Z2.data_ptr<T>();
    p.Y = in.Y.data_ptr<T>();
    p.W2 = in.W2.data_ptr<T>();
    p.dZ1 = dZ1_rows;
    p.n1 = s.n1;
    p.n2 = s.n2;
    p.activation = in.activation;
    p.dW2 = want.W2;
    const int64_t width = delta_rows_sums_size(s.n1, s.n2);
    std::vector<double> sums(chunks * width, 0.0);
    for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
      delta_rows(p, begin, end, sums.data() + c * width);
    });
    const int64_t db2 = 0, dW2 = s.n2, db1 = dW2 + s.n2 * s.n1;
    if (want.b2) store_sums(sums, chunks, width, db2, s.n2, scale, d.b2.data_ptr<T>());
    if (p.dW2) store_sums(sums, chunks, width, dW2, s.n2 * s.n1, scale, d.W2.data_ptr<T>());
    if (want.b1) store_sums(sums, chunks, width, db1, s.n1, scale, d.b1.data_ptr<T>());
  } else {
    // Many outputs: the output layer's products by BLAS, then the hidden delta.
    const at::Tensor dZ2 = new_cpu_tensor({s.m, s.n2}, in.X.options());
    std::vector<double> db2_sums(chunks * s.n2, 0.0);
    for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
      output_delta_rows(Z2.data_ptr<T>(), in.Y.data_ptr<T>(), dZ2.data_ptr<T>(), s.n2, begin, end,
                        db2_sums.data() + c * s.n2);
    });
    if (want.b2) store_sums(db2_sums, chunks, s.n2, 0, s.n2, scale, d.b2.data_ptr<T>());
    // beta = 0: the uninitialised outputs are not read; alpha carries grad_J (1/m).
    if (want.W2) at::addmm_out(d.W2, d.W2, dZ2.t(), A1, 0, blas_alpha(scale));
    if (want.hidden()) {
      // dZ2 W2 goes where dZ1 will be, and becomes dZ1 in place, unless that is A1's memory
      // (fit_ writes dZ1 over the cache it no longer needs).
      const bool overwrites_A1 = dZ1_rows == A1.data_ptr<T>();
      at::Tensor hidden = dZ1;
      const at::Tensor product =
          overwrites_A1 ? at::mm(dZ2, in.W2) : at::mm_out(hidden, dZ2, in.W2);
      std::vector<double> db1_sums(chunks * s.n1, 0.0);
      for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
        hidden_delta_rows(A1.data_ptr<T>(), product.data_ptr<T>(), dZ1_rows, s.n1, begin, end,
                          in.activation, db1_sums.data() + c * s.n1);
      });
      if (want.b1) store_sums(db1_sums, chunks, s.n1, 0, s.n1, scale, d.b1.data_ptr<T>());
    }
  }
  const double alpha = blas_alpha(scale);
  if (want.W1) at::addmm_out(d.W1, d.W1, dZ1.t(), in.X, 0, alpha);  // dW1 = (1/m) dZ1^T X
  if (want.X) at::addmm_out(d.X, d.X, dZ1, in.W1, 0, alpha);        // dX = (1/m) dZ1 W1
  scale_blas_products(scale, {&d.W1, &d.X});
  if (s.n2 > kRowsMaxOutputs) scale_blas_products(scale, {&d.W2});
  return d;
}

}  // namespace

ForwardResult rows_forward(const NetworkInputs& in, ForwardOutput output, at::Tensor A1,
                           bool keep_Z2) {
  return AT_DISPATCH_FLOATING_TYPES(in.X.scalar_type(), "twolayer_rows_forward",
                                    [&] { return forward_for<scalar_t>(in, output, A1, keep_Z2); });
}

Gradients rows_backward(const BackwardInputs& in, GradientMask want, const at::Tensor& dZ1) {
  return AT_DISPATCH_FLOATING_TYPES(in.X.scalar_type(), "twolayer_rows_backward",
                                    [&] { return backward_for<scalar_t>(in, want, dZ1); });
}

}  // namespace cpu
}  // namespace twolayer
