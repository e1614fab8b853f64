#!/usr/bin/env bash
# Installs every build, test and benchmark dependency from Debian 12's
# repositories. Both README quick-start commands and .ci/run call this first,
# so a fresh machine needs nothing else. Idempotent: apt skips what is there.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries (all found by find_package / pkg-config, nothing vendored)
  libpcap-dev libnghttp2-dev libboost-dev nlohmann-json3-dev libspdlog-dev
  libfmt-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  # the oracle and the tools the tests drive
  p0f tcpdump tshark iproute2 curl wget openssl nghttp2-client procps time python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
