// The small-net kernel's code, included by vector_kernels.cpp and vector_kernels_avx2.cpp
// inside a namespace of their own, after every header it needs: each inclusion compiles it for
// its file's instruction set, and the two never share a symbol. Hence no include guard, and no
// #include here (an inline function of a header compiled for AVX2 could be picked by the
// linker for a CPU without it).

// Column `column` of the examples `row` of a strided matrix, as a vector: one load when the
// examples are consecutive in memory (a matrix of columns, as fit_ makes), else one per lane.
template <typename V, typename T, int L>
inline __attribute__((always_inline)) V gather(const T* data, const int64_t (&row)[L],
                                               const int64_t* strides, int64_t column) {
  V v;
  if (strides[0] == 1 && row[L - 1] == row[0] + L - 1) {
    std::memcpy(&v, data + row[0] + column * strides[1], sizeof v);
    return v;
  }
  T values[L];
  for (int l = 0; l < L; ++l) values[l] = data[row[l] * strides[0] + column * strides[1]];
  std::memcpy(&v, values, sizeof v);
  return v;
}

// Two features per example, stored row after row (the lecture's planar data): the two columns
// of a block come from two contiguous loads and one deinterleaving shuffle each. Returns false
// where that does not apply (the caller then gathers element by element).
template <typename T, typename V>
inline __attribute__((always_inline)) bool gather_pairs(const SmallNetProblem<T>& p, int64_t i,
                                                        V* x) {
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
  if constexpr (Lanes<V>::count == 8) {
    if (p.shape.n0 != 2 || p.x_strides[0] != 2 || p.x_strides[1] != 1) return false;
    V lo, hi;
    std::memcpy(&lo, p.X + 2 * i, sizeof lo);
    std::memcpy(&hi, p.X + 2 * i + 8, sizeof hi);
    x[0] = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
    x[1] = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15);
    return true;
  }
#endif
  (void)p, (void)i, (void)x;
  return false;
}

// The kernel for one activation G and output layer O. Vectors hold examples [i, i + L); x[k],
// a1[j], ... one unit. N0, N1, N2: the layer sizes when known at compile time (0: read them
// from p.shape). Known, every loop unrolls and the per-unit arrays live in registers.
template <typename T, typename G, OutputLayer O, int N0 = 0, int N1 = 0, int N2 = 0>
void pass_for(const SmallNetProblem<T>& p, int64_t begin, int64_t end, double* cost_out,
              double* sums) {
  using V = Vector<T>;
  constexpr int L = Lanes<V>::count;
  // Lane sums are added in double this often: a float lane then never sums more than 64 terms.
  constexpr int kBlocksPerFlush = 64;
  const int64_t n0 = N0 ? N0 : p.shape.n0, n1 = N1 ? N1 : p.shape.n1, n2 = N2 ? N2 : p.shape.n2;
  const int64_t dW1 = 0, db1 = n1 * n0, dW2 = db1 + n1, db2 = dW2 + n2 * n1;
  const int64_t width = db2 + n2;
  const T* W1 = p.W1;
  const T* W2 = p.W2;
  const int64_t a1_strides[2] = {n1, 1}, z2_strides[2] = {n2, 1};  // the cache's rows

  V x[kSmallNetMaxUnits], y[kSmallNetMaxUnits], a1[kSmallNetMaxUnits], d1[kSmallNetMaxUnits];
  V z2[kSmallNetMaxUnits], a2[kSmallNetMaxUnits];
  V sum[kSmallNetMaxSums];
  V cost_sum = splat<V>(0);
  for (int64_t w = 0; w < width; ++w) sum[w] = splat<V>(0);
  V lane;
  for (int l = 0; l < L; ++l) lane[l] = static_cast<T>(l);
  double cost = 0.0;
  int blocks = 0;

  const auto flush = [&] {
    cost += lane_sum(cost_sum);
    cost_sum = splat<V>(0);
    if (!p.gradients) return;
    for (int64_t w = 0; w < width; ++w) {
      sums[w] += lane_sum(sum[w]);
      sum[w] = splat<V>(0);
    }
  };

  // One block of examples [i, i + n). Only the last block of a range can be partial (Tail).
  const auto block = [&](int64_t i, int64_t n, auto tail) {
    constexpr bool kTail = decltype(tail)::value;
    const auto valid = lane < splat<V>(static_cast<T>(n));
    const auto keep = [&](V v) {  // what the sums may see of a lane
      if constexpr (kTail) return select(valid, v, splat<V>(0));
      return v;
    };
    // Lanes past the end repeat the last example, so that they compute finite values wherever
    // the real ones do; every sum masks them out.
    int64_t row[L];
    for (int l = 0; l < L; ++l) row[l] = i + (kTail && l >= n ? n - 1 : l);
    if (kTail || !gather_pairs(p, i, x)) {
      for (int64_t k = 0; k < n0; ++k) x[k] = gather<V>(p.X, row, p.x_strides, k);
    }
    if (p.Y != nullptr) {
      for (int64_t o = 0; o < n2; ++o) y[o] = gather<V>(p.Y, row, p.y_strides, o);
    }

    if (p.A1_in != nullptr) {  // backpropagation from the cache
      for (int64_t j = 0; j < n1; ++j) a1[j] = gather<V>(p.A1_in, row, a1_strides, j);
    } else {
      // Unrolled, the hidden units' activations overlap; in a loop each waits on a division.
#pragma GCC unroll 8
      for (int64_t j = 0; j < n1; ++j) {  // Z1 = W1 X + b1, A1 = g1(Z1)
        V z = splat<V>(p.b1[j]);
        for (int64_t k = 0; k < n0; ++k) z += splat<V>(W1[j * n0 + k]) * x[k];
        a1[j] = G::value(z);
      }
      if (p.A1_out != nullptr) {
        for (int64_t j = 0; j < n1; ++j) {
          for (int64_t l = 0; l < n; ++l) p.A1_out[(i + l) * n1 + j] = a1[j][l];
        }
      }
    }
    // The lecture's column layout (one vector of examples per unit); the 1/m comes when the sums
    // are stored.
    for (int64_t o = 0; o < n2; ++o) {  // Z2 = W2 A1 + b2
      if (p.Z2_in != nullptr) {
        z2[o] = gather<V>(p.Z2_in, row, z2_strides, o);
        continue;
      }
      V z = splat<V>(p.b2[o]);
      for (int64_t j = 0; j < n1; ++j) z += splat<V>(W2[o * n1 + j]) * a1[j];
      z2[o] = z;
      if (p.Z2_out != nullptr) {
        for (int64_t l = 0; l < n; ++l) p.Z2_out[(i + l) * n2 + o] = z[l];
      }
    }
    // A2 = g2(Z2), and the cost unless backpropagation reads the cache (which adds none) or
    // inference asks for A2 alone.
    const bool with_cost = p.Z2_in == nullptr && p.A2_out == nullptr;
    V softmax_sum = splat<V>(0), softmax_top = z2[0];
    if constexpr (O == OutputLayer::Softmax) {
      for (int64_t o = 1; o < n2; ++o)
        softmax_top = select(z2[o] > softmax_top, z2[o], softmax_top);
    }
    for (int64_t o = 0; o < n2; ++o) {
      if constexpr (O == OutputLayer::Sigmoid) {
        if (with_cost) {  // the cost needs the whole logit (its log1p)
          const Logit<V> out = Math<V>::logit(z2[o]);
          cost_sum += keep(cost_term(out, z2[o], y[o]));
          a2[o] = out.logistic;
        } else {
          a2[o] = Math<V>::logistic(z2[o]);
        }
      } else if constexpr (O == OutputLayer::Softmax) {
        a2[o] = Math<V>::exp(z2[o] - softmax_top);
        softmax_sum += a2[o];
      } else {
        a2[o] = z2[o];
        if (with_cost) {
          const V e = z2[o] - y[o];
          cost_sum += keep(splat<V>(0.5) * e * e);
        }
      }
    }
    V labels = splat<V>(1);  // softmax: sum_j Y_j of each example
    if constexpr (O == OutputLayer::Softmax) {
      const V inverse = splat<V>(1) / softmax_sum;
      for (int64_t o = 0; o < n2; ++o) a2[o] *= inverse;
      if (p.Y != nullptr) {
        labels = y[0];
        for (int64_t o = 1; o < n2; ++o) labels += y[o];
      }
      if (with_cost) {  // sum_j Y_j (log sum_k e^Z2_k - Z2_j)
        V log_sum;
        for (int l = 0; l < L; ++l) log_sum[l] = std::log(softmax_sum[l]);
        log_sum += softmax_top;
        V cost = splat<V>(0);
        for (int64_t o = 0; o < n2; ++o) cost += y[o] * (log_sum - z2[o]);
        cost_sum += keep(cost);
      }
    }
    if (p.A2_out != nullptr) {  // inference: A2 alone
      for (int64_t o = 0; o < n2; ++o) {
        if (n2 == 1 && !kTail) {
          std::memcpy(p.A2_out + i, &a2[o], sizeof a2[o]);
        } else {
          for (int64_t l = 0; l < n; ++l) p.A2_out[(i + l) * n2 + o] = a2[o][l];
        }
      }
      return;
    }
    if (!p.gradients) return;
    for (int64_t o = 0; o < n2; ++o) {
      // dZ2 = A2 - Y (softmax: A2 sum_j Y_j - Y, the same for rows of Y that are distributions)
      const V d2 = keep(O == OutputLayer::Softmax ? a2[o] * labels - y[o] : a2[o] - y[o]);
      sum[db2 + o] += d2;                                                    // db2 = (1/m) sum dZ2
      for (int64_t j = 0; j < n1; ++j) sum[dW2 + o * n1 + j] += d2 * a1[j];  // dW2 = (1/m) dZ2 A1^T
      if (!p.hidden_gradients) continue;
      for (int64_t j = 0; j < n1; ++j) {  // W2^T dZ2, one output at a time
        const V term = splat<V>(W2[o * n1 + j]) * d2;
        d1[j] = o == 0 ? term : d1[j] + term;
      }
    }
    if (!p.hidden_gradients) return;
    for (int64_t j = 0; j < n1; ++j) {
      const V d = keep(G::delta(d1[j], a1[j]));  // dZ1 = W2^T dZ2 * g1'(Z1)
      d1[j] = d;
      sum[db1 + j] += d;                                                   // db1 = (1/m) sum dZ1
      for (int64_t k = 0; k < n0; ++k) sum[dW1 + j * n0 + k] += d * x[k];  // dW1 = (1/m) dZ1 X^T
    }
    if (p.dX != nullptr) {
      for (int64_t k = 0; k < n0; ++k) {  // dX = W1^T dZ1
        V dx = splat<V>(0);
        for (int64_t j = 0; j < n1; ++j) dx += splat<V>(W1[j * n0 + k]) * d1[j];
        for (int64_t l = 0; l < n; ++l) p.dX[(i + l) * n0 + k] = p.dX_scale * dx[l];
      }
    }
  };

  int64_t i = begin;
  for (; i + L <= end; i += L) {
    block(i, L, std::false_type{});
    if (++blocks == kBlocksPerFlush) {
      flush();
      blocks = 0;
    }
  }
  if (i < end) block(i, end - i, std::true_type{});
  flush();
  *cost_out += cost;
}

// The lecture's 2-4-1 network in float32 gets a version of its own, its sizes compiled in.
template <typename T, typename G, OutputLayer O>
void pass_for_shape(const SmallNetProblem<T>& p, int64_t begin, int64_t end, double* cost,
                    double* sums) {
  if constexpr (sizeof(T) == sizeof(float) && O == OutputLayer::Sigmoid) {
    const NetworkShape& s = p.shape;
    if (s.n0 == 2 && s.n1 == 4 && s.n2 == 1)
      return pass_for<T, G, O, 2, 4, 1>(p, begin, end, cost, sums);
  }
  pass_for<T, G, O>(p, begin, end, cost, sums);
}

template <typename T>
void small_net_pass(const SmallNetProblem<T>& p, int64_t begin, int64_t end, double* cost,
                    double* sums) {
  visit_activation(p.activation, [&](auto g1) {
    visit_output(p.output, [&](auto g2) {
      pass_for_shape<T, FunctorFor<decltype(g1)>, decltype(g2)::value>(p, begin, end, cost, sums);
    });
  });
}
