#!/usr/bin/env bash
# The C++ demo's command line: --help prints the usage (status 0), a bad argument prints the
# usage on stderr with status 2, never an uncaught exception. Usage: check_arguments.sh PLANAR_FLOWER
set -u
demo=$1
failures=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

expect() {  # expect STATUS STREAM PATTERN -- ARGS...
  local want=$1 stream=$2 pattern=$3
  shift 4
  "$demo" "$@" >"$out" 2>"$err"
  local got=$?
  local file=$out
  [ "$stream" = stderr ] && file=$err
  if [ "$got" -ne "$want" ] || ! grep -q -- "$pattern" "$file"; then
    echo "FAIL: planar_flower $* exited with $got (expected $want) and its $stream lacks '$pattern':"
    cat "$out" "$err"
    failures=$((failures + 1))
  fi
}

expect 0 stdout "^usage: planar_flower" -- --help
expect 0 stdout "^usage: planar_flower" -- -h
expect 2 stderr "^planar_flower: --hidden takes an integer >= 1, but got 'abc'" -- --hidden abc
expect 2 stderr "^usage: planar_flower" -- --hidden abc
expect 2 stderr "^planar_flower: --hidden takes an integer >= 1, but got '0'" -- --hidden 0
expect 2 stderr "^planar_flower: --iterations takes an integer >= 0, but got '-5'" -- --iterations -5
expect 2 stderr "^planar_flower: --iterations takes an integer >= 0, but got '10x'" -- --iterations 10x
expect 2 stderr "^planar_flower: --learning-rate takes a finite number, but got 'nan'" -- --learning-rate nan
expect 2 stderr "^planar_flower: --seed takes an integer >= 0, but got '99999999999999999999'" -- --seed 99999999999999999999
expect 2 stderr "^planar_flower: --seed needs a value" -- --seed
expect 2 stderr "^planar_flower: unknown option '--hiden'" -- --hiden 3
expect 0 stdout "^Final cost after 10 iterations: " -- --iterations 10 --hidden 2

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "planar_flower: --help and every bad argument handled"
