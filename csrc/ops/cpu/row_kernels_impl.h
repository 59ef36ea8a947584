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

// Rows summed in T before the sums go to double.
constexpr int64_t kRowsPerFlush = 64;

// b1 repeated L times, where n1 is not a whole number of vectors (else empty): L rows of Z1 are
// then one run of whole vectors, and a vector of b1 starts wherever one of those rows' does.
template <typename T>
std::vector<T> tiled_bias(const T* b1, int64_t n1) {
  constexpr int L = Lanes<Vector<T>>::count;
  std::vector<T> tile;
  if (n1 % L == 0) return tile;
  tile.resize(static_cast<size_t>(L * n1));
  for (int64_t k = 0; k < L * n1; ++k) tile[k] = b1[k % n1];
  return tile;
}

// A1 = g1(Z1 + b1) in place over rows [first, last). Where n1 is not a whole number of vectors
// the rows go as flat runs against the tiled bias: each unit in a full vector, none left to the
// scalar tail of its row (at n1 = 4 in float32 every unit was, with 8 lanes).
template <typename T, typename G>
void bias_activation_span(T* Z, const T* b1, const std::vector<T>& tile, int64_t n1,
                          int64_t first, int64_t last) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  if (tile.empty()) {
    for (int64_t i = first; i < last; ++i) {
      T* z = Z + i * n1;
      for (int64_t j = 0; j < n1; j += L) store(z + j, G::value(load<V>(z + j) + load<V>(b1 + j)));
    }
    return;
  }
  for (int64_t i = first; i < last; i += L) {
    T* z = Z + i * n1;
    const int64_t n = std::min<int64_t>(L, last - i) * n1;
    int64_t k = 0;
    for (; k + L <= n; k += L) store(z + k, G::value(load<V>(z + k) + load<V>(tile.data() + k)));
    for (; k < n; ++k) z[k] = G::value(z[k] + tile[k]);
  }
}

// The first `count` values of v to p (count <= the lanes).
template <typename V, typename T>
inline __attribute__((always_inline)) void store_first(T* p, V v, int64_t count) {
  if (count == Lanes<V>::count) return store(p, v);
  std::memcpy(p, &v, static_cast<size_t>(count) * sizeof(T));
}

// Tiles of kTileRows rows by two vectors of units: twelve sums in registers (enough to keep both
// FMA pipes busy through their latency), each step of the product one load of W^T per vector
// and one broadcast of `in` per row. A tile's rows past `end` repeat its last row; they are
// computed and not stored.
template <typename T, typename G>
void dense_rows_for(const DenseRows<T>& p, int64_t begin, int64_t end) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  constexpr int kTileRows = 6;
  const int64_t inputs = p.inputs, units = p.units, padded = p.padded;
  for (int64_t i = begin; i < end; i += kTileRows) {
    const int64_t rows = std::min<int64_t>(kTileRows, end - i);
    const T* x[kTileRows];
    for (int r = 0; r < kTileRows; ++r) x[r] = p.in + (i + std::min<int64_t>(r, rows - 1)) * inputs;
    T* out = p.out + i * units;
    int64_t j = 0;
    for (; j + 2 * L <= padded; j += 2 * L) {
      V lo[kTileRows], hi[kTileRows];
      const V b_lo = load<V>(p.b + j), b_hi = load<V>(p.b + j + L);
      for (int r = 0; r < kTileRows; ++r) lo[r] = b_lo, hi[r] = b_hi;
      const T* w = p.Wt + j;
      for (int64_t k = 0; k < inputs; ++k, w += padded) {  // in W^T + b
        const V w_lo = load<V>(w), w_hi = load<V>(w + L);
        for (int r = 0; r < kTileRows; ++r) {
          const V xr = splat<V>(x[r][k]);
          lo[r] += xr * w_lo;
          hi[r] += xr * w_hi;
        }
      }
      for (int r = 0; r < rows; ++r) {  // g
        T* o = out + r * units + j;
        store_first(o, G::value(lo[r]), std::min<int64_t>(L, units - j));
        if (j + L < units) store_first(o + L, G::value(hi[r]), std::min<int64_t>(L, units - j - L));
      }
    }
    if (j < padded) {  // one vector of units left
      V z[kTileRows];
      for (int r = 0; r < kTileRows; ++r) z[r] = load<V>(p.b + j);
      const T* w = p.Wt + j;
      for (int64_t k = 0; k < inputs; ++k, w += padded) {
        const V wk = load<V>(w);
        for (int r = 0; r < kTileRows; ++r) z[r] += splat<V>(x[r][k]) * wk;
      }
      if (units < L) {  // rows shorter than a vector: g over the tile's rows as one flat run
        for (int r = 0; r < rows; ++r) store_first(out + r * units, z[r], units);
        T* run = out;
        const int64_t n = rows * units;
        int64_t k = 0;
        for (; k + L <= n; k += L) store(run + k, G::value(load<V>(run + k)));
        for (; k < n; ++k) run[k] = G::value(run[k]);
      } else {
        for (int r = 0; r < rows; ++r) {
          store_first(out + r * units + j, G::value(z[r]), std::min<int64_t>(L, units - j));
        }
      }
    }
  }
}

template <typename T, typename G>
void bias_activation_rows_for(T* Z, const T* b1, int64_t n1, int64_t begin, int64_t end) {
  bias_activation_span<T, G>(Z, b1, tiled_bias(b1, n1), n1, begin, end);
}

template <typename T, typename G>
void hidden_delta_rows_for(const T* A1, const T* product, T* dZ1, int64_t n1, int64_t begin,
                           int64_t end, double* db1_sums) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  std::vector<T> sum(n1, T(0));
  for (int64_t i = begin; i < end; ++i) {
    const T* a = A1 + i * n1;
    const T* back = product + i * n1;
    T* d = dZ1 + i * n1;
    int64_t j = 0;
    for (; j + L <= n1; j += L) {
      const V d1 = G::delta(load<V>(back + j), load<V>(a + j));
      store(d + j, d1);
      store(sum.data() + j, load<V>(sum.data() + j) + d1);
    }
    for (; j < n1; ++j) {
      d[j] = G::delta(back[j], a[j]);
      sum[j] += d[j];
    }
    if ((i - begin + 1) % kRowsPerFlush == 0 || i + 1 == end) {
      for (int64_t k = 0; k < n1; ++k) {
        db1_sums[k] += sum[k];
        sum[k] = T(0);
      }
    }
  }
}

// The output layer's functions over `rows` rows of n2 logits (row-major). Sigmoid and
// identity work along the flat run: whatever n2 is, every vector is full but the last, where
// one output per row would leave the lanes idle. Softmax works row by row, from e^(z - max z)
// of the row (never overflowing, and 1 at the largest logit).

// sum over the run of softplus(z) - y z, the sigmoid's cross-entropy.
template <typename T>
double cost_sum_flat(const T* z, const T* y, int64_t n) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  V sum = splat<V>(0);
  int64_t k = 0;
  for (; k + L <= n; k += L) {
    const V zk = load<V>(z + k);
    sum += cost_term(Math<V>::logit(zk), zk, load<V>(y + k));
  }
  double total = lane_sum(sum);
  for (; k < n; ++k) total += static_cast<double>(cost_term(Math<T>::logit(z[k]), z[k], y[k]));
  return total;
}

// sum over the run of (1/2) (z - y)^2, identity's squared error.
template <typename T>
double squared_error_sum_flat(const T* z, const T* y, int64_t n) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  V sum = splat<V>(0);
  int64_t k = 0;
  for (; k + L <= n; k += L) {
    const V e = load<V>(z + k) - load<V>(y + k);
    sum += e * e;
  }
  double total = lane_sum(sum);
  for (; k < n; ++k) total += static_cast<double>((z[k] - y[k]) * (z[k] - y[k]));
  return 0.5 * total;
}

// The largest of a row's logits.
template <typename T>
T row_max(const T* z, int64_t n2) {
  T top = z[0];
  for (int64_t o = 1; o < n2; ++o) top = z[o] > top ? z[o] : top;
  return top;
}

// sum over the rows of -sum_j y_j log softmax(z)_j = sum_j y_j (log sum_k e^z_k - z_j).
template <typename T>
double softmax_cost_sum(const T* z, const T* y, int64_t rows, int64_t n2) {
  double total = 0.0;
  for (int64_t i = 0; i < rows; ++i, z += n2, y += n2) {
    const T top = row_max(z, n2);
    T sum = 0;
    for (int64_t o = 0; o < n2; ++o) sum += Math<T>::exp(z[o] - top);
    const T log_sum = top + std::log(sum);
    T cost = 0;
    for (int64_t o = 0; o < n2; ++o) cost += y[o] * (log_sum - z[o]);
    total += static_cast<double>(cost);
  }
  return total;
}

// softmax(z) of each row into a (which may be z itself); returns nothing else.
template <typename T>
void softmax_rows(const T* z, T* a, int64_t rows, int64_t n2) {
  for (int64_t i = 0; i < rows; ++i, z += n2, a += n2) {
    const T top = row_max(z, n2);
    T sum = 0;
    for (int64_t o = 0; o < n2; ++o) {
      a[o] = Math<T>::exp(z[o] - top);
      sum += a[o];
    }
    const T inverse = T(1) / sum;
    for (int64_t o = 0; o < n2; ++o) a[o] *= inverse;
  }
}

// The cost of the rows, before the 1/m.
template <typename T>
double output_cost_sum(OutputLayer g2, const T* z, const T* y, int64_t rows, int64_t n2) {
  switch (g2) {
    case OutputLayer::Sigmoid: return cost_sum_flat(z, y, rows * n2);
    case OutputLayer::Softmax: return softmax_cost_sum(z, y, rows, n2);
    case OutputLayer::Identity: break;
  }
  return squared_error_sum_flat(z, y, rows * n2);
}

// A2 = g2(Z2) in place.
template <typename T>
void output_activation_in_place(OutputLayer g2, T* z, int64_t rows, int64_t n2) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  if (g2 == OutputLayer::Softmax) return softmax_rows(z, z, rows, n2);
  if (g2 == OutputLayer::Identity) return;
  const int64_t n = rows * n2;
  int64_t k = 0;
  for (; k + L <= n; k += L) store(z + k, Math<V>::logistic(load<V>(z + k)));
  for (; k < n; ++k) z[k] = Math<T>::logistic(z[k]);
}

// dZ2 = A2 - Y from the logits (softmax: A2 sum_j Y_j - Y, which is A2 - Y for rows of Y that
// are distributions).
template <typename T>
void output_delta_of_rows(OutputLayer g2, const T* z, const T* y, T* d, int64_t rows, int64_t n2) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  if (g2 == OutputLayer::Softmax) {
    softmax_rows(z, d, rows, n2);
    for (int64_t i = 0; i < rows; ++i, y += n2, d += n2) {
      T labels = 0;
      for (int64_t o = 0; o < n2; ++o) labels += y[o];
      for (int64_t o = 0; o < n2; ++o) d[o] = d[o] * labels - y[o];
    }
    return;
  }
  const bool sigmoid = g2 == OutputLayer::Sigmoid;
  const int64_t n = rows * n2;
  int64_t k = 0;
  for (; k + L <= n; k += L) {
    const V zk = load<V>(z + k);
    store(d + k, (sigmoid ? Math<V>::logistic(zk) : zk) - load<V>(y + k));
  }
  for (; k < n; ++k) d[k] = (sigmoid ? Math<T>::logistic(z[k]) : z[k]) - y[k];
}

// MaxN2 sizes the per-output arrays; known at compile time, they can live in registers.
template <typename T, typename G, int MaxN2>
void output_rows_for(const OutputRows<T>& p, int64_t begin, int64_t end, double* cost_out) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  const int64_t n1 = p.n1, n2 = p.n2;
  // The logits of the current rows: the probabilities' memory (made sigmoid in place), the
  // cache's, or these when none is kept. The cost, or the sigmoid, is taken over all of them at
  // once (cost_sum_flat, logistic_flat).
  T block[kRowsPerFlush * MaxN2];
  double cost = 0.0;
  // Rows of whole vectors take the activation in the sweep of their dot products; the others
  // take it first, over the current rows at once (bias_activation_span).
  const std::vector<T> tile = p.activated ? std::vector<T>() : tiled_bias(p.b1, n1);
  const bool activated_first = !tile.empty();
  for (int64_t first = begin; first < end; first += kRowsPerFlush) {
    const int64_t last = std::min(end, first + kRowsPerFlush);
    T* z_rows = p.A2 != nullptr ? p.A2 + first * n2 : p.Z2 != nullptr ? p.Z2 + first * n2 : block;
    if (activated_first) bias_activation_span<T, G>(p.A1, p.b1, tile, n1, first, last);
    for (int64_t i = first; i < last; ++i) {
      T* a = p.A1 + i * n1;
      // A1 = g1(Z1 + b1), and the output logits as dot products along the row.
      V dot[MaxN2];
      for (int64_t o = 0; o < n2; ++o) dot[o] = splat<V>(0);
      T tail_dot[MaxN2] = {};
      int64_t j = 0;
      for (; j + L <= n1; j += L) {
        V h = load<V>(a + j);
        if (!activated_first && !p.activated) {
          h = G::value(h + load<V>(p.b1 + j));
          store(a + j, h);
        }
        for (int64_t o = 0; o < n2; ++o) dot[o] += h * load<V>(p.W2 + o * n1 + j);
      }
      for (; j < n1; ++j) {  // only where activated_first or p.activated
        for (int64_t o = 0; o < n2; ++o) tail_dot[o] += a[j] * p.W2[o * n1 + j];
      }
      T* z = z_rows + (i - first) * n2;
      for (int64_t o = 0; o < n2; ++o) {
        T sum = p.b2[o] + tail_dot[o];
        // A row shorter than a vector has no vector part: its lanes' sum would be the row's
        // largest cost (at n1 = 4, 8 lanes of zeros per output).
        if (n1 >= L) {
          for (int l = 0; l < L; ++l) sum += dot[o][l];
        }
        z[o] = sum;
      }
    }
    if (p.A2 != nullptr) {
      output_activation_in_place(p.output, z_rows, last - first, n2);
    } else {
      cost += output_cost_sum(p.output, z_rows, p.Y + first * n2, last - first, n2);
    }
  }
  if (p.A2 == nullptr) *cost_out += cost;
}

template <typename T, typename G, int MaxN2>
void delta_rows_for(const DeltaRows<T>& p, int64_t begin, int64_t end, double* sums) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  const int64_t n1 = p.n1, n2 = p.n2;
  double* db2_sum = sums;
  double* dW2_sum = db2_sum + n2;
  double* db1_sum = dW2_sum + n2 * n1;
  std::vector<T> part(n2 * n1 + n1 + n2, T(0));  // dW2 | db1 | db2 over the current rows
  T* dW2 = part.data();
  T* db1 = dW2 + n2 * n1;
  T* db2 = db1 + n1;
  T dZ2_rows[kRowsPerFlush * MaxN2];  // dZ2 of the current rows
  for (int64_t first = begin; first < end; first += kRowsPerFlush) {
    const int64_t last = std::min(end, first + kRowsPerFlush);
    // dZ2 = A2 - Y for all the rows at once, then the rows one by one; db2 = (1/m) sum dZ2.
    output_delta_of_rows(p.output, p.Z2 + first * n2, p.Y + first * n2, dZ2_rows, last - first, n2);
    for (int64_t i = first; i < last; ++i) {
      const T* d2 = dZ2_rows + (i - first) * n2;
      for (int64_t o = 0; o < n2; ++o) db2[o] += d2[o];
      if (!p.dW2 && p.dZ1 == nullptr) continue;
      // dW2 = (1/m) dZ2^T A1 and dZ1 = (dZ2 W2) * g1'(Z1), db1 = (1/m) sum dZ1, in one sweep
      // along the row (the 1/m when the sums are stored).
      const T* a = p.A1 + i * n1;
      T* d = p.dZ1 != nullptr ? p.dZ1 + i * n1 : nullptr;
      int64_t j = 0;
      for (; j + L <= n1; j += L) {
        const V h = load<V>(a + j);
        V back = splat<V>(0);
        for (int64_t o = 0; o < n2; ++o) {
          const V dz = splat<V>(d2[o]);
          if (p.dW2) store(dW2 + o * n1 + j, load<V>(dW2 + o * n1 + j) + dz * h);
          back += dz * load<V>(p.W2 + o * n1 + j);
        }
        if (d == nullptr) continue;
        const V d1 = G::delta(back, h);
        store(d + j, d1);
        store(db1 + j, load<V>(db1 + j) + d1);
      }
      for (; j < n1; ++j) {
        const T h = a[j];
        T back = 0;
        for (int64_t o = 0; o < n2; ++o) {
          if (p.dW2) dW2[o * n1 + j] += d2[o] * h;
          back += d2[o] * p.W2[o * n1 + j];
        }
        if (d == nullptr) continue;
        d[j] = G::delta(back, h);
        db1[j] += d[j];
      }
    }
    if (p.dW2) {
      for (int64_t k = 0; k < n2 * n1; ++k) dW2_sum[k] += dW2[k];
    }
    if (p.dZ1 != nullptr) {
      for (int64_t k = 0; k < n1; ++k) db1_sum[k] += db1[k];
    }
    for (int64_t o = 0; o < n2; ++o) db2_sum[o] += db2[o];
    std::fill(part.begin(), part.end(), T(0));
  }
}

template <typename T>
void output_cost_rows(const T* Z2, const T* Y, int64_t n2, int64_t begin, int64_t end,
                      OutputLayer output, double* cost) {
  *cost += output_cost_sum(output, Z2 + begin * n2, Y + begin * n2, end - begin, n2);
}

template <typename T>
void probability_rows(T* Z2, int64_t n2, int64_t begin, int64_t end, OutputLayer output) {
  output_activation_in_place(output, Z2 + begin * n2, end - begin, n2);
}

template <typename T>
void output_delta_rows(const T* Z2, const T* Y, T* dZ2, int64_t n2, int64_t begin, int64_t end,
                       OutputLayer output, double* db2_sums) {
  std::vector<T> sum(n2, T(0));
  for (int64_t first = begin; first < end; first += kRowsPerFlush) {
    const int64_t last = std::min(end, first + kRowsPerFlush);
    output_delta_of_rows(output, Z2 + first * n2, Y + first * n2, dZ2 + first * n2, last - first,
                         n2);
    for (int64_t i = first; i < last; ++i) {
      const T* d = dZ2 + i * n2;
      for (int64_t o = 0; o < n2; ++o) sum[o] += d[o];
    }
    for (int64_t o = 0; o < n2; ++o) {
      db2_sums[o] += sum[o];
      sum[o] = T(0);
    }
  }
}

template <typename T>
void output_rows(const OutputRows<T>& p, int64_t begin, int64_t end, double* cost) {
  visit_activation(p.activation, [&](auto tag) {
    using G = FunctorFor<decltype(tag)>;
    output_rows_for<T, G, kRowsMaxOutputs>(p, begin, end, cost);
  });
}

template <typename T>
void delta_rows(const DeltaRows<T>& p, int64_t begin, int64_t end, double* sums) {
  visit_activation(p.activation, [&](auto tag) {
    using G = FunctorFor<decltype(tag)>;
    delta_rows_for<T, G, kRowsMaxOutputs>(p, begin, end, sums);
  });
}

template <typename T>
void dense_rows(const DenseRows<T>& p, int64_t begin, int64_t end) {
  if (p.identity) return dense_rows_for<T, IdentityFn>(p, begin, end);
  visit_activation(p.activation, [&](auto tag) {
    dense_rows_for<T, FunctorFor<decltype(tag)>>(p, begin, end);
  });
}

template <typename T>
void bias_activation_rows(T* Z, const T* b1, int64_t n1, int64_t begin, int64_t end,
                          Activation activation) {
  visit_activation(activation, [&](auto tag) {
    bias_activation_rows_for<T, FunctorFor<decltype(tag)>>(Z, b1, n1, begin, end);
  });
}

template <typename T>
void hidden_delta_rows(const T* A1, const T* product, T* dZ1, int64_t n1, int64_t begin,
                       int64_t end, Activation activation, double* db1_sums) {
  visit_activation(activation, [&](auto tag) {
    hidden_delta_rows_for<T, FunctorFor<decltype(tag)>>(A1, product, dZ1, n1, begin, end, db1_sums);
  });
}
