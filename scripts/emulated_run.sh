#!/usr/bin/env bash
# Runs one MPI program on 2 emulated nodes x 2 ranks (network namespaces joined by
# a veth pair, DESIGN.md section 5) with the set-up of the emulated-node test,
# tests/mpi/multinode.sh, which creates and removes the namespaces:
#
#   scripts/emulated_run.sh PROGRAM [ARGS...]        (as root)
#
# MPIEXEC names the launcher (default: mpirun). Ranks 0 and 2 run on the first
# node, 1 and 3 on the second (--map-by node); messages between nodes cross TCP.
# Exit status: the program's, or 77 (skipped, with the reason) when the namespaces
# cannot be made, for instance without root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 PROGRAM [ARGS...]" >&2; exit 2; }
# Open MPI refuses root unless told; the namespaces need root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec "$here/../tests/mpi/multinode.sh" --exec "${MPIEXEC:-mpirun}" "$@"
