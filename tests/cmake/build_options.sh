#!/usr/bin/env bash
# Each build option of docs/INSTALL.md turned off configures, and leaves out what it
# names; the smallest build (all of them off) builds, installs and runs.
#
#   build_options.sh SOURCE_DIR [CMAKE_ARGS...]
#
# CMAKE_ARGS (the MPI compilers of the calling build) are passed to every configure.
set -u
src=$1
shift
extra=("$@")
work=$(mktemp -d /tmp/amz-options.XXXXXX)
trap 'rm -rf "$work"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)
fails=0 checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { checks=$((checks + 1)); }

configure() { # DIR ARGS...
  local dir=$1; shift
  cmake -S "$src" -B "$dir" "${extra[@]}" "$@" >"$dir.log" 2>&1 ||
    { fail "configure $*: $(grep -A3 'CMake Error' "$dir.log" | head -8)"; return 1; }
}
has_target() { cmake --build "$1" --target help 2>/dev/null | grep -q "\.\.\. $2\$"; }
cached() { grep -q "^$2:" "$1/CMakeCache.txt"; }

# One option off at a time.
d=$work/no-mpi
if configure "$d" -DAMORSIZE_MPI=OFF; then
  has_target "$d" amorsize_mpi && fail "AMORSIZE_MPI=OFF still builds amorsize_mpi" || ok
  has_target "$d" amorsize_fortran && fail "AMORSIZE_MPI=OFF still builds the Fortran module" || ok
  has_target "$d" amorsize && ok || fail "AMORSIZE_MPI=OFF lost the core library"
fi
d=$work/no-fortran
if configure "$d" -DAMORSIZE_FORTRAN=OFF; then
  has_target "$d" amorsize_fortran && fail "AMORSIZE_FORTRAN=OFF still builds amorsize_fortran" || ok
  has_target "$d" amorsize_mpi && ok || fail "AMORSIZE_FORTRAN=OFF lost the MPI library"
fi
d=$work/no-tests
if configure "$d" -DAMORSIZE_BUILD_TESTS=OFF; then
  cached "$d" CUNIT_LIBRARY && fail "AMORSIZE_BUILD_TESTS=OFF still looks for CUnit" || ok
  [ "$(cd "$d" && ctest -N | sed -n 's/^Total Tests: //p')" = 0 ] && ok ||
    fail "AMORSIZE_BUILD_TESTS=OFF still registers tests"
fi
d=$work/no-examples
if configure "$d" -DAMORSIZE_BUILD_EXAMPLES=OFF; then
  has_target "$d" quickstart && fail "AMORSIZE_BUILD_EXAMPLES=OFF still builds quickstart" || ok
  n=$(cd "$d" && ctest -N | sed -n 's/^Total Tests: //p')
  [ "${n:-0}" -gt 0 ] && ok || fail "AMORSIZE_BUILD_EXAMPLES=OFF registers no tests"
fi
d=$work/no-bench
if configure "$d" -DAMORSIZE_BUILD_BENCH=OFF; then
  has_target "$d" bench_dispatch && fail "AMORSIZE_BUILD_BENCH=OFF still builds bench_dispatch" || ok
fi

# Everything off: the core library and the tool build, install and run.
d=$work/minimal
if configure "$d" -DAMORSIZE_MPI=OFF -DAMORSIZE_FORTRAN=OFF -DAMORSIZE_BUILD_TESTS=OFF \
  -DAMORSIZE_BUILD_EXAMPLES=OFF -DAMORSIZE_BUILD_BENCH=OFF; then
  if cmake --build "$d" -j "$jobs" >"$d.build.log" 2>&1; then
    ok
    cmake --install "$d" --prefix "$work/prefix" >/dev/null 2>&1 && ok || fail "minimal install"
    env -i PATH=/usr/bin:/bin "$work/prefix/bin/amorsize" --version >"$work/version" 2>&1 &&
      ok || fail "minimal: installed amorsize --version: $(head -c 300 "$work/version")"
    ls "$work"/prefix/lib*/libamorsize_mpi* >/dev/null 2>&1 &&
      fail "minimal: libamorsize_mpi installed" || ok
  else
    fail "minimal build: $(grep -m3 -i error "$d.build.log")"
  fi
fi
echo "build_options: $checks checks passed, $fails failed"
[ "$fails" = 0 ]
