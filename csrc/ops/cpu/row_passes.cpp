// The row-pass path (cpu_paths.h), for every network larger than the small net: the products by
// BLAS with the 1/m folded in, everything between them in vectorised passes over the rows
// (row_kernels.h), each row read while it is in cache. With few inputs forward propagation's
// layers are the row kernel dense_rows instead, product, bias and function in one: A1 and,
// with more than kRowsMaxOutputs outputs, Z2.
//
// One driver, two schedules (RowSchedule):
// - blocks: each thread's chunk of rows goes block by block through the step, every product of a
//   block a single-threaded BLAS call of its own (at::cpu::, which skips the dispatcher: the
//   calls run on the chunks' threads, which hold none of the caller's dispatch state). A block's
//   Z1 and dZ1 are still in cache for the row pass, and nothing of size m x n1 is written that
//   is not kept.
// - whole batch: one block of all the rows, whose products BLAS splits over its own threads; the
//   row passes are still split into the chunks. Faster with many weights, where each block's
//   call would reread the weights and its partial dW1.
// Sums over the rows (the cost, dW1, dW2, db1, db2) go to one slot per chunk and are added in
// chunk order, so the results are the same bit for bit on every run at a given thread count.

#include <algorithm>
#include <vector>

#include <ATen/Dispatch.h>
#include <ATen/ops/addmm_cpu_dispatch.h>
#include <ATen/ops/mm_cpu_dispatch.h>

#include "ops/cpu/cpu_paths.h"
#include "ops/cpu/cpu_steps.h"
#include "ops/cpu/cpu_tensors.h"
#include "ops/cpu/row_chunks.h"
#include "ops/cpu/vector_kernels.h"
#include "ops/cpu/workspace.h"

namespace twolayer {
namespace cpu {
namespace {

// How the rows of one call are cut. Memory that a block works in belongs to its owner: the
// chunk on the blocks schedule, the caller for the whole batch.
struct RowSchedule {
  bool whole_batch;
  int64_t chunks;      // slots of the sums
  int64_t block_rows;  // rows of one block (at most)
  int64_t owners;
};

template <typename T>
RowSchedule row_schedule(const NetworkShape& s) {
  const int64_t chunks = row_chunk_count(s.m);
  if (cpu_path(s) == CpuPath::WholeBatch) return {true, chunks, s.m, 1};
  return {false, chunks, row_block_rows(s.n1, sizeof(T)), chunks};
}

// Rows [first, first + n) of the batch, as the driver hands them to a step.
struct RowBlock {
  const RowSchedule& schedule;
  int64_t first, n, owner;
  bool opens;  // the owner's first block: its partial products are written, later ones add

  // Runs pass(slot, begin, end) over the block's rows, begin and end counted from `first`: in
  // chunks for the whole batch, at once on a chunk's own block.
  template <typename Pass>
  void rows(const Pass& pass) const {
    if (schedule.whole_batch) {
      for_each_row_chunk(n, schedule.chunks, pass);
    } else {
      pass(owner, int64_t{0}, n);
    }
  }
};

template <typename Step>
void for_each_row_block(const RowSchedule& r, int64_t m, const Step& step) {
  if (r.whole_batch) {
    step(RowBlock{r, 0, m, 0, true});
    return;
  }
  for_each_row_chunk(m, r.chunks, [&](int64_t c, int64_t begin, int64_t end) {
    for (int64_t first = begin; first < end; first += r.block_rows) {
      step(RowBlock{r, first, std::min(r.block_rows, end - first), c, first == begin});
    }
  });
}

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

// `per_owner` elements for each owner after `shared` ones, from the caller thread's block
// workspace.
template <typename T>
T* owner_memory(const RowSchedule& r, int64_t per_owner, int64_t shared = 0) {
  const int64_t size = shared + r.owners * per_owner;
  if (size == 0) return nullptr;
  return static_cast<T*>(block_workspace(static_cast<size_t>(size) * sizeof(T)));
}

// A layer's W^T and b as dense_rows reads them, into `packed` (inputs x padded, then padded):
// zeros past `units`. Returns the layer with no rows yet; the size is packed_layer_size's.
template <typename T>
DenseRows<T> packed_layer(const at::Tensor& W, const at::Tensor& b, T* packed) {
  const int64_t units = W.size(0), inputs = W.size(1);
  const int64_t padded = units_padded(units, sizeof(T));
  const T* w = W.data_ptr<T>();
  const T* bias = b.data_ptr<T>();
  std::fill(packed, packed + (inputs + 1) * padded, T(0));
  for (int64_t j = 0; j < units; ++j) {
    for (int64_t k = 0; k < inputs; ++k) packed[k * padded + j] = w[j * inputs + k];
    packed[inputs * padded + j] = bias[j];
  }
  DenseRows<T> layer{};
  layer.Wt = packed;
  layer.b = packed + inputs * padded;
  layer.inputs = inputs;
  layer.units = units;
  layer.padded = padded;
  return layer;
}

template <typename T>
int64_t packed_layer_size(int64_t inputs, int64_t units) {
  return (inputs + 1) * units_padded(units, sizeof(T));
}

// Runs `layer` over the block's rows, from `in` (the block's first input row) to `out`.
template <typename T>
void dense_block(const RowBlock& b, DenseRows<T> layer, const T* in, T* out) {
  layer.in = in;
  layer.out = out;
  b.rows([&](int64_t, int64_t begin, int64_t end) { dense_rows(layer, begin, end); });
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
  const bool outputs_in_pass = s.n2 <= kRowsMaxOutputs;
  const RowSchedule r = row_schedule<T>(s);
  // Each owner's block of the hidden layer when A1 is not kept (undefined), and of the logits
  // where BLAS makes them and none are kept (the probabilities' go to A2's rows).
  const int64_t a1_size = A1.defined() ? 0 : r.block_rows * s.n1;
  const int64_t z2_size = outputs_in_pass || keep_Z2 || !cost ? 0 : r.block_rows * s.n2;
  const int64_t per_owner = a1_size + z2_size;
  // The layers by dense_rows (their weights packed first) where cpu_paths.h says, else their
  // products by BLAS.
  const bool dense_hidden = hidden_layer_by_dense_rows(s);
  const bool dense_logits = !outputs_in_pass && logits_by_dense_rows(s);
  const int64_t hidden_size = dense_hidden ? packed_layer_size<T>(s.n0, s.n1) : 0;
  const int64_t logits_size = dense_logits ? packed_layer_size<T>(s.n1, s.n2) : 0;
  T* shared = owner_memory<T>(r, per_owner, hidden_size + logits_size);
  T* memory = shared + hidden_size + logits_size;
  DenseRows<T> hidden_layer{}, output_layer{};
  if (dense_hidden) {
    hidden_layer = packed_layer(in.W1, in.b1, shared);
    hidden_layer.activation = in.activation;
  }
  if (dense_logits) {
    output_layer = packed_layer(in.W2, in.b2, shared + hidden_size);
    output_layer.identity = true;
  }
  const at::Tensor W1t = in.W1.t(), W2t = in.W2.t();
  const T* Y = cost ? in.Y.data_ptr<T>() : nullptr;
  std::vector<double> costs(r.chunks, 0.0);
  for_each_row_block(r, s.m, [&](const RowBlock& b) {
    T* mine = memory + b.owner * per_owner;
    const int64_t logits = b.first * s.n2;  // the block's first logit
    at::Tensor a1 = a1_size ? matrix_at(mine, b.n, s.n1, options) : rows_of<T>(A1, b.first, b.n);
    if (dense_hidden) {  // A1 = g1(X W1^T + b1)
      dense_block(b, hidden_layer, in.X.data_ptr<T>() + b.first * s.n0, a1.data_ptr<T>());
    } else {
      at::cpu::mm_out(a1, rows_of<T>(in.X, b.first, b.n), W1t);  // Z1 = X W1^T
    }
    if (outputs_in_pass) {  // [A1 = g1(Z1 + b1),] Z2 = A1 W2^T + b2 and the cost or A2, per row
      OutputRows<T> p{};
      p.A1 = a1.data_ptr<T>();
      p.b1 = in.b1.data_ptr<T>();
      p.W2 = in.W2.data_ptr<T>();
      p.b2 = in.b2.data_ptr<T>();
      p.Y = cost ? Y + logits : nullptr;
      p.Z2 = keep_Z2 ? out.Z2.data_ptr<T>() + logits : nullptr;
      p.A2 = cost ? nullptr : out.A2.data_ptr<T>() + logits;
      p.n1 = s.n1;
      p.n2 = s.n2;
      p.activation = in.activation;
      p.output = in.output;
      p.activated = dense_hidden;
      b.rows([&](int64_t slot, int64_t begin, int64_t end) {
        output_rows(p, begin, end, &costs[slot]);
      });
      return;
    }
    T* hidden = a1.data_ptr<T>();
    if (!dense_hidden) {
      b.rows([&](int64_t, int64_t begin, int64_t end) {  // A1 = g1(Z1 + b1)
        bias_activation_rows(hidden, in.b1.data_ptr<T>(), s.n1, begin, end, in.activation);
      });
    }
    at::Tensor z2 = !cost     ? rows_of<T>(out.A2, b.first, b.n)
                    : keep_Z2 ? rows_of<T>(out.Z2, b.first, b.n)
                              : matrix_at(mine + a1_size, b.n, s.n2, options);
    if (dense_logits) {  // Z2 = A1 W2^T + b2
      dense_block(b, output_layer, static_cast<const T*>(hidden), z2.data_ptr<T>());
    } else {
      at::cpu::addmm_out(z2, in.b2, a1, W2t);
    }
    T* logit = z2.data_ptr<T>();
    b.rows([&](int64_t slot, int64_t begin, int64_t end) {
      if (cost) {
        output_cost_rows(logit, Y + logits, s.n2, begin, end, in.output, &costs[slot]);
      } else {
        probability_rows(logit, s.n2, begin, end, in.output);  // A2 = g2(Z2)
      }
    });
  });
  if (cost) {
    double total = 0.0;
    for (double c : costs) total += c;
    out.J = new_cpu_tensor({}, options);
    *out.J.data_ptr<T>() = static_cast<T>(total / static_cast<double>(s.m));
  }
  return out;
}

// Adds the owners' partial products (`count` elements each, already scaled, `stride` apart) in
// owner order.
template <typename T>
void add_partials(const T* parts, int64_t owners, int64_t stride, int64_t count, T* out) {
  std::copy(parts, parts + count, out);
  for (int64_t o = 1; o < owners; ++o) {
    for (int64_t k = 0; k < count; ++k) out[k] += parts[o * stride + k];
  }
}

template <typename T>
Gradients backward_for(const BackwardInputs& in, GradientMask want) {
  const NetworkShape& s = in.shape;
  const at::TensorOptions options = in.X.options();
  const double scale = in.grad_J / static_cast<double>(s.m);  // grad_J (1/m)
  const double alpha = blas_alpha(scale);
  Gradients d = empty_gradients(s, options, want);
  if (want.Y) store_label_gradient(in, scale, d.Y);
  if (!want.through_dZ2()) return d;
  const at::Tensor A1 = in.A1.contiguous(), Z2 = in.Z2.contiguous();
  const bool outputs_in_pass = s.n2 <= kRowsMaxOutputs;
  const bool hidden = want.hidden();
  const RowSchedule r = row_schedule<T>(s);
  // The one-pass delta can write each row's dZ1 over the A1 it has just read.
  const bool dZ1_over_A1 = in.dZ1_over_A1 && outputs_in_pass;
  // Each owner's block of dZ1 and of dZ2 (BLAS output layer), and its partial dW1 and dW2.
  // With one owner the partials are the gradients themselves.
  const int64_t dZ1_size = hidden && !dZ1_over_A1 ? r.block_rows * s.n1 : 0;
  const int64_t dZ2_size = outputs_in_pass ? 0 : r.block_rows * s.n2;
  const int64_t dW1_size = want.W1 && r.owners > 1 ? s.n1 * s.n0 : 0;
  const int64_t dW2_size = want.W2 && !outputs_in_pass && r.owners > 1 ? s.n2 * s.n1 : 0;
  const int64_t per_owner = dZ1_size + dZ2_size + dW1_size + dW2_size;
  T* memory = owner_memory<T>(r, per_owner);
  // Sums per slot: [db2 | dW2 | db1] of delta_rows, or [db2 | db1] with the BLAS output layer.
  const int64_t width = outputs_in_pass ? delta_rows_sums_size(s.n1, s.n2) : s.n2 + s.n1;
  std::vector<double> sums(r.chunks * width, 0.0);
  const T* Y = in.Y.data_ptr<T>();
  const at::Tensor W1 = in.W1, W2 = in.W2;
  for_each_row_block(r, s.m, [&](const RowBlock& b) {
    T* mine = memory + b.owner * per_owner;
    T* dZ1_block = dZ1_over_A1 ? A1.data_ptr<T>() + b.first * s.n1 : mine;
    T* dZ2_block = mine + dZ1_size;
    T* partials = dZ2_block + dZ2_size;
    at::Tensor dW1 = dW1_size ? matrix_at(partials, s.n1, s.n0, options) : d.W1;
    at::Tensor dW2 = dW2_size ? matrix_at(partials + dW1_size, s.n2, s.n1, options) : d.W2;
    const int beta = b.opens ? 0 : 1;
    const at::Tensor a1 = rows_of<T>(A1, b.first, b.n);
    const at::Tensor dz1 = hidden ? matrix_at(dZ1_block, b.n, s.n1, options) : at::Tensor();
    const T* z2 = Z2.data_ptr<T>() + b.first * s.n2;
    const T* y = Y + b.first * s.n2;
    if (outputs_in_pass) {
      // dZ2 = A2 - Y, db2, dW2 = dZ2^T A1, dZ1 = (dZ2 W2) * g1'(Z1), db1 in one pass.
      DeltaRows<T> p{};
      p.A1 = a1.data_ptr<T>();
      p.Z2 = z2;
      p.Y = y;
      p.W2 = W2.data_ptr<T>();
      p.dZ1 = hidden ? dZ1_block : nullptr;
      p.n1 = s.n1;
      p.n2 = s.n2;
      p.activation = in.activation;
      p.output = in.output;
      p.dW2 = want.W2;
      b.rows([&](int64_t slot, int64_t begin, int64_t end) {
        delta_rows(p, begin, end, sums.data() + slot * width);
      });
    } else {  // the output layer's products by BLAS
      b.rows([&](int64_t slot, int64_t begin, int64_t end) {  // dZ2 = A2 - Y, db2
        output_delta_rows(z2, y, dZ2_block, s.n2, begin, end, in.output,
                          sums.data() + slot * width);
      });
      const at::Tensor dz2 = matrix_at(dZ2_block, b.n, s.n2, options);
      if (want.W2) at::cpu::addmm_out(dW2, dW2, dz2.t(), a1, beta, alpha);  // dW2 = (1/m) dZ2^T A1
      if (hidden) {
        at::Tensor product = dz1;
        at::cpu::mm_out(product, dz2, W2);  // dZ2 W2, made dZ1 in place
        const T* h = a1.data_ptr<T>();
        b.rows([&](int64_t slot, int64_t begin, int64_t end) {  // dZ1 = (dZ2 W2) * g1'(Z1), db1
          hidden_delta_rows(h, dZ1_block, dZ1_block, s.n1, begin, end, in.activation,
                            sums.data() + slot * width + s.n2);
        });
      }
    }
    if (want.W1) {  // dW1 = (1/m) dZ1^T X
      at::cpu::addmm_out(dW1, dW1, dz1.t(), rows_of<T>(in.X, b.first, b.n), beta, alpha);
    }
    if (want.X) {  // dX = (1/m) dZ1 W1
      at::Tensor dx = rows_of<T>(d.X, b.first, b.n);
      at::cpu::addmm_out(dx, dx, dz1, W1, 0, alpha);
    }
  });
  const T* partials = memory + dZ1_size + dZ2_size;
  if (dW1_size) add_partials(partials, r.owners, per_owner, dW1_size, d.W1.data_ptr<T>());
  if (dW2_size) {
    add_partials(partials + dW1_size, r.owners, per_owner, dW2_size, d.W2.data_ptr<T>());
  }
  // db2 = (1/m) sum over rows of dZ2, db1 = (1/m) sum over rows of dZ1, and the one-pass dW2.
  if (want.b2) store_sums(sums, r.chunks, width, 0, s.n2, scale, d.b2.data_ptr<T>());
  if (outputs_in_pass) {
    if (want.W2) store_sums(sums, r.chunks, width, s.n2, s.n2 * s.n1, scale, d.W2.data_ptr<T>());
    if (want.b1) {
      store_sums(sums, r.chunks, width, s.n2 + s.n2 * s.n1, s.n1, scale, d.b1.data_ptr<T>());
    }
  } else if (want.b1) {
    store_sums(sums, r.chunks, width, s.n2, s.n1, scale, d.b1.data_ptr<T>());
  }
  scale_blas_products(scale, {&d.W1, &d.X});
  if (!outputs_in_pass) scale_blas_products(scale, {&d.W2});
  return d;
}

}  // namespace

ForwardResult row_passes_forward(const NetworkInputs& in, ForwardOutput output, at::Tensor A1,
                                 bool keep_Z2) {
  return AT_DISPATCH_FLOATING_TYPES(in.X.scalar_type(), "twolayer_row_passes_forward",
                                    [&] { return forward_for<scalar_t>(in, output, A1, keep_Z2); });
}

Gradients row_passes_backward(const BackwardInputs& in, GradientMask want) {
  return AT_DISPATCH_FLOATING_TYPES(in.X.scalar_type(), "twolayer_row_passes_backward",
                                    [&] { return backward_for<scalar_t>(in, want); });
}

}  // namespace cpu
}  // namespace twolayer
