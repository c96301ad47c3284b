#!/usr/bin/env bash
# Step 6 of docs/PERFORMANCE_ANALYSIS.md: the whole workflow on one application,
# from the machine to a comparison of rank counts, with nothing but the tools.
#
#   examples/analysis/06_workflow.sh [BUILD_DIR] [SIZE] [OUT_DIR]
#       BUILD_DIR  the CMake build (default: build)
#       SIZE       Mandelbrot rows and columns (default 1200; the test uses 200)
#       OUT_DIR    where profiles and pages go (default: workflow/)
#   MPIEXEC=mpiexec.mpich ...  starts the ranks with another launcher (default mpirun)
#
# 1. what the machine looks like to the model   amorsize probe
# 2. run the application, let it choose          AMZ_PROFILE=... mpirun ... app
# 3. read the decision and the bottlenecks       amorsize report
# 4. run it again at forced rank counts          AMZ_RANKS=1, 2
# 5. compare the runs                            amorsize compare
# 6. dig into the chunks with ordinary tools     amorsize chunks --format csv | awk
# 7. one page to share                           amorsize html
set -euo pipefail
build=$(realpath "${1:-build}")
size=${2:-1200}
out=${3:-workflow}
mkdir -p "$out"
cd "$out"
app="$build/examples/mandelbrot_mpi"
amz="$build/amorsize"
[ -x "$app" ] && [ -x "$amz" ] || { echo "build first: cmake -S . -B build && cmake --build build"; exit 1; }
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export AMZ_PROFILE_OVERWRITE=1 AMZ_PROGRESS=off
# The launcher: $MPIEXEC, else mpirun. Open MPI passes variables to the ranks with
# -x; MPICH's Hydra passes the whole environment.
mpiexec=${MPIEXEC:-mpirun}
if "$mpiexec" --version 2>&1 | grep -q "Open MPI\|OpenRTE"; then
  launch=("$mpiexec" --oversubscribe --bind-to none -x AMZ_PROFILE -x AMZ_RANKS
          -x AMZ_PROFILE_OVERWRITE -x AMZ_PROGRESS)
else
  launch=("$mpiexec" -bind-to none)
fi
run() { # run NAME RANKS-FORCED(0 = choose)
  local name=$1 ranks=$2
  AMZ_PROFILE="$name.h5" AMZ_RANKS=$ranks \
    "${launch[@]}" -np 2 "$app" "$size" "$size" "$name.pgm" >"$name.log" 2>&1 \
    || { cat "$name.log"; echo "run $name failed"; exit 1; }
}

echo "== 1. amorsize probe"
"$amz" probe | sed -n '1,8p'

echo
echo "== 2. the application, 2 ranks launched, the plan chooses (profile chosen.h5)"
run chosen 0
grep -E "rows done|serial check" chosen.log

echo
echo "== 3. amorsize report chosen.h5 (summary, decision, bottlenecks)"
"$amz" report chosen.h5 | sed -n '/^Summary/,/^$/p;/^Bottlenecks/,$p'

echo
echo "== 4. the same with AMZ_RANKS=1 and AMZ_RANKS=2"
run ranks1 1
run ranks2 2

echo
echo "== 5. amorsize compare ranks1.h5 ranks2.h5 chosen.h5"
"$amz" compare ranks1.h5 ranks2.h5 chosen.h5

echo
echo "== 6. per-rank kernel time and chunk count from the chunk table (CSV + awk)"
"$amz" chunks --format csv chosen.h5 |
  awk -F, 'NR > 1 && $11 == 0 { busy[$1] += $9; n[$1]++ }
           END { for (r in busy) printf "  rank %s: %d chunks, %.3f s in the kernel\n", r, n[r], busy[r] }' | sort

echo
echo "== 7. amorsize html chosen.h5 ranks1.h5 ranks2.h5 -o workflow.html"
"$amz" html chosen.h5 ranks1.h5 ranks2.h5 -o workflow.html
echo "  wrote $(pwd)/workflow.html ($(wc -c <workflow.html) bytes)"
echo "06_workflow: OK"
