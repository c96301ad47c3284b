#!/usr/bin/env bash
# The programs of this build load one MPI library: ldd resolves no more than one of
# Open MPI's libmpi.so.* and MPICH's libmpich.so.* (two would abort at the first
# MPI call, as an MPICH build linked with Open MPI's HDF5 did).
#
#   one_mpi.sh PROGRAM...
set -u
command -v ldd >/dev/null || { echo "SKIP: ldd not found"; exit 77; }
for prog in "$@"; do
  libs=$(ldd "$prog" | awk '$1 ~ /^lib(mpi|mpich)\.so/ {print $1 " => " $3}' | sort -u)
  n=$(printf '%s\n' "$libs" | grep -c . || true)
  if [ "$n" != 1 ]; then
    echo "FAIL: $prog loads $n MPI libraries:"
    printf '%s\n' "$libs"
    exit 1
  fi
  echo "$(basename "$prog"): $libs"
done
echo "one_mpi: $# programs, one MPI library each"
