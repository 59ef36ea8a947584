#!/usr/bin/env bash
# Builds this downstream project against an installed twolayer package (this tree's install, or
# the Python package's) and runs both programs. Used by the test suite (ctest: downstream_app).
#
# Usage: build_and_run.sh <twolayer build dir | package folder> <work dir> <Torch_DIR> <python with twolayer>
set -euo pipefail
package=$1 work_dir=$2 torch_dir=$3 python=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

bash "$here/../build_against_package.sh" "$package" "$work_dir" "$torch_dir" "$here"
# Linked with the LibTorch that Python runs, not another installed beside it.
bash "$repo/tests/same_torch_as_python.sh" "$python" "$work_dir/build/train_with_api" \
  "$work_dir/build/run_scripted_model"

"$work_dir/build/train_with_api"
"$python" "$repo/tests/python/save_scripted_models.py" "$work_dir/models" >/dev/null
"$work_dir/build/run_scripted_model" "$work_dir/models/loss_module.pt"
