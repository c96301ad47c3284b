#!/usr/bin/env bash
# expect.sh REGEX COMMAND [ARGS...]
#
# Runs COMMAND, showing its output as it comes, and passes only when it exits 0
# AND its output (stdout and stderr together) matches REGEX (POSIX extended; '.'
# spans lines, as in CTest's PASS_REGULAR_EXPRESSION, which alone would ignore the
# exit code). Exit 77 (skipped) passes through; any other failure exits 1 with a
# line saying which check failed.
set -u
re=$1
shift
log=$(mktemp "${TMPDIR:-/tmp}/amz-expect.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" = 77 ] && exit 77
if [ "$rc" != 0 ]; then
  echo "expect.sh: $1 exited with $rc"
  exit 1
fi
out=$(cat "$log")
if ! [[ $out =~ $re ]]; then
  echo "expect.sh: the output of $1 does not match: $re"
  exit 1
fi
exit 0
