#!/usr/bin/env bash
# The `amorsize` tool against golden outputs, well-formedness checks and bad input.
#
#   cli_test.sh AMORSIZE DATA_DIR GOLDEN_DIR [FRESH.h5 ...]
#   cli_test.sh --update AMORSIZE DATA_DIR GOLDEN_DIR     rewrite the golden files
#
# DATA_DIR holds profiles committed with the tests (written once by
# tests/profile/profile_writer; see DATA_DIR/README): their text output is fixed.
# FRESH files are profiles this build just wrote: they must read and render too.
set -uo pipefail
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
bin=$(realpath "$1") data=$(realpath "$2") golden=$(realpath "$3"); shift 3
fresh=("$@")
work=$(mktemp -d /tmp/amz-cli-XXXXXX)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3; [ -x "$py" ] || py=python3
fails=0 checks=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { checks=$((checks + 1)); }

# ---- golden outputs (run from DATA_DIR: file names appear as given) ----
golden_case() {
  local name=$1; shift
  local out="$work/$name.out" rc=0
  (cd "$data" && "$bin" "$@") >"$out" 2>"$work/$name.err" || rc=$?
  if [ "$rc" != 0 ]; then fail "$name: exit $rc: $(head -c 300 "$work/$name.err")"; return; fi
  if [ "$update" = 1 ]; then cp "$out" "$golden/$name"; ok; return; fi
  if diff -u "$golden/$name" "$out" >"$work/$name.diff"; then ok
  else fail "$name differs from its golden output:"; head -40 "$work/$name.diff"; fi
}
golden_case report_mpi2.txt report mpi2.h5
golden_case report_threads.txt report threads.h5
for fmt in text csv json; do
  golden_case "chunks_mpi2.$fmt" chunks --format "$fmt" --limit 25 mpi2.h5
  golden_case "workers_mpi2.$fmt" workers --format "$fmt" mpi2.h5
  golden_case "compare.$fmt" compare --format "$fmt" threads.h5 mpi2.h5
done
golden_case workers_threads.text workers threads.h5

# ---- structure: JSON parses, CSV rows have the header's columns ----
for f in "$work"/*.json.out; do
  "$py" -m json.tool "$f" >/dev/null 2>"$work/json.err" && ok || fail "$(basename "$f") is not valid JSON: $(cat "$work/json.err")"
done
for f in "$work"/*.csv.out; do
  awk -F, 'NR==1{n=NF} NF!=n{bad=1} END{exit bad}' "$f" && ok || fail "$(basename "$f"): rows with a different column count"
done
# The full chunk table in CSV has one row per chunk (h5py-independent count).
rows=$("$bin" chunks --format csv "$data/mpi2.h5" | wc -l)
n=$("$bin" chunks --format json "$data/mpi2.h5" | "$py" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$rows" = $((n + 1)) ] && ok || fail "chunks: $rows CSV lines for $n JSON rows"

# ---- HTML: well-formed (xmllint), with charts ----
if command -v xmllint >/dev/null; then
  for set in "threads.h5" "mpi2.h5" "threads.h5 mpi2.h5"; do
    out="$work/page.html"
    # shellcheck disable=SC2086
    if (cd "$data" && "$bin" html $set -o "$out"); then
      xmllint --noout "$out" 2>"$work/xml.err" && ok || fail "html ($set): not well-formed: $(head -5 "$work/xml.err")"
      [ "$(grep -c '<svg' "$out")" -ge 3 ] && ok || fail "html ($set): fewer than 3 SVG charts"
      grep -q 'http[s]*://[^"]*\.\(js\|css\)' "$out" && fail "html ($set) loads external resources" || ok
    else
      fail "html ($set) exited non-zero"
    fi
  done
else
  echo "note: xmllint missing (Debian: libxml2-utils): HTML not checked"
fi

# ---- profiles this build just wrote ----
for f in "${fresh[@]}"; do
  "$bin" report "$f" >"$work/fresh.txt" 2>&1 && grep -q '^Bottlenecks' "$work/fresh.txt" && ok \
    || fail "report of fresh $f: $(head -3 "$work/fresh.txt")"
  "$bin" html "$f" -o "$work/fresh.html" && ok || fail "html of fresh $f"
  if command -v xmllint >/dev/null; then
    xmllint --noout "$work/fresh.html" && ok || fail "html of fresh $f is not well-formed"
  fi
done

# ---- exit codes: 0 help, 2 bad input (one line on stderr), 64 usage ----
expect_rc() {
  local want=$1; shift
  local rc=0
  "$bin" "$@" >"$work/rc.out" 2>"$work/rc.err" || rc=$?
  if [ "$rc" != "$want" ]; then fail "amorsize $*: exit $rc, expected $want ($(head -c 200 "$work/rc.err"))"; return; fi
  if [ "$want" = 2 ]; then
    [ "$(wc -l <"$work/rc.err")" = 1 ] && ok || fail "amorsize $*: expected one line on stderr, got: $(cat "$work/rc.err")"
  else ok; fi
}
head -c 4000 "$data/mpi2.h5" >"$work/truncated.h5"
head -c 100000 /dev/urandom >"$work/random.h5"
: >"$work/empty.h5"
cp "$data/mpi2.h5" "$work/flipped.h5"
printf '\x5a' | dd of="$work/flipped.h5" bs=1 seek=3000 conv=notrunc 2>/dev/null
for bad in "$work/truncated.h5" "$work/random.h5" "$work/empty.h5" "$work/flipped.h5" "$work/missing.h5" "$work"; do
  for cmd in report chunks workers; do expect_rc 2 "$cmd" "$bad"; done
  expect_rc 2 html "$bad" -o "$work/bad.html"
done
expect_rc 2 compare "$data/mpi2.h5" "$work/truncated.h5"
grep -q 'truncated' "$work/rc.err" && ok || fail "the truncated file's error does not say truncated"
expect_rc 64
expect_rc 64 frobnicate
expect_rc 64 report
expect_rc 64 report --bogus "$data/mpi2.h5"
expect_rc 64 chunks --format xml "$data/mpi2.h5"
expect_rc 64 chunks --limit 0 "$data/mpi2.h5"
expect_rc 64 compare "$data/mpi2.h5"
expect_rc 64 html "$data/mpi2.h5"
expect_rc 64 report "$data/mpi2.h5" "$data/threads.h5"
expect_rc 0 --help
expect_rc 0 --version
for cmd in report chunks workers compare html probe; do
  expect_rc 0 "$cmd" --help
  grep -q "^usage: amorsize $cmd" "$work/rc.out" && ok || fail "$cmd --help has no usage line"
  expect_rc 0 help "$cmd"
done
# probe: runs here, text and JSON
expect_rc 0 probe
grep -q 'usable for compute' "$work/rc.out" && ok || fail "probe output lacks the usable cores"
"$bin" probe --format json | "$py" -m json.tool >/dev/null && ok || fail "probe --format json is not valid JSON"
# A write error is exit 1 (/dev/full).
if [ -w /dev/full ]; then
  rc=0; "$bin" report "$data/mpi2.h5" >/dev/full 2>/dev/null || rc=$?
  [ "$rc" = 1 ] && ok || fail "report to /dev/full: exit $rc, expected 1"
fi

echo "cli_test: $checks checks passed, $fails failed"
[ "$fails" = 0 ]
