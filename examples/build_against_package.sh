#!/usr/bin/env bash
# Installs twolayer from its build tree into <work dir>/install and builds the CMake project in
# <source dir> against that installed package, in <work dir>/build, as users build theirs.
# Used by examples/downstream and examples/aoti (their build_and_run.sh).
#
# Usage: build_against_package.sh <twolayer build dir> <work dir> <Torch_DIR> <source dir>
set -euo pipefail
build_dir=$1 work_dir=$2 torch_dir=$3 source_dir=$4

rm -rf "$work_dir"
mkdir -p "$work_dir"
cmake --install "$build_dir" --prefix "$work_dir/install" >/dev/null
cmake -S "$source_dir" -B "$work_dir/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work_dir/install" -DTorch_DIR="$torch_dir" >/dev/null
cmake --build "$work_dir/build" -j"$(nproc)"
