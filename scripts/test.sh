#!/usr/bin/env bash
# Every test: pytest (tests/python), ctest (GoogleTest, the scripted model saved in Python and
# run from C++, checkpoints across languages, the planar demos, a downstream app built against
# the installed package, the AOTInductor package run from C++ on 2.x), the sanitizer build with a
# bounded fuzz run (scripts/sanitize.sh), then the same Python and C++ suites again against
# PyTorch from PyPI in a venv of the machine's own Python (scripts/pypi_torch.sh; skipped with
# TWOLAYER_SKIP_PYPI=1) and, with TWOLAYER_TORCH2=1, against Debian's PyTorch 2.x in a Debian
# forky root (scripts/torch2_root.sh). Its last lines say where the plot, the logs
# (build/logs/test.log, and ctest's own) and the benchmark JSON are.
source "$(dirname "$0")/common.sh"
start_log test
where_is "ctest log" "$BUILD_DIR/cmake/Testing/Temporary/LastTest.log" "every C++ test's output"
where_is "plot" "$BUILD_DIR/cmake/planar_decision_boundary.png" "the planar demo run by ctest"
where_is "benchmark JSON" "$BUILD_DIR/benchmarks" "from scripts/bench.sh; the tests write none"
setup_environment
install_python_package
build_cpp

status=0
# A fresh compile cache per run: inductor's caches are keyed on graphs that name only twolayer's
# public operators, so entries from another build of twolayer would replay its private ones.
export TORCHINDUCTOR_CACHE_DIR="$BUILD_DIR/inductor-cache"
rm -rf "$TORCHINDUCTOR_CACHE_DIR"
torch_version=$("$PACKAGE_PYTHON" -c "import torch; print(torch.__version__)")
log "pytest tests/python (torch $torch_version)"
(cd "$TWOLAYER_ROOT" && "$PACKAGE_PYTHON" -m pytest -q -p no:cacheprovider tests/python) || status=1
log "ctest (torch $torch_version)"
(cd "$BUILD_DIR/cmake" && ctest --output-on-failure -j"$JOBS") || status=1

if [ -n "${TWOLAYER_IN_TORCH2_ROOT:-}" ] || [ -n "${TWOLAYER_IN_PYPI_LEG:-}" ]; then
  # The 2.x and PyPI legs: the sanitizer and fuzz run stay with Debian 12's torch.
  exit $status
fi

# AddressSanitizer + UBSan build of the C++ tests and the fuzz target, and a bounded fuzz run.
log "scripts/sanitize.sh"
bash "$TWOLAYER_ROOT/scripts/sanitize.sh" || status=1

# The torch that most users install. Part of every run: where PyPI cannot be reached it says so
# in one line; TWOLAYER_SKIP_PYPI=1 leaves it out on purpose.
if [ "${TWOLAYER_SKIP_PYPI:-0}" = 1 ]; then
  log "PyPI torch leg skipped: TWOLAYER_SKIP_PYPI=1"
else
  reason=$(pypi_unavailable_reason)
  if [ -n "$reason" ]; then
    log "PyPI torch leg skipped: $reason"
  else
    log "PyPI torch leg: the same suites against torch==$PYPI_TORCH_VERSION in $PYPI_VENV"
    pypi_run_script test.sh || status=1
  fi
fi

# Opt-in: with it, a fresh machine's run (a root of ~3 GB, the builds and suites a second time)
# would not fit CI's hour on two cores.
if [ "${TWOLAYER_SKIP_TORCH2:-0}" = 1 ]; then
  log "PyTorch 2.x (forky) leg skipped: TWOLAYER_SKIP_TORCH2=1"
elif [ "${TWOLAYER_TORCH2:-0}" != 1 ]; then
  log "PyTorch 2.x (forky) leg skipped: it is opt-in (TWOLAYER_TORCH2=1 runs it)"
else
  reason=$(torch2_unavailable_reason)
  if [ -n "$reason" ]; then
    log "PyTorch 2.x leg skipped: $reason"
  else
    log "PyTorch 2.x leg: the same suites in the $TORCH2_SUITE root $TORCH2_ROOT"
    torch2_run_script test.sh || status=1
  fi
fi

if [ $status -eq 0 ]; then log "all tests passed"; else log "some tests FAILED"; fi
exit $status
