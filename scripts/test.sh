#!/usr/bin/env bash
# Sets up a fresh machine and runs the whole test suite:
#   0. scripts/lint.sh after the release build, beside its tests: clang-format
#      and clang-tidy (the repo's .clang-format and .clang-tidy) hold;
#   1. Debian packages (scripts/setup.sh), release build, all CTest tests
#      (unit, end-to-end, differential, and Kafka integration against a real
#      broker that deploy/kafka/kafka.sh fetches and starts);
#   2. the same suite under ASan+UBSan (preset asan; Kafka, bench and
#      differential tests excluded);
#   3. a short libFuzzer run of each decoder (preset fuzz).
# ES_SKIP_ASAN=1 / ES_SKIP_FUZZ=1 / ES_SKIP_LINT=1 skip stages 2 / 3 / 0 for a
# quick local loop.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh --preset release
lint_pid=""
lint_log=build/lint.log
if [ "${ES_SKIP_LINT:-0}" != 1 ]; then
  # The checks WarningsAsErrors lists (what fails); `scripts/lint.sh` alone
  # also counts the advisory ones. It runs beside the release tests, many of
  # which wait on a broker or a daemon rather than use a core; its log is
  # printed once it ends.
  scripts/lint.sh --preset release --enforced-only >"$lint_log" 2>&1 &  # needs the release compile_commands.json
  lint_pid=$!
fi
ctest_status=0
ctest --preset release -j "$jobs" --timeout 600 || ctest_status=$?
if [ -n "$lint_pid" ]; then
  lint_status=0
  wait "$lint_pid" || lint_status=$?
  cat "$lint_log"
  [ "$lint_status" -eq 0 ] || { echo "eventsift: lint failed" >&2; exit "$lint_status"; }
fi
[ "$ctest_status" -eq 0 ] || exit "$ctest_status"

if [ "${ES_SKIP_ASAN:-0}" != 1 ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  # The differential suites compare output with other parsers or a reference
  # path (their time is the peers' and the corpus's); the decoders meet ASan
  # in evtx_test's corpus-wide tests and the fuzzers, the Sigma engine in
  # e2e_sigma.
  ctest --preset asan -j "$jobs" --timeout 900 -LE 'kafka|bench|differential'
fi

if [ "${ES_SKIP_FUZZ:-0}" != 1 ] && [ -x tests/fuzz/run.sh ]; then
  tests/fuzz/run.sh --seconds "${ES_FUZZ_SECONDS:-30}" --seconds-for lists_fuzzer="${ES_FUZZ_LISTS_SECONDS:-15}"
fi
echo "eventsift: all test stages passed"
