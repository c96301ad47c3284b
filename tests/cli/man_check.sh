#!/usr/bin/env bash
# The amorsize(1) man page renders without a warning and documents what the tool
# says it has: every command of 'amorsize --help' and every option of each
# 'amorsize COMMAND --help' appears in it.
#   man_check.sh AMORSIZE MANPAGE
set -uo pipefail
tool=$1 page=$2
command -v groff >/dev/null || { echo "SKIP: groff not installed (Debian: groff-base)"; exit 77; }
warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
[ -z "$warn" ] || { echo "FAIL: groff warnings:"; echo "$warn"; exit 1; }
text=$(sed 's/\\-/-/g' "$page")
missing=0 checked=0
cmds=$("$tool" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ {print $1}')
for c in $cmds; do
  checked=$((checked + 1))
  grep -q "^\.SS $c\$" <<<"$text" || { echo "FAIL: command '$c' has no section"; missing=$((missing + 1)); }
  [ "$c" = help ] && continue
  for o in $("$tool" "$c" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    [ "$o" = --help ] && continue
    checked=$((checked + 1))
    grep -q -- "$o" <<<"$text" || { echo "FAIL: '$c $o' is not in the man page"; missing=$((missing + 1)); }
  done
done
[ "$missing" = 0 ] || exit 1
echo "man page: renders without warnings; $checked commands and options documented: OK"
