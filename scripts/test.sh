#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole CTest suite.
#
#   ./scripts/test.sh            sanitizer passes and the -Werror build (the CI run)
#   ./scripts/test.sh --quick    only the -Werror build and its suite
#
# Both MPI families run the whole suite, in this order:
#   1. build-asan: AddressSanitizer + UndefinedBehaviorSanitizer against MPICH
#                  (Debian's mpich and its parallel HDF5), whole suite;
#   2. build-tsan: ThreadSanitizer over the threaded executor, sampler, API and
#                  watchdog tests (only their programs are built);
#   3. build:      -Wall -Wextra -Werror against Open MPI: the unit suite under
#                  valgrind memcheck (in parallel), then the whole suite but the
#                  fuzzers, which pass 1 ran (its CTest summary comes last).
# A final line sums every pass: "total: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
quick=0
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$a' (expected --quick or --help)" >&2; exit 2 ;;
  esac
done

# Test-only tools: Debian's h5py (/usr/bin/python3), xmllint for the HTML,
# doxygen for the API reference, groff for the man page, and for the Python
# reader (src/python) pandas, matplotlib, pytest, pip and venv (its install test)
# and nbconvert with the Python kernel (the notebook);
# and, but for --quick, the second MPI family (pass 1 runs against it): Open MPI
# stays the default (mpicc, mpiexec).
extra=()
[ "$quick" = 1 ] || extra=(mpich libmpich-dev libhdf5-mpich-dev)
amz_ensure_packages python3-h5py libxml2-utils doxygen valgrind groff-base \
  python3-pandas python3-matplotlib python3-pytest python3-pip python3-venv \
  jupyter-nbconvert python3-nbconvert python3-ipykernel "${extra[@]}"

jobs=$(nproc 2>/dev/null || echo 2)
passed=0 failed=0 skipped=0 status=0

# Runs ctest in a build dir, adds its counts to the totals.
run_ctest() {
  local dir=$1; shift
  local log="$dir/ctest.log" rc=0
  (cd "$dir" && ctest --output-on-failure "$@") 2>&1 | tee "$log" || rc=$?
  [ "${PIPESTATUS[0]}" = 0 ] || rc=1
  local total nfail nskip
  total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$log" | tail -1)
  nfail=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -1)
  nskip=$(grep -c '(Skipped)' "$log" || true)
  total=${total:-0}; nfail=${nfail:-0}
  passed=$((passed + total - nfail - nskip)); failed=$((failed + nfail)); skipped=$((skipped + nskip))
  [ "$rc" = 0 ] || status=1
}

# build DIR [CMAKE_ARGS...] [-- TARGETS...]: configure and build (all, or TARGETS).
build() {
  local dir=$1; shift
  local args=() targets=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
  [ $# -gt 0 ] && { shift; targets=(--target "$@"); }
  echo "== configure and build $dir"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${args[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs" "${targets[@]}" 2>&1 | grep -Ev '^\[ *[0-9]+%\]' || true
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "error: build of $dir failed" >&2; exit 1; }
}

if [ "$quick" = 0 ]; then
  # Against MPICH: Debian names its wrappers mpicc.mpich and mpifort.mpich; CMake
  # finds the matching mpiexec.mpich and parallel HDF5 (cmake/AmorsizeMPI.cmake).
  build build-asan -DAMORSIZE_SANITIZE=address,undefined -DMPI_C_COMPILER=mpicc.mpich
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer, MPICH: whole suite"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_ctest build-asan
  tsan_tests=(executor sampler api progress reliability watchdog)
  build build-tsan -DAMORSIZE_SANITIZE=thread -DAMORSIZE_BUILD_EXAMPLES=OFF \
    -DAMORSIZE_BUILD_BENCH=OFF -- "${tsan_tests[@]/#/test_}"
  echo "== ThreadSanitizer: threaded executor, sampler, API, reliability"
  TSAN_OPTIONS=halt_on_error=1 run_ctest build-tsan -R "^test_($(IFS='|'; echo "${tsan_tests[*]}"))\$"
fi
if [ "$quick" = 0 ]; then
  build build -DAMORSIZE_WERROR=ON -DAMORSIZE_MEMCHECK=ON
  echo "== -Wall -Wextra -Werror build: the unit suite under valgrind memcheck, two at a time"
  # Valgrind's runs time nothing, so they share the cores; the timed suite below
  # runs one test at a time.
  run_ctest build -L memcheck -j "$jobs"
  echo "== -Wall -Wextra -Werror build, Open MPI: whole suite"
  # The two fuzzers ran under AddressSanitizer in pass 1, where they find most:
  # they are not run a second time (CI's 15 minutes).
  run_ctest build -LE memcheck -E '^(fuzz_structure|fuzz_checkpoint)$'
else
  build build -DAMORSIZE_WERROR=ON -DAMORSIZE_MEMCHECK=OFF
  echo "== -Wall -Wextra -Werror build: whole suite"
  run_ctest build
fi

echo "total: $passed passed, $failed failed, $skipped skipped"
exit $status
