#!/usr/bin/env bash
# Two eventsift builds against each other on the same EVTX inputs, row by row.
# Single medians drift by 5-15 % on a shared VM (the same binary on the same
# file, minutes apart), more than the differences sought, so each row is
# measured in pairs: the old and the new binary back to back (which one goes
# first alternates), `--runs` pairs, CPU (task-clock) and wall time
# (duration_time) of each run from `perf stat`. A pair's ratio cancels the
# drift both runs share; the row reports the medians of the runs and the
# median of the pairs' ratios. Prints a Markdown table and the geometric
# means of the ratios. docs/performance.md, "Before and after issue 13".
#
#   bench/before_after.sh --old-build ../wt/before/build/release --old-rules ../wt/before/rules \
#       [--new-build build/release] [--work /tmp/perf_bench] [--runs 20] [--inputs "a b"]
#
# Inputs are bench/run's EVTX files in --work (NAME.evtx); make them with
# `bench/run --only evtx` first. Needs perf (Debian linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
old_build="" old_rules="" new_build=build/release work=/tmp/perf_bench runs=20
inputs="small-5mb kind-security-256mb kind-system-256mb kind-sysmon-256mb kind-application-256mb kind-powershell-256mb big-512mb"
while [ $# -gt 0 ]; do
  case "$1" in
    --old-build) old_build="$2"; shift ;;
    --old-rules) old_rules="$2"; shift ;;
    --new-build) new_build="$2"; shift ;;
    --work) work="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    --inputs) inputs="$2"; shift ;;
    *) echo "before_after.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$old_build" ] && [ -n "$old_rules" ] || { echo "before_after.sh: --old-build and --old-rules are required" >&2; exit 2; }
old="$old_build/bin/eventsift" new="$new_build/bin/eventsift"
for b in "$old" "$new"; do [ -x "$b" ] || { echo "before_after.sh: $b not built" >&2; exit 2; }; done
command -v perf >/dev/null || { echo "before_after.sh: perf not found (apt-get install linux-perf)" >&2; exit 2; }

# One run: "CPU-ms wall-ms" from perf stat's task-clock and duration_time.
one_run() {
  perf stat -x, -e task-clock,duration_time "$@" 2>&1 >/dev/null |
    awk -F, '$3 ~ /^task-clock/ {c = $1} $3 ~ /^duration_time/ {w = $1 / 1e6} END {print c, w}'
}
# Runs `--runs` pairs of (old, new) and prints "old-cpu new-cpu old-wall
# new-wall cpu-ratio wall-ratio" (medians; ratios old/new, median of pairs).
pairs() {
  local -n o_args=$1 n_args=$2
  local i a b
  for i in $(seq "$runs"); do
    if [ $((i % 2)) -eq 1 ]; then
      a=$(one_run "$old" "${o_args[@]}"); b=$(one_run "$new" "${n_args[@]}")
    else
      b=$(one_run "$new" "${n_args[@]}"); a=$(one_run "$old" "${o_args[@]}")
    fi
    echo "$a $b"
  done | python3 -c "
import statistics as st, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
m = lambda k: st.median(r[k] for r in rows)
print(m(0), m(2), m(1), m(3), st.median(r[0] / r[2] for r in rows), st.median(r[1] / r[3] for r in rows))"
}
echo "| input | command | threads | old CPU ms | new CPU ms | old wall ms | new wall ms | CPU old/new (pairs) | wall old/new (pairs) |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
ratios=()
for f in $inputs; do
  path="$work/$f.evtx"
  [ -f "$path" ] || { echo "before_after.sh: $path missing (run bench/run --only evtx first)" >&2; exit 2; }
  for cmd in dump scan; do
    for t in 1 2; do
      if [ "$cmd" = scan ]; then
        old_args=(scan --rules "$old_rules" --threads "$t" -q --no-progress --out /dev/null "$path")
        new_args=(scan --threads "$t" -q --no-progress --out /dev/null "$path")
      else
        old_args=(dump --format jsonl --threads "$t" "$path")
        new_args=("${old_args[@]}")
      fi
      read -r oc nc ow nw rc rw < <(pairs old_args new_args)
      row=$(python3 -c "print('| $f | $cmd | $t | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx |' % ($oc, $nc, $ow, $nw, $rc, $rw))")
      echo "$row"
      ratios+=("$(awk -F'|' '{gsub(/[ x]/,"",$9); gsub(/[ x]/,"",$10); print $9, $10}' <<<"$row")")
    done
  done
done
printf '%s\n' "${ratios[@]}" | python3 -c "
import math, sys
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
g = lambda v: math.exp(sum(map(math.log, v)) / len(v))
print('\ngeometric mean over %d rows: CPU old/new %.2fx, wall old/new %.2fx' % (len(rows), g([r[0] for r in rows]), g([r[1] for r in rows])))"
