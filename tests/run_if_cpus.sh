#!/usr/bin/env sh
# run_if_cpus.sh MIN COMMAND [ARGS...]
# Runs COMMAND when the machine has at least MIN CPUs and COMMAND exists; else
# says why and exits 77 (CTest: skipped).
min=$1
shift
n=$(nproc --all 2>/dev/null || echo 1)
if [ "$n" -lt "$min" ]; then echo "SKIP: $n CPU(s), the test needs $min"; exit 77; fi
if ! command -v "$1" >/dev/null 2>&1; then echo "SKIP: $1 not found"; exit 77; fi
exec "$@"
