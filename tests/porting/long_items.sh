#!/usr/bin/env bash
# The porting guide's pattern 5 (items of minutes) end to end, with 20 ms units:
#
#   long_items.sh MPIEXEC LONG_ITEMS_MPI WORKDIR
#
# 1. a job killed (SIGKILL) after a rank's 4th item exits non-zero and leaves its
#    checkpoint and some item files;
# 2. the same command again resumes the recorded items, runs the rest, and every
#    item's file matches the serial computation;
# 3. an item that never returns ends the job through the watchdog, within 60 s,
#    with a line naming the task, rank and items.
set -u
mpiexec=$1
example=$2
dir=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0

fail() { echo "FAIL: $1"; echo "--- output:"; cat "$out"; exit 1; }
need() { grep -q -- "$1" "$out" || fail "$2: no '$1' in the output"; }
run() { timeout 60 "$mpiexec" --oversubscribe -n 2 "$example" 24 --unit-ms 20 "$@" >"$out" 2>&1; }

rm -rf "$dir" && mkdir -p "$dir" || fail "cannot create $dir"
run --out "$dir/run" --crash-after 4
rc=$?
[ "$rc" != 0 ] || fail "killed job: exit code 0, expected the job to fail"
[ -s "$dir/run/checkpoint" ] || fail "killed job: no checkpoint in $dir/run"
passed=$((passed + 1))

run --out "$dir/run" --check
rc=$?
[ "$rc" = 0 ] || fail "resumed job: exit code $rc, expected 0"
grep -Eq "long items: 24 items of 20 ms units, .*; [1-9][0-9]* resumed from " "$out" ||
  fail "resumed job: no item was resumed from the checkpoint"
need "serial check: identical" "resumed job"
cat "$out"
passed=$((passed + 1))

run --out "$dir/hang" --hang 5 --timeout 1
rc=$?
[ "$rc" != 0 ] || fail "stuck item: exit code 0, expected the job to be ended"
[ "$rc" != 124 ] || grep -q "amorsize: timeout" "$out" || fail "stuck item: timed out after 60 s"
grep -Eq "amorsize: timeout: task 'long items': rank [01] .* on items \[[0-9]+, [0-9]+\)" "$out" ||
  fail "stuck item: no watchdog line naming the rank and the items"
passed=$((passed + 1))
echo "long_items: $passed cases passed"
