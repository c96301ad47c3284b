#!/usr/bin/env bash
# Pattern 4: a kernel with OpenMP threads of its own, on one rank with both cores.
#
#   openmp_kernel.sh MPIEXEC OPENMP_KERNEL_MPI
#
# Passes when the items equal the serial computation and the sampler saw the
# kernel's threads (the explanation's [INFO] line). Whether it sees them depends on
# the kernel's second thread getting a core while sampling: on a machine another
# process loads, one run may not. A run that does not see them is followed by one
# more, said so; two in a row fail. Needs 2 CPUs (else skipped).
set -u
mpiexec=$1 example=$2
n=$(nproc --all 2>/dev/null || echo 1)
[ "$n" -ge 2 ] || { echo "SKIP: $n CPU(s); the kernel's threads need 2"; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for try in 1 2; do
  OMP_NUM_THREADS=2 "$mpiexec" -x OMP_NUM_THREADS -n 1 --bind-to none "$example" 200 --check \
    --explain >"$out" 2>&1
  rc=$?
  cat "$out"
  [ "$rc" = 0 ] || { echo "FAIL: exit code $rc"; exit 1; }
  grep -q "serial check: identical" "$out" || { echo "FAIL: items differ from the serial ones"; exit 1; }
  grep -q "2 OpenMP threads per call" "$out" || { echo "FAIL: OMP_NUM_THREADS=2 not in effect"; exit 1; }
  if grep -q "\[INFO\] the kernel runs threads of its own" "$out"; then
    echo "openmp_kernel: the sampler saw the kernel's threads (run $try)"
    exit 0
  fi
  echo "openmp_kernel: run $try: the sampler did not see the kernel's threads$([ $try = 1 ] && echo '; running again')"
done
echo "FAIL: two runs in a row without the kernel's threads seen"
exit 1
