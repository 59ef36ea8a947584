// The forward+backward step of the two-layer network from C++ (Google Benchmark), for the shapes
// of benchmarks/bench_step.py: twolayer::loss + backward against the same network in torch::
// ops differentiated by autograd, and against the floor of the step's five matrix products.
//
//   twolayer_bench_step [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
//
// Thread counts come from OMP_NUM_THREADS / OPENBLAS_NUM_THREADS, as for the Python suite
// (scripts/bench.sh sets both). benchmarks/summarize_cpp.py turns the JSON output into ratios.
#include <benchmark/benchmark.h>
#include <torch/torch.h>
#include <twolayer/twolayer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Shape {
  const char* name;
  int64_t m, n0, n1, n2;
};

// (m, n0, n1, n2), as in benchmarks/common.py. S is the lecture's planar problem.
const Shape kShapes[] = {
    {"S", 400, 2, 4, 1},
    {"M", 4096, 64, 256, 1},
    {"L", 8192, 784, 1024, 1},
    {"L10", 8192, 784, 1024, 10},
};

Shape shape_of(const benchmark::State& state) {
  Shape s{"?", state.range(0), state.range(1), state.range(2), state.range(3)};
  for (const Shape& known : kShapes) {
    if (known.m == s.m && known.n0 == s.n0 && known.n1 == s.n1 && known.n2 == s.n2) {
      s.name = known.name;
    }
  }
  return s;
}

// Weights scaled by 1/sqrt(fan-in), so that tanh is neither saturated nor linear.
struct Problem {
  torch::Tensor X, Y, W1, b1, W2, b2;

  explicit Problem(const Shape& s) {
    torch::manual_seed(0);
    X = torch::randn({s.m, s.n0});
    Y = torch::randint(0, 2, {s.m, s.n2}).to(torch::kFloat);
    W1 = torch::randn({s.n1, s.n0}) / std::sqrt(static_cast<double>(s.n0));
    b1 = 0.1 * torch::randn({s.n1});
    W2 = torch::randn({s.n2, s.n1}) / std::sqrt(static_cast<double>(s.n1));
    b2 = 0.1 * torch::randn({s.n2});
  }

  std::vector<torch::Tensor> leaves() const {
    std::vector<torch::Tensor> out;
    for (const auto& p : {W1, b1, W2, b2}) out.push_back(p.clone().requires_grad_(true));
    return out;
  }
};

using LossFn = torch::Tensor (*)(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                 const torch::Tensor&, const torch::Tensor&, const torch::Tensor&);

torch::Tensor twolayer_loss(const torch::Tensor& X, const torch::Tensor& Y, const torch::Tensor& W1,
                            const torch::Tensor& b1, const torch::Tensor& W2,
                            const torch::Tensor& b2) {
  return twolayer::loss(X, Y, W1, b1, W2, b2, "tanh");
}

// What a LibTorch user writes without twolayer; autograd derives its backward.
torch::Tensor reference_loss(const torch::Tensor& X, const torch::Tensor& Y,
                             const torch::Tensor& W1, const torch::Tensor& b1,
                             const torch::Tensor& W2, const torch::Tensor& b2) {
  torch::Tensor A1 = torch::tanh(torch::linear(X, W1, b1));
  torch::Tensor Z2 = torch::linear(A1, W2, b2);
  return torch::binary_cross_entropy_with_logits(Z2, Y, {}, {}, at::Reduction::Sum) / X.size(0);
}

// The five products' floating-point operations, the same for every peer, so the rate counter
// reads as "how close to the products alone".
void set_counters(benchmark::State& state, const Shape& s) {
  const double flops = 4.0 * s.m * s.n0 * s.n1 + 6.0 * s.m * s.n1 * s.n2;
  state.counters["mm_flops"] = benchmark::Counter(
      flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
  state.SetLabel(s.name);
}

void autograd_step(benchmark::State& state, LossFn loss) {
  const Shape s = shape_of(state);
  const Problem p(s);
  std::vector<torch::Tensor> w = p.leaves();
  for (auto _ : state) {
    for (auto& t : w) t.mutable_grad() = torch::Tensor();  // what zero_grad(set_to_none) does
    loss(p.X, p.Y, w[0], w[1], w[2], w[3]).backward();
  }
  set_counters(state, s);
}

// twolayer_bench::null_loss (null_op.cpp, computes nothing), through the dispatcher as
// twolayer::loss goes: the cost of any custom operator's step before its arithmetic.
torch::Tensor null_loss(const torch::Tensor& X, const torch::Tensor& Y, const torch::Tensor& W1,
                        const torch::Tensor& b1, const torch::Tensor& W2, const torch::Tensor& b2) {
  static const auto op =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("twolayer_bench::null_loss", "")
          .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                            const at::Tensor&, const at::Tensor&, const at::Tensor&)>();
  return op.call(X, Y, W1, b1, W2, b2);
}

void bm_twolayer(benchmark::State& state) { autograd_step(state, twolayer_loss); }
void bm_null_op(benchmark::State& state) { autograd_step(state, null_loss); }
void bm_eager(benchmark::State& state) { autograd_step(state, reference_loss); }

// Forward X·W1ᵀ and A1·W2ᵀ; backward dZ2ᵀ·A1 (dW2), dZ2·W2 (dA1), dZ1ᵀ·X (dW1); on operands of
// the step's shapes and layouts, the transposed views made once.
void mm_floor(benchmark::State& state, bool preallocated) {
  const Shape s = shape_of(state);
  const Problem p(s);
  const torch::Tensor A1 = torch::rand({s.m, s.n1}) * 2 - 1, dZ2 = torch::rand({s.m, s.n2}) - 0.5,
                      dZ1 = torch::rand({s.m, s.n1}) - 0.5;
  const torch::Tensor W1t = p.W1.t(), W2t = p.W2.t(), dZ2t = dZ2.t(), dZ1t = dZ1.t();
  torch::Tensor Z1 = torch::empty({s.m, s.n1}), Z2 = torch::empty({s.m, s.n2}),
                dW2 = torch::empty({s.n2, s.n1}), dA1 = torch::empty({s.m, s.n1}),
                dW1 = torch::empty({s.n1, s.n0});
  for (auto _ : state) {
    if (preallocated) {
      at::mm_out(Z1, p.X, W1t);
      at::mm_out(Z2, A1, W2t);
      at::mm_out(dW2, dZ2t, A1);
      at::mm_out(dA1, dZ2, p.W2);
      at::mm_out(dW1, dZ1t, p.X);
    } else {
      benchmark::DoNotOptimize(at::mm(p.X, W1t));
      benchmark::DoNotOptimize(at::mm(A1, W2t));
      benchmark::DoNotOptimize(at::mm(dZ2t, A1));
      benchmark::DoNotOptimize(at::mm(dZ2, p.W2));
      benchmark::DoNotOptimize(at::mm(dZ1t, p.X));
    }
  }
  set_counters(state, s);
}

void bm_mm_floor_out(benchmark::State& state) { mm_floor(state, true); }
void bm_mm_floor_alloc(benchmark::State& state) { mm_floor(state, false); }

// A fast wrong answer is no result: the op must agree with autograd before it is timed.
bool agrees_with_autograd(const Shape& s) {
  const Problem p(s);
  std::vector<torch::Tensor> a = p.leaves(), b = p.leaves();
  torch::Tensor Ja = twolayer_loss(p.X, p.Y, a[0], a[1], a[2], a[3]);
  torch::Tensor Jb = reference_loss(p.X, p.Y, b[0], b[1], b[2], b[3]);
  Ja.backward();
  Jb.backward();
  bool ok = torch::allclose(Ja, Jb, 2e-3, 1e-6);
  for (size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(b[i].grad().abs().max().item<double>(), 1e-12);
    ok = ok && (a[i].grad() - b[i].grad()).abs().max().item<double>() / scale <= 2e-3;
  }
  if (!ok)
    std::fprintf(stderr, "twolayer_bench_step: twolayer::loss disagrees with autograd at %s\n",
                 s.name);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  for (const Shape& s : kShapes) {
    if (!agrees_with_autograd(s)) return 1;
  }

  const std::pair<const char*, void (*)(benchmark::State&)> peers[] = {
      {"twolayer", bm_twolayer},
      {"eager", bm_eager},
      {"null_op", bm_null_op},
      {"mm_floor_out", bm_mm_floor_out},
      {"mm_floor_alloc", bm_mm_floor_alloc},
  };
  for (const auto& [name, fn] : peers) {
    auto* b = benchmark::RegisterBenchmark(name, fn);
    b->ArgNames({"m", "n0", "n1", "n2"});
    for (const Shape& s : kShapes) {
      // The null operator at S only, as in bench_step.py: beyond, it is a rounding error.
      if (std::string(name) == "null_op" && std::string(s.name) != "S") continue;
      b->Args({s.m, s.n0, s.n1, s.n2});
    }
    // BLAS threads do the work of a step too; the CPU time of the main thread would hide them.
    b->UseRealTime()->Unit(benchmark::kMicrosecond);
  }

  benchmark::AddCustomContext("torch_version", TORCH_VERSION);
  benchmark::AddCustomContext("torch_intra_op_threads", std::to_string(at::get_num_threads()));
  benchmark::AddCustomContext("torch_parallel_info", at::get_parallel_info());
  const char* blas_threads = std::getenv("OPENBLAS_NUM_THREADS");
  benchmark::AddCustomContext("OPENBLAS_NUM_THREADS", blas_threads ? blas_threads : "[not set]");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
