#!/usr/bin/env bash
# Installs every Debian package eventsift needs (idempotent; Debian 12, as root
# or with sudo) and builds the release preset.
#   scripts/setup.sh              # packages + release build
#   scripts/setup.sh --no-build   # packages only
#   scripts/setup.sh --preset dev # packages + another preset
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --preset) preset="$2"; shift ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# Build dependencies.
packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-program-options-dev libboost-dev
  libsimdjson-dev libre2-dev libhyperscan-dev librdkafka-dev libyaml-cpp-dev
  libfmt-dev libspdlog-dev libcpp-httplib-dev libxxhash-dev zlib1g-dev libdeflate-dev libzstd-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # Tests: schema validation, EVTX oracles, Kafka tools, fuzzing and lint.
  python3 python3-jsonschema python3-yaml python3-evtx libevtx-utils kcat python3-confluent-kafka openssl
  rsyslog rsyslog-openssl rsyslog-relp librelp-dev
  clang libclang-rt-14-dev clang-format clang-tidy chromium
  default-jre-headless maven curl procps hyperfine time
  # The libraries syslog-ng (unpacked below) runs with.
  libivykis0 libnet1 libpcre3 libwrap0 libjson-c5 libcurl4 libglib2.0-0
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Java and Maven may come from outside Debian's packages on some machines.
if command -v java >/dev/null && command -v mvn >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in default-jre-headless|maven) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all Debian packages present" >&2
fi

# evtx_dump 0.15.1 (crates.io `evtx`), the XML differential's reference
# renderer, built with cargo into ~/.cargo/bin once (about 4 minutes on
# 2 cores); kept when that version is already there.
evtx_version=0.15.1
cargo_pid=""
evtx_dump_bin="$(command -v evtx_dump || echo "$HOME/.cargo/bin/evtx_dump")"
if "$evtx_dump_bin" --version 2>/dev/null | grep -qw "$evtx_version"; then
  echo "setup: evtx_dump $evtx_version present" >&2
else
  cargo_bin="$(command -v cargo || echo "$HOME/.cargo/bin/cargo")"
  if [ -x "$cargo_bin" ]; then
    # Built beside the release build (cargo waits on the network and on
    # one-crate steps that leave cores idle); waited for below.
    echo "setup: installing evtx_dump $evtx_version with cargo (log: build/evtx-install.log)" >&2
    mkdir -p build
    "$cargo_bin" install evtx --version "$evtx_version" --locked --quiet >build/evtx-install.log 2>&1 &
    cargo_pid=$!
  else
    echo "setup: cargo not found: evtx_dump $evtx_version not installed;" \
         "evtx_xml_differential and e2e_evtx_writer will skip (and fail under CI=true)" >&2
  fi
fi

# syslog-ng's http() destination is the real sender of the http source's
# test (tests/e2e/http_source_e2e_test.py). Debian's syslog-ng-core conflicts
# with rsyslog (both are the system log daemon; rsyslog is a test sender too),
# so its two packages are unpacked, not installed, and the test runs it from
# there unprivileged with its own config.
sng_dir="${ES_SYSLOG_NG_DIR:-$HOME/.cache/eventsift/syslog-ng}"
if [ -x "$sng_dir/usr/sbin/syslog-ng" ] && [ -f "$sng_dir/usr/lib/syslog-ng/3.38/libhttp.so" ]; then
  echo "setup: syslog-ng unpacked in $sng_dir" >&2
else
  echo "setup: unpacking syslog-ng-core and syslog-ng-mod-http into $sng_dir" >&2
  sng_tmp="$(mktemp -d)"
  (cd "$sng_tmp" && apt-get download -qq syslog-ng-core syslog-ng-mod-http)
  mkdir -p "$sng_dir"
  for deb in "$sng_tmp"/*.deb; do dpkg-deb -x "$deb" "$sng_dir"; done
  rm -rf "$sng_tmp"
fi

if [ "$build" -eq 1 ]; then
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
fi

if [ -n "$cargo_pid" ]; then
  if wait "$cargo_pid"; then
    echo "setup: evtx_dump $evtx_version installed" >&2
  else
    cat build/evtx-install.log >&2
    echo "setup: cargo install evtx $evtx_version failed (log above)" >&2
    exit 1
  fi
fi
