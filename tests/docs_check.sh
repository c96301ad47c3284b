#!/usr/bin/env bash
# The API reference builds from the public headers without a Doxygen warning (an
# undocumented public declaration or member is one).
#   docs_check.sh BUILD_DIR
set -uo pipefail
build=$1
command -v doxygen >/dev/null || { echo "SKIP: doxygen not installed (Debian: doxygen)"; exit 77; }
cmake --build "$build" --target docs >/dev/null || { echo "FAIL: the docs target failed"; exit 1; }
warnings="$build/docs/doxygen-warnings.txt"
if [ -s "$warnings" ]; then
  echo "FAIL: Doxygen warnings:"; cat "$warnings"; exit 1
fi
[ -f "$build/docs/api/html/index.html" ] || { echo "FAIL: no index.html"; exit 1; }
n=$(ls "$build"/docs/api/html/*.html | wc -l)
echo "api docs: $n pages, 0 warnings: OK"
