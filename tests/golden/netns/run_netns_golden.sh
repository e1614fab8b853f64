#!/usr/bin/env bash
# run_netns_golden.sh: records fresh captures with make_netns_captures.sh and
# compares huginn-profiler with p0f on each of them.
#
# For every capture:
#   1. p0f -r must show the personality the capture was made with
#      (check_netns_capture.py), so a capture that silently lost its sysctls
#      fails here rather than passing a comparison that tests nothing new;
#   2. tests/golden/run_golden.sh CAPTURE (p0f -r vs $HUGINN_BIN analyze
#      --format p0f) must report full agreement. With HUGINN_BIN unset (a
#      manual run to try the captures), p0f is compared with a second p0f run
#      instead, which checks only that the capture replays deterministically.
#
# Environment: HUGINN_BIN (the binary under test), NETNS_CAPTURE_DIR (optional:
# write and keep the captures there instead of a temporary directory).
# Exit 0 on success, 77 when the captures cannot be made (not root, no netns),
# 1 on any disagreement.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
golden_dir=$(cd "$here/.." && pwd)
export TZ=UTC

command -v p0f >/dev/null 2>&1 || { echo "run_netns_golden: SKIP: p0f not installed" >&2; exit 77; }

if [[ -n ${NETNS_CAPTURE_DIR:-} ]]; then
  capdir=$NETNS_CAPTURE_DIR
  mkdir -p "$capdir"
else
  capdir=$(mktemp -d "${TMPDIR:-/tmp}/huginn-netns-golden.XXXXXX")
  trap 'rm -rf "$capdir"' EXIT
fi

rc=0
bash "$here/make_netns_captures.sh" "$capdir" || rc=$?
if ((rc == 77)); then
  exit 77
elif ((rc != 0)); then
  echo "run_netns_golden: FAIL: make_netns_captures.sh exited $rc" >&2
  exit 1
fi

shopt -s nullglob
captures=("$capdir"/*.pcap)
((${#captures[@]} > 0)) || { echo "run_netns_golden: FAIL: no captures made" >&2; exit 1; }

have_golden=0
if [[ -n ${HUGINN_BIN:-} ]]; then
  [[ -x $HUGINN_BIN ]] || { echo "run_netns_golden: FAIL: HUGINN_BIN=$HUGINN_BIN is not executable" >&2; exit 1; }
  [[ -f $golden_dir/run_golden.sh ]] || { echo "run_netns_golden: FAIL: $golden_dir/run_golden.sh missing" >&2; exit 1; }
  have_golden=1
else
  echo "run_netns_golden: NOTE: HUGINN_BIN unset; validating the captures and comparing p0f with itself" >&2
fi

failures=0
for pcap in "${captures[@]}"; do
  name=$(basename "$pcap" .pcap)
  log="$capdir/$name.p0f"
  rm -f "$log"
  if ! p0f -r "$pcap" -o "$log" >"$capdir/$name.p0f-stdout" 2>&1; then
    echo "FAIL $name: p0f -r failed:" >&2
    tail -n 5 "$capdir/$name.p0f-stdout" >&2
    failures=$((failures + 1))
    continue
  fi
  if ! /usr/bin/python3 "$here/check_netns_capture.py" "$log" "$capdir/$name.expect" >&2; then
    echo "FAIL $name: the capture does not show its personality (p0f log above)" >&2
    failures=$((failures + 1))
    continue
  fi

  if ((have_golden)); then
    if ! bash "$golden_dir/run_golden.sh" "$pcap" >&2; then
      echo "FAIL $name: huginn-profiler disagrees with p0f" >&2
      failures=$((failures + 1))
      continue
    fi
  else
    again="$capdir/$name.p0f-again"
    rm -f "$again"
    p0f -r "$pcap" -o "$again" >/dev/null 2>&1
    if [[ -f $golden_dir/compare_p0f.py ]]; then
      same=(/usr/bin/python3 "$golden_dir/compare_p0f.py" "$log" "$again" --ignore-mods "http request,http response")
    else
      same=(diff -u "$log" "$again")
    fi
    if ! "${same[@]}" >&2; then
      echo "FAIL $name: two p0f runs over one capture differ" >&2
      failures=$((failures + 1))
      continue
    fi
  fi
  echo "ok   $name" >&2
done

if ((failures > 0)); then
  echo "run_netns_golden: $failures of ${#captures[@]} captures failed" >&2
  exit 1
fi
echo "run_netns_golden: all ${#captures[@]} captures agree" >&2
