#!/usr/bin/env bash
# Installs what Huginn needs from Debian 12's repositories; nothing is
# vendored or downloaded at build time.
#   install-deps.sh          build and run: toolchain, libraries, p0f (its
#                            database /etc/p0f/p0f.fp is our default)
#   install-deps.sh --test   also the oracle and clients the test suite drives,
#                            and headless browsers (~0.9 GB)
# Both README quick-start commands and .ci/run call this first. Idempotent:
# only missing packages are fetched.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries (all found by find_package / pkg-config)
  libpcap-dev libnghttp2-dev libboost-dev nlohmann-json3-dev libspdlog-dev
  libfmt-dev libssl-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  # the fingerprint database
  p0f
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(
    # the oracle's companions and the clients the tests drive
    tcpdump tshark iproute2 curl wget openssl nghttp2-client nghttp2-server procps
    time python3
    # promtool checks /metrics
    prometheus
    # Node's http2 client drives RFC 8441 WebSockets; puppeteer-core drives the browsers
    nodejs
    # real browsers as fingerprint sources, run headless; tests/browser drives
    # them with puppeteer-core, installed by `npm ci` from its lock file
    chromium firefox-esr
  )
  # Debian's npm, unless a nodejs that bundles its own npm (NodeSource's,
  # which conflicts with Debian's npm package) is already installed.
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # With recommends: headless Chromium and Firefox are tested that way.
  apt-get install -y -qq "${missing[@]}"
fi
