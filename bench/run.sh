#!/usr/bin/env bash
# Benchmarks eventsift against the peer EVTX parsers on the same files, in the
# same session, and prints Markdown tables (docs/performance.md holds a run).
#   bench/run.sh                  # setup, release build, data, all tools
#   bench/run.sh --size-mb 500 --runs 5
#   bench/run.sh --no-setup       # skip scripts/setup.sh (packages present)
# Steps:
#   1. scripts/setup.sh --no-build (Debian packages: hyperfine, python3-evtx,
#      libevtx-utils, Google Benchmark, ...), then the release preset build;
#   2. `cargo install evtx` when evtx_dump is not on PATH or in ~/.cargo/bin
#      (needs cargo; skipped with a message otherwise);
#   3. bench/make_big_evtx.py: corpus-once.evtx (every clean corpus chunk once,
#      ~11 MB) and big.evtx (--size-mb, default 300), both without the CAPI2 and
#      MSExchange sources, which evtxexport and python-evtx cannot decode (they
#      would stop early and be credited with fewer records);
#   4. bench/peer_compare.py: eventsift dump (threads 1, 2) and scan (shipped
#      rules), evtx_dump -t 1/-t 2, evtxexport and python-evtx, on both files;
#   5. the evtx_bench microbenchmarks (DecodeEvtxBuffer, threads 1 and 2).
set -euo pipefail
cd "$(dirname "$0")/.."

size_mb=300
runs=3
setup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) size_mb="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    --no-setup) setup=0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$setup" -eq 1 ]; then
  scripts/setup.sh --no-build
fi
cmake --preset release >/dev/null
cmake --build --preset release --target eventsift
cmake --build --preset release --target evtx_bench 2>/dev/null || echo "bench/run.sh: evtx_bench not built (decoder entry point missing?)"

evtx_dump_bin=$(command -v evtx_dump || true)
[ -z "$evtx_dump_bin" ] && [ -x "$HOME/.cargo/bin/evtx_dump" ] && evtx_dump_bin="$HOME/.cargo/bin/evtx_dump"
if [ -z "$evtx_dump_bin" ]; then
  if command -v cargo >/dev/null; then
    cargo install evtx
    evtx_dump_bin="$HOME/.cargo/bin/evtx_dump"
  else
    echo "bench/run.sh: evtx_dump absent and no cargo: evtx_dump rows skipped" >&2
  fi
fi

py=/usr/bin/python3
[ -x "$py" ] || py=python3
work=build/release/bench-data
mkdir -p "$work"
excl=(--exclude '*CAPI2*' --exclude 'MSExchange*' --exclude 'issue_201*')
[ -f "$work/corpus-once.evtx" ] || "$py" bench/make_big_evtx.py --once "${excl[@]}" --out "$work/corpus-once.evtx"
big="$work/big-${size_mb}mb.evtx"
[ -f "$big" ] || "$py" bench/make_big_evtx.py --size-mb "$size_mb" "${excl[@]}" --out "$big"

echo
echo "## Machine"
echo
echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores online)"
echo "- RAM: $(free -g | awk '/^Mem:/{print $2}') GiB; kernel $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- eventsift $(git rev-parse --short HEAD 2>/dev/null || echo "(not a git checkout)") (release preset, RelWithDebInfo -O2), evtx_dump $("${evtx_dump_bin:-true}" --version 2>/dev/null | awk '{print $NF}'), $(evtxexport -V 2>/dev/null | head -1), python3-evtx $(dpkg-query -W -f='${Version}' python3-evtx 2>/dev/null)"
echo
echo "## Whole-process comparison (median of $runs runs; python-evtx 1 run)"
echo
"$py" bench/peer_compare.py --eventsift build/release/bin/eventsift --rules rules \
    ${evtx_dump_bin:+--evtx-dump "$evtx_dump_bin"} --runs "$runs" --python "$py" \
    "$work/corpus-once.evtx" "$big"
echo
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -x build/release/bench/evtx_bench ]; then
  echo
  echo "## evtx_bench (DecodeEvtxBuffer in memory, no output)"
  echo
  echo '```'
  build/release/bench/evtx_bench --benchmark_min_time=1 2>&1 | grep -v '^\*\*\*'
  echo '```'
fi
