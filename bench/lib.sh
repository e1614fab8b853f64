# shellcheck shell=bash disable=SC2034  # the variables set here are for the sourcing script
# Shared by compare_p0f.sh and compare_app.sh; source it, do not run it.
#
# bench_init SCRIPT_NAME sets, from the environment:
#   root      repository root
#   build     HUGINN_BUILD_DIR (default $root/build)
#   bin       HUGINN_BIN (default $build/huginn-profiler)
#   gen       $build/bench/huginn_gen_bench_capture
#   p0f_bin   P0F_BIN (default /usr/sbin/p0f)
#   runs      HUGINN_BENCH_RUNS (default 5)
#   limits    the -m CONN,HOSTS both tools get (1000,200000)
#   work      a temporary directory, removed on exit
# and checks that the programs exist. Every log is written in UTC.

bench_init() {
  bench_name=$1
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  build="${HUGINN_BUILD_DIR:-$root/build}"
  bin="${HUGINN_BIN:-$build/huginn-profiler}"
  gen="$build/bench/huginn_gen_bench_capture"
  p0f_bin="${P0F_BIN:-/usr/sbin/p0f}"
  runs="${HUGINN_BENCH_RUNS:-5}"
  limits="1000,200000"
  local f
  for f in "$bin" "$gen" "$p0f_bin" /usr/bin/time; do
    [[ -x "$f" ]] || { echo "$bench_name: $f not found (build first?)" >&2; exit 2; }
  done
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  export TZ=UTC
}

# bench_capture PATH GENERATOR_ARGS...: writes PATH with the generator
# unless it exists and is newer than the generator (a rebuilt generator may
# write different bytes for the same seed). The generator's summary is kept
# in PATH.txt.
bench_capture() {
  local capture=$1; shift
  if [[ ! -s "$capture" || "$gen" -nt "$capture" || ! -s "$capture.txt" ]]; then
    echo "generating $capture ..." >&2
    "$gen" "$capture.tmp" "$@" 2>"$capture.txt.tmp" || {
      cat "$capture.txt.tmp" >&2; exit 1; }
    mv "$capture.txt.tmp" "$capture.txt"
    mv "$capture.tmp" "$capture"
  fi
  cat "$capture.txt" >&2
}

# bench_count_frames PCAP: the number of records in a classic pcap file.
bench_count_frames() {
  /usr/bin/python3 - "$1" <<'PY'
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
}

# bench_run NAME CMD...: runs CMD (stdout discarded) and appends
# "wall_nanoseconds peak_rss_kib cpu_seconds" (user + system) to
# $work/NAME.times; exits on failure. CPU time is the steadier figure on a
# machine shared with other work.
bench_run() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f "%M %U %S" -o "$work/$name.rss" "$@" >/dev/null 2>"$work/$name.err" || {
    echo "$bench_name: $name failed:" >&2; tail -5 "$work/$name.err" >&2; exit 1; }
  t1=$(date +%s%N)
  echo "$(( t1 - t0 )) $(tail -1 "$work/$name.rss" | awk '{printf "%d %.2f", $1, $2 + $3}')" \
    >>"$work/$name.times"
}

# bench_stats NAME: "median_wall_seconds max_rss_kib median_cpu_seconds"
# over NAME's runs.
bench_stats() {
  local med='function med(a, n) { return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }'
  paste <(cut -d' ' -f1 "$work/$1.times" | sort -n) <(cut -d' ' -f3 "$work/$1.times" | sort -n) \
        <(cut -d' ' -f2 "$work/$1.times") |
    awk "$med"' {t[NR]=$1; c[NR]=$2; if ($3>m) m=$3}
      END {printf "%.3f %d %.2f\n", med(t, NR)/1e9, m, med(c, NR)}'
}

# bench_p0f_kinds P0F_LOG OURS_LOG: record counts of each p0f module.
bench_p0f_kinds() {
  local m
  echo "records by kind, p0f format (p0f / ours):"
  for m in syn syn+ack mtu uptime "host change" "ip sharing" "http request" "http response"; do
    printf '  %-14s %8d %8d\n' "$m" "$(grep -c "mod=$m|" "$1" || true)" \
      "$(grep -c "mod=$m|" "$2" || true)"
  done
}

# bench_compare_logs P0F_LOG OURS_LOG [compare_p0f.py options]: the summary
# line of compare_p0f.py; returns its status.
bench_compare_logs() {
  local p=$1 o=$2 rc=0; shift 2
  /usr/bin/python3 "$root/tests/golden/compare_p0f.py" "$@" "$p" "$o" >"$work/compare.out" || rc=$?
  tail -1 "$work/compare.out"
  if [[ $rc -ne 0 ]]; then
    echo "first differences:"
    grep -v 'records compared' "$work/compare.out" | head -5
  fi
  return "$rc"
}

# bench_serve_start LOG ARGS...: starts `$bin serve ARGS...` in the
# background with its log in LOG, sets serve_pid, and waits (10 s at most)
# until the first --listen address answers /api/health. `serve_url` must be
# set to that address's base URL (http://127.0.0.1:PORT) beforehand.
bench_serve_start() {
  local log=$1; shift
  "$bin" serve "$@" >"$log" 2>&1 &
  serve_pid=$!
  local i
  for i in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "${serve_url:?}/api/health" && return 0
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$bench_name: the server did not come up:" >&2
  tail -5 "$log" >&2
  exit 1
}

# bench_serve_stop: SIGTERM to the server bench_serve_start started; waits.
bench_serve_stop() {
  [[ -n "${serve_pid:-}" ]] || return 0
  kill -TERM "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=
}

# bench_metric NAME: the value of one sample of the server's /metrics.
bench_metric() {
  curl -s --max-time 5 "$serve_url/metrics" | awk -v n="$1" '$1 == n {print $2; exit}'
}
