#!/usr/bin/env bash
# Builds the CMake project in <source dir> against an installed twolayer package, in
# <work dir>/build, as users build theirs. <package> is either twolayer's CMake build tree,
# installed first into <work dir>/install, or the folder of an installed package
# (twolayer.cmake_prefix_path: the one inside the Python package), used as it is.
# Used by examples/downstream and examples/aoti (their build_and_run.sh).
#
# Usage: build_against_package.sh <twolayer build dir | package folder> <work dir> <Torch_DIR> <source dir>
set -euo pipefail
package=$1 work_dir=$2 torch_dir=$3 source_dir=$4

rm -rf "$work_dir"
mkdir -p "$work_dir"
if [ -f "$package/TwoLayer/TwoLayerConfig.cmake" ]; then
  prefix=$package
else
  cmake --install "$package" --prefix "$work_dir/install" >/dev/null
  prefix=$work_dir/install
fi
# Torch_DIR alone, as many LibTorch users configure: the package's TwoLayerConfig.cmake must then
# load the Caffe2 beside that Torch, not a system LibTorch's (cmake/TwoLayerFindTorch.cmake).
cmake -S "$source_dir" -B "$work_dir/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DTorch_DIR="$torch_dir" >/dev/null
cmake --build "$work_dir/build" -j"$(nproc)"
