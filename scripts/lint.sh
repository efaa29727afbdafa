#!/usr/bin/env bash
# Checks that the rules in .clang-format and .clang-tidy hold (scripts/test.sh
# runs it after the release build):
#   1. clang-format --dry-run --Werror on every tracked C++ file;
#   2. clang-tidy (the repo's .clang-tidy) on every translation unit of src/
#      and parsers/, using build/<preset>/compile_commands.json. The checks in
#      WarningsAsErrors fail the run; the other checks are advice, counted.
#   scripts/lint.sh                 # both, preset release, every check
#   scripts/lint.sh --enforced-only # clang-tidy runs only the checks listed in
#       WarningsAsErrors (what scripts/test.sh runs: the advisory checks cost
#       about 60% of clang-tidy's time and fail nothing)
#   scripts/lint.sh --format-only   # only clang-format (no build needed)
#   scripts/lint.sh --fix-format    # rewrite files with clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
mode=all
enforced_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --format-only) mode=format ;;
    --fix-format) mode=fix ;;
    --enforced-only) enforced_only=1 ;;
    --preset) preset="$2"; shift ;;
    *) echo "lint.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

mapfile -t cxx_files < <(git ls-files '*.cc' '*.h')
if [ "$mode" = fix ]; then
  clang-format -i "${cxx_files[@]}"
  exit 0
fi

if ! clang-format --dry-run --Werror "${cxx_files[@]}" 2>/tmp/eventsift-format.$$; then
  head -40 /tmp/eventsift-format.$$ >&2
  echo "lint: clang-format: $(grep -c 'error:' /tmp/eventsift-format.$$) lines differ from .clang-format (scripts/lint.sh --fix-format rewrites them)" >&2
  rm -f /tmp/eventsift-format.$$
  exit 1
fi
rm -f /tmp/eventsift-format.$$
echo "lint: clang-format: ${#cxx_files[@]} files clean"

# Includes run one way (source -> decoder -> event -> detect -> correlate ->
# sink): the decoders and the layers below them include nothing that drives
# them.
upward=$(git grep -nE '#include "src/(pipeline|detect|correlate|alert|spool|sink|report|daemon|app)/' \
  -- 'parsers/' 'src/core/' 'src/event/' 'src/decoder/' || true)
if [ -n "$upward" ]; then
  echo "$upward" >&2
  echo "lint: layering: the includes above point upward (docs/architecture.md)" >&2
  exit 1
fi
echo "lint: layering: parsers/, src/{core,event,decoder}/ include nothing above them"
[ "$mode" = format ] && exit 0

db="build/$preset"
[ -f "$db/compile_commands.json" ] || { echo "lint: $db/compile_commands.json missing: build the $preset preset first" >&2; exit 2; }
mapfile -t tidy_files < <(git ls-files 'src/*.cc' 'parsers/*.cc')
out=$(mktemp -d)
checks_arg=""
if [ "$enforced_only" = 1 ]; then
  enforced=$(sed -n "s/^WarningsAsErrors: *'\(.*\)'.*/\1/p" .clang-tidy)
  [ -n "$enforced" ] || { echo "lint: no WarningsAsErrors in .clang-tidy" >&2; exit 2; }
  checks_arg="--checks=-*,$enforced"
fi
# One clang-tidy per file, nproc at a time; each writes its own log so output
# does not interleave.
printf '%s\n' "${tidy_files[@]}" | xargs -P "$(nproc)" -I{} sh -c \
  'clang-tidy -p "$1" --quiet $4 "$2" >"$3/$(echo "$2" | tr / _).log" 2>&1 || echo "$2" >>"$3/failed"' _ "$db" {} "$out" "$checks_arg"
warnings=$(cat "$out"/*.log | grep -c ': warning:' || true)
if [ -s "$out/failed" ]; then
  grep -h -B2 -A6 ': error:' "$out"/*.log | head -80 >&2 || true
  echo "lint: clang-tidy: $(wc -l <"$out/failed") file(s) with errors (checks in .clang-tidy WarningsAsErrors):" >&2
  sed 's/^/  /' "$out/failed" >&2
  rm -rf "$out"
  exit 1
fi
rm -rf "$out"
if [ "$enforced_only" = 1 ]; then
  echo "lint: clang-tidy: ${#tidy_files[@]} translation units, no errors (enforced checks only: $enforced)"
else
  echo "lint: clang-tidy: ${#tidy_files[@]} translation units, no errors (${warnings} advisory warnings)"
fi
