// The row kernels' code (row_kernels.h), included like small_net_kernel_impl.h: by
// vector_kernels.cpp and vector_kernels_avx2.cpp, inside a namespace of their own, after every
// header it needs. Hence no include guard and no #include.

template <typename V, typename T>
inline __attribute__((always_inline)) V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename V, typename T>
inline __attribute__((always_inline)) void store(T* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

template <typename T, typename G>
void bias_activation_rows_for(T* Z, const T* b1, int64_t n1, int64_t begin, int64_t end) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  for (int64_t i = begin; i < end; ++i) {
    T* z = Z + i * n1;
    int64_t j = 0;
    for (; j + L <= n1; j += L) store(z + j, G::value(load<V>(z + j) + load<V>(b1 + j)));
    for (; j < n1; ++j) z[j] = G::value(z[j] + b1[j]);
  }
}

template <typename T, typename G>
void hidden_delta_rows_for(T* A1, const T* dZ2, const T* W2, const T* product, int64_t n1,
                           int64_t n2, int64_t begin, int64_t end, double* db1_sums) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  // Column sums in T over at most this many rows, then added in double.
  constexpr int64_t kRowsPerFlush = 64;
  std::vector<T> sum(n1, T(0));
  for (int64_t i = begin; i < end; ++i) {
    T* a = A1 + i * n1;
    const T* d2 = dZ2 + i * n2;
    int64_t j = 0;
    for (; j + L <= n1; j += L) {
      V back;
      if (product != nullptr) {
        back = load<V>(product + i * n1 + j);
      } else {
        back = splat<V>(d2[0]) * load<V>(W2 + j);
        for (int64_t o = 1; o < n2; ++o) back += splat<V>(d2[o]) * load<V>(W2 + o * n1 + j);
      }
      const V d1 = G::delta(back, load<V>(a + j));
      store(a + j, d1);
      store(sum.data() + j, load<V>(sum.data() + j) + d1);
    }
    for (; j < n1; ++j) {
      T back = product != nullptr ? product[i * n1 + j] : T(0);
      if (product == nullptr) {
        for (int64_t o = 0; o < n2; ++o) back += d2[o] * W2[o * n1 + j];
      }
      a[j] = G::delta(back, a[j]);
      sum[j] += a[j];
    }
    if ((i - begin + 1) % kRowsPerFlush == 0 || i + 1 == end) {
      for (int64_t k = 0; k < n1; ++k) {
        db1_sums[k] += sum[k];
        sum[k] = T(0);
      }
    }
  }
}

// MaxN2 sizes the per-output arrays; known at compile time, they can live in registers.
template <typename T, typename G, int MaxN2>
void fused_rows_for(const FusedRows<T>& p, int64_t begin, int64_t end, double* sums) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  constexpr int64_t kRowsPerFlush = 64;  // rows summed in T before the sums go to double
  const int64_t n1 = p.n1, n2 = p.n2;
  double* cost_sum = sums;
  double* db2_sum = sums + 1;
  double* dW2_sum = db2_sum + n2;
  double* db1_sum = dW2_sum + n2 * n1;
  std::vector<T> part(n2 * n1 + n1 + n2, T(0));  // dW2 | db1 | db2 over the current rows
  T* dW2 = part.data();
  T* db1 = dW2 + n2 * n1;
  T* db2 = db1 + n1;
  double cost = 0.0;
  T d2[MaxN2];
  for (int64_t i = begin; i < end; ++i) {
    T* a = p.A1 + i * n1;
    // Sweep 1: the activation, and the output logits as dot products along the row.
    V dot[MaxN2];
    for (int64_t o = 0; o < n2; ++o) dot[o] = splat<V>(0);
    T tail_dot[MaxN2] = {};
    int64_t j = 0;
    for (; j + L <= n1; j += L) {
      V h = load<V>(a + j);
      if (p.activate) {
        h = G::value(h + load<V>(p.b1 + j));
        store(a + j, h);
      }
      for (int64_t o = 0; o < n2; ++o) dot[o] += h * load<V>(p.W2 + o * n1 + j);
    }
    for (; j < n1; ++j) {
      if (p.activate) a[j] = G::value(a[j] + p.b1[j]);
      for (int64_t o = 0; o < n2; ++o) tail_dot[o] += a[j] * p.W2[o * n1 + j];
    }
    for (int64_t o = 0; o < n2; ++o) {
      T z = p.b2[o] + tail_dot[o];
      for (int l = 0; l < L; ++l) z += dot[o][l];
      const T y = p.Y[i * n2 + o];
      const Logit<T> out = Math<T>::logit(z);
      cost += static_cast<double>(cost_term(out, z, y));
      if (p.dY != nullptr) p.dY[i * n2 + o] = p.dY_scale * z;
      d2[o] = out.logistic - y;
      db2[o] += d2[o];
      if (p.dZ2 != nullptr) p.dZ2[i * n2 + o] = d2[o];
    }
    if (p.gradients) {
      // Sweep 2: dW2 += dZ2^T A1, and the row becomes dZ1 = (dZ2 W2) * g1'(A1).
      for (j = 0; j + L <= n1; j += L) {
        const V h = load<V>(a + j);
        V back = splat<V>(0);
        for (int64_t o = 0; o < n2; ++o) {
          const V d = splat<V>(d2[o]);
          store(dW2 + o * n1 + j, load<V>(dW2 + o * n1 + j) + d * h);
          back += d * load<V>(p.W2 + o * n1 + j);
        }
        const V d1 = G::delta(back, h);
        store(a + j, d1);
        store(db1 + j, load<V>(db1 + j) + d1);
      }
      for (; j < n1; ++j) {
        T back = 0;
        for (int64_t o = 0; o < n2; ++o) {
          dW2[o * n1 + j] += d2[o] * a[j];
          back += d2[o] * p.W2[o * n1 + j];
        }
        a[j] = G::delta(back, a[j]);
        db1[j] += a[j];
      }
    }
    if ((i - begin + 1) % kRowsPerFlush == 0 || i + 1 == end) {
      if (p.gradients) {
        for (int64_t k = 0; k < n2 * n1; ++k) dW2_sum[k] += dW2[k];
        for (int64_t k = 0; k < n1; ++k) db1_sum[k] += db1[k];
      }
      for (int64_t o = 0; o < n2; ++o) db2_sum[o] += db2[o];
      std::fill(part.begin(), part.end(), T(0));
    }
  }
  *cost_sum += cost;
}

template <typename T, int MaxN2>
void fused_up_to(const FusedRows<T>& p, int64_t begin, int64_t end, double* sums) {
  switch (p.activation) {
    case Activation::Tanh: return fused_rows_for<T, TanhFn, MaxN2>(p, begin, end, sums);
    case Activation::Sigmoid: return fused_rows_for<T, SigmoidFn, MaxN2>(p, begin, end, sums);
    case Activation::Relu: return fused_rows_for<T, ReluFn, MaxN2>(p, begin, end, sums);
    case Activation::LeakyRelu: return fused_rows_for<T, LeakyReluFn, MaxN2>(p, begin, end, sums);
  }
}

template <typename T>
void fused(const FusedRows<T>& p, int64_t begin, int64_t end, double* sums) {
  if (p.n2 <= kFusedRowsMaxOutputs) {
    return fused_up_to<T, kFusedRowsMaxOutputs>(p, begin, end, sums);
  }
  fused_up_to<T, kFusedForwardMaxOutputs>(p, begin, end, sums);
}

template <typename T>
void bias_activation(T* Z, const T* b1, int64_t n1, int64_t begin, int64_t end,
                     Activation activation) {
  switch (activation) {
    case Activation::Tanh: return bias_activation_rows_for<T, TanhFn>(Z, b1, n1, begin, end);
    case Activation::Sigmoid: return bias_activation_rows_for<T, SigmoidFn>(Z, b1, n1, begin, end);
    case Activation::Relu: return bias_activation_rows_for<T, ReluFn>(Z, b1, n1, begin, end);
    case Activation::LeakyRelu:
      return bias_activation_rows_for<T, LeakyReluFn>(Z, b1, n1, begin, end);
  }
}

template <typename T>
void hidden_delta(T* A1, const T* dZ2, const T* W2, const T* product, int64_t n1, int64_t n2,
                  int64_t begin, int64_t end, Activation activation, double* db1_sums) {
  switch (activation) {
    case Activation::Tanh:
      return hidden_delta_rows_for<T, TanhFn>(A1, dZ2, W2, product, n1, n2, begin, end, db1_sums);
    case Activation::Sigmoid:
      return hidden_delta_rows_for<T, SigmoidFn>(A1, dZ2, W2, product, n1, n2, begin, end,
                                                 db1_sums);
    case Activation::Relu:
      return hidden_delta_rows_for<T, ReluFn>(A1, dZ2, W2, product, n1, n2, begin, end, db1_sums);
    case Activation::LeakyRelu:
      return hidden_delta_rows_for<T, LeakyReluFn>(A1, dZ2, W2, product, n1, n2, begin, end,
                                                   db1_sums);
  }
}

template void fused<float>(const FusedRows<float>&, int64_t, int64_t, double*);
template void fused<double>(const FusedRows<double>&, int64_t, int64_t, double*);
template void bias_activation<float>(float*, const float*, int64_t, int64_t, int64_t, Activation);
template void bias_activation<double>(double*, const double*, int64_t, int64_t, int64_t,
                                      Activation);
template void hidden_delta<float>(float*, const float*, const float*, const float*, int64_t,
                                  int64_t, int64_t, int64_t, Activation, double*);
template void hidden_delta<double>(double*, const double*, const double*, const double*, int64_t,
                                   int64_t, int64_t, int64_t, Activation, double*);
