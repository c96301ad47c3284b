#!/usr/bin/env bash
# Installs the build into a temporary prefix, moves the prefix and runs the
# installed tool in a clean environment (its run path finds its libraries), then
# builds out-of-tree consumers of the prefix:
# with CMake (find_package(amorsize), amorsize::mpi), with
# mpicc $(pkg-config --cflags --libs amorsize-mpi), and, when the Fortran module was
# built, the Fortran example with mpifort $(pkg-config --cflags --libs
# amorsize-fortran); runs each on 2 ranks.
#   consumer.sh BUILD_DIR MPIEXEC [FORTRAN_EXAMPLE.f90]
set -euo pipefail
build=$1 mpiexec=$2 fortran_src=${3:-}
src=$(cd "$(dirname "$0")" && pwd)
# The MPI compiler wrappers the build used (mpicc.mpich for an MPICH build): a
# consumer built with another MPI's wrapper would load two MPI libraries.
cached() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -1; }
mpicc=$(cached MPI_C_COMPILER)
mpifort=$(cached MPI_Fortran_COMPILER)
mpicc=${mpicc:-mpicc} mpifort=${mpifort:-mpifort}
case $mpifort in *NOTFOUND*) mpifort=mpifort ;; esac
# A sanitized library needs sanitized consumers; their runs and the installed tool's
# take both suppression lists (MPI libraries' and HDF5's lifetime allocations).
san=$(cached AMORSIZE_SANITIZE)
sanflags=()
[ -n "$san" ] && sanflags=(-fsanitize="$san" -fno-omit-frame-pointer)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sanenv=()
if [ -n "$san" ]; then
  cat "$src/../mpi/lsan.supp" "$src/../profile/lsan.supp" >"$work/lsan.supp"
  export LSAN_OPTIONS="suppressions=$work/lsan.supp:print_suppressions=0"
  sanenv=("LSAN_OPTIONS=$LSAN_OPTIONS" "ASAN_OPTIONS=${ASAN_OPTIONS:-}")
fi
cmake --install "$build" --prefix "$work/prefix" >/dev/null

echo "== relocatable: the prefix moved, a clean environment"
# The installed tool finds its libraries from its own place (run path $ORIGIN),
# not from the build tree, LD_LIBRARY_PATH or the prefix it was installed to.
mv "$work/prefix" "$work/moved"
profile=$src/../cli/data/mpi2.h5
env -i PATH=/usr/bin:/bin "${sanenv[@]}" "$work/moved/bin/amorsize" --version
env -i PATH=/usr/bin:/bin "${sanenv[@]}" "$work/moved/bin/amorsize" report "$profile" | head -3
[ -f "$work/moved/share/man/man1/amorsize.1" ] || { echo "FAIL: no share/man/man1/amorsize.1"; exit 1; }
echo "man page installed: share/man/man1/amorsize.1"
if command -v doxygen >/dev/null; then
  [ -f "$work/moved/share/doc/amorsize/api/index.html" ] ||
    { echo "FAIL: doxygen is here, but no share/doc/amorsize/api/index.html"; exit 1; }
  echo "API reference installed: share/doc/amorsize/api/index.html"
fi
mv "$work/moved" "$work/prefix"
libdir=$(ls -d "$work"/prefix/lib*/ | head -1)
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== CMake consumer: find_package(amorsize), amorsize::mpi"
cmake -S "$src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DMPI_C_COMPILER="$mpicc" -DCMAKE_C_FLAGS="${sanflags[*]}" \
  -DCMAKE_EXE_LINKER_FLAGS="${sanflags[*]}" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$mpiexec" --oversubscribe -n 2 "$work/cmake-build/consumer"

echo "== $mpicc consumer: pkg-config amorsize-mpi"
command -v "$mpicc" >/dev/null || { echo "SKIP: $mpicc not found"; exit 77; }
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
"$mpicc" "${sanflags[@]}" -o "$work/consumer-pc" "$src/consumer.c" $(pkg-config --cflags --libs amorsize-mpi)
"$mpiexec" --oversubscribe -n 2 "$work/consumer-pc"

if [ -n "$fortran_src" ] && [ -f "$work/prefix/include/amorsize.mod" ]; then
  echo "== $mpifort consumer: pkg-config amorsize-fortran, use amorsize"
  command -v "$mpifort" >/dev/null || { echo "SKIP: $mpifort not found"; exit 77; }
  # shellcheck disable=SC2046
  "$mpifort" "${sanflags[@]}" -o "$work/consumer-f" "$fortran_src" $(pkg-config --cflags --libs amorsize-fortran)
  "$mpiexec" --oversubscribe -n 2 "$work/consumer-f" 3000
fi
