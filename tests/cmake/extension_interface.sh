#!/usr/bin/env bash
# The core's extension interface is what libamorsize exports and nothing more:
#  1. the amz__ symbols libamorsize exports are exactly the declarations marked
#     AMZ__EXT in the core's headers, and there are at most 40 of them;
#  2. extension.h names each of them;
#  3. what the MPI layer, the profile library and the tool take from the core is
#     among them (each links its own copy of the base layer for the rest);
#  4. no file under mpi/ or src/cli/ includes a private header of the core other
#     than extension.h.
#
#   extension_interface.sh SOURCE_DIR LIBAMORSIZE [OTHER_COMPONENT...]
set -u
src=$1 lib=$2
shift 2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
max=40

exports=$(nm -D --defined-only "$lib" | awk '$3 ~ /^amz__/ {print $3}' | sort -u)
marked=$(grep -h '^AMZ__EXT ' "$src"/src/*/*.h |
  grep -o 'amz__[a-z0-9_]*[[:space:]]*[(;]' | sed 's/[[:space:](;]*$//' | sort -u)
[ -n "$marked" ] || fail "no AMZ__EXT declaration found under $src/src"
n=$(printf '%s\n' "$exports" | grep -c .)

# 1. Exports and marks agree, and stay few.
extra=$(comm -23 <(printf '%s\n' "$exports") <(printf '%s\n' "$marked") | tr '\n' ' ')
[ -z "$extra" ] || fail "exported but not marked AMZ__EXT: $extra"
missing=$(comm -13 <(printf '%s\n' "$exports") <(printf '%s\n' "$marked") | tr '\n' ' ')
[ -z "$missing" ] || fail "marked AMZ__EXT but not exported: $missing"
[ "$n" -le "$max" ] || fail "$(basename "$lib") exports $n amz__ symbols; at most $max"

# 2. extension.h lists them.
for s in $marked; do
  grep -qw "$s" "$src/src/run/extension.h" ||
    fail "extension.h does not name $s"
done

# 3. The components built on the core use nothing else of it.
for c in "$@"; do
  [ -e "$c" ] || continue
  own=$(nm -D --defined-only "$c" | awk '$3 ~ /^amz__/ {print $3}' | sort -u)
  others=""
  for o in "$@"; do
    [ "$o" = "$c" ] || [ ! -e "$o" ] || others="$others $(nm -D --defined-only "$o" |
      awk '$3 ~ /^amz__/ {print $3}')"
  done
  used=$(nm -D --undefined-only "$c" | awk '$2 ~ /^amz__/ {print $2}' | sort -u)
  bad=$(comm -23 <(printf '%s\n' "$used") \
    <(printf '%s\n' $exports $own $others | sort -u) | tr '\n' ' ')
  [ -z "${bad// /}" ] || fail "$(basename "$c") uses amz__ symbols no component exports: $bad"
  echo "extension_interface: $(basename "$c") takes $(printf '%s\n' "$used" | grep -c .) amz__ symbols"
done

# 4. Includes.
private=$(cd "$src/src" && ls ./*/*.h | sed 's|.*/||' | sort -u)
for f in "$src"/mpi/*.[ch] "$src"/src/cli/*.[ch]; do
  for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
    case "$h" in
      extension.h | mpi_internal.h | cli.h | html.h | amorsize*.h) ;;
      profile.h) [ "${f#"$src"/mpi/}" != "$f" ] || fail "$f includes $h" ;; # the profile component
      *) printf '%s\n' "$private" | grep -qx "$h" && fail "$f includes the core's $h" ;;
    esac
  done
done

[ "$fails" = 0 ] || exit 1
echo "extension_interface: libamorsize exports $n amz__ symbols (at most $max), all in extension.h"
