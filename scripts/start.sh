#!/usr/bin/env bash
# Quick start (1): install dependencies, build the release binary and start
# the profiler on its defaults: live capture on every interface ("any"),
# Debian's p0f database at /etc/p0f/p0f.fp, observations logged to stderr.
# Extra arguments are passed to `huginn-profiler serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target huginn-profiler
exec build/huginn-profiler serve "$@"
