#!/usr/bin/env bash
# Sets up a fresh machine and runs the whole test suite:
#   0. scripts/lint.sh after the release build: clang-format and clang-tidy
#      (the repo's .clang-format and .clang-tidy) hold;
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
if [ "${ES_SKIP_LINT:-0}" != 1 ]; then
  # The checks WarningsAsErrors lists (what fails); `scripts/lint.sh` alone
  # also counts the advisory ones.
  scripts/lint.sh --preset release --enforced-only  # needs the release compile_commands.json
fi
ctest --preset release -j "$jobs" --timeout 600

if [ "${ES_SKIP_ASAN:-0}" != 1 ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  # The differential suites compare output with other parsers (their time is
  # the peers' and the corpus's); the decoders meet ASan in evtx_test's
  # corpus-wide tests and the fuzzers.
  ctest --preset asan -j "$jobs" --timeout 900 -LE 'kafka|bench|differential'
fi

if [ "${ES_SKIP_FUZZ:-0}" != 1 ] && [ -x tests/fuzz/run.sh ]; then
  tests/fuzz/run.sh --seconds "${ES_FUZZ_SECONDS:-30}" --seconds-for lists_fuzzer="${ES_FUZZ_LISTS_SECONDS:-15}"
fi
echo "eventsift: all test stages passed"
