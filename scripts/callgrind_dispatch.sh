#!/usr/bin/env bash
# Instructions per chunk on the executor's hot path, counted by callgrind: repeatable
# whatever the machine's load. Runs bench_dispatch --once for two chunk counts per
# schedule and divides the difference in total instructions by the difference in
# chunks, which cancels start-up and every other fixed cost. Then the same for the
# MPI layer's node-shared counter (bench_mpi_dispatch on one rank, counting inside
# the executor's worker loop: hand-out, kernel call, clock reads, record).
#   scripts/callgrind_dispatch.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
bin=$dir/tests/bench/bench_dispatch
[ -x "$bin" ] || { echo "error: $bin not built (cmake --build $dir --target bench_dispatch)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "error: valgrind not installed (apt-get install valgrind)" >&2; exit 1; }
count() { # schedule chunks -> total instructions
  local out; out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --once "$1" "$2" >/dev/null 2>&1
  sed -n 's/^summary: *//p' "$out"; rm -f "$out"
}
printf '%-10s %18s\n' schedule "instructions/chunk"
for s in cyclic dynamic; do
  a=$(count "$s" 20000); b=$(count "$s" 120000)
  awk -v a="$a" -v b="$b" -v s="$s" 'BEGIN { printf "%-10s %18.1f\n", s, (b - a) / 100000 }'
done

mbin=$dir/tests/bench/bench_mpi_dispatch
if [ -x "$mbin" ] && command -v mpirun >/dev/null; then
  [ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mcount() { # chunks runs -> instructions inside the worker loop
    local out; out=$(mktemp)
    mpirun -np 1 valgrind --tool=callgrind --toggle-collect=worker_main \
      --callgrind-out-file="$out" "$mbin" --once "$1" "$2" >/dev/null 2>&1
    sed -n 's/^summary: *//p' "$out"; rm -f "$out"
  }
  # One plain run = two runs minus one (the first cuts out the sampled items).
  a=$(( $(mcount 20000 2) - $(mcount 20000 1) )); b=$(( $(mcount 120000 2) - $(mcount 120000 1) ))
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%-10s %18.1f   (MPI node-shared counter, 1 rank)\n", "mpi-node", (b - a) / 100000 }'
fi
