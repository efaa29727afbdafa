#!/usr/bin/env bash
# Kept for old notes and scripts: the benchmark command is bench/run
# (see docs/performance.md); all options pass through.
exec "$(dirname "$0")/run" "$@"
