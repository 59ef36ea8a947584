# Sourced by scripts/test.sh and scripts/bench.sh: a Debian forky root with Debian's PyTorch 2.x,
# made once per machine and reused, in which the same scripts run again against current PyTorch.
#
# The root (~3 GB) lives outside the clone, in TWOLAYER_TORCH2_ROOT (default
# /var/cache/twolayer/forky-torch2), so that fresh clones on one machine share it. Each clone gets
# its own copy of the sources and build trees inside it, under /work/<hash of the clone's path>.

TORCH2_ROOT=${TWOLAYER_TORCH2_ROOT:-/var/cache/twolayer/forky-torch2}
TORCH2_SUITE=forky

# What the 2.x leg needs inside the root: PyTorch and the build and test tools of the host set,
# without the sanitizer toolchain (that run stays on the host).
TORCH2_PACKAGES=(
  libtorch-dev python3-torch libopenblas0-openmp pybind11-dev
  cmake g++ make ninja-build libgtest-dev libbenchmark-dev
  python3-venv python3-pip python3-setuptools python3-wheel python3-pytest python3-numpy
  python3-matplotlib python3-build python3-tqdm
)

# Prints why the root cannot be made or used here, or nothing when it can.
torch2_unavailable_reason() {
  if [ -f "$TORCH2_ROOT/.twolayer-ready" ] && [ "$(id -u)" -eq 0 ]; then return 0; fi
  [ "$(id -u)" -eq 0 ] || { echo "not root (chroot and debootstrap need root)"; return 0; }
  command -v apt-get >/dev/null 2>&1 || { echo "not a Debian system (no apt-get)"; return 0; }
  if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 ||
      { echo "debootstrap is missing and could not be installed"; return 0; }
  fi
  [ -n "$(debian_mirror)" ] || echo "no Debian mirror found in the host's apt configuration"
}

# The host's Debian mirror, read from its apt configuration (deb822 or one-line format).
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' \
      /etc/apt/sources.list)
  fi
  printf '%s' "${uri%/}"
}

# proc and a tmpfs on /dev/shm (DDP's shared memory) while commands run in the root. The host's
# /dev is never bound into it: removing the root with rm -rf would then empty the host's /dev.
torch2_mount() {
  mountpoint -q "$TORCH2_ROOT/proc" || mount -t proc proc "$TORCH2_ROOT/proc"
  mkdir -p "$TORCH2_ROOT/dev/shm"
  mountpoint -q "$TORCH2_ROOT/dev/shm" || mount -t tmpfs -o mode=1777 tmpfs "$TORCH2_ROOT/dev/shm"
}
torch2_unmount() {
  mountpoint -q "$TORCH2_ROOT/dev/shm" && umount "$TORCH2_ROOT/dev/shm"
  mountpoint -q "$TORCH2_ROOT/proc" && umount "$TORCH2_ROOT/proc"
  return 0
}

torch2_chroot() {
  chroot "$TORCH2_ROOT" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive "$@"
}

# Makes the root when missing, and installs what TORCH2_PACKAGES lacks when it is there.
torch2_ensure_root() {
  local mirror
  mirror=$(debian_mirror)
  if [ ! -x "$TORCH2_ROOT/usr/bin/apt-get" ]; then
    log "debootstrap $TORCH2_SUITE into $TORCH2_ROOT (once per machine)"
    rm -rf "$TORCH2_ROOT"
    mkdir -p "$TORCH2_ROOT"
    # Debian 12's debootstrap has no script for forky; sid's makes the same kind of root.
    debootstrap --variant=minbase --include=ca-certificates "$TORCH2_SUITE" "$TORCH2_ROOT" \
      "$mirror" /usr/share/debootstrap/scripts/sid >"$TORCH2_ROOT.debootstrap.log" 2>&1 || {
      echo "twolayer: debootstrap failed, see $TORCH2_ROOT.debootstrap.log" >&2
      return 1
    }
  fi
  # The mirror may serve a fixed snapshot whose Release files have expired.
  echo 'Acquire::Check-Valid-Until "false";' >"$TORCH2_ROOT/etc/apt/apt.conf.d/99twolayer-snapshot"
  echo "deb $mirror $TORCH2_SUITE main" >"$TORCH2_ROOT/etc/apt/sources.list"
  cp /etc/resolv.conf "$TORCH2_ROOT/etc/resolv.conf" 2>/dev/null || true
  local wanted
  wanted=$(printf '%s\n' "${TORCH2_PACKAGES[@]}" | sort | tr '\n' ' ')
  if [ "$(cat "$TORCH2_ROOT/.twolayer-ready" 2>/dev/null)" != "$wanted" ]; then
    log "apt-get install in the $TORCH2_SUITE root: ${TORCH2_PACKAGES[*]}"
    torch2_chroot apt-get update -qq || return 1
    torch2_chroot apt-get install -y -qq --no-install-recommends "${TORCH2_PACKAGES[@]}" \
      >"$TORCH2_ROOT.apt.log" 2>&1 || {
      echo "twolayer: apt-get install in the root failed, see $TORCH2_ROOT.apt.log" >&2
      return 1
    }
    torch2_chroot apt-get clean
    printf '%s' "$wanted" >"$TORCH2_ROOT/.twolayer-ready"
  fi
}

# This clone's own folder in the root, as a path inside the root.
torch2_clone_dir() {
  printf '/work/%s' "$(printf '%s' "$TWOLAYER_ROOT" | sha1sum | cut -c1-12)"
}

# Copies this clone's sources (not its build trees) to the clone's own folder in the root and
# prints that folder's path inside the root.
torch2_sync_sources() {
  local inside
  inside=$(torch2_clone_dir)
  mkdir -p "$TORCH2_ROOT$inside"
  # Sources are replaced whole, build/ is kept: the root's build trees stay per clone.
  find "$TORCH2_ROOT$inside" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
  tar -C "$TWOLAYER_ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$TORCH2_ROOT$inside" -xf -
  printf '%s' "$inside"
}

# Runs `bash scripts/<script> <args>` of this clone inside the root, with the variables that
# tell the scripts they are the 2.x leg. Mounts for the run and unmounts after, also on failure.
torch2_run_script() {
  local script=$1
  shift
  torch2_ensure_root || return 1
  local inside
  inside=$(torch2_sync_sources)
  trap torch2_unmount EXIT
  torch2_mount
  local status=0
  torch2_chroot TWOLAYER_IN_TORCH2_ROOT=1 TWOLAYER_SKIP_TORCH2=1 CI="${CI:-}" \
    bash -c 'cd "$0" && exec bash "scripts/$1" "${@:2}"' "$inside" "$script" "$@" || status=$?
  torch2_unmount
  trap - EXIT
  return $status
}
