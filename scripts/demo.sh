#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main example across MPI ranks:
# two ranks plan a Mandelbrot loop together (sampling on both, one shared plan),
# rank 0 prints the explanation of the decision, the rows run across the ranks,
# the image is gathered on rank 0 and written as a PGM file, and rank 0 prints
# what happened, predicted against measured. The run writes an HDF5 profile
# (build/mandelbrot.h5, collectively from both ranks), and `amorsize report` reads
# it back: the decision, predicted against measured per term, the bottlenecks.
#
#   ./scripts/demo.sh [ranks] [rows] [columns]      (defaults: 2 1600 1600)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
amz_ensure_packages
ranks=${1:-2} rows=${2:-1600} cols=${3:-1600}
echo "== configure and build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" 2>&1 | grep -Ev '^\[ *[0-9]+%\]' || true
if [ "$(id -u)" = 0 ]; then
  # Open MPI refuses to run as root unless told that it is meant.
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
echo "== mpirun -np $ranks examples/mandelbrot_mpi ($rows x $cols Mandelbrot rows, upper half-plane)"
AMZ_PROFILE=build/mandelbrot.h5 AMZ_PROFILE_OVERWRITE=1 \
  mpirun --oversubscribe -x AMZ_PROFILE -x AMZ_PROFILE_OVERWRITE -np "$ranks" \
  ./build/examples/mandelbrot_mpi "$rows" "$cols" build/mandelbrot.pgm
echo
echo "== amorsize report build/mandelbrot.h5   (also: chunks, workers, compare, html, probe)"
./build/amorsize report build/mandelbrot.h5
./build/amorsize html build/mandelbrot.h5 -o build/mandelbrot.html
echo
echo "== wrote build/mandelbrot.h5 (h5dump, h5py and HDFView read it) and build/mandelbrot.html"
