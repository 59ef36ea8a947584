#include "ops/cpu/loss_cpu.h"

#include <vector>

#include <ATen/Dispatch.h>

#include "ops/cpu/activation_functors.h"
#include "ops/cpu/columns_kernel.h"
#include "ops/cpu/fast_math.h"
#include "ops/cpu/row_chunks.h"

namespace twolayer {
namespace cpu {
namespace {

// Below this many weights the per-call cost of BLAS and ATen dominates: loop directly.
bool use_direct_loops(int64_t n0, int64_t n1, int64_t n2) { return n1 * (n0 + n2) <= 64; }

// Examples as columns (n x m, contiguous) from a row-major (m x n) matrix: a small copy, as the
// column path is only taken when n0, n1 and n2 are small.
template <typename T>
std::vector<T> to_columns(const T* rows, int64_t m, int64_t n) {
  std::vector<T> columns(m * n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t k = 0; k < n; ++k) columns[k * m + i] = rows[i * n + k];
  }
  return columns;
}

// A (m x n) tensor whose memory is the column matrix (n x m): what the column kernels write.
at::Tensor empty_columns(int64_t m, int64_t n, const at::TensorOptions& options) {
  return at::empty_strided({m, n}, {1, m}, options);
}

template <typename T>
Weights<T> weights_of(const at::Tensor& W1, const at::Tensor& b1, const at::Tensor& W2,
                      const at::Tensor& b2) {
  return {W1.data_ptr<T>(), b1.defined() ? b1.data_ptr<T>() : nullptr, W2.data_ptr<T>(),
          b2.defined() ? b2.data_ptr<T>() : nullptr};
}

template <typename T>
double column_forward_and_cost(const NetworkShape& s, const Weights<T>& w, Activation activation,
                               const T* Xt, const T* Yt, T* A1t, T* Z2t, int64_t chunks) {
  std::vector<double> partial(chunks, 0.0);
  for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    columns_forward(s, w, activation, Xt, A1t, Z2t, begin, end);
    partial[c] = columns_cost(s, Z2t, Yt, begin, end);
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// The column backward over all examples; returns the chunks' gradient sums (before the 1/m).
template <typename T>
std::vector<double> column_backward(const NetworkShape& s, const Weights<T>& w,
                                    Activation activation, T g, const T* Xt, const T* Yt,
                                    const T* A1t, const T* Z2t, T* dZ2t, T* dZ1t, T* dXt,
                                    bool need_dZ1, int64_t chunks) {
  const int64_t width = gradient_sums_size(s);
  std::vector<double> sums(chunks * width, 0.0);
  for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    columns_backward(s, w, activation, g, Xt, Yt, A1t, Z2t, dZ2t, dZ1t, dXt, need_dZ1,
                     sums.data() + c * width, begin, end);
  });
  return sums;
}

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
    for (int64_t k = begin * n2; k < end * n2; ++k) sum += Math<T>::softplus(Z2[k]) - Y[k] * Z2[k];
    partial[c] = sum;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// dZ2 = g (A2 - Y) in one pass, with the column sums of dZ2 (db2 before the 1/m).
template <typename T>
void output_delta(T g, const T* Z2, const T* Y, int64_t m, int64_t n2, T* dZ2,
                  std::vector<double>& sums, int64_t chunks) {
  for_each_row_chunk(m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    double* db2 = sums.data() + c * n2;
    for (int64_t i = begin; i < end; ++i) {
      for (int64_t o = 0; o < n2; ++o) {
        const int64_t k = i * n2 + o;
        dZ2[k] = g * (Math<T>::logistic(Z2[k]) - Y[k]);
        db2[o] += dZ2[k];
      }
    }
  });
}

// Few outputs: dZ2 W2 is a short sum per element, fused with the g1' product and db1's sums.
// Many outputs: dZ1 already holds dZ2 W2 from BLAS and is scaled in place.
template <typename T, typename G>
void hidden_delta(const T* dZ2, const T* W2, const T* A1, const NetworkShape& s, bool have_product,
                  T* dZ1, std::vector<double>& sums, int64_t chunks) {
  for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    double* db1 = sums.data() + c * s.n1;
    for (int64_t i = begin; i < end; ++i) {
      T* row = dZ1 + i * s.n1;
      const T* a1 = A1 + i * s.n1;
      if (!have_product) {
        for (int64_t j = 0; j < s.n1; ++j) row[j] = 0;
        for (int64_t o = 0; o < s.n2; ++o) {
          const T d = dZ2[i * s.n2 + o];
          const T* w = W2 + o * s.n1;
          for (int64_t j = 0; j < s.n1; ++j) row[j] += d * w[j];
        }
      }
      for (int64_t j = 0; j < s.n1; ++j) {
        row[j] *= G::slope(a1[j]);
        db1[j] += row[j];
      }
    }
  });
}

// Adds the chunks' sums in chunk order, scales by 1/m and stores them as T.
template <typename T>
void store_sums(const std::vector<double>& sums, int64_t chunks, int64_t width, int64_t offset,
                int64_t count, double scale, T* out) {
  for (int64_t k = 0; k < count; ++k) {
    double total = 0.0;
    for (int64_t c = 0; c < chunks; ++c) total += sums[c * width + offset + k];
    out[k] = static_cast<T>(total * scale);
  }
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> loss_with_cache(
    const at::Tensor& X_, const at::Tensor& Y_, const at::Tensor& W1_, const at::Tensor& b1_,
    const at::Tensor& W2_, const at::Tensor& b2_, const NetworkShape& s, Activation activation) {
  const at::Tensor X = X_.contiguous(), Y = Y_.contiguous(), W1 = W1_.contiguous(),
                   b1 = b1_.contiguous(), W2 = W2_.contiguous(), b2 = b2_.contiguous();
  const int64_t chunks = row_chunk_count(s.m);
  at::Tensor J = at::empty({}, X.options());
  at::Tensor A1, Z2;
  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "twolayer_loss_forward", [&] {
    using T = scalar_t;
    double total;
    if (use_direct_loops(s.n0, s.n1, s.n2)) {
      // A1 and Z2 keep the column layout the kernels wrote; loss_backward reads them so.
      A1 = empty_columns(s.m, s.n1, X.options());
      Z2 = empty_columns(s.m, s.n2, X.options());
      const std::vector<T> Xt = to_columns(X.data_ptr<T>(), s.m, s.n0);
      const std::vector<T> Yt = to_columns(Y.data_ptr<T>(), s.m, s.n2);
      total = column_forward_and_cost(s, weights_of<T>(W1, b1, W2, b2), activation, Xt.data(),
                                      Yt.data(), A1.data_ptr<T>(), Z2.data_ptr<T>(), chunks);
    } else {
      A1 = at::addmm(b1, X, W1.t());
      activate_in_place(A1, activation);
      Z2 = at::addmm(b2, A1, W2.t());
      total = cost_times_m(Z2.data_ptr<T>(), Y.data_ptr<T>(), s.m, s.n2);
    }
    *J.data_ptr<T>() = static_cast<T>(total / static_cast<double>(s.m));
  });
  return {std::move(J), std::move(A1), std::move(Z2)};
}

namespace {

// The column path of loss_backward.
template <typename T>
void column_loss_backward(const NetworkShape& s, T g, const at::Tensor& X, const at::Tensor& Y,
                          const at::Tensor& W1, const at::Tensor& W2, const at::Tensor& A1,
                          const at::Tensor& Z2, Activation activation, std::array<bool, 6> mask,
                          LossGradients& grads) {
  const double inv_m = 1.0 / static_cast<double>(s.m);
  const int64_t chunks = row_chunk_count(s.m);
  // Normally A1 and Z2 come from loss_with_cache in column layout already.
  const at::Tensor A1t = A1.t().contiguous(), Z2t = Z2.t().contiguous();
  const std::vector<T> Xt = to_columns(X.data_ptr<T>(), s.m, s.n0);
  const std::vector<T> Yt = to_columns(Y.data_ptr<T>(), s.m, s.n2);
  std::vector<T> dZ2t(s.n2 * s.m), dZ1t(s.n1 * s.m), dXt(mask[0] ? s.n0 * s.m : 0);
  const bool need_dZ1 = mask[0] || mask[2] || mask[3];
  const std::vector<double> sums = column_backward(
      s, weights_of<T>(W1, at::Tensor(), W2, at::Tensor()), activation, g, Xt.data(), Yt.data(),
      A1t.data_ptr<T>(), Z2t.data_ptr<T>(), dZ2t.data(), dZ1t.data(),
      mask[0] ? dXt.data() : nullptr, need_dZ1, chunks);
  const int64_t width = gradient_sums_size(s);
  const int64_t dW1 = 0, db1 = s.n1 * s.n0, dW2 = db1 + s.n1, db2 = dW2 + s.n2 * s.n1;
  if (mask[2]) store_sums(sums, chunks, width, dW1, s.n1 * s.n0, inv_m, grads[2].data_ptr<T>());
  if (mask[3]) store_sums(sums, chunks, width, db1, s.n1, inv_m, grads[3].data_ptr<T>());
  if (mask[4]) store_sums(sums, chunks, width, dW2, s.n2 * s.n1, inv_m, grads[4].data_ptr<T>());
  if (mask[5]) store_sums(sums, chunks, width, db2, s.n2, inv_m, grads[5].data_ptr<T>());
  if (mask[0]) {  // back to rows, with the 1/m
    T* dX = grads[0].data_ptr<T>();
    for (int64_t i = 0; i < s.m; ++i) {
      for (int64_t k = 0; k < s.n0; ++k) dX[i * s.n0 + k] = static_cast<T>(dXt[k * s.m + i] * inv_m);
    }
  }
}

}  // namespace

LossGradients loss_backward(double grad_J, const at::Tensor& X_, const at::Tensor& Y_,
                            const at::Tensor& W1_, const at::Tensor& W2_, const at::Tensor& A1,
                            const at::Tensor& Z2, Activation activation,
                            std::array<bool, 6> mask) {
  const at::Tensor X = X_.contiguous(), Y = Y_.contiguous(), W1 = W1_.contiguous(),
                   W2 = W2_.contiguous();
  const NetworkShape s{X.size(0), X.size(1), W1.size(0), W2.size(0)};
  const double inv_m = 1.0 / static_cast<double>(s.m);
  const bool need_dZ1 = mask[0] || mask[2] || mask[3];
  const auto options = X.options();
  const int64_t chunks = row_chunk_count(s.m);

  LossGradients grads;
  if (mask[0]) grads[0] = at::empty({s.m, s.n0}, options);
  if (mask[1]) grads[1] = (Z2 * (-grad_J * inv_m)).contiguous();  // dY = -(g/m) Z2
  if (mask[2]) grads[2] = at::empty({s.n1, s.n0}, options);
  if (mask[3]) grads[3] = at::empty({s.n1}, options);
  if (mask[4]) grads[4] = at::empty({s.n2, s.n1}, options);
  if (mask[5]) grads[5] = at::empty({s.n2}, options);

  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "twolayer_loss_backward", [&] {
    using T = scalar_t;
    const T g = static_cast<T>(grad_J);
    if (use_direct_loops(s.n0, s.n1, s.n2)) {
      column_loss_backward<T>(s, g, X, Y, W1, W2, A1, Z2, activation, mask, grads);
      return;
    }
    TORCH_INTERNAL_ASSERT(A1.is_contiguous() && Z2.is_contiguous());
    at::Tensor dZ2 = at::empty({s.m, s.n2}, options);
    std::vector<double> db2_sums(chunks * s.n2, 0.0);
    output_delta(g, Z2.data_ptr<T>(), Y.data_ptr<T>(), s.m, s.n2, dZ2.data_ptr<T>(), db2_sums,
                 chunks);
    if (mask[5]) store_sums(db2_sums, chunks, s.n2, 0, s.n2, inv_m, grads[5].data_ptr<T>());
    // beta = 0: the uninitialised outputs are not read; alpha carries the 1/m.
    if (mask[4]) at::addmm_out(grads[4], grads[4], dZ2.t(), A1, 0, inv_m);
    if (!need_dZ1) return;

    // With few outputs a BLAS call for dZ2 W2 costs more than the fused sum does.
    const bool have_product = s.n2 > 16;
    at::Tensor dZ1 = have_product ? at::mm(dZ2, W2) : at::empty({s.m, s.n1}, options);
    std::vector<double> db1_sums(chunks * s.n1, 0.0);
    with_activation(activation, [&](auto g1) {
      hidden_delta<T, decltype(g1)>(dZ2.data_ptr<T>(), W2.data_ptr<T>(), A1.data_ptr<T>(), s,
                                    have_product, dZ1.data_ptr<T>(), db1_sums, chunks);
    });
    if (mask[3]) store_sums(db1_sums, chunks, s.n1, 0, s.n1, inv_m, grads[3].data_ptr<T>());
    if (mask[2]) at::addmm_out(grads[2], grads[2], dZ1.t(), X, 0, inv_m);
    if (mask[0]) at::addmm_out(grads[0], grads[0], dZ1, W1, 0, inv_m);
  });
  return grads;
}

namespace {

// fit_ for small networks: the column kernels with every buffer made once, the update in place.
template <typename T>
void column_fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X,
                const at::Tensor& Y, const NetworkShape& s, int64_t iterations,
                double learning_rate, Activation activation, T* costs) {
  const int64_t chunks = row_chunk_count(s.m);
  const int64_t width = gradient_sums_size(s);
  const std::vector<T> Xt = to_columns(X.data_ptr<T>(), s.m, s.n0);
  const std::vector<T> Yt = to_columns(Y.data_ptr<T>(), s.m, s.n2);
  std::vector<T> A1t(s.n1 * s.m), Z2t(s.n2 * s.m), dZ2t(s.n2 * s.m), dZ1t(s.n1 * s.m);
  const Weights<T> w = weights_of<T>(W1, b1, W2, b2);
  // The parameters in the order of the gradient sums: dW1 | db1 | dW2 | db2.
  T* params[4] = {W1.data_ptr<T>(), b1.data_ptr<T>(), W2.data_ptr<T>(), b2.data_ptr<T>()};
  const int64_t sizes[4] = {s.n1 * s.n0, s.n1, s.n2 * s.n1, s.n2};
  const double inv_m = 1.0 / static_cast<double>(s.m);
  for (int64_t it = 0; it < iterations; ++it) {
    const double total = column_forward_and_cost(s, w, activation, Xt.data(), Yt.data(), A1t.data(),
                                                 Z2t.data(), chunks);
    costs[it] = static_cast<T>(total / static_cast<double>(s.m));
    const std::vector<double> sums =
        column_backward<T>(s, w, activation, T(1), Xt.data(), Yt.data(), A1t.data(), Z2t.data(),
                        dZ2t.data(), dZ1t.data(), nullptr, true, chunks);
    int64_t offset = 0;
    for (int p = 0; p < 4; ++p) {
      for (int64_t k = 0; k < sizes[p]; ++k, ++offset) {
        double gradient = 0.0;
        for (int64_t c = 0; c < chunks; ++c) gradient += sums[c * width + offset];
        // W := W - alpha dW, with dW rounded to T first as the gradients of loss() are.
        params[p][k] -= static_cast<T>(learning_rate) * static_cast<T>(gradient * inv_m);
      }
    }
  }
}

}  // namespace

at::Tensor fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X_,
               const at::Tensor& Y_, const NetworkShape& shape, int64_t iterations,
               double learning_rate, Activation activation) {
  at::Tensor costs = at::empty({iterations}, X_.options());
  const bool in_place_ok = W1.is_contiguous() && b1.is_contiguous() && W2.is_contiguous() &&
                           b2.is_contiguous();
  const at::Tensor X = X_.contiguous(), Y = Y_.contiguous();
  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "twolayer_fit", [&] {
    scalar_t* cost = costs.data_ptr<scalar_t>();
    if (in_place_ok && use_direct_loops(shape.n0, shape.n1, shape.n2)) {
      column_fit<scalar_t>(W1, b1, W2, b2, X, Y, shape, iterations, learning_rate, activation,
                           cost);
      return;
    }
    const std::array<bool, 6> mask = {false, false, true, true, true, true};
    for (int64_t i = 0; i < iterations; ++i) {
      at::Tensor J, A1, Z2;
      std::tie(J, A1, Z2) = loss_with_cache(X, Y, W1, b1, W2, b2, shape, activation);
      cost[i] = *J.data_ptr<scalar_t>();
      const LossGradients d = loss_backward(1.0, X, Y, W1, W2, A1, Z2, activation, mask);
      W1.sub_(d[2], learning_rate);
      b1.sub_(d[3], learning_rate);
      W2.sub_(d[4], learning_rate);
      b2.sub_(d[5], learning_rate);
    }
  });
  return costs;
}

}  // namespace cpu
}  // namespace twolayer
