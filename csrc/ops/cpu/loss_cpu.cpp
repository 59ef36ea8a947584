#include "ops/cpu/loss_cpu.h"

#include <vector>

#include <ATen/Dispatch.h>

#include "ops/cpu/activation_functors.h"
#include "ops/cpu/row_chunks.h"

namespace twolayer {
namespace cpu {
namespace {

// Below this many weights the per-call cost of BLAS and ATen dominates: loop directly.
bool use_direct_loops(int64_t n0, int64_t n1, int64_t n2) { return n1 * (n0 + n2) <= 64; }

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
    for (int64_t k = begin * n2; k < end * n2; ++k) sum += softplus(Z2[k]) - Y[k] * Z2[k];
    partial[c] = sum;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

// Z1 row by row without BLAS: for the lecture's 2-4-1 this is a handful of multiply-adds. g1 is
// applied by ATen's vectorised kernel in between: a scalar tanh per element would cost more
// than all the rest of the step.
template <typename T>
void direct_forward(const T* X, const T* W1, const T* b1, const T* W2, const T* b2,
                    const NetworkShape& s, at::Tensor& A1, Activation activation, T* Z2) {
  const int64_t chunks = row_chunk_count(s.m);
  T* a1_data = A1.data_ptr<T>();
  for_each_row_chunk(s.m, chunks, [&](int64_t, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T* x = X + i * s.n0;
      T* z1 = a1_data + i * s.n1;
      for (int64_t j = 0; j < s.n1; ++j) {
        const T* w = W1 + j * s.n0;
        T z = b1[j];
        for (int64_t k = 0; k < s.n0; ++k) z += w[k] * x[k];
        z1[j] = z;
      }
    }
  });
  activate_in_place(A1, activation);
  for_each_row_chunk(s.m, chunks, [&](int64_t, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T* a1 = a1_data + i * s.n1;
      for (int64_t o = 0; o < s.n2; ++o) {
        const T* w = W2 + o * s.n1;
        T z = b2[o];
        for (int64_t j = 0; j < s.n1; ++j) z += w[j] * a1[j];
        Z2[i * s.n2 + o] = z;
      }
    }
  });
}

// Gradient sums of one chunk of rows, laid out [dW1 | db1 | dW2 | db2].
struct ParameterSums {
  int64_t n0, n1, n2;
  int64_t width() const { return n1 * n0 + n1 + n2 * n1 + n2; }
  int64_t dW1() const { return 0; }
  int64_t db1() const { return n1 * n0; }
  int64_t dW2() const { return db1() + n1; }
  int64_t db2() const { return dW2() + n2 * n1; }
};

// All six equations in one pass over the examples, for small networks.
template <typename T, typename G>
void direct_backward(T g, const T* X, const T* Y, const T* W1, const T* W2, const T* A1,
                     const T* Z2, const NetworkShape& s, std::array<bool, 6> mask, T* dX,
                     std::vector<double>& sums, const ParameterSums& layout, int64_t chunks) {
  const bool need_dZ1 = mask[0] || mask[2] || mask[3];
  const T inv_m = T(1) / static_cast<T>(s.m);
  for_each_row_chunk(s.m, chunks, [&](int64_t c, int64_t begin, int64_t end) {
    double* p = sums.data() + c * layout.width();
    double *dW1 = p + layout.dW1(), *db1 = p + layout.db1(), *dW2 = p + layout.dW2(),
           *db2 = p + layout.db2();
    std::vector<T> dz2(s.n2), dz1(s.n1);
    for (int64_t i = begin; i < end; ++i) {
      const T* x = X + i * s.n0;
      const T* a1 = A1 + i * s.n1;
      for (int64_t o = 0; o < s.n2; ++o) {  // dZ2 = A2 - Y, dW2 += dZ2^T A1, db2 += dZ2
        const int64_t k = i * s.n2 + o;
        dz2[o] = g * (logistic(Z2[k]) - Y[k]);
        db2[o] += dz2[o];
        for (int64_t j = 0; j < s.n1; ++j) dW2[o * s.n1 + j] += dz2[o] * a1[j];
      }
      if (!need_dZ1) continue;
      for (int64_t j = 0; j < s.n1; ++j) {  // dZ1 = (dZ2 W2) * g1'(Z1), dW1 += dZ1^T X
        T back = 0;
        for (int64_t o = 0; o < s.n2; ++o) back += dz2[o] * W2[o * s.n1 + j];
        dz1[j] = back * G::slope(a1[j]);
        db1[j] += dz1[j];
        for (int64_t k = 0; k < s.n0; ++k) dW1[j * s.n0 + k] += dz1[j] * x[k];
      }
      if (mask[0]) {  // dX = (1/m) dZ1 W1
        for (int64_t k = 0; k < s.n0; ++k) {
          T sum = 0;
          for (int64_t j = 0; j < s.n1; ++j) sum += dz1[j] * W1[j * s.n0 + k];
          dX[i * s.n0 + k] = sum * inv_m;
        }
      }
    }
  });
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
        dZ2[k] = g * (logistic(Z2[k]) - Y[k]);
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
  at::Tensor A1, Z2;
  if (use_direct_loops(s.n0, s.n1, s.n2)) {
    A1 = at::empty({s.m, s.n1}, X.options());
    Z2 = at::empty({s.m, s.n2}, X.options());
    AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "twolayer_direct_forward", [&] {
      direct_forward<scalar_t>(X.data_ptr<scalar_t>(), W1.data_ptr<scalar_t>(),
                               b1.data_ptr<scalar_t>(), W2.data_ptr<scalar_t>(),
                               b2.data_ptr<scalar_t>(), s, A1, activation, Z2.data_ptr<scalar_t>());
    });
  } else {
    A1 = at::addmm(b1, X, W1.t());
    activate_in_place(A1, activation);
    Z2 = at::addmm(b2, A1, W2.t());
  }
  at::Tensor J = at::empty({}, X.options());
  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "twolayer_cost", [&] {
    const double total = cost_times_m(Z2.data_ptr<scalar_t>(), Y.data_ptr<scalar_t>(), s.m, s.n2);
    *J.data_ptr<scalar_t>() = static_cast<scalar_t>(total / static_cast<double>(s.m));
  });
  return {std::move(J), std::move(A1), std::move(Z2)};
}

LossGradients loss_backward(double grad_J, const at::Tensor& X_, const at::Tensor& Y_,
                            const at::Tensor& W1_, const at::Tensor& W2_, const at::Tensor& A1,
                            const at::Tensor& Z2, Activation activation,
                            std::array<bool, 6> mask) {
  const at::Tensor X = X_.contiguous(), Y = Y_.contiguous(), W1 = W1_.contiguous(),
                   W2 = W2_.contiguous();
  TORCH_INTERNAL_ASSERT(A1.is_contiguous() && Z2.is_contiguous());
  const NetworkShape s{X.size(0), X.size(1), W1.size(0), W2.size(0)};
  const double inv_m = 1.0 / static_cast<double>(s.m);
  const bool need_dZ1 = mask[0] || mask[2] || mask[3];
  const auto options = X.options();
  const int64_t chunks = row_chunk_count(s.m);

  LossGradients grads;
  if (mask[0]) grads[0] = at::empty({s.m, s.n0}, options);
  if (mask[2]) grads[2] = at::empty({s.n1, s.n0}, options);
  if (mask[3]) grads[3] = at::empty({s.n1}, options);
  if (mask[4]) grads[4] = at::empty({s.n2, s.n1}, options);
  if (mask[5]) grads[5] = at::empty({s.n2}, options);

  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "twolayer_loss_backward", [&] {
    using T = scalar_t;
    const T g = static_cast<T>(grad_J);
    if (mask[1]) grads[1] = Z2 * (-static_cast<double>(g) * inv_m);  // dY = -(g/m) Z2

    if (use_direct_loops(s.n0, s.n1, s.n2)) {
      const ParameterSums layout{s.n0, s.n1, s.n2};
      std::vector<double> sums(chunks * layout.width(), 0.0);
      with_activation(activation, [&](auto g1) {
        direct_backward<T, decltype(g1)>(
            g, X.data_ptr<T>(), Y.data_ptr<T>(), W1.data_ptr<T>(), W2.data_ptr<T>(),
            A1.data_ptr<T>(), Z2.data_ptr<T>(), s, mask, mask[0] ? grads[0].data_ptr<T>() : nullptr,
            sums, layout, chunks);
      });
      const int64_t w = layout.width();
      if (mask[2]) store_sums(sums, chunks, w, layout.dW1(), s.n1 * s.n0, inv_m, grads[2].data_ptr<T>());
      if (mask[3]) store_sums(sums, chunks, w, layout.db1(), s.n1, inv_m, grads[3].data_ptr<T>());
      if (mask[4]) store_sums(sums, chunks, w, layout.dW2(), s.n2 * s.n1, inv_m, grads[4].data_ptr<T>());
      if (mask[5]) store_sums(sums, chunks, w, layout.db2(), s.n2, inv_m, grads[5].data_ptr<T>());
      return;
    }

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

at::Tensor fit(at::Tensor& W1, at::Tensor& b1, at::Tensor& W2, at::Tensor& b2, const at::Tensor& X,
               const at::Tensor& Y, const NetworkShape& shape, int64_t iterations,
               double learning_rate, Activation activation) {
  at::Tensor costs = at::empty({iterations}, X.options());
  const std::array<bool, 6> mask = {false, false, true, true, true, true};
  AT_DISPATCH_FLOATING_TYPES(X.scalar_type(), "twolayer_fit", [&] {
    scalar_t* cost = costs.data_ptr<scalar_t>();
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
