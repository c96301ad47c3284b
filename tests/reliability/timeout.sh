#!/usr/bin/env bash
# The watchdog end to end: a kernel that never returns, with AMZ_TIMEOUT.
#
#   timeout.sh STUCK_WORKER [MPIEXEC]
#
# 1. one process, error: the run returns AMZ_ETIMEOUT and the program exits 0;
# 2. one process, abort: the process dies of SIGABRT after the diagnosis;
# with MPIEXEC, two ranks, rank 1 stuck:
# 3. error: both ranks return AMZ_ETIMEOUT naming rank 1, the job exits 0;
# 4. abort: the job ends through MPI_Abort (exit code 124).
# Every case must end within 60 s: the point is that nothing waits for ever.
set -u
worker=$1
mpiexec=${2:-}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0

fail() { echo "FAIL: $1"; echo "--- output:"; cat "$out"; exit 1; }
need() { grep -q -- "$1" "$out" || fail "$2: no '$1' in the output"; }

AMZ_TIMEOUT=0.3 timeout 60 "$worker" >"$out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "threads, error: exit code $rc, expected 0"
need "amorsize: timeout: task 'stuck': pid " "threads, error"
need "stuck_worker: rank 0 rc AMZ_ETIMEOUT: timeout: task 'stuck'" "threads, error"
passed=$((passed + 1))

AMZ_TIMEOUT=0.3,abort timeout 60 "$worker" >"$out" 2>&1
rc=$?
[ "$rc" = 134 ] || fail "threads, abort: exit code $rc, expected 134 (SIGABRT)"
need "amorsize: timeout: task 'stuck'" "threads, abort"
grep -q "stuck_worker: rank" "$out" && fail "threads, abort: the run returned"
passed=$((passed + 1))

if [ -n "$mpiexec" ]; then
  run_mpi() {
    timeout 60 "$mpiexec" --oversubscribe --bind-to none -x AMZ_TIMEOUT -n 2 "$worker" --mpi 1 \
      >"$out" 2>&1
  }
  AMZ_TIMEOUT=0.3 run_mpi
  rc=$?
  [ "$rc" = 0 ] || fail "MPI, error: exit code $rc, expected 0"
  need "stuck_worker: rank 0 rc AMZ_ETIMEOUT: .*timeout: task 'stuck': rank 1 (host " "MPI, error"
  need "stuck_worker: rank 1 rc AMZ_ETIMEOUT: timeout: task 'stuck': rank 1 (host " "MPI, error"
  passed=$((passed + 1))
  AMZ_TIMEOUT=0.3,abort run_mpi
  rc=$?
  [ "$rc" = 124 ] || fail "MPI, abort: exit code $rc, expected 124 (MPI_Abort)"
  need "amorsize: timeout: task 'stuck': rank 1 (host " "MPI, abort"
  grep -q "stuck_worker: rank" "$out" && fail "MPI, abort: a run returned"
  passed=$((passed + 1))
fi
echo "timeout: $passed cases passed"
