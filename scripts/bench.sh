#!/usr/bin/env bash
# The benchmark suite in one command:
#
#   bash scripts/bench.sh            # the full suite, several minutes
#   bash scripts/bench.sh --quick    # a smoke run: S and M only, few repetitions, no sweep
#   bash scripts/bench.sh --torch2   # the same in the PyTorch 2.x root (torch.compile a peer)
#   bash scripts/bench.sh --pypi     # the same against PyPI's torch (MKL) in the venv of test.sh
#
# Builds the Python package and the C++ tree (-DTWOLAYER_BUILD_BENCHMARKS=ON), then runs, at
# 1 and 2 threads (and os.cpu_count() where it is more), benchmarks/bench_step.py (the step
# against eager autograd, TorchScript, NumPy and the bare matrix products; bytes saved for
# backward; gradient descent with fit_; how each scales with threads; and, not with --quick,
# the shape sweep at 1 thread, benchmarks/sweep.py), inference (benchmarks/
# bench_forward.py: forward under no_grad against eager, TorchScript, torch.compile on 2.x, the
# two products and a null operator, over the six shapes at 1 and 2 threads and the sweep's cells
# at 1 thread) and the C++ Google Benchmark twolayer_bench_step, and prints their tables. JSON
# goes to build/benchmarks/: results.json (Python, the sweep under "sweep"), forward.json
# (inference), outputs.json (the output layers, benchmarks/bench_outputs.py), low_precision.json
# (bfloat16 and float16, as tensors and under autocast, benchmarks/bench_low_precision.py),
# cpp_results.json (C++ medians and ratios) and cpp_threads<N>.json (Google Benchmark's own
# output). Its last lines say where the JSON, the log (build/logs/bench.log) and the plot are.
source "$(dirname "$0")/common.sh"

quick=()
torch2=0
pypi=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=(--quick) ;;
    --torch2) torch2=1 ;;
    --pypi) pypi=1 ;;
    *) echo "usage: bash scripts/bench.sh [--quick] [--torch2 | --pypi]" >&2; exit 2 ;;
  esac
done

start_log bench
where_is "plot" "$BUILD_DIR/planar_decision_boundary.png" "from scripts/demo.sh; the benchmarks draw none"
if [ $pypi = 1 ]; then
  where_is "benchmark JSON" "$TWOLAYER_ROOT/build/pypi-torch/benchmarks" "against PyPI's torch"
elif [ $torch2 = 1 ]; then
  where_is "benchmark JSON" "$BUILD_DIR/benchmarks-torch2" "against PyTorch 2.x"
else
  where_is "benchmark JSON" "$BUILD_DIR/benchmarks" \
    "results.json, forward.json, outputs.json, low_precision.json, cpp_results.json, cpp_threads<N>.json"
fi

if [ $pypi = 1 ]; then
  # PyPI's torch (scripts/pypi_torch.sh): its build trees and JSON go to build/pypi-torch/.
  reason=$(pypi_unavailable_reason)
  if [ -n "$reason" ]; then echo "twolayer: no PyPI torch here: $reason" >&2; exit 1; fi
  pypi_run_script bench.sh "${quick[@]}"
  exit
fi

if [ $torch2 = 1 ]; then
  # The same suite against PyTorch 2.x (with torch.compile as a peer) in the forky root that
  # scripts/test.sh makes; its JSON is copied back to build/benchmarks-torch2/.
  reason=$(torch2_unavailable_reason)
  if [ -n "$reason" ]; then echo "twolayer: no PyTorch 2.x root here: $reason" >&2; exit 1; fi
  torch2_run_script bench.sh "${quick[@]}"
  rm -rf "$BUILD_DIR/benchmarks-torch2"
  mkdir -p "$BUILD_DIR"
  cp -r "$TORCH2_ROOT$(torch2_clone_dir)/build/benchmarks" "$BUILD_DIR/benchmarks-torch2"
  exit 0
fi

# Only the benchmarks need Google Benchmark, so only they ask apt for it.
DEBIAN_PACKAGES+=(libbenchmark-dev)
setup_environment
install_python_package
build_cpp -DTWOLAYER_BUILD_BENCHMARKS=ON

OUT="$BUILD_DIR/benchmarks"
mkdir -p "$OUT"

log "Python: benchmarks/bench_step.py ${quick[*]}"
# The do-nothing operator the C++ build made (benchmarks/null_op.cpp), if it did.
null_op=()
NULL_OP_LIB="$BUILD_DIR/cmake/benchmarks/libtwolayer_bench_null_op.so"
if [ -f "$NULL_OP_LIB" ]; then null_op=(--null-op-library "$NULL_OP_LIB"); fi
"$PACKAGE_PYTHON" "$TWOLAYER_ROOT/benchmarks/bench_step.py" "${quick[@]}" "${null_op[@]}" \
  --json "$OUT/results.json"

if [ ${#null_op[@]} -gt 0 ]; then
  log "Python: benchmarks/fixed_costs.py (the lecture's step at S, cost by cost)"
  "$PACKAGE_PYTHON" "$TWOLAYER_ROOT/benchmarks/fixed_costs.py" "${quick[@]}" "${null_op[@]}" \
    --json "$OUT/fixed_costs.json"
fi

log "Python: benchmarks/bench_outputs.py ${quick[*]} (sigmoid, softmax and identity outputs)"
"$PACKAGE_PYTHON" "$TWOLAYER_ROOT/benchmarks/bench_outputs.py" "${quick[@]}" \
  --json "$OUT/outputs.json"

log "Python: benchmarks/bench_low_precision.py ${quick[*]} (bfloat16 and float16: tensors and autocast)"
# One process at 1 thread: OpenBLAS takes its count from the environment when it loads.
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
  "$PACKAGE_PYTHON" "$TWOLAYER_ROOT/benchmarks/bench_low_precision.py" "${quick[@]}" \
  --json "$OUT/low_precision.json"

log "Python: benchmarks/bench_forward.py ${quick[*]} (inference: forward under no_grad)"
"$PACKAGE_PYTHON" "$TWOLAYER_ROOT/benchmarks/bench_forward.py" "${quick[@]}" "${null_op[@]}" \
  --json "$OUT/forward.json"

BENCH="$BUILD_DIR/cmake/benchmarks/twolayer_bench_step"
if [ ! -x "$BENCH" ]; then
  # A root CMakeLists.txt without the benchmarks option: build them against the installed
  # package instead, as any LibTorch application would.
  log "C++: building benchmarks/ against the installed TwoLayer package"
  cmake --install "$BUILD_DIR/cmake" --prefix "$OUT/prefix" >/dev/null
  cmake -S "$TWOLAYER_ROOT/benchmarks" -B "$OUT/cmake" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$OUT/prefix;$TORCH_CMAKE_PREFIX" >/dev/null
  cmake --build "$OUT/cmake" -j"$JOBS"
  BENCH="$OUT/cmake/twolayer_bench_step"
fi
if [ ! -x "$BENCH" ]; then
  log "C++: twolayer_bench_step was not built (is Google Benchmark installed?); skipped"
  exit 0
fi

if [ ${#quick[@]} -gt 0 ]; then
  gbench_args=(--benchmark_filter='/n0:(2|64)/' --benchmark_repetitions=3 --benchmark_min_time=0.02)
else
  # Repetitions of all the benchmarks in a random order, as the Python suite takes turns.
  gbench_args=(--benchmark_repetitions=5 --benchmark_min_time=0.2
               --benchmark_enable_random_interleaving=true)
fi

# The thread settings the Python run resolved ("default" is what torch picks here), so that the
# two languages' tables are taken at the same settings.
mapfile -t settings < <("$PACKAGE_PYTHON" -c '
import json, sys
for s in json.load(open(sys.argv[1]))["settings"]:
    print("%s\t%s" % ("env" if s["threads"] is None else s["threads"], s["label"]))
' "$OUT/results.json")

runs=()
for setting in "${settings[@]}"; do
  threads=${setting%%$'\t'*}
  label=${setting#*$'\t'}
  json="$OUT/cpp_threads$threads.json"
  log "C++: twolayer_bench_step, $label"
  thread_env=()
  if [ "$threads" != env ]; then
    thread_env=(OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads")
  fi
  env "${thread_env[@]}" "$BENCH" "${gbench_args[@]}" --benchmark_report_aggregates_only=true \
    --benchmark_min_warmup_time=0.1 --benchmark_out="$json" --benchmark_out_format=json
  runs+=("$label=$json")
done

log "C++: medians and ratios"
"$PACKAGE_PYTHON" "$TWOLAYER_ROOT/benchmarks/summarize_cpp.py" "${runs[@]}" \
  --json "$OUT/cpp_results.json"
