#!/usr/bin/env bash
# h5dump (the HDF Group's own tool) reads every dataset and attribute of a profile.
#   h5dump_check.sh PROFILE.h5
set -euo pipefail
f=$1
command -v h5dump >/dev/null || { echo "SKIP: h5dump not installed (Debian: hdf5-tools)"; exit 77; }
h5dump -H "$f" >/dev/null
for d in /chunks /workers /plan/candidates /overheads /system /failures /model/cost_profile; do
  out=$(h5dump -d "$d" "$f") || { echo "h5dump cannot read $d"; exit 1; }
  grep -q "DATASET \"$d\"" <<<"$out" || { echo "h5dump output lacks $d"; exit 1; }
done
for a in schema_version n_items wall_s task; do
  h5dump -a "/$a" "$f" >/dev/null || { echo "h5dump cannot read attribute /$a"; exit 1; }
done
# The whole file, every attribute and value.
h5dump "$f" >/dev/null
echo "h5dump_check $f: OK"
