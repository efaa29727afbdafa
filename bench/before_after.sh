#!/usr/bin/env bash
# Two eventsift builds against each other on the same EVTX inputs, row by row,
# with less noise than one hyperfine median: for each (input, command,
# threads), `perf stat -r R` of the old and the new binary alternately, twice
# each, and R timed runs for wall time; the lower of the two means is kept.
# Prints a Markdown table (CPU = task-clock ms, wall ms, old/new ratios) and
# the geometric means. docs/performance.md, "Before and after issue 13".
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

cpu_ms() { perf stat -x, -e task-clock -r "$runs" "$@" 2>&1 >/dev/null | grep task-clock | cut -d, -f1; }
wall_ms() {
  local start; start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
  echo $(( ($(date +%s%N) - start) / runs / 1000 ))  # microseconds
}
echo "| input | command | threads | old CPU ms | new CPU ms | old wall ms | new wall ms | CPU old/new | wall old/new |"
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
      oc1=$(cpu_ms "$old" "${old_args[@]}"); nc1=$(cpu_ms "$new" "${new_args[@]}")
      oc2=$(cpu_ms "$old" "${old_args[@]}"); nc2=$(cpu_ms "$new" "${new_args[@]}")
      ow1=$(wall_ms "$old" "${old_args[@]}"); nw1=$(wall_ms "$new" "${new_args[@]}")
      ow2=$(wall_ms "$old" "${old_args[@]}"); nw2=$(wall_ms "$new" "${new_args[@]}")
      row=$(python3 -c "
oc=min($oc1,$oc2); nc=min($nc1,$nc2); ow=min($ow1,$ow2)/1000; nw=min($nw1,$nw2)/1000
print('| $f | $cmd | $t | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx |' % (oc, nc, ow, nw, oc/nc, ow/nw))")
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
