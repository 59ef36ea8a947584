#include "ops/cpu/columns_kernel.h"

#include "ops/cpu/activation_functors.h"
#include "ops/cpu/fast_math.h"

namespace twolayer {
namespace cpu {
namespace {

// Sums with a fixed number of independent lanes: the compiler may vectorise them (it may not
// reorder a single running sum of floats), and the order of additions never changes.
constexpr int64_t kLanes = 8;

template <typename T>
double lane_sum(const T* a, int64_t n) {
  T lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int64_t l = 0; l < kLanes; ++l) lanes[l] += a[i + l];
  }
  double total = 0.0;
  for (; i < n; ++i) total += a[i];
  for (int64_t l = 0; l < kLanes; ++l) total += lanes[l];
  return total;
}

template <typename T>
double lane_dot(const T* a, const T* b, int64_t n) {
  T lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int64_t l = 0; l < kLanes; ++l) lanes[l] += a[i + l] * b[i + l];
  }
  double total = 0.0;
  for (; i < n; ++i) total += static_cast<double>(a[i] * b[i]);
  for (int64_t l = 0; l < kLanes; ++l) total += lanes[l];
  return total;
}

template <typename T>
void apply_activation(Activation activation, T* a, int64_t n) {
  switch (activation) {
    case Activation::Tanh:
      for (int64_t i = 0; i < n; ++i) a[i] = Math<T>::tanh(a[i]);
      return;
    case Activation::Sigmoid:
      for (int64_t i = 0; i < n; ++i) a[i] = Math<T>::logistic(a[i]);
      return;
    case Activation::Relu:
      // As torch.relu: NaN stays NaN (a[i] > 0 ? a[i] : 0 would turn it into 0).
      for (int64_t i = 0; i < n; ++i) a[i] = a[i] < T(0) ? T(0) : a[i];
      return;
    case Activation::LeakyRelu:
      for (int64_t i = 0; i < n; ++i) a[i] = a[i] > T(0) ? a[i] : T(kLeakyReluSlope) * a[i];
      return;
  }
}

}  // namespace

template <typename T>
void columns_forward(const NetworkShape& s, const Weights<T>& w, Activation activation,
                     const T* Xt, T* A1t, T* Z2t, int64_t begin, int64_t end) {
  const int64_t m = s.m, n = end - begin;
  for (int64_t j = 0; j < s.n1; ++j) {  // Z1 = W1 X + b1, A1 = g1(Z1)
    T* a = A1t + j * m + begin;
    for (int64_t i = 0; i < n; ++i) a[i] = w.b1[j];
    for (int64_t k = 0; k < s.n0; ++k) {
      const T weight = w.W1[j * s.n0 + k];
      const T* x = Xt + k * m + begin;
      for (int64_t i = 0; i < n; ++i) a[i] += weight * x[i];
    }
    apply_activation(activation, a, n);
  }
  for (int64_t o = 0; o < s.n2; ++o) {  // Z2 = W2 A1 + b2
    T* z = Z2t + o * m + begin;
    for (int64_t i = 0; i < n; ++i) z[i] = w.b2[o];
    for (int64_t j = 0; j < s.n1; ++j) {
      const T weight = w.W2[o * s.n1 + j];
      const T* a = A1t + j * m + begin;
      for (int64_t i = 0; i < n; ++i) z[i] += weight * a[i];
    }
  }
}

template <typename T>
double columns_cost(const NetworkShape& s, const T* Z2t, const T* Yt, int64_t begin, int64_t end) {
  double total = 0.0;
  T terms[256];  // per block, so the transcendental part vectorises and the sum is laned
  for (int64_t o = 0; o < s.n2; ++o) {
    for (int64_t i0 = begin; i0 < end; i0 += 256) {
      const int64_t n = std::min<int64_t>(256, end - i0);
      const T* z = Z2t + o * s.m + i0;
      const T* y = Yt + o * s.m + i0;
      for (int64_t i = 0; i < n; ++i) terms[i] = Math<T>::softplus(z[i]) - y[i] * z[i];
      total += lane_sum(terms, n);
    }
  }
  return total;
}

template <typename T>
void columns_backward(const NetworkShape& s, const Weights<T>& w, Activation activation, T g,
                      const T* Xt, const T* Yt, const T* A1t, const T* Z2t, T* dZ2t, T* dZ1t,
                      T* dXt, bool need_dZ1, double* sums, int64_t begin, int64_t end) {
  const int64_t m = s.m, n = end - begin;
  double* dW1 = sums;
  double* db1 = dW1 + s.n1 * s.n0;
  double* dW2 = db1 + s.n1;
  double* db2 = dW2 + s.n2 * s.n1;
  for (int64_t o = 0; o < s.n2; ++o) {  // dZ2 = A2 - Y, db2 = sum dZ2, dW2 = dZ2 A1^T
    T* d = dZ2t + o * m + begin;
    const T* z = Z2t + o * m + begin;
    const T* y = Yt + o * m + begin;
    for (int64_t i = 0; i < n; ++i) d[i] = g * (Math<T>::logistic(z[i]) - y[i]);
    db2[o] += lane_sum(d, n);
    for (int64_t j = 0; j < s.n1; ++j) dW2[o * s.n1 + j] += lane_dot(d, A1t + j * m + begin, n);
  }
  if (!need_dZ1) return;
  with_activation(activation, [&](auto g1) {
    using G = decltype(g1);
    for (int64_t j = 0; j < s.n1; ++j) {  // dZ1 = W2^T dZ2 * g1'(Z1), db1, dW1 = dZ1 X^T
      T* d = dZ1t + j * m + begin;
      const T* a = A1t + j * m + begin;
      for (int64_t i = 0; i < n; ++i) d[i] = T(0);
      for (int64_t o = 0; o < s.n2; ++o) {
        const T weight = w.W2[o * s.n1 + j];
        const T* d2 = dZ2t + o * m + begin;
        for (int64_t i = 0; i < n; ++i) d[i] += weight * d2[i];
      }
      for (int64_t i = 0; i < n; ++i) d[i] *= G::slope(a[i]);
      db1[j] += lane_sum(d, n);
      for (int64_t k = 0; k < s.n0; ++k) dW1[j * s.n0 + k] += lane_dot(d, Xt + k * m + begin, n);
    }
  });
  if (dXt == nullptr) return;
  for (int64_t k = 0; k < s.n0; ++k) {  // dX = W1^T dZ1
    T* dx = dXt + k * m + begin;
    for (int64_t i = 0; i < n; ++i) dx[i] = T(0);
    for (int64_t j = 0; j < s.n1; ++j) {
      const T weight = w.W1[j * s.n0 + k];
      const T* d = dZ1t + j * m + begin;
      for (int64_t i = 0; i < n; ++i) dx[i] += weight * d[i];
    }
  }
}

#define TWOLAYER_INSTANTIATE(T)                                                                \
  template void columns_forward<T>(const NetworkShape&, const Weights<T>&, Activation, const T*, \
                                   T*, T*, int64_t, int64_t);                                   \
  template double columns_cost<T>(const NetworkShape&, const T*, const T*, int64_t, int64_t);   \
  template void columns_backward<T>(const NetworkShape&, const Weights<T>&, Activation, T,       \
                                    const T*, const T*, const T*, const T*, T*, T*, T*, bool,    \
                                    double*, int64_t, int64_t);
TWOLAYER_INSTANTIATE(float)
TWOLAYER_INSTANTIATE(double)
#undef TWOLAYER_INSTANTIATE

}  // namespace cpu
}  // namespace twolayer
