#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main example: it plans a
# Mandelbrot loop, prints the explanation of the decision, runs it on the chosen
# threads and prints what happened, predicted against measured.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
amz_ensure_packages
echo "== configure and build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" 2>&1 | grep -Ev '^\[ *[0-9]+%\]' || true
echo "== running examples/quickstart (1600 x 1600 Mandelbrot rows, upper half-plane)"
exec ./build/examples/quickstart 1600 1600
