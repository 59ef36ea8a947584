#!/usr/bin/env bash
# The main job: train the lecture's network on the planar "flower" data set, from C++ and from
# Python, and save the decision boundary as build/planar_decision_boundary.png.
source "$(dirname "$0")/common.sh"
setup_environment
install_python_package
build_cpp
log "C++: examples/planar/planar_flower.cpp"
"$BUILD_DIR/cmake/examples/planar/planar_flower" --min-accuracy 88
log "Python: examples/planar/planar_flower.py"
"$PACKAGE_PYTHON" "$TWOLAYER_ROOT/examples/planar/planar_flower.py" --min-accuracy 88 \
  --plot "$BUILD_DIR/planar_decision_boundary.png"
