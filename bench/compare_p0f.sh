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
# (default /usr/sbin/p0f), HUGINN_BENCH_RUNS (default 5). See lib.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_init compare_p0f.sh

packets="${1:-1000000}"
capture="$build/bench/bench-$packets.pcap"
bench_capture "$capture" --packets "$packets"
frames=$(bench_count_frames "$capture")

for i in $(seq "$runs"); do
  echo "run $i/$runs ..." >&2
  rm -f "$work/p0f.log" "$work/ours.log"  # p0f -o appends
  bench_run p0f "$p0f_bin" -r "$capture" -o "$work/p0f.log" -m "$limits"
  bench_run ours "$bin" analyze --format p0f -m "$limits" -o "$work/ours.log" "$capture"
done

read -r p_s p_rss p_cpu <<<"$(bench_stats p0f)"
read -r o_s o_rss o_cpu <<<"$(bench_stats ours)"
p_recs=$(grep -c 'mod=' "$work/p0f.log" || true)
o_recs=$(grep -c 'mod=' "$work/ours.log" || true)

awk -v n="$frames" -v ps="$p_s" -v os="$o_s" -v pr="$p_rss" -v or="$o_rss" \
    -v pc="$p_recs" -v oc="$o_recs" -v pu="$p_cpu" -v ou="$o_cpu" -v runs="$runs" 'BEGIN {
  printf "\n%d packets, median of %d runs each (p0f -m 1000,200000)\n\n", n, runs
  printf "| tool | median wall s | packets/s | median CPU s | peak RSS MiB | records |\n"
  printf "|---|---:|---:|---:|---:|---:|\n"
  printf "| p0f 3.09b | %.3f | %.0f | %.2f | %.1f | %d |\n", ps, n/ps, pu, pr/1024, pc
  printf "| huginn-profiler | %.3f | %.0f | %.2f | %.1f | %d |\n", os, n/os, ou, or/1024, oc
  printf "\nthroughput ratio huginn/p0f: %.2fx (CPU time: %.2fx)\n", ps/os, pu/ou
}'
echo
bench_p0f_kinds "$work/p0f.log" "$work/ours.log"
echo
echo "compare_p0f.py on the last pair:"
bench_compare_logs "$work/p0f.log" "$work/ours.log" --ignore-mods "http request,http response"
