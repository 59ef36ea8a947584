#!/usr/bin/env bash
# Exports and compiles a TwoLayerNet with AOTInductor in Python, builds run_aoti_package against
# the installed twolayer package and runs the package from C++ at two batch sizes, compared with
# Python's eager output. Used by the test suite (ctest: aoti_package, PyTorch 2.6 and later).
#
# Usage: build_and_run.sh <twolayer build dir> <work dir> <Torch_DIR> <python with twolayer>
set -euo pipefail
build_dir=$1 work_dir=$2 torch_dir=$3 python=$4
here=$(cd "$(dirname "$0")" && pwd)

bash "$here/../build_against_package.sh" "$build_dir" "$work_dir" "$torch_dir" "$here"

"$python" "$here/export_package.py" "$work_dir/package"
"$work_dir/build/run_aoti_package" "$work_dir/package/twolayer_net.pt2" \
  "$work_dir/package/expected.txt"
