#!/usr/bin/env bash
# Quick start (2): install dependencies, then build and run the whole test
# suite: release build, the same suite under ASan+UBSan, and every fuzz
# target for a bounded time under clang's libFuzzer. .ci/run calls this.
#
# HUGINN_FUZZ_SECONDS (default 20) bounds each fuzz target's run;
# HUGINN_SKIP_SANITIZERS=1 / HUGINN_SKIP_FUZZ=1 shorten a local run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

jobs=$(nproc)
step() { printf '\n==== %s ====\n' "$*"; }

step "release build"
cmake --preset release
cmake --build --preset release -j "$jobs"
step "release tests"
ctest --preset release -j "$jobs"

if [[ "${HUGINN_SKIP_SANITIZERS:-0}" != 1 ]]; then
  step "ASan+UBSan build"
  cmake --preset asan
  cmake --build --preset asan -j "$jobs"
  step "ASan+UBSan tests"
  ctest --preset asan -j "$jobs"
fi

if [[ "${HUGINN_SKIP_FUZZ:-0}" != 1 ]]; then
  step "fuzz targets (clang libFuzzer)"
  cmake --preset fuzz
  # Only the fuzz targets: the rest of the tree was built and tested twice
  # above, and a third full build (the server's Asio/Beast/TLS code) would
  # cost CI minutes for nothing the fuzzers run.
  targets=()
  for seeds in tests/fuzz/corpus/fuzz_*/; do targets+=("$(basename "$seeds")"); done
  cmake --build --preset fuzz -j "$jobs" --target "${targets[@]}"
  secs=${HUGINN_FUZZ_SECONDS:-20}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  for seeds in tests/fuzz/corpus/fuzz_*/; do
    name=$(basename "$seeds")
    # Fuzz on a scratch copy so new inputs do not dirty the tree; a crash
    # leaves its reproducer in $work and fails this script.
    mkdir -p "$work/$name"
    cp -r "$seeds". "$work/$name/"
    echo "-- $name for ${secs}s"
    "build-fuzz/tests/fuzz/$name" -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="$work/$name-" -rss_limit_mb=2048 "$work/$name" 2>&1 | tail -n 4
  done
  echo "fuzz: all targets ran ${secs}s without a crash"
fi
# The closing line of the suite (the release and ASan ctest runs above print
# their own summaries; any failure stops this script with a non-zero exit).
echo "huginn test suite: all steps passed"
