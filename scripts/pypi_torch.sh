# Sourced by scripts/test.sh and scripts/bench.sh: a venv of the machine's own Python with PyTorch
# from PyPI (the CUDA wheel most users install: MKL, its own libgomp, CUDA libraries as nvidia-*
# packages), made once per machine and reused, against which the suites run again.
#
# The venv (several GB, most of it the CUDA libraries) lives outside the clone, in
# TWOLAYER_PYPI_VENV (default /var/cache/twolayer/pypi-torch-<version>). A marker written last
# holds the list of what was installed: an interrupted or outdated install is redone.

# The PyPI release the leg tests: moving to the next one is this line.
PYPI_TORCH_VERSION=2.15.0
PYPI_VENV=${TWOLAYER_PYPI_VENV:-/var/cache/twolayer/pypi-torch-$PYPI_TORCH_VERSION}
# What the leg's builds and suites need besides torch (expecttest and hypothesis: opcheck).
PYPI_PACKAGES=(
  "torch==$PYPI_TORCH_VERSION" numpy pytest matplotlib tqdm expecttest hypothesis
  setuptools wheel build ninja
)

# The machine's own Python: the first python3 on PATH (TWOLAYER_PYPI_BASE_PYTHON overrides it),
# if it can make a venv with pip.
pypi_base_python() {
  local py
  for py in "${TWOLAYER_PYPI_BASE_PYTHON:-}" python3; do
    [ -n "$py" ] || continue
    py=$(command -v "$py" 2>/dev/null) || continue
    "$py" -c "import venv, ensurepip" >/dev/null 2>&1 || continue
    printf '%s' "$py"
    return 0
  done
  return 1
}

# Prints why the leg cannot run here, or nothing when it can.
pypi_unavailable_reason() {
  local wanted
  wanted=$(printf '%s\n' "${PYPI_PACKAGES[@]}" | sort | tr '\n' ' ')
  if [ "$(cat "$PYPI_VENV/.twolayer-ready" 2>/dev/null)" = "$wanted" ]; then return 0; fi
  local py
  py=$(pypi_base_python) || { echo "no python3 on PATH that can make a venv with pip"; return 0; }
  local parent
  parent=$(dirname "$PYPI_VENV")
  if ! mkdir -p "$parent" 2>/dev/null || [ ! -w "$parent" ]; then
    echo "$parent is not writable (TWOLAYER_PYPI_VENV moves the venv)"
    return 0
  fi
  # One small download tells whether the index that pip is configured for answers.
  local probe ok=0
  probe=$(mktemp -d)
  timeout 60 "$py" -m pip download --no-deps --no-cache-dir -q -d "$probe" six >/dev/null 2>&1 || ok=$?
  rm -rf "$probe"
  [ $ok -eq 0 ] || echo "PyPI cannot be reached (pip download of a small package failed)"
}

# Makes the venv when missing, incomplete or made for another list of packages.
pypi_ensure_venv() {
  local wanted
  wanted=$(printf '%s\n' "${PYPI_PACKAGES[@]}" | sort | tr '\n' ' ')
  [ "$(cat "$PYPI_VENV/.twolayer-ready" 2>/dev/null)" = "$wanted" ] && return 0
  local py
  py=$(pypi_base_python) || { echo "twolayer: no python3 with venv and pip" >&2; return 1; }
  log "pip install ${PYPI_PACKAGES[*]} into $PYPI_VENV (once per machine, several GB)"
  mkdir -p "$(dirname "$PYPI_VENV")"
  # A venv records its own path in its scripts: it is made at its final path, with the marker
  # written only after every install succeeded. No pip cache: the venv is the cache, and a second
  # copy of the CUDA wheels would double the 5.5 GB.
  rm -rf "$PYPI_VENV"
  "$py" -m venv "$PYPI_VENV" || return 1
  "$PYPI_VENV/bin/python" -m pip install -q --no-cache-dir "${PYPI_PACKAGES[@]}" \
    >"$PYPI_VENV.pip.log" 2>&1 || {
    echo "twolayer: pip install into $PYPI_VENV failed, see $PYPI_VENV.pip.log" >&2
    return 1
  }
  printf '%s' "$wanted" >"$PYPI_VENV/.twolayer-ready"
}

# Runs `bash scripts/<script> <args>` of this clone against the venv's torch, with build trees of
# its own (build/pypi-torch) and the variable that tells the scripts they are the PyPI leg.
pypi_run_script() {
  local script=$1
  shift
  pypi_ensure_venv || return 1
  TWOLAYER_IN_PYPI_LEG=1 TWOLAYER_SKIP_TORCH2=1 TWOLAYER_SKIP_PYPI=1 \
    TWOLAYER_PYTHON="$PYPI_VENV/bin/python" TWOLAYER_BUILD_DIR="$TWOLAYER_ROOT/build/pypi-torch" \
    bash "$TWOLAYER_ROOT/scripts/$script" "$@"
}
