#!/usr/bin/env bash
# run_golden.sh CAPTURE: p0f and huginn-profiler must log the same records.
#
# Runs `p0f -r CAPTURE -o p0f.log` and `$HUGINN_BIN analyze --format p0f -o
# ours.log CAPTURE` in a temporary directory (TZ=UTC: both print local
# time) and compares the logs with compare_p0f.py, HTTP records included.
# Environment: HUGINN_BIN (required),
# P0F_BIN (default /usr/sbin/p0f), HUGINN_P0F_FP (default /etc/p0f/p0f.fp),
# HUGINN_KEEP_LOGS=DIR to keep both logs. Exit 77 (skip) without p0f.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
capture="${1:?usage: run_golden.sh CAPTURE}"
p0f_bin="${P0F_BIN:-/usr/sbin/p0f}"
fp="${HUGINN_P0F_FP:-/etc/p0f/p0f.fp}"
: "${HUGINN_BIN:?HUGINN_BIN must point at huginn-profiler}"

if [[ ! -x "$p0f_bin" ]]; then
  echo "run_golden.sh: $p0f_bin not found; skipping" >&2
  exit 77
fi
[[ -r "$capture" ]] || { echo "run_golden.sh: cannot read $capture" >&2; exit 2; }
capture="$(cd "$(dirname "$capture")" && pwd)/$(basename "$capture")"
# Relative paths must survive the cd below.
[[ "$HUGINN_BIN" == */* ]] && HUGINN_BIN="$(cd "$(dirname "$HUGINN_BIN")" && pwd)/$(basename "$HUGINN_BIN")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export TZ=UTC

# p0f exits 0 after "All done"; its stdout is a human-readable dump we drop.
if ! "$p0f_bin" -f "$fp" -r "$capture" -o p0f.log >p0f.out 2>&1; then
  echo "run_golden.sh: p0f failed on $capture:" >&2
  tail -5 p0f.out >&2
  exit 1
fi
touch p0f.log
if ! "$HUGINN_BIN" analyze -f "$fp" --format p0f -o ours.log "$capture"; then
  echo "run_golden.sh: huginn-profiler analyze failed on $capture" >&2
  exit 1
fi

status=0
/usr/bin/python3 "$here/compare_p0f.py" p0f.log ours.log || status=$?
if [[ -n "${HUGINN_KEEP_LOGS:-}" ]]; then
  mkdir -p "$HUGINN_KEEP_LOGS"
  name="$(basename "$capture")"
  cp p0f.log "$HUGINN_KEEP_LOGS/$name.p0f.log"
  cp ours.log "$HUGINN_KEEP_LOGS/$name.ours.log"
fi
exit "$status"
