#!/usr/bin/env bash
# Every test: pytest (tests/python), ctest (GoogleTest, the scripted model saved in Python and
# run from C++, checkpoints across languages, the planar demos, a downstream app built against
# the installed package), and the sanitizer build with a bounded fuzz run (scripts/sanitize.sh).
source "$(dirname "$0")/common.sh"
setup_environment
install_python_package
build_cpp

status=0
log "pytest tests/python"
(cd "$TWOLAYER_ROOT" && "$PACKAGE_PYTHON" -m pytest -q -p no:cacheprovider tests/python) || status=1
log "ctest"
(cd "$BUILD_DIR/cmake" && ctest --output-on-failure -j"$JOBS") || status=1
# AddressSanitizer + UBSan build of the C++ tests and the fuzz target, and a bounded fuzz run.
log "scripts/sanitize.sh"
bash "$TWOLAYER_ROOT/scripts/sanitize.sh" || status=1

if [ $status -eq 0 ]; then log "all tests passed"; else log "some tests FAILED"; fi
exit $status
