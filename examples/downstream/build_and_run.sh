#!/usr/bin/env bash
# Installs twolayer from its build tree, builds this downstream project against the installed
# package and runs both programs. Used by the test suite (ctest: downstream_app).
#
# Usage: build_and_run.sh <twolayer build dir> <work dir> <Torch_DIR> <python with twolayer>
set -euo pipefail
build_dir=$1 work_dir=$2 torch_dir=$3 python=$4
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

bash "$here/../build_against_package.sh" "$build_dir" "$work_dir" "$torch_dir" "$here"

"$work_dir/build/train_with_api"
"$python" "$repo/tests/python/save_scripted_models.py" "$work_dir/models" >/dev/null
"$work_dir/build/run_scripted_model" "$work_dir/models/loss_module.pt"
