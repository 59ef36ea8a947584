#!/usr/bin/env bash
# Checks that each ELF file given (an executable or a shared library built against LibTorch)
# resolves libc10, libtorch_cpu and (where it needs it) libtorch to the very files that <python>
# maps after `import torch`.
#
# Where two LibTorch builds are installed side by side (Debian's libtorch-dev and a pip torch),
# CMake can link a program against one while Python runs the other: the link then fails ("DSO
# missing from command line") or, worse, the program maps both at run time. Used by ctest
# (same_torch_as_python) and by the downstream and AOTInductor apps (examples/*/build_and_run.sh).
#
# Usage: same_torch_as_python.sh <python> <ELF file>...
set -euo pipefail
python=$1
shift
[ $# -gt 0 ] || { echo "usage: same_torch_as_python.sh <python> <ELF file>..." >&2; exit 2; }

pattern='^lib(c10|torch_cpu|torch)\.so'
expected=$("$python" - "$pattern" <<'EOF'
import os, re, sys
import torch  # noqa: F401  (maps torch's libraries into this process)
found = set()
with open("/proc/self/maps") as f:
    for line in f:
        fields = line.split(None, 5)
        if len(fields) == 6 and re.match(sys.argv[1], os.path.basename(fields[5].strip())):
            found.add(os.path.realpath(fields[5].strip()))
print("\n".join(sorted(found)))
EOF
)
# All three, or the comparison below could pass on nothing.
if [ "$(printf '%s\n' "$expected" | grep -c .)" -ne 3 ]; then
  echo "same_torch_as_python: $python does not map one each of libc10, libtorch_cpu and" \
    "libtorch: '$expected'" >&2
  exit 1
fi

status=0
for elf in "$@"; do
  # ldd lines: "libc10.so => /path/libc10.so (0x...)" or "libc10.so => not found".
  resolved=$(ldd "$elf" | awk -v p="$pattern" '{ n = $1; sub(/.*\//, "", n) } n ~ p { print $3 }' |
    while read -r file; do
      if [ -e "$file" ]; then realpath "$file"; else echo "$file"; fi
    done | sort -u)
  # Every one it resolves is a file Python maps (a library may not need libtorch itself), and
  # libc10 and libtorch_cpu are among them, so that an ELF that names no LibTorch cannot pass.
  foreign=$(comm -23 <(printf '%s\n' "$resolved") <(printf '%s\n' "$expected"))
  if [ -n "$foreign" ] || ! grep -q '/libc10\.so' <<<"$resolved" ||
    ! grep -q '/libtorch_cpu\.so' <<<"$resolved"; then
    printf 'same_torch_as_python: %s resolves\n%s\nbut %s maps\n%s\n' \
      "$elf" "${resolved:-(none of them)}" "$python" "$expected" >&2
    status=1
  else
    echo "same torch as Python: $elf"
  fi
done
exit $status
