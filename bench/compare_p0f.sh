#!/usr/bin/env bash
# compare_p0f.sh [N_PACKETS]: p0f 3.09b vs huginn-profiler on one capture.
#
# Generates (once, cached in the build directory) a capture of N_PACKETS
# (default 1000000) with huginn_gen_bench_capture, then runs
#   p0f -r FILE -o LOG -m 1000,200000
#   huginn-profiler analyze --format p0f -m 1000,200000 -o LOG FILE
# alternately, 5 runs each, and prints a markdown table: median wall time,
# packets/s, the throughput ratio, peak RSS (/usr/bin/time %M, the largest
# of the runs) and record counts of each log. Finally compare_p0f.py checks
# that the last pair of logs hold the same records (HTTP records ignored).
#
# Environment: HUGINN_BUILD_DIR (default build/ beside this script's parent),
# HUGINN_BIN (default $HUGINN_BUILD_DIR/huginn-profiler), P0F_BIN
# (default /usr/sbin/p0f), HUGINN_BENCH_RUNS (default 5).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
packets="${1:-1000000}"
build="${HUGINN_BUILD_DIR:-$root/build}"
bin="${HUGINN_BIN:-$build/huginn-profiler}"
gen="$build/bench/huginn_gen_bench_capture"
p0f_bin="${P0F_BIN:-/usr/sbin/p0f}"
runs="${HUGINN_BENCH_RUNS:-5}"
limits="1000,200000"

for f in "$bin" "$gen" "$p0f_bin" /usr/bin/time; do
  [[ -x "$f" ]] || { echo "compare_p0f.sh: $f not found (build first?)" >&2; exit 2; }
done

capture="$build/bench/bench-$packets.pcap"
if [[ ! -s "$capture" || "$gen" -nt "$capture" ]]; then
  echo "generating $capture ..." >&2
  "$gen" "$capture.tmp" --packets "$packets" >&2
  mv "$capture.tmp" "$capture"
fi
frames=$(/usr/bin/python3 - "$capture" <<'PY'
import struct, sys
n = 0
with open(sys.argv[1], "rb") as f:
    magic = f.read(24)[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        f.seek(struct.unpack(end + "I", h[8:12])[0], 1)
        n += 1
print(n)
PY
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export TZ=UTC

# run NAME CMD...: appends "seconds rss_kib" to $work/NAME.times.
run() {
  local name=$1; shift
  local t0 t1
  rm -f "$work/$name.log"
  t0=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/$name.rss" "$@" >/dev/null 2>"$work/$name.err" || {
    echo "compare_p0f.sh: $name failed:" >&2; tail -5 "$work/$name.err" >&2; exit 1; }
  t1=$(date +%s%N)
  echo "$(( t1 - t0 )) $(tail -1 "$work/$name.rss")" >>"$work/$name.times"
}

for i in $(seq "$runs"); do
  echo "run $i/$runs ..." >&2
  run p0f "$p0f_bin" -r "$capture" -o "$work/p0f.log" -m "$limits"
  run ours "$bin" analyze --format p0f -m "$limits" -o "$work/ours.log" "$capture"
done

stats() {  # NAME -> "median_seconds max_rss_kib"
  sort -n "$work/$1.times" | awk '{t[NR]=$1; if ($2>m) m=$2}
    END {med = (NR % 2) ? t[(NR+1)/2] : (t[NR/2] + t[NR/2+1]) / 2; printf "%.3f %d\n", med/1e9, m}'
}
read -r p_s p_rss <<<"$(stats p0f)"
read -r o_s o_rss <<<"$(stats ours)"
p_recs=$(grep -c 'mod=' "$work/p0f.log" || true)
o_recs=$(grep -c 'mod=' "$work/ours.log" || true)

awk -v n="$frames" -v ps="$p_s" -v os="$o_s" -v pr="$p_rss" -v or="$o_rss" \
    -v pc="$p_recs" -v oc="$o_recs" -v runs="$runs" 'BEGIN {
  printf "\n%d packets, median of %d runs each (p0f -m 1000,200000)\n\n", n, runs
  printf "| tool | median wall s | packets/s | peak RSS MiB | records |\n"
  printf "|---|---:|---:|---:|---:|\n"
  printf "| p0f 3.09b | %.3f | %.0f | %.1f | %d |\n", ps, n/ps, pr/1024, pc
  printf "| huginn-profiler | %.3f | %.0f | %.1f | %d |\n", os, n/os, or/1024, oc
  printf "\nthroughput ratio huginn/p0f: %.2fx\n", ps/os
}'
echo
echo "records by kind (p0f / ours):"
for m in syn syn+ack mtu uptime "host change" "ip sharing" "http request" "http response"; do
  printf '  %-14s %8d %8d\n' "$m" "$(grep -c "mod=$m|" "$work/p0f.log" || true)" \
    "$(grep -c "mod=$m|" "$work/ours.log" || true)"
done
echo
echo "compare_p0f.py on the last pair:"
/usr/bin/python3 "$root/tests/golden/compare_p0f.py" --ignore-mods "http request,http response" \
  "$work/p0f.log" "$work/ours.log" | tail -1
