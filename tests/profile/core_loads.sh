#!/usr/bin/env bash
# libamorsize needs neither HDF5 nor MPI: a threads-only program that asks for no
# profile loads neither; one that asks for a profile loads libamorsize_profile (and
# HDF5 with it) from libamorsize's directory and writes a profile the tool reads; a
# libamorsize installed without it refuses the profile at plan time, naming the
# library it looked for.
#
#   core_loads.sh LIBAMORSIZE QUICKSTART AMORSIZE_CLI WORKDIR
set -u
lib=$1 quickstart=$2 cli=$3 work=$4
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
rm -rf "$work" && mkdir -p "$work" || exit 1

# 1. What the core needs, as the dynamic linker reads it.
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case " $needed" in
  *hdf5* | *" libmpi"* | *mpich*) fail "$lib needs: $needed" ;;
esac
echo "core_loads: $(basename "$lib") needs: $needed"

# 2. No profile: neither the profile library nor HDF5 nor MPI is loaded.
LD_DEBUG=libs "$quickstart" 60 60 >"$work/plain.out" 2>"$work/plain.ld"
rc=$?
[ "$rc" = 0 ] || fail "quickstart without a profile exited $rc: $(tail -c 300 "$work/plain.out")"
loaded=$(grep -o 'calling init: [^ ]*' "$work/plain.ld" | grep -E 'hdf5|libmpi|mpich|amorsize_profile' |
  sed 's/calling init: //' | sort -u | tr '\n' ' ')
[ -z "$loaded" ] || fail "quickstart without a profile loaded: $loaded"

# 3. A profile: the profile library loads beside the core, and the file is complete.
AMZ_PROFILE="$work/q.h5" LD_DEBUG=libs "$quickstart" 60 60 >"$work/prof.out" 2>"$work/prof.ld"
rc=$?
[ "$rc" = 0 ] || fail "quickstart with AMZ_PROFILE exited $rc: $(tail -c 300 "$work/prof.out")"
libdir=$(dirname "$(readlink -f "$lib")")
grep -q "calling init: $libdir/libamorsize_profile.so" "$work/prof.ld" ||
  fail "AMZ_PROFILE: libamorsize_profile not loaded from $libdir"
if "$cli" report "$work/q.h5" >"$work/report" 2>&1; then
  grep -q 'task "mandelbrot rows": 60 items' "$work/report" ||
    fail "the report of the profile lacks its task: $(head -3 "$work/report")"
else
  fail "amorsize report: $(tail -c 300 "$work/report")"
fi

# 4. A core without the profile library beside it (LD_LIBRARY_PATH comes before the
#    program's run path): the plan is refused, naming the file it looked for.
mkdir -p "$work/alone"
cp "$(readlink -f "$lib")" "$work/alone/$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
AMZ_PROFILE="$work/alone.h5" LD_LIBRARY_PATH="$work/alone${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  "$quickstart" 60 60 >"$work/alone.out" 2>&1
rc=$?
[ "$rc" != 0 ] || fail "a core without libamorsize_profile accepted AMZ_PROFILE"
grep -q "cannot load the profile library: $work/alone/libamorsize_profile.so" "$work/alone.out" ||
  fail "no reason naming $work/alone/libamorsize_profile.so: $(tail -c 400 "$work/alone.out")"
[ -e "$work/alone.h5" ] && fail "a profile was written without the profile library"

[ "$fails" = 0 ] || exit 1
echo "core_loads: 4 checks passed"
