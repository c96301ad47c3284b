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
# The last line of simulate and predict, the simulation's own wall time, is the only
# one that changes from run to run: it is left out of the comparison.
golden_case() {
  local name=$1; shift
  local out="$work/$name.out" rc=0
  (cd "$data" && "$bin" "$@") >"$out.raw" 2>"$work/$name.err" || rc=$?
  if [ "$rc" != 0 ]; then fail "$name: exit $rc: $(head -c 300 "$work/$name.err")"; return; fi
  sed '/^simulated in /d' "$out.raw" >"$out"
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
  golden_case "findings_mpi2.$fmt" findings --format "$fmt" mpi2.h5
done
# The findings' text is the report's Bottlenecks section, line for line.
sed -n '/^Bottlenecks$/,$p' "$golden/report_mpi2.txt" | sed '1d; s/^  //' |
  diff - "$work/findings_mpi2.text.out" >/dev/null && ok ||
  fail "findings --format text differs from the report's Bottlenecks lines"
"$py" -c 'import json, sys; rows = json.load(open(sys.argv[1]))
assert [r["kind"] for r in rows] == ["failures", "binding", "contention", "prediction"], rows
assert rows[0]["value"] == 91 and rows[0]["share"] is None and rows[2]["low"] == 0.25
' "$work/findings_mpi2.json.out" && ok || fail "findings --format json: unexpected rows"
golden_case workers_threads.text workers threads.h5
golden_case findings_rules.text findings --rules
golden_case predict_mpi2.txt predict mpi2.h5 --nodes 16 --ranks-per-node 8
golden_case simulate_mandelbrot.txt simulate --shape mandelbrot --items 200000 --nodes 4 \
  --ranks-per-node 8 --sweep
for fmt in csv json; do
  # Not compared byte for byte: their 9 digits may differ in the last one between
  # platforms' maths libraries. The checks below read them.
  (cd "$data" && "$bin" predict --format "$fmt" mpi2.h5 --nodes 16 --ranks-per-node 8) \
    >"$work/predict_mpi2.$fmt.out" 2>"$work/predict.err" && ok || fail "predict --format $fmt: $(head -c 300 "$work/predict.err")"
done

# ---- structure: JSON parses, CSV rows have the header's columns ----
for f in "$work"/*.json.out; do
  "$py" -m json.tool "$f" >/dev/null 2>"$work/json.err" && ok || fail "$(basename "$f") is not valid JSON: $(cat "$work/json.err")"
done
for f in "$work"/*.csv.out; do
  # RFC 4180: a quoted field may hold commas (the findings' advice does).
  "$py" -c 'import csv, sys; sys.exit(len({len(r) for r in csv.reader(open(sys.argv[1]))}) != 1)' \
    "$f" && ok || fail "$(basename "$f"): rows with a different column count"
done
# The full chunk table in CSV has one row per chunk (h5py-independent count).
rows=$("$bin" chunks --format csv "$data/mpi2.h5" | wc -l)
n=$("$bin" chunks --format json "$data/mpi2.h5" | "$py" -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$rows" = $((n + 1)) ] && ok || fail "chunks: $rows CSV lines for $n JSON rows"

# ---- simulate and predict: results that must hold whatever the numbers ----
# csv_check FILE AWK-CONDITION MESSAGE: every data row of a CSV from simulate or
# predict must satisfy the condition (columns by name: $c["efficiency"] ...), and there
# must be rows.
csv_check() {
  local f=$1 cond=$2 msg=$3
  awk -F, -v msg="$msg" 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next}
    {n++; if (!('"$cond"')) {print "row " NR-1 ": " $0; bad=1}}
    END{if(n==0){print "no rows"; bad=1} exit bad}' "$f" >"$work/csv_check.txt" \
    && ok || fail "$msg: $(head -3 "$work/csv_check.txt")"
}
# col FILE ROW-CONDITION COLUMN: the column's value in the first row that matches.
col() {
  awk -F, -v want="$3" 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next} ('"$2"'){print $c[want]; exit}' "$1"
}
num_ok() { awk -v a="$1" -v b="$2" -v lo="$3" -v hi="$4" 'BEGIN{r=b>0?a/b:-1; exit !(r>=lo && r<=hi)}'; }
valid='$c["makespan_s"] > 0 && $c["efficiency"] > 0 && $c["efficiency"] <= 1 && $c["chunks"] > 0'
sim=(--items 20000 --nodes 2 --ranks-per-node 4 --format csv)
for shape in uniform increasing lognormal mandelbrot bimodal; do
  f="$work/sim_$shape.csv"
  if "$bin" simulate --shape "$shape" "${sim[@]}" >"$f" 2>"$work/sim.err"; then
    ok
    csv_check "$f" "$valid" "simulate --shape $shape: a makespan <= 0 or an efficiency outside (0, 1]"
    [ "$(awk -F, 'NR>1' "$f" | wc -l)" = 5 ] && ok || fail "simulate --shape $shape: expected a row per schedule"
    [ "$(awk -F, 'NR>1 && $7=="1"' "$f" | wc -l)" = 1 ] && ok || fail "simulate --shape $shape: expected one chosen row"
  else
    fail "simulate --shape $shape: $(head -c 300 "$work/sim.err")"
  fi
done
# Each shape is what it says: static blocks balance a uniform loop perfectly; on a
# linearly increasing one the last of 8 blocks costs 15/8 of the mean (efficiency
# 8/15 = 0.53); Mandelbrot's costly rows leave static far behind.
e() { col "$work/sim_$1.csv" '$c["schedule"]=="static"' efficiency; }
num_ok "$(e uniform)" 1 0.99 1.0 && ok || fail "uniform: static efficiency $(e uniform), expected about 1"
num_ok "$(e increasing)" 1 0.50 0.57 && ok || fail "increasing: static efficiency $(e increasing), expected about 0.53"
num_ok "$(e mandelbrot)" 1 0.1 0.7 && ok || fail "mandelbrot: static efficiency $(e mandelbrot), expected well below 1"
num_ok "$(e lognormal)" 1 0.8 0.995 && ok || fail "lognormal: static efficiency $(e lognormal), expected a little below 1"
"$bin" simulate --shape bimodal --fraction 0.05 --ratio 50 "${sim[@]}" >"$work/sim_bi2.csv" 2>&1 \
  && ! cmp -s "$work/sim_bi2.csv" "$work/sim_bimodal.csv" && ok \
  || fail "simulate: --fraction and --ratio change nothing"
# Deterministic: the same command twice gives the same output (but for the wall
# time line); another seed gives another loop.
for k in 1 2; do
  "$bin" simulate --shape lognormal --cv 2 --seed 7 --items 50000 --nodes 2 --ranks-per-node 4 \
    --sweep | sed '/^simulated in /d' >"$work/det$k.txt"
done
"$bin" simulate --shape lognormal --cv 2 --seed 8 --items 50000 --nodes 2 --ranks-per-node 4 \
  --sweep | sed '/^simulated in /d' >"$work/det3.txt"
[ -s "$work/det1.txt" ] && cmp -s "$work/det1.txt" "$work/det2.txt" && ok \
  || fail "simulate: two identical runs differ: $(diff "$work/det1.txt" "$work/det2.txt" | head -5)"
cmp -s "$work/det1.txt" "$work/det3.txt" && fail "simulate: --seed changes nothing" || ok
grep -q '^worth requesting: [0-9]* node' "$work/det1.txt" && ok || fail "simulate --sweep: no 'worth requesting' line"
# One schedule, one chunk: one row, that schedule and chunk.
"$bin" simulate --shape uniform --schedule dynamic --chunk 7 "${sim[@]}" >"$work/one.csv"
[ "$(awk -F, 'NR>1' "$work/one.csv" | wc -l)" = 1 ] && [ "$(col "$work/one.csv" 1 schedule),$(col "$work/one.csv" 1 chunk)" = dynamic,7 ] \
  && ok || fail "simulate --schedule dynamic --chunk 7: $(cat "$work/one.csv")"
"$bin" simulate --shape uniform --schedule guided "${sim[@]}" >"$work/one.csv"
[ "$(awk -F, 'NR>1' "$work/one.csv" | wc -l)" = 1 ] && [ "$(col "$work/one.csv" 1 schedule)" = guided ] \
  && ok || fail "simulate --schedule guided: $(cat "$work/one.csv")"

# predict: valid rows, one knee, a sweep that starts at speed-up 1.
p16="$work/predict_mpi2.csv.out"
csv_check "$p16" "$valid" "predict mpi2.h5: a makespan <= 0 or an efficiency outside (0, 1]"
[ "$(grep -c '^sweep,' "$p16")" = 5 ] && ok || fail "predict --nodes 16: expected 5 sweep rows (1 2 4 8 16)"
[ "$(awk -F, 'NR>1 && $1=="sweep" && $8=="1"' "$p16" | wc -l)" = 1 ] && ok || fail "predict: expected one knee"
num_ok "$(col "$p16" '$1=="sweep"' speedup)" 1 1 1 && ok || fail "predict: the sweep's first speed-up is not 1"
# The knee follows its rule: the largest count with efficiency >= 0.8 whose step from
# the previous count gave >= 1.5x per doubling; the first count when none does.
knee_ok() {
  awk -F, 'NR==1{for(i=1;i<=NF;i++)c[$i]=i; next} $1=="sweep"{n++; x[n]=$2; t[n]=$c["makespan_s"];
      e[n]=$c["efficiency"]; k[n]=$c["knee"]}
    END{want=1; for(i=1;i<=n;i++){q=e[i]>=0.8 && (i==1 || t[i-1]/t[i] >= (x[i]/x[i-1])^(log(1.5)/log(2))*(1-1e-9));
      if(q) want=i; if(k[i]=="1") got=i} exit !(n>0 && got==want)}' "$1"
}
knee_ok "$p16" && ok || fail "predict: the knee is not where its rule puts it"
"$bin" simulate --shape increasing --items 100000 --nodes 64 --ranks-per-node 4 --sweep --format csv >"$work/knee.csv"
knee_ok "$work/knee.csv" && ok || fail "simulate --sweep: the knee is not where its rule puts it"
grep -q '^worth requesting: [0-9]* nodes\? ([0-9]* ranks\?), efficiency' "$work/predict_mpi2.txt.out" \
  && ok || fail "predict: no 'worth requesting' line"
for src in measured default flag; do
  grep -q " $src" "$work/predict_mpi2.txt.out" && ok || fail "predict: no value marked '$src'"
done
# At the recorded scale the prediction must come near the recorded wall time.
at_recorded() { # FILE RANKS [OPTIONS]: predicted and recorded wall times
  local f=$1 r=$2; shift 2
  (cd "$data" && "$bin" predict "$f" --nodes 1 --ranks-per-node "$r" --no-sweep --format csv "$@") >"$work/at.csv"
  local pred wall
  pred=$(col "$work/at.csv" '$7=="1"' makespan_s)
  wall=$(cd "$data" && "$bin" compare --format csv "$f" "$f" | col /dev/stdin 1 wall_s)
  echo "predict $f at 1 node x $r ranks: predicted ${pred}s, recorded ${wall}s"
  num_ok "$pred" "$wall" 0.75 1.25 && ok || fail "predict $f: $pred s against a recorded $wall s (25% allowed)"
}
at_recorded mpi2.h5 2
at_recorded threads.h5 1
grep -q '^sweep' "$work/at.csv" && fail "predict --no-sweep printed a sweep" || ok
# --items stretches the loop: twice the items, about twice the time on the same node.
(cd "$data" && "$bin" predict mpi2.h5 --items 6000 --nodes 1 --ranks-per-node 2 --no-sweep --format csv) >"$work/at2.csv"
(cd "$data" && "$bin" predict mpi2.h5 --nodes 1 --ranks-per-node 2 --no-sweep --format csv) >"$work/at1.csv"
num_ok "$(col "$work/at2.csv" '$7=="1"' makespan_s)" "$(col "$work/at1.csv" '$7=="1"' makespan_s)" 1.6 2.4 \
  && ok || fail "predict --items 6000: not about twice the time of 3000 items"
(cd "$data" && "$bin" predict threads.h5 --latency-us 50 --no-sweep) >"$work/flag.txt"
grep -q '^  latency between nodes  50 us *flag' "$work/flag.txt" && ok || fail "predict --latency-us 50: not shown as a flag: $(grep latency "$work/flag.txt")"

# ---- HTML: well-formed (xmllint), with charts ----
if command -v xmllint >/dev/null; then
  for set in "threads.h5" "mpi2.h5" "threads.h5 mpi2.h5"; do
    out="$work/page.html"
    # shellcheck disable=SC2086
    if (cd "$data" && "$bin" html $set -o "$out"); then
      xmllint --noout "$out" 2>"$work/xml.err" && ok || fail "html ($set): not well-formed: $(head -5 "$work/xml.err")"
      [ "$(grep -c '<svg' "$out")" -ge 3 ] && ok || fail "html ($set): fewer than 3 SVG charts"
      grep -q 'http[s]*://[^"]*\.\(js\|css\)' "$out" && fail "html ($set) loads external resources" || ok
      # One prediction chart per run, with the knee.
      [ "$(grep -c 'aria-label="Predicted efficiency and speed-up by node count"' "$out")" = "$(echo $set | wc -w)" ] \
        && grep -q 'Worth requesting: [0-9]* node' "$out" && ok || fail "html ($set): no 'Prediction at scale' chart"
    else
      fail "html ($set) exited non-zero"
    fi
  done
else
  echo "note: xmllint missing (Debian: libxml2-utils): HTML not checked"
fi
# html --nodes and --ranks-per-node set the prediction's target.
(cd "$data" && "$bin" html mpi2.h5 --nodes 8 --ranks-per-node 4 -o "$work/scale.html") \
  && sed -n '/Prediction at scale/,/<\/figure>/p' "$work/scale.html" >"$work/scale.svg" \
  && grep -q 'nodes of 4 ranks' "$work/scale.svg" && grep -q '>8</text>' "$work/scale.svg" \
  && ! grep -q '>16</text>' "$work/scale.svg" \
  && ok || fail "html --nodes 8 --ranks-per-node 4: the prediction chart does not show them"

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
  for cmd in report chunks workers findings; do expect_rc 2 "$cmd" "$bad"; done
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
# simulate and predict: each bad value is named with what was expected.
expect_msg() { # WANT-IN-STDERR ARGS...: exit 64 and the message
  local want=$1; shift
  expect_rc 64 "$@"
  grep -qF -- "$want" "$work/rc.err" && ok || fail "amorsize $*: stderr lacks '$want': $(head -2 "$work/rc.err")"
}
m=(--items 100 --nodes 2 --ranks-per-node 2)
expect_msg "--shape 'square': expected uniform, increasing" simulate --shape square "${m[@]}"
expect_msg "--shape 'table': expected uniform" simulate --shape table "${m[@]}"
expect_msg "--items '-5': expected a whole number" simulate --shape uniform --items -5 --nodes 1 --ranks-per-node 1
expect_msg "--nodes '0': expected" simulate --shape uniform --items 10 --nodes 0 --ranks-per-node 1
expect_msg "--cv '11': expected" simulate --shape lognormal --cv 11 "${m[@]}"
expect_msg "--fraction '1.5': expected" simulate --shape bimodal --fraction 1.5 "${m[@]}"
expect_msg "--ratio '0.5': expected" simulate --shape bimodal --ratio 0.5 "${m[@]}"
expect_msg "apply to --shape bimodal" simulate --shape uniform --ratio 5 "${m[@]}"
expect_msg "--speed-spread '2': expected" simulate --shape uniform --speed-spread 2 "${m[@]}"
expect_msg "--latency-us 'x': expected" simulate --shape uniform --latency-us x "${m[@]}"
expect_msg "--bandwidth-gbs '0': expected" simulate --shape uniform --bandwidth-gbs 0 "${m[@]}"
expect_msg "--schedule 'fast': expected" simulate --shape uniform --schedule fast "${m[@]}"
expect_msg "--chunk needs --schedule" simulate --shape uniform --chunk 4 "${m[@]}"
expect_msg "--format 'xml': expected" simulate --shape uniform --format xml "${m[@]}"
expect_msg "--ranks-per-node is required" simulate --shape uniform --items 10 --nodes 2
expect_msg "unknown option '--bogus'" simulate --shape uniform --bogus "${m[@]}"
expect_msg "needs a profile file" predict --nodes 4
expect_msg "--nodes 'many': expected" predict "$data/mpi2.h5" --nodes many
expect_msg "--items '2.5': expected" predict "$data/mpi2.h5" --items 2.5
expect_msg "--nodes '0': expected" html "$data/mpi2.h5" --nodes 0 -o "$work/x.html"
expect_rc 2 predict "$work/truncated.h5"
expect_rc 2 predict "$work/missing.h5"
expect_rc 0 --help
expect_rc 0 --version
for cmd in report chunks workers findings compare html probe simulate predict; do
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
