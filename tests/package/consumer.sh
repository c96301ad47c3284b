#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds an out-of-tree consumer of it
# twice: with CMake (find_package(amorsize), amorsize::mpi) and with
# mpicc $(pkg-config --cflags --libs amorsize-mpi); runs both on 2 ranks.
#   consumer.sh BUILD_DIR MPIEXEC
set -euo pipefail
build=$1 mpiexec=$2
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(ls -d "$work"/prefix/lib*/ | head -1)
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

echo "== CMake consumer: find_package(amorsize), amorsize::mpi"
cmake -S "$src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$mpiexec" --oversubscribe -n 2 "$work/cmake-build/consumer"

echo "== mpicc consumer: pkg-config amorsize-mpi"
command -v mpicc >/dev/null || { echo "SKIP: mpicc not found"; exit 77; }
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
mpicc -o "$work/consumer-pc" "$src/consumer.c" $(pkg-config --cflags --libs amorsize-mpi)
"$mpiexec" --oversubscribe -n 2 "$work/consumer-pc"
