#!/usr/bin/env bash
# A checkpoint on a file system without locks: flock() fails with ENOLCK (an
# LD_PRELOAD shim). The run must refuse with AMZ_EIO naming the reason and the way
# out, create no record, and run with AMZ_CHECKPOINT_NOLOCK=1.
#
#   nolock.sh CKPT_WORKER SHIM
set -u
worker=$1
shim=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$dir/out
fail() { echo "FAIL: $1"; echo "--- output:"; cat "$out"; exit 1; }
# An instrumented binary loads the sanitizer runtime after the shim: allowed here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

LD_PRELOAD=$shim "$worker" 2000 1 "$dir" "$dir/run.ckpt" >"$out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "without locks: exit code $rc, expected 1"
grep -q "AMZ_EIO: .*cannot lock checkpoint '$dir/run.ckpt': No locks available; on a file system without locks, set AMZ_CHECKPOINT_NOLOCK=1" "$out" ||
  fail "without locks: no AMZ_EIO naming ENOLCK and AMZ_CHECKPOINT_NOLOCK"
grep -q "ckpt_worker: done" "$out" && fail "without locks: the loop ran"

AMZ_CHECKPOINT_NOLOCK=1 LD_PRELOAD=$shim "$worker" 2000 1 "$dir" "$dir/run.ckpt" >"$out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "AMZ_CHECKPOINT_NOLOCK=1: exit code $rc, expected 0"
grep -q "ckpt_worker: done 2000 failed 0 resumed 0 of 2000" "$out" || fail "AMZ_CHECKPOINT_NOLOCK=1: not done"

# The log it wrote is a good checkpoint: a second job resumes everything.
AMZ_CHECKPOINT_NOLOCK=1 LD_PRELOAD=$shim "$worker" 2000 1 "$dir" "$dir/run.ckpt" >"$out" 2>&1
grep -q "ckpt_worker: done 2000 failed 0 resumed 2000 of 2000" "$out" || fail "resume without locks"
echo "nolock: 3 cases passed"
