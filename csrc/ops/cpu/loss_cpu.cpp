#include "ops/cpu/loss_cpu.h"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <vector>

#include <ATen/Dispatch.h>
#include <ATen/EmptyTensor.h>
#include <c10/util/SmallVector.h>

#include "math/fit.h"
#include "ops/cpu/fast_math.h"
#include "ops/cpu/row_chunks.h"
#include "ops/cpu/row_kernels.h"
#include "ops/cpu/small_net_kernel.h"

namespace twolayer {
namespace cpu {
namespace {

bool any_parameter_gradient(const std::array<bool, 6>& mask) {
  return mask[2] || mask[3] || mask[4] || mask[5];
}

// A new CPU tensor without a trip through the dispatcher: at the lecture's size a step makes
// five of them, and each dispatch would cost about as much as a tenth of the arithmetic.
at::Tensor new_cpu_tensor(at::IntArrayRef sizes, const at::TensorOptions& options) {
  return at::Tensor(at::detail::empty_cpu(sizes, options));
}

// Allocates the gradients the mask asks for, shaped like their inputs.
LossGradients empty_gradients(const NetworkShape& s, const at::TensorOptions& options,
                              std::array<bool, 6> mask) {
  LossGradients grads;
  if (mask[0]) grads[0] = new_cpu_tensor({s.m, s.n0}, options);
  if (mask[1]) grads[1] = new_cpu_tensor({s.m, s.n2}, options);
  if (mask[2]) grads[2] = new_cpu_tensor({s.n1, s.n0}, options);
  if (mask[3]) grads[3] = new_cpu_tensor({s.n1}, options);
  if (mask[4]) grads[4] = new_cpu_tensor({s.n2, s.n1}, options);
  if (mask[5]) grads[5] = new_cpu_tensor({s.n2}, options);
  return grads;
}

// Adds the chunks' sums in chunk order, scales by `scale` and stores them as T.
template <typename Sums, typename T>
void store_sums(const Sums& sums, int64_t chunks, int64_t width, int64_t offset,
                int64_t count, double scale, T* out) {
  for (int64_t k = 0; k < count; ++k) {
    double total = 0.0;
    for (int64_t c = 0; c < chunks; ++c) total += sums[c * width + offset + k];
    out[k] = static_cast<T>(total * scale);
  }
}

// ---- small networks: the one-pass kernel ----

template <typename T>
SmallNetProblem<T> small_net_problem(const at::Tensor& X, const at::Tensor& Y,
                                     const at::Tensor& W1, const at::Tensor& b1,
                                     const at::Tensor& W2, const at::Tensor& b2,
                                     const NetworkShape& s, Activation activation) {
  SmallNetProblem<T> p{};
  p.shape = s;
  p.activation = activation;
  p.W1 = W1.data_ptr<T>();
  p.b1 = b1.data_ptr<T>();
  p.W2 = W2.data_ptr<T>();
  p.b2 = b2.data_ptr<T>();
  // The kernel reads X and Y element by element: any strides will do, no copy needed.
  p.X = X.data_ptr<T>();
  p.x_strides[0] = X.stride(0);
  p.x_strides[1] = X.stride(1);
  p.Y = Y.data_ptr<T>();
  p.y_strides[0] = Y.stride(0);
  p.y_strides[1] = Y.stride(1);
  return p;
}

// Chunks' gradient sums (chunks x gradient_sums_size): on the stack at the lecture's sizes.
using SumsBuffer = c10::SmallVector<double, 256>;

// Runs the kernel over the examples in chunks; returns the cost times m. `sums` receives the
// chunks' gradient sums, if p.gradients.
template <typename T>
double small_net_sums(const SmallNetProblem<T>& p, int64_t chunks, SumsBuffer& sums) {
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

template <typename T>
void small_net_loss_and_gradients(const at::Tensor& X, const at::Tensor& Y,
                                  const at::Tensor& W1, const at::Tensor& b1,
                                  const at::Tensor& W2, const at::Tensor& b2,
                                  const NetworkShape& s, Activation activation,
                                  std::array<bool, 6> mask, CostAndGradients& out) {
  const double inv_m = 1.0 / static_cast<double>(s.m);
  SmallNetProblem<T> p = small_net_problem<T>(X, Y, W1, b1, W2, b2, s, activation);
  p.gradients = mask[0] || any_parameter_gradient(mask);
  LossGradients& grads = out.gradients;
  if (mask[0]) {
    p.dX = grads[0].data_ptr<T>();
    p.dX_scale = static_cast<T>(inv_m);
  }
  if (mask[1]) {  // dJ/dY = -(1/m) Z2: the cost is softplus(Z2) - Y Z2, linear in Y
    p.dY = grads[1].data_ptr<T>();
    p.dY_scale = static_cast<T>(-inv_m);
  }
  const int64_t chunks = row_chunk_count(s.m);
  const int64_t width = gradient_sums_size(s);
  SumsBuffer sums(p.gradients ? chunks * width : 0);
  const double total = small_net_sums(p, chunks, sums);
  *out.J.data_ptr<T>() = static_cast<T>(total * inv_m);
  const int64_t offsets[4] = {0, s.n1 * s.n0, s.n1 * s.n0 + s.n1, s.n1 * s.n0 + s.n1 + s.n2 * s.n1};
  for (int q = 0; q < 4; ++q) {
    if (!mask[2 + q]) continue;
    const int64_t next = q < 3 ? offsets[q + 1] : width;
    store_sums(sums, chunks, width, offsets[q], next - offsets[q], inv_m,
               grads[2 + q].data_ptr<T>());
  }
}

// ---- larger networks: BLAS products and fused row passes ----

void activate_in_place(at::Tensor& Z1, Activation activation) {
  switch (activation) {
    case Activation::Tanh: Z1.tanh_(); return;
    case Activation::Relu: Z1.relu_(); return;
    case Activation::Sigmoid: Z1.sigmoid_(); return;
    case Activation::LeakyRelu: at::leaky_relu_(Z1, kLeakyReluSlope); return;
  }
}

// Sum over all examples and outputs of softplus(Z2) - Y Z2: the cost times m.
template <typename T>
double cost_times_m(const T* Z2, const T* Y, int64_t m, int64_t n2) {
  const int64_t chunks = row_chunk_count(m);
  std::vector<double> partial(chunks, 0.0);
  for_each_row_chunk(m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    double sum = 0.0;
    for (int64_t k = begin * n2; k < end * n2; ++k) {
      sum += cost_term(Math<T>::logit(Z2[k]), Z2[k], Y[k]);
    }
    partial[c] = sum;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// Z2 becomes dZ2 = A2 - Y in one pass, with the column sums of dZ2 (db2 before the 1/m).
template <typename T>
void output_delta_in_place(T* Z2, const T* Y, int64_t m, int64_t n2, std::vector<double>& sums,
                           int64_t chunks) {
  for_each_row_chunk(m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    double* db2 = sums.data() + c * n2;
    for (int64_t i = begin; i < end; ++i) {
      for (int64_t o = 0; o < n2; ++o) {
        const int64_t k = i * n2 + o;
        Z2[k] = Math<T>::logit(Z2[k]).logistic - Y[k];
        db2[o] += Z2[k];
      }
    }
  });
}

// The (m x n1) buffer of the BLAS path, which holds A1 and then dZ1 and never leaves a call:
// kept per thread from call to call, because fresh memory of that size (32 MiB for 8192 x 1024
// floats) costs a page fault per 4 KiB every step. It grows to the largest size used.
at::Tensor hidden_workspace(int64_t m, int64_t n1, const at::TensorOptions& options) {
  thread_local std::unique_ptr<char[]> buffer;
  thread_local size_t capacity = 0;
  const size_t bytes = static_cast<size_t>(m * n1) * options.dtype().itemsize();
  // A null buffer is allocated whatever the capacity says: after a failed `new` (bad_alloc,
  // the caller's MemoryError) the buffer is null, and GCC 16 was seen to keep the old capacity
  // (it may drop the store of 0 before `new` as dead), which left every later call a null
  // workspace. Testing the pointer does not depend on that store.
  if (!buffer || bytes > capacity) {
    // The old one goes before the new one comes.
    buffer.reset();
    capacity = 0;
    buffer.reset(new char[bytes]);
    capacity = bytes;
  }
  return at::from_blob(buffer.get(), {m, n1}, options);
}

// float: the bias and the activation in a vectorised row pass (fast_math.h's tanh costs a
// fraction of ATen's exact one); double: ATen's exact activation.
template <typename T>
constexpr bool kActivateInPass = std::is_same_v<T, float>;

// X W1^T, in the workspace; also + b1 and g1 unless a row pass applies them (kActivateInPass).
template <typename T>
at::Tensor hidden_products(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                           Activation activation) {
  at::Tensor A1 = hidden_workspace(X.size(0), W1.size(0), X.options());
  if (kActivateInPass<T>) {
    at::mm_out(A1, X, W1.t());
  } else {
    at::addmm_out(A1, b1, X, W1.t());
    activate_in_place(A1, activation);
  }
  return A1;
}

// A1 = g1(X W1^T + b1), in the workspace, for paths whose row passes do not apply g1 themselves.
template <typename T>
at::Tensor hidden_layer(const at::Tensor& X, const at::Tensor& W1, const at::Tensor& b1,
                        Activation activation) {
  at::Tensor A1 = hidden_products<T>(X, W1, b1, activation);
  if (!kActivateInPass<T>) return A1;
  const int64_t n1 = A1.size(1);
  T* Z = A1.data_ptr<T>();
  const T* b = b1.data_ptr<T>();
  at::parallel_for(0, A1.size(0), std::max<int64_t>(1, 32768 / n1), [&](int64_t begin, int64_t end) {
    bias_activation_rows(Z, b, n1, begin, end, activation);
  });
  return A1;
}

// Runs row_kernels.h's fused_rows over all rows of A1 (from hidden_products) and stores J (and dY
// if the mask asks for it); with `gradients` the rows become dZ1, else dZ2 goes to `dZ2`.
// Returns the chunks' sums, fused_rows_sums_size(n1, n2) per chunk.
template <typename T>
std::vector<double> run_fused_rows(const at::Tensor& A1, const at::Tensor& Y, const at::Tensor& b1,
                                   const at::Tensor& W2, const at::Tensor& b2,
                                   const NetworkShape& s, Activation activation,
                                   std::array<bool, 6> mask, bool gradients, T* dZ2,
                                   int64_t chunks, CostAndGradients& out) {
  const double inv_m = 1.0 / static_cast<double>(s.m);
  FusedRows<T> p{};
  p.A1 = A1.data_ptr<T>();
  p.b1 = b1.data_ptr<T>();
  p.W2 = W2.data_ptr<T>();
  p.b2 = b2.data_ptr<T>();
  p.Y = Y.data_ptr<T>();
  p.dY = mask[1] ? out.gradients[1].data_ptr<T>() : nullptr;  // dY = -(1/m) Z2
  p.dY_scale = static_cast<T>(-inv_m);
  p.dZ2 = dZ2;
  p.n1 = s.n1;
  p.n2 = s.n2;
  p.activation = activation;
  p.activate = kActivateInPass<T>;
  p.gradients = gradients;
  const int64_t width = fused_rows_sums_size(s.n1, s.n2);
  std::vector<double> sums(chunks * width, 0.0);
  for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    fused_rows(p, begin, end, sums.data() + c * width);
  });
  double cost = 0.0;
  for (int64_t c = 0; c < chunks; ++c) cost += sums[c * width];
  *out.J.data_ptr<T>() = static_cast<T>(cost * inv_m);
  return sums;
}

// Few outputs: the two large products, and everything between them in one pass over the rows
// (row_kernels.h's fused_rows), the row buffer holding A1 and then dZ1.
template <typename T>
void fused_blas_loss_and_gradients(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                                   const at::Tensor& b1, const at::Tensor& W2,
                                   const at::Tensor& b2, const NetworkShape& s,
                                   Activation activation, std::array<bool, 6> mask,
                                   CostAndGradients& out) {
  const double inv_m = 1.0 / static_cast<double>(s.m);
  const int64_t chunks = row_chunk_count(s.m);
  LossGradients& grads = out.gradients;
  at::Tensor A1 = hidden_products<T>(X, W1, b1, activation);
  const bool gradients = mask[0] || mask[2] || mask[3] || mask[4] || mask[5];
  const std::vector<double> sums =
      run_fused_rows<T>(A1, Y, b1, W2, b2, s, activation, mask, gradients, nullptr, chunks, out);
  const int64_t width = fused_rows_sums_size(s.n1, s.n2);
  const int64_t db2 = 1, dW2 = db2 + s.n2, db1 = dW2 + s.n2 * s.n1;
  if (mask[5]) store_sums(sums, chunks, width, db2, s.n2, inv_m, grads[5].data_ptr<T>());
  if (mask[4]) store_sums(sums, chunks, width, dW2, s.n2 * s.n1, inv_m, grads[4].data_ptr<T>());
  if (mask[3]) store_sums(sums, chunks, width, db1, s.n1, inv_m, grads[3].data_ptr<T>());
  const at::Tensor& dZ1 = A1;  // the pass left dZ1 in the buffer
  if (mask[2]) at::addmm_out(grads[2], grads[2], dZ1.t(), X, 0, inv_m);
  if (mask[0]) at::addmm_out(grads[0], grads[0], dZ1, W1, 0, inv_m);
}

// More outputs: BLAS for the output layer's backward products (and, past
// kFusedForwardMaxOutputs, for its forward too).
template <typename T>
void blas_loss_and_gradients(const at::Tensor& X, const at::Tensor& Y, const at::Tensor& W1,
                             const at::Tensor& b1, const at::Tensor& W2, const at::Tensor& b2,
                             const NetworkShape& s, Activation activation,
                             std::array<bool, 6> mask, CostAndGradients& out) {
  const double inv_m = 1.0 / static_cast<double>(s.m);
  const int64_t chunks = row_chunk_count(s.m);
  LossGradients& grads = out.gradients;
  const bool need_dZ1 = mask[0] || mask[2] || mask[3];
  at::Tensor A1, dZ2;
  if (s.n2 <= kFusedForwardMaxOutputs) {
    // The forward half of the fused row pass: A1, Z2, the cost and dZ2 = A2 - Y in one read
    // of each row, instead of an activation pass, a BLAS call and two passes over Z2.
    A1 = hidden_products<T>(X, W1, b1, activation);
    dZ2 = new_cpu_tensor({s.m, s.n2}, X.options());
    const std::vector<double> sums = run_fused_rows<T>(A1, Y, b1, W2, b2, s, activation, mask,
                                                       false, dZ2.data_ptr<T>(), chunks, out);
    const int64_t width = fused_rows_sums_size(s.n1, s.n2), db2 = 1;
    if (mask[5]) store_sums(sums, chunks, width, db2, s.n2, inv_m, grads[5].data_ptr<T>());
    if (!need_dZ1 && !mask[4]) return;
  } else {
    A1 = hidden_layer<T>(X, W1, b1, activation);
    at::Tensor Z2 = at::addmm(b2, A1, W2.t());
    *out.J.data_ptr<T>() =
        static_cast<T>(cost_times_m(Z2.data_ptr<T>(), Y.data_ptr<T>(), s.m, s.n2) * inv_m);
    if (mask[1]) {  // dY = -(1/m) Z2, into the tensor already made for it, before Z2 becomes dZ2
      at::mul_out(grads[1], Z2, at::scalar_tensor(-inv_m, Z2.options()));
    }
    if (!need_dZ1 && !mask[4] && !mask[5]) return;
    dZ2 = Z2;  // from here on, the buffer of Z2 holds dZ2
    std::vector<double> db2_sums(chunks * s.n2, 0.0);
    output_delta_in_place(dZ2.data_ptr<T>(), Y.data_ptr<T>(), s.m, s.n2, db2_sums, chunks);
    if (mask[5]) store_sums(db2_sums, chunks, s.n2, 0, s.n2, inv_m, grads[5].data_ptr<T>());
  }
  // beta = 0: the uninitialised outputs are not read; alpha carries the 1/m.
  if (mask[4]) at::addmm_out(grads[4], grads[4], dZ2.t(), A1, 0, inv_m);
  if (!need_dZ1) return;

  // dZ1 overwrites A1, whose last reader was dW2 above.
  // With few outputs a BLAS call for dZ2 W2 costs more than the fused sum does.
  const at::Tensor product = s.n2 > kFusedForwardMaxOutputs ? at::mm(dZ2, W2) : at::Tensor();
  at::Tensor& dZ1 = A1;
  std::vector<double> db1_sums(chunks * s.n1, 0.0);
  for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    hidden_delta_rows(dZ1.data_ptr<T>(), dZ2.data_ptr<T>(), W2.data_ptr<T>(),
                      product.defined() ? product.data_ptr<T>() : nullptr, s.n1, s.n2, begin,
                      end, activation, db1_sums.data() + c * s.n1);
  });
  if (mask[3]) store_sums(db1_sums, chunks, s.n1, 0, s.n1, inv_m, grads[3].data_ptr<T>());
  if (mask[2]) at::addmm_out(grads[2], grads[2], dZ1.t(), X, 0, inv_m);
  if (mask[0]) at::addmm_out(grads[0], grads[0], dZ1, W1, 0, inv_m);
}

}  // namespace

CostAndGradients loss_and_gradients(const at::Tensor& X_, const at::Tensor& Y_,
                                    const at::Tensor& W1_, const at::Tensor& b1_,
                                    const at::Tensor& W2_, const at::Tensor& b2_,
                                    const NetworkShape& s, Activation activation,
                                    std::array<bool, 6> mask) {
  vector_kernels_version();  // refuses a bad TWOLAYER_CPU_KERNEL here, not in a worker thread
  // The parameters are small: contiguous copies of strided ones cost nothing worth avoiding.
  const at::Tensor W1 = W1_.contiguous(), b1 = b1_.contiguous(), W2 = W2_.contiguous(),
                   b2 = b2_.contiguous();
  CostAndGradients out;
  out.J = new_cpu_tensor({}, X_.options());
  out.gradients = empty_gradients(s, X_.options(), mask);
  AT_DISPATCH_FLOATING_TYPES(X_.scalar_type(), "twolayer_loss_and_gradients", [&] {
    if (use_small_net_kernel(s)) {
      small_net_loss_and_gradients<scalar_t>(X_, Y_, W1, b1, W2, b2, s, activation, mask, out);
    } else if (s.n2 <= kFusedRowsMaxOutputs) {
      fused_blas_loss_and_gradients<scalar_t>(X_.contiguous(), Y_.contiguous(), W1, b1, W2, b2,
                                              s, activation, mask, out);
    } else {
      blas_loss_and_gradients<scalar_t>(X_.contiguous(), Y_.contiguous(), W1, b1, W2, b2, s,
                                        activation, mask, out);
    }
  });
  return out;
}

namespace {

// fit_ for small networks: the one-pass kernel every iteration, the update in place.
template <typename T>
void small_net_fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2,
                   const at::Tensor& X, const at::Tensor& Y, const NetworkShape& s,
                   int64_t iterations, double learning_rate, Activation activation, T* costs) {
  // X and Y as columns (each feature's examples consecutive), read every iteration with whole
  // vector loads; they are the same every iteration.
  const at::Tensor Xt = X.t().contiguous(), Yt = Y.t().contiguous();
  SmallNetProblem<T> p = small_net_problem<T>(Xt.t(), Yt.t(), W1, b1, W2, b2, s, activation);
  p.gradients = true;
  const int64_t chunks = row_chunk_count(s.m);
  const int64_t width = gradient_sums_size(s);
  SumsBuffer sums(chunks * width);
  // The parameters in the order of the gradient sums: dW1 | db1 | dW2 | db2.
  T* params[4] = {W1.data_ptr<T>(), b1.data_ptr<T>(), W2.data_ptr<T>(), b2.data_ptr<T>()};
  const int64_t sizes[4] = {s.n1 * s.n0, s.n1, s.n2 * s.n1, s.n2};
  const double inv_m = 1.0 / static_cast<double>(s.m);
  const T alpha = static_cast<T>(learning_rate);
  for (int64_t it = 0; it < iterations; ++it) {
    costs[it] = static_cast<T>(small_net_sums(p, chunks, sums) * inv_m);
    int64_t offset = 0;
    for (int q = 0; q < 4; ++q) {
      for (int64_t k = 0; k < sizes[q]; ++k, ++offset) {
        double gradient = 0.0;
        for (int64_t c = 0; c < chunks; ++c) gradient += sums[c * width + offset];
        // W := W - alpha dW, with dW rounded to T first as the gradients of loss() are.
        params[q][k] -= alpha * static_cast<T>(gradient * inv_m);
      }
    }
  }
}

}  // namespace

at::Tensor fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X,
               const at::Tensor& Y, const NetworkShape& shape, int64_t iterations,
               double learning_rate, Activation activation) {
  vector_kernels_version();  // refuses a bad TWOLAYER_CPU_KERNEL before any update
  at::Tensor costs = allocate_costs(iterations, X.options());
  const bool in_place_ok = W1.is_contiguous() && b1.is_contiguous() && W2.is_contiguous() &&
                           b2.is_contiguous();
  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "twolayer_fit", [&] {
    scalar_t* cost = costs.data_ptr<scalar_t>();
    if (in_place_ok && use_small_net_kernel(shape)) {
      small_net_fit<scalar_t>(W1, b1, W2, b2, X, Y, shape, iterations, learning_rate, activation,
                              cost);
      return;
    }
    for (int64_t i = 0; i < iterations; ++i) {
      const CostAndGradients step = loss_and_gradients(X, Y, W1, b1, W2, b2, shape, activation,
                                                       {false, false, true, true, true, true});
      cost[i] = *step.J.data_ptr<scalar_t>();
      W1.sub_(step.gradients[2], learning_rate);
      b1.sub_(step.gradients[3], learning_rate);
      W2.sub_(step.gradients[4], learning_rate);
      b2.sub_(step.gradients[5], learning_rate);
    }
  });
  return costs;
}

}  // namespace cpu
}  // namespace twolayer
