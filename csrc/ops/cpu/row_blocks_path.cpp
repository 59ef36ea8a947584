// The row-blocks path (cpu_paths.h): each thread's chunk of rows goes block by block through
// forward propagation and backpropagation, every product of a block a BLAS call of its own
// (at::cpu::, which skips the dispatcher: the calls run on the chunks' threads, which hold none
// of the caller's dispatch state). Sums over the rows (dW1, dW2, db1, db2, the cost) go to one
// slot per chunk and are added in chunk order, so the results are the same on every run at a
// given thread count.

#include <algorithm>
#include <vector>

#include <ATen/Dispatch.h>
#include <ATen/ops/addmm_cpu_dispatch.h>
#include <ATen/ops/mm_cpu_dispatch.h>

#include "ops/cpu/cpu_paths.h"
#include "ops/cpu/cpu_steps.h"
#include "ops/cpu/cpu_tensors.h"
#include "ops/cpu/row_chunks.h"
#include "ops/cpu/row_kernels.h"
#include "ops/cpu/workspace.h"

namespace twolayer {
namespace cpu {
namespace {

// `rows` rows of `cols` columns at `data`, row-major, as a tensor on that memory.
template <typename T>
at::Tensor matrix_at(T* data, int64_t rows, int64_t cols, const at::TensorOptions& options) {
  return at::from_blob(data, {rows, cols}, options);
}

// Rows [first, first + n) of a contiguous matrix.
template <typename T>
at::Tensor rows_of(const at::Tensor& matrix, int64_t first, int64_t n) {
  const int64_t cols = matrix.size(1);
  return matrix_at(matrix.data_ptr<T>() + first * cols, n, cols, matrix.options());
}

// Per-chunk memory of this call: `per_chunk` elements for each chunk, from the caller thread's
// block workspace.
template <typename T>
T* chunk_memory(int64_t chunks, int64_t per_chunk) {
  return static_cast<T*>(block_workspace(static_cast<size_t>(chunks * per_chunk) * sizeof(T)));
}

template <typename T>
ForwardResult forward_for(const NetworkInputs& in, ForwardOutput output, const at::Tensor& A1,
                          bool keep_Z2) {
  const NetworkShape& s = in.shape;
  const at::TensorOptions options = in.X.options();
  const bool cost = output == ForwardOutput::Cost;
  ForwardResult out;
  out.A1 = A1;
  if (keep_Z2) out.Z2 = recycled_cache(CacheSlot::Z2, s.m, s.n2, options);
  if (!cost) out.A2 = new_cpu_tensor({s.m, s.n2}, options);
  const bool output_in_pass = s.n2 <= kRowsMaxOutputs;
  const int64_t chunks = row_chunk_count(s.m);
  const int64_t rows = row_block_rows(s.n1, sizeof(T));
  // Each chunk's current block of the hidden layer when A1 is not kept (undefined A1), and of
  // the logits where BLAS makes them and none are kept (the probabilities' go to A2's rows).
  const int64_t a1_size = A1.defined() ? 0 : rows * s.n1;
  const int64_t z2_size = output_in_pass || keep_Z2 || !cost ? 0 : rows * s.n2;
  const int64_t per_chunk = a1_size + z2_size;
  T* blocks = per_chunk ? chunk_memory<T>(chunks, per_chunk) : nullptr;
  const at::Tensor W1t = in.W1.t(), W2t = in.W2.t();
  const T* Y = cost ? in.Y.data_ptr<T>() : nullptr;
  std::vector<double> costs(chunks, 0.0);
  for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    for (int64_t first = begin; first < end; first += rows) {
      const int64_t n = std::min(rows, end - first);
      at::Tensor a1 =
          a1_size ? matrix_at(blocks + c * per_chunk, n, s.n1, options) : rows_of<T>(A1, first, n);
      at::cpu::mm_out(a1, rows_of<T>(in.X, first, n), W1t);  // Z1 = X W1^T
      if (output_in_pass) {
        OutputRows<T> p{};
        p.A1 = a1.data_ptr<T>();
        p.b1 = in.b1.data_ptr<T>();
        p.W2 = in.W2.data_ptr<T>();
        p.b2 = in.b2.data_ptr<T>();
        p.Y = cost ? Y + first * s.n2 : nullptr;
        p.Z2 = keep_Z2 ? out.Z2.data_ptr<T>() + first * s.n2 : nullptr;
        p.A2 = cost ? nullptr : out.A2.data_ptr<T>() + first * s.n2;
        p.n1 = s.n1;
        p.n2 = s.n2;
        p.activation = in.activation;
        output_rows(p, 0, n, &costs[c]);
      } else {
        bias_activation_rows(a1.data_ptr<T>(), in.b1.data_ptr<T>(), s.n1, 0, n, in.activation);
        at::Tensor z2 = !cost     ? rows_of<T>(out.A2, first, n)
                        : keep_Z2 ? rows_of<T>(out.Z2, first, n)
                                  : matrix_at(blocks + c * per_chunk + a1_size, n, s.n2, options);
        at::cpu::addmm_out(z2, in.b2, a1, W2t);  // Z2 = A1 W2^T + b2
        if (cost) {
          output_cost_rows(z2.data_ptr<T>(), Y + first * s.n2, s.n2, 0, n, &costs[c]);
        } else {
          probability_rows(z2.data_ptr<T>(), s.n2, 0, n);  // A2 = sigmoid(Z2)
        }
      }
    }
  });
  if (cost) {
    double total = 0.0;
    for (double c : costs) total += c;
    out.J = new_cpu_tensor({}, options);
    *out.J.data_ptr<T>() = static_cast<T>(total / static_cast<double>(s.m));
  }
  return out;
}

// Adds the chunks' partial products (`count` elements each, already scaled, `stride` apart) in
// chunk order.
template <typename T>
void add_partials(const T* parts, int64_t chunks, int64_t stride, int64_t count, T* out) {
  std::copy(parts, parts + count, out);
  for (int64_t c = 1; c < chunks; ++c) {
    for (int64_t k = 0; k < count; ++k) out[k] += parts[c * stride + k];
  }
}

template <typename T>
Gradients backward_for(const BackwardInputs& in, GradientMask want) {
  const NetworkShape& s = in.shape;
  const at::TensorOptions options = in.X.options();
  const double scale = in.grad_J / static_cast<double>(s.m);  // grad_J (1/m)
  const double alpha = blas_alpha(scale);
  Gradients d = empty_gradients(s, options, want);
  if (want.Y) at::mul_out(d.Y, in.Z2, at::scalar_tensor(-scale, in.Z2.options()));  // -(1/m) Z2
  if (!want.through_dZ2()) return d;
  const at::Tensor A1 = in.A1.contiguous(), Z2 = in.Z2.contiguous();
  const bool output_in_pass = s.n2 <= kRowsMaxOutputs;
  const bool hidden = want.hidden();
  const int64_t chunks = row_chunk_count(s.m);
  const int64_t rows = row_block_rows(s.n1, sizeof(T));
  // Each chunk's block of dZ1 and of dZ2 (BLAS output layer), and its partial dW1 and dW2.
  // With one chunk the partials are the gradients themselves.
  const int64_t dZ1_size = hidden ? rows * s.n1 : 0;
  const int64_t dZ2_size = output_in_pass ? 0 : rows * s.n2;
  const int64_t dW1_size = want.W1 && chunks > 1 ? s.n1 * s.n0 : 0;
  const int64_t dW2_size = want.W2 && !output_in_pass && chunks > 1 ? s.n2 * s.n1 : 0;
  const int64_t per_chunk = dZ1_size + dZ2_size + dW1_size + dW2_size;
  T* memory = chunk_memory<T>(chunks, per_chunk);
  // Sums per chunk: [db2 | dW2 | db1] of delta_rows, or [db2 | db1] with the BLAS output layer.
  const int64_t width = output_in_pass ? delta_rows_sums_size(s.n1, s.n2) : s.n2 + s.n1;
  std::vector<double> sums(chunks * width, 0.0);
  const T* Y = in.Y.data_ptr<T>();
  const at::Tensor W1 = in.W1, W2 = in.W2;
  for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    T* mine = memory + c * per_chunk;
    T* dZ1_block = mine;
    T* dZ2_block = dZ1_block + dZ1_size;
    at::Tensor dW1 = dW1_size ? matrix_at(dZ2_block + dZ2_size, s.n1, s.n0, options) : d.W1;
    at::Tensor dW2 =
        dW2_size ? matrix_at(dZ2_block + dZ2_size + dW1_size, s.n2, s.n1, options) : d.W2;
    double* chunk_sums = sums.data() + c * width;
    for (int64_t first = begin; first < end; first += rows) {
      const int64_t n = std::min(rows, end - first);
      // The first block of a chunk writes its partial products, the others add to them.
      const int beta = first == begin ? 0 : 1;
      const at::Tensor a1 = rows_of<T>(A1, first, n);
      const at::Tensor dz1 = hidden ? matrix_at(dZ1_block, n, s.n1, options) : at::Tensor();
      if (output_in_pass) {  // dZ2, db2, dW2, dZ1, db1 in one pass
        DeltaRows<T> p{};
        p.A1 = a1.data_ptr<T>();
        p.Z2 = Z2.data_ptr<T>() + first * s.n2;
        p.Y = Y + first * s.n2;
        p.W2 = W2.data_ptr<T>();
        p.dZ1 = hidden ? dZ1_block : nullptr;
        p.n1 = s.n1;
        p.n2 = s.n2;
        p.activation = in.activation;
        p.dW2 = want.W2;
        delta_rows(p, 0, n, chunk_sums);
      } else {  // the output layer's products by BLAS
        output_delta_rows(Z2.data_ptr<T>() + first * s.n2, Y + first * s.n2, dZ2_block, s.n2, 0, n,
                          chunk_sums);
        const at::Tensor dz2 = matrix_at(dZ2_block, n, s.n2, options);
        if (want.W2) at::cpu::addmm_out(dW2, dW2, dz2.t(), a1, beta, alpha);  // dZ2^T A1
        if (hidden) {
          at::Tensor product = dz1;
          at::cpu::mm_out(product, dz2, W2);  // dZ2 W2, then dZ1 = (dZ2 W2) * g1'(A1) in place
          hidden_delta_rows(a1.data_ptr<T>(), dZ1_block, dZ1_block, s.n1, 0, n, in.activation,
                            chunk_sums + s.n2);
        }
      }
      if (want.W1) at::cpu::addmm_out(dW1, dW1, dz1.t(), rows_of<T>(in.X, first, n), beta, alpha);
      if (want.X) {
        at::Tensor dx = rows_of<T>(d.X, first, n);
        at::cpu::addmm_out(dx, dx, dz1, W1, 0, alpha);  // dX = (1/m) dZ1 W1
      }
    }
  });
  const T* partials = memory + dZ1_size + dZ2_size;
  if (dW1_size) add_partials(partials, chunks, per_chunk, dW1_size, d.W1.data_ptr<T>());
  if (dW2_size) add_partials(partials + dW1_size, chunks, per_chunk, dW2_size, d.W2.data_ptr<T>());
  if (want.b2) store_sums(sums, chunks, width, 0, s.n2, scale, d.b2.data_ptr<T>());
  if (output_in_pass) {
    if (want.W2) store_sums(sums, chunks, width, s.n2, s.n2 * s.n1, scale, d.W2.data_ptr<T>());
    if (want.b1) {
      store_sums(sums, chunks, width, s.n2 + s.n2 * s.n1, s.n1, scale, d.b1.data_ptr<T>());
    }
  } else if (want.b1) {
    store_sums(sums, chunks, width, s.n2, s.n1, scale, d.b1.data_ptr<T>());
  }
  scale_blas_products(scale, {&d.W1, &d.X});
  if (!output_in_pass) scale_blas_products(scale, {&d.W2});
  return d;
}

}  // namespace

ForwardResult row_blocks_forward(const NetworkInputs& in, ForwardOutput output, at::Tensor A1,
                                 bool keep_Z2) {
  return AT_DISPATCH_FLOATING_TYPES(in.X.scalar_type(), "twolayer_row_blocks_forward",
                                    [&] { return forward_for<scalar_t>(in, output, A1, keep_Z2); });
}

Gradients row_blocks_backward(const BackwardInputs& in, GradientMask want) {
  return AT_DISPATCH_FLOATING_TYPES(in.X.scalar_type(), "twolayer_row_blocks_backward",
                                    [&] { return backward_for<scalar_t>(in, want); });
}

}  // namespace cpu
}  // namespace twolayer
