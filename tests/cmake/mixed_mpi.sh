#!/usr/bin/env bash
# Configure refuses a build that would load two MPI libraries into one process: the
# MPI of this build with the parallel HDF5 of the other MPI family.
#
#   mixed_mpi.sh SOURCE_DIR MPI_C_COMPILER FAMILY
#
# FAMILY is this build's (openmpi or mpich); the test takes the other family's
# Debian HDF5 (hdf5-mpich or hdf5-openmpi). Skipped (77) when it is not installed.
set -u
src=$1 cc=$2 family=$3
case "$family" in
  openmpi) other=mpich ;;
  mpich) other=openmpi ;;
  *) echo "SKIP: MPI family '$family' has no Debian HDF5 of another family to mix"; exit 77 ;;
esac
pkg-config --exists "hdf5-$other" ||
  { echo "SKIP: hdf5-$other is not installed (Debian: libhdf5-$other-dev)"; exit 77; }
work=$(mktemp -d /tmp/amz-mixed.XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake -S "$src" -B "$work" -DMPI_C_COMPILER="$cc" -DAMORSIZE_HDF5_PKG="hdf5-$other" \
  -DAMORSIZE_BUILD_TESTS=OFF -DAMORSIZE_BUILD_EXAMPLES=OFF -DAMORSIZE_BUILD_BENCH=OFF \
  -DAMORSIZE_FORTRAN=OFF >"$work.log" 2>&1
rc=$?
msg=$(tr -s ' \n' ' ' <"$work.log")
rm -f "$work.log"
if [ "$rc" = 0 ]; then
  echo "FAIL: configure accepted $cc with hdf5-$other"
  exit 1
fi
want="HDF5 from pkg-config hdf5-$other .* needs libmpi[a-z]*\.so\.[0-9]+, but the MPI in use \($cc"
if ! [[ $msg =~ $want ]]; then
  echo "FAIL: configure failed, but not with the two MPI libraries named:"
  echo "$msg" | head -c 2000
  exit 1
fi
echo "mixed_mpi: $cc ($family) with hdf5-$other refused: ${BASH_REMATCH[0]}"
