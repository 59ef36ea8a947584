# Sourced by scripts/demo.sh and scripts/test.sh: installs what is missing, finds LibTorch, and
# builds the C++ tree (build/cmake) and the Python package (build/venv).
#
# On Debian as root, missing system packages come from apt. Elsewhere an existing torch is used as
# is: set TWOLAYER_PYTHON to an interpreter that can `import torch` (a venv's python is used
# directly; a system python gets a build/venv with --system-site-packages).

set -euo pipefail

TWOLAYER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The PyPI leg of scripts/test.sh keeps its build trees apart (TWOLAYER_BUILD_DIR).
BUILD_DIR=${TWOLAYER_BUILD_DIR:-$TWOLAYER_ROOT/build}
JOBS=$(nproc 2>/dev/null || echo 2)

log() { printf '\n== %s\n' "$*"; }

# Everything a script prints also goes to $BUILD_DIR/logs/NAME.log (stdout and stderr, each still
# to its own stream, so in the log a line of stderr may come a little after where it was printed). At exit, whatever the status, the script's last lines say where its
# outputs are, one line each (the plot, the logs, the benchmark JSON), as registered with
# where_is. The legs that scripts/test.sh runs in another tree keep logs of their own there.
WHERE_IS=()
start_log() {  # start_log NAME
  mkdir -p "$BUILD_DIR/logs"
  LOG_FILE="$BUILD_DIR/logs/$1.log"
  : >"$LOG_FILE"
  exec > >(tee -a "$LOG_FILE") 2> >(tee -a "$LOG_FILE" >&2)
  where_is "log" "$LOG_FILE" "everything printed above"
  trap print_where_is EXIT
}
where_is() {  # where_is WHAT PATH [WHAT IT HOLDS]: at exit, "WHAT: PATH (WHAT IT HOLDS)"
  WHERE_IS+=("$1"$'\t'"$2"$'\t'"${3:-}")
}
print_where_is() {
  local entry what path note
  printf '\n'
  for entry in "${WHERE_IS[@]}"; do
    IFS=$'\t' read -r what path note <<<"$entry"
    if [ ! -e "$path" ]; then
      note="not written by this run"
    fi
    printf '%s: %s%s\n' "$what" "$path" "${note:+ ($note)}"
  done
}

# Debian 12 packages: LibTorch and Python torch, a fast BLAS (the reference one is ~30x slower)
# built on OpenMP, the build tools, the Python pieces the tests and the demo use, and clang with
# its sanitizer and libFuzzer runtimes for scripts/sanitize.sh. OpenBLAS on OpenMP shares
# PyTorch's thread pool; the pthread build runs a second pool beside it, and at 2 threads the two
# fight (eager autograd ran 3x slower at 2 threads than at 1).
DEBIAN_PACKAGES=(
  libtorch-dev python3-torch libopenblas0-openmp pybind11-dev
  cmake g++ make ninja-build libgtest-dev
  python3-venv python3-pip python3-setuptools python3-wheel python3-pytest python3-matplotlib
  python3-build python3-tqdm debootstrap
  clang libclang-rt-14-dev llvm-14
)
source "$TWOLAYER_ROOT/scripts/torch2_root.sh"
source "$TWOLAYER_ROOT/scripts/pypi_torch.sh"
# Inside the PyTorch 2.x root (scripts/torch2_root.sh) its own set applies.
if [ -n "${TWOLAYER_IN_TORCH2_ROOT:-}" ]; then DEBIAN_PACKAGES=("${TORCH2_PACKAGES[@]}"); fi

install_missing_debian_packages() {
  command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 || return 0
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "twolayer: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    return 0
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Where the pthread build of OpenBLAS is installed too, Debian's alternatives may still pick it:
# point BLAS, LAPACK and libopenblas at the OpenMP build.
prefer_openmp_openblas() {
  command -v update-alternatives >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] || return 0
  local arch name choice
  arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
  for name in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
    choice=$(update-alternatives --list "$name-$arch" 2>/dev/null | grep openblas-openmp | head -1)
    [ -n "$choice" ] && update-alternatives --set "$name-$arch" "$choice" >/dev/null 2>&1
  done
  return 0
}

# The interpreter that can import torch (on Debian only /usr/bin/python3 can: the first python3
# on PATH may be another one).
find_torch_python() {
  local candidates=("${TWOLAYER_PYTHON:-}" /usr/bin/python3 python3 python)
  for py in "${candidates[@]}"; do
    [ -n "$py" ] || continue
    if "$py" -c "import torch" >/dev/null 2>&1; then
      command -v "$py"
      return 0
    fi
  done
  echo "twolayer: no Python interpreter can import torch; set TWOLAYER_PYTHON" >&2
  return 1
}

setup_environment() {
  install_missing_debian_packages
  prefer_openmp_openblas
  TORCH_PYTHON=$(find_torch_python)
  TORCH_CMAKE_PREFIX=$("$TORCH_PYTHON" -c "import torch; print(torch.utils.cmake_prefix_path)")
  export TORCH_PYTHON TORCH_CMAKE_PREFIX
}

# The Python package, built with torch.utils.cpp_extension. Debian's system Python refuses pip
# outside a venv, so it goes into build/venv, which still sees the system torch.
install_python_package() {
  if "$TORCH_PYTHON" -c "import sys; sys.exit(sys.prefix == sys.base_prefix)"; then
    PACKAGE_PYTHON=$TORCH_PYTHON  # already a venv: install into it
  else
    PACKAGE_PYTHON="$BUILD_DIR/venv/bin/python"
    [ -x "$PACKAGE_PYTHON" ] || "$TORCH_PYTHON" -m venv --system-site-packages "$BUILD_DIR/venv"
  fi
  log "pip install the twolayer Python package"
  (cd "$TWOLAYER_ROOT" && MAX_JOBS=$JOBS "$PACKAGE_PYTHON" -m pip install -q --no-index \
    --no-deps --no-build-isolation --disable-pip-version-check .)
  export PACKAGE_PYTHON
}

# The C++ library, its tests and examples. The PyPI leg builds no second library: its tests and
# examples link the one inside the Python package that pip has just built (CMakeLists.txt's
# TWOLAYER_PREBUILT_PACKAGE), which is what the wheel gives C++ users, and which saves a compile
# of the library (about 6 minutes of the leg on two cores). The host leg keeps building its own,
# the CMake-only install for C++ users without Python.
build_cpp() {
  local package=()
  if [ -n "${TWOLAYER_IN_PYPI_LEG:-}" ] && [ -n "${PACKAGE_PYTHON:-}" ]; then
    package=(-DTWOLAYER_PREBUILT_PACKAGE="$("$PACKAGE_PYTHON" -c \
      'import twolayer; print(twolayer.cmake_prefix_path)')")
  fi
  log "cmake build ($BUILD_DIR/cmake)"
  cmake -S "$TWOLAYER_ROOT" -B "$BUILD_DIR/cmake" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$TORCH_CMAKE_PREFIX" -DTWOLAYER_PYTHON="${PACKAGE_PYTHON:-}" \
    "${package[@]}" "$@" >/dev/null
  cmake --build "$BUILD_DIR/cmake" -j"$JOBS"
}
