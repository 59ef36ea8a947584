#!/usr/bin/env bash
# Every test: pytest (tests/python) and ctest (GoogleTest, the scripted model saved in Python and
# run from C++, the planar demos, a downstream app built against the installed package).
source "$(dirname "$0")/common.sh"
setup_environment
install_python_package
build_cpp

status=0
log "pytest tests/python"
(cd "$TWOLAYER_ROOT" && "$PACKAGE_PYTHON" -m pytest -q -p no:cacheprovider tests/python) || status=1
log "ctest"
(cd "$BUILD_DIR/cmake" && ctest --output-on-failure -j"$JOBS") || status=1

if [ $status -eq 0 ]; then log "all tests passed"; else log "some tests FAILED"; fi
exit $status
