#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang, ASan+UBSan, coverage) and
# runs each for N seconds from a seed corpus made from tests/data and the
# shared corpus. Prints executions and crashes per target; exits non-zero if
# any target crashed (or leaked, timed out, or ran out of memory).
#   tests/fuzz/run.sh --seconds 30               # what scripts/test.sh runs
#   tests/fuzz/run.sh --seconds 600 --parallel   # both targets at once
#   tests/fuzz/run.sh --seconds 60 --only evtx_fuzzer
#   tests/fuzz/run.sh --seconds 30 --seconds-for lists_fuzzer=15
#       # per-target duration (repeatable); what scripts/test.sh runs: the
#       # list parsers are small and fast, 15 s covers them
#   tests/fuzz/run.sh --seconds 60 --timeout 5 --rss-limit-mb 1024 --malloc-limit-mb 256
#       # per-input limits (defaults 10 s, 2048 MB resident, 512 MB one allocation)
#   tests/fuzz/run.sh --seconds 600 --keep-going # fork mode: go on after a
#       crash (each crash input is kept) and count them; for long runs
# New interesting inputs accumulate in build/fuzz/fuzz-run/corpus/<target>
# between runs; crash inputs land in build/fuzz/fuzz-run/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=30
parallel=0
keep_going=0
only=""
rss_mb=2048
malloc_mb=512
timeout_s=10
declare -A seconds_for  # target -> seconds, overriding --seconds
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift ;;
    --parallel) parallel=1 ;;
    --keep-going) keep_going=1 ;;
    --only) only="$2"; shift ;;
    --seconds-for)
      case "$2" in
        *_fuzzer=[0-9]*) seconds_for[${2%%=*}]="${2#*=}" ;;
        *) echo "run.sh: --seconds-for wants TARGET=SECONDS, e.g. lists_fuzzer=15" >&2; exit 2 ;;
      esac
      shift ;;
    --rss-limit-mb) rss_mb="$2"; shift ;;
    --malloc-limit-mb) malloc_mb="$2"; shift ;;
    --timeout) timeout_s="$2"; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzzers

build=build/fuzz
work="$build/fuzz-run"
mkdir -p "$work/artifacts" "$work/logs"
python3 tests/fuzz/make_seed_corpus.py --out "$work/seeds"

targets=()
for t in evtx_fuzzer json_fuzzer lists_fuzzer; do
  [ -n "$only" ] && [ "$only" != "$t" ] && continue
  if [ -x "$build/fuzz/$t" ]; then
    targets+=("$t")
  else
    echo "run.sh: $t not built (its decoder entry point or source is missing), skipped"
  fi
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets built"
  exit 0
fi

target_seconds() { echo "${seconds_for[$1]:-$seconds}"; }

run_one() {
  local t="$1" fmt="${1%_fuzzer}"
  local dict=()
  [ -f "tests/fuzz/$fmt.dict" ] && dict=(-dict="tests/fuzz/$fmt.dict")
  local mode=()
  [ "$keep_going" -eq 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  mkdir -p "$work/corpus/$t"
  # Per-input limits, each a failure (a crash input is kept): -timeout, one
  # input running longer (a hang); -rss_limit_mb, the process's resident
  # memory passing it (an input that makes memory grow); -malloc_limit_mb,
  # a single allocation larger than it (an unbounded size taken from the
  # input). The decoders' own bounds (docs/operations.md) keep far below.
  "$build/fuzz/$t" -max_total_time="$(target_seconds "$t")" -rss_limit_mb="$rss_mb" \
      -malloc_limit_mb="$malloc_mb" -timeout="$timeout_s" \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" "${dict[@]}" "${mode[@]}" \
      "$work/corpus/$t" "$work/seeds/$fmt" >"$work/logs/$t.log" 2>&1
}

declare -A rc
if [ "$parallel" -eq 1 ]; then
  declare -A pids
  for t in "${targets[@]}"; do run_one "$t" & pids[$t]=$!; done
  for t in "${targets[@]}"; do
    if wait "${pids[$t]}"; then rc[$t]=0; else rc[$t]=$?; fi
  done
else
  for t in "${targets[@]}"; do
    if run_one "$t"; then rc[$t]=0; else rc[$t]=$?; fi
  done
fi

failed=0
printf '\n%-14s %8s %14s %10s %8s %8s  %s\n' target seconds executions exec/s corpus crashes status
for t in "${targets[@]}"; do
  log="$work/logs/$t.log"
  if [ "$keep_going" -eq 1 ]; then
    # Fork mode prints "#N: cov: .. exec/s S oom/timeout/crash: a/b/c time: ..".
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
    execs=$(echo "$last" | sed -E 's/^#([0-9]+):.*/\1/')
    speed=$(echo "$last" | sed -nE 's/.*exec\/s ([0-9]+).*/\1/p')
    crashes=$(echo "$last" | sed -nE 's/.*oom\/timeout\/crash: ([0-9]+)\/([0-9]+)\/([0-9]+).*/\1 \2 \3/p' \
              | awk '{print $1+$2+$3}')
    crashes=${crashes:-0}
  else
    execs=$(awk '/stat::number_of_executed_units:/{v=$2} END{print v}' "$log")
    speed=$(awk '/stat::average_exec_per_sec:/{v=$2} END{print v}' "$log")
    crashes=$(grep -cE '^==[0-9]+==ERROR|^SUMMARY: (Address|Undefined|Leak)|ERROR: libFuzzer' "$log" || true)
  fi
  corpus=$(ls "$work/corpus/$t" | wc -l)
  status=ok
  if [ "${rc[$t]}" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    status="FAILED (exit ${rc[$t]}; see $log and $work/artifacts/)"
    failed=1
    [ "$crashes" -gt 0 ] || crashes=1
  fi
  printf '%-14s %8s %14s %10s %8s %8s  %s\n' "$t" "$(target_seconds "$t")" "${execs:-?}" "${speed:-?}" "$corpus" "$crashes" "$status"
done
if [ "$failed" -ne 0 ]; then
  for t in "${targets[@]}"; do
    [ "${rc[$t]}" -ne 0 ] && { echo "--- $t (last lines)"; tail -40 "$work/logs/$t.log"; }
  done
  exit 1
fi
