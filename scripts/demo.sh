#!/usr/bin/env bash
# The main job: train the lecture's network on the planar "flower" data set, from C++ and from
# Python, and save the decision boundary as build/planar_decision_boundary.png.
# Builds only what the demo needs (the library and the C++ demo, in build/demo), not the tests.
# Its last lines say where the plot, the log (build/logs/demo.log) and the benchmark JSON are.
source "$(dirname "$0")/common.sh"
start_log demo
where_is "plot" "$BUILD_DIR/planar_decision_boundary.png" "the Python run's decision boundary"
where_is "benchmark JSON" "$BUILD_DIR/benchmarks" "from scripts/bench.sh; the demo runs no benchmark"
setup_environment
install_python_package
log "cmake build of the C++ demo (build/demo)"
cmake -S "$TWOLAYER_ROOT" -B "$BUILD_DIR/demo" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_CMAKE_PREFIX" -DTWOLAYER_BUILD_TESTS=OFF \
  -DTWOLAYER_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$BUILD_DIR/demo" --target planar_flower -j"$JOBS"
log "C++: examples/planar/planar_flower.cpp"
"$BUILD_DIR/demo/examples/planar/planar_flower" --min-accuracy 88
log "Python: examples/planar/planar_flower.py"
"$PACKAGE_PYTHON" "$TWOLAYER_ROOT/examples/planar/planar_flower.py" --min-accuracy 88 \
  --plot "$BUILD_DIR/planar_decision_boundary.png"
