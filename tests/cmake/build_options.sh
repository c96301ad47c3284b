#!/usr/bin/env bash
# Each build option of docs/INSTALL.md turned off configures, and leaves out what it
# names; the smallest build (all of them off) builds, installs and runs; a build
# without profiles needs no HDF5 and refuses a profile with its reason.
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

# Without profiles: the test suite needs them, so configure says so.
d=$work/no-profile-tests
if cmake -S "$src" -B "$d" "${extra[@]}" -DAMORSIZE_PROFILE=OFF >"$d.log" 2>&1; then
  fail "AMORSIZE_PROFILE=OFF with the tests on configured"
else
  tr -s ' \n' ' ' <"$d.log" | grep -q "AMORSIZE_PROFILE=OFF builds no profile reader .* -DAMORSIZE_BUILD_TESTS=OFF" &&
    ok || fail "AMORSIZE_PROFILE=OFF with the tests on: no reason given: $(grep -A3 'CMake Error' "$d.log" | head -5)"
fi
# Without profiles and MPI: the core links neither HDF5 nor MPI; the threads example
# runs, and a profile asked for by AMZ_PROFILE is refused with the reason.
d=$work/no-profile
if configure "$d" -DAMORSIZE_PROFILE=OFF -DAMORSIZE_MPI=OFF -DAMORSIZE_FORTRAN=OFF \
  -DAMORSIZE_BUILD_TESTS=OFF -DAMORSIZE_BUILD_BENCH=OFF; then
  has_target "$d" amorsize_cli && fail "AMORSIZE_PROFILE=OFF still builds the amorsize tool" || ok
  if cmake --build "$d" -j "$jobs" >"$d.build.log" 2>&1; then
    lib=$(ls "$d"/libamorsize.so.* 2>/dev/null | head -1)
    readelf -d "$lib" | grep NEEDED | grep -Eq "hdf5|libmpi" &&
      fail "AMORSIZE_PROFILE=OFF: $lib needs $(readelf -d "$lib" | grep -Eo '\[lib(hdf5|mpi)[^]]*' | tr -d '[' | tr '\n' ' ')" || ok
    "$d/examples/quickstart" 100 100 >"$work/qs" 2>&1 && grep -q "items done 100 of 100" "$work/qs" &&
      ok || fail "AMORSIZE_PROFILE=OFF: quickstart: $(tail -c 300 "$work/qs")"
    AMZ_PROFILE="$work/x.h5" "$d/examples/quickstart" 100 100 >"$work/qs" 2>&1 &&
      fail "AMORSIZE_PROFILE=OFF: a run with AMZ_PROFILE succeeded"
    grep -q "not available in this build: a profile is asked for ('$work/x.h5'.*AMORSIZE_PROFILE=OFF" "$work/qs" &&
      ok || fail "AMORSIZE_PROFILE=OFF: AMZ_PROFILE not refused with its reason: $(tail -c 300 "$work/qs")"
  else
    fail "build without profiles: $(grep -m3 -i error "$d.build.log")"
  fi
fi

# Everything else off: the core library and the tool build, install and run.
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
