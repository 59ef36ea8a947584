#!/usr/bin/env bash
# Exports and compiles a TwoLayerNet with AOTInductor in Python, builds run_aoti_package against
# the installed twolayer package and runs the package from C++ at two batch sizes, compared with
# Python's eager output. Used by the test suite (ctest: aoti_package, PyTorch 2.6 and later).
#
# Usage: build_and_run.sh <twolayer build dir | package folder> <work dir> <Torch_DIR> <python with twolayer>
set -euo pipefail
package=$1 work_dir=$2 torch_dir=$3 python=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

bash "$here/../build_against_package.sh" "$package" "$work_dir" "$torch_dir" "$here"
# Linked with the LibTorch that Python runs, not another installed beside it.
bash "$repo/tests/same_torch_as_python.sh" "$python" "$work_dir/build/run_aoti_package"

"$python" "$here/export_package.py" "$work_dir/package"
"$work_dir/build/run_aoti_package" "$work_dir/package/twolayer_net.pt2" \
  "$work_dir/package/expected.txt"
