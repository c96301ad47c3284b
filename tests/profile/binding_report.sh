#!/usr/bin/env bash
# A launcher's binding that leaves CPUs to no rank reaches the profile (/system's
# pus_bound) and `amorsize report` names it, with the flags that fix it:
#
#   binding_report.sh MPIEXEC PROFILE_WRITER AMORSIZE OUT_DIR
#
# 1. one rank bound to one core (Open MPI's default for -n 1; --bind-to core);
# 2. a threaded run under taskset -c 0;
# 3. two ranks with --bind-to none: no such finding.
# Needs 2 CPUs (else skipped: one CPU cannot be left idle).
set -u
mpiexec=$1 writer=$2 amorsize=$3 out=$4
n=$(nproc --all 2>/dev/null || echo 1)
[ "$n" -ge 2 ] || { echo "SKIP: $n CPU(s); a binding can leave no CPU idle"; exit 77; }
command -v taskset >/dev/null || { echo "SKIP: taskset (util-linux) not found"; exit 77; }
mkdir -p "$out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { echo "FAIL: $1"; echo "--- output:"; cat "$log"; exit 1; }

"$mpiexec" -n 1 --bind-to core "$writer" "$out/bound_mpi.h5" 2000 >"$log" 2>&1 ||
  fail "the bound MPI run failed"
"$amorsize" report "$out/bound_mpi.h5" >"$log" 2>&1 || fail "report of the bound MPI run"
grep -Eq "\[(LOW|MEDIUM|HIGH)\] binding: node 0 \([^)]*\): the ranks' bindings cover 1 of its $n CPUs; $((n - 1)) idle whatever the plan\. .*--bind-to none.*-bind-to none.*srun -c N" "$log" ||
  fail "no binding finding for one rank bound to one core"
grep "binding: node 0" "$log"

taskset -c 0 "$writer" --threads "$out/bound_threads.h5" 2000 >"$log" 2>&1 ||
  fail "the threaded run under taskset failed"
"$amorsize" report "$out/bound_threads.h5" >"$log" 2>&1 || fail "report of the taskset run"
grep -Eq "\[(LOW|MEDIUM|HIGH)\] binding: the process is bound to 1 of the machine's $n CPUs" "$log" ||
  fail "no binding finding for a process under taskset -c 0"
grep "binding: the process" "$log"

"$mpiexec" --oversubscribe --bind-to none -n 2 "$writer" "$out/unbound_mpi.h5" 2000 >"$log" 2>&1 ||
  fail "the unbound MPI run failed"
"$amorsize" report "$out/unbound_mpi.h5" >"$log" 2>&1 || fail "report of the unbound MPI run"
grep -q "idle whatever the plan" "$log" && fail "a binding finding without a binding"
echo "binding_report: 3 cases passed"
