#!/usr/bin/env bash
# live_capture_test.sh [jsonl|p0f]
#
# `huginn-profiler serve -i lo` against real curl traffic on loopback:
#   - a dual-stack HTTP server on an ephemeral port, a capture filtered to it;
#   - warm-up requests from 127.0.0.2 until the capture is seen to be running
#     (so the hosts under test, 127.0.0.1 and ::1, are new to the profiler
#     when their first SYN arrives);
#   - three requests each over 127.0.0.1 and [::1], >= 60 ms apart; the log
#     must get syn, syn+ack and both mtu records of each with the right
#     client and server strings (check_live_records.py);
#   - SIGTERM must stop the binary with exit status 0 within 2 s.
# With "p0f", the log is in p0f format and `p0f -i lo` runs beside it on the
# same filter: its records for the six connections must equal ours
# (tests/golden/compare_p0f.py).
#
# Root only (live capture); exits 77 otherwise.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode=${1:-jsonl}
[[ $mode == jsonl || $mode == p0f ]] || fail "usage: $0 [jsonl|p0f]"
e2e_name+=".$mode"

require_bin
require_root
require_tools curl
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"
[[ $mode == jsonl ]] || require_tools p0f
export TZ=UTC

make_workdir live

start_http_server "" "$work/www" "$work/http.log"
pids+=("$http_pid")
filter="tcp port $http_port"

out="$work/huginn.$mode"
"$HUGINN_BIN" serve -i lo --listen none --tls-listen none -o "$out" --format "$mode" "$filter" \
  >"$work/serve.stdout" 2>"$work/serve.stderr" &
serve_pid=$!
pids+=("$serve_pid")

p0f_log="$work/p0f.log"
if [[ $mode == p0f ]]; then
  p0f -i lo -o "$p0f_log" "$filter" >"$work/p0f.stdout" 2>&1 &
  p0f_pid=$!
  pids+=("$p0f_pid")
fi

serve_died() {
  kill -0 "$serve_pid" 2>/dev/null && return 1
  local rc=0
  wait "$serve_pid" || rc=$?
  fail "serve exited early with status $rc: $(tail -n 5 "$work/serve.stderr")"
}

# A capture is live once it logs a warm-up connection; p0f too, in p0f mode.
sees() { # PORT
  check_records --quiet "$mode" "$out" "$http_port" "127.0.0.2/$1>127.0.0.2" || return 1
  [[ $mode == jsonl ]] || check_records --quiet p0f "$p0f_log" "$http_port" "127.0.0.2/$1>127.0.0.2"
}
ready=0
for attempt in $(seq 1 20); do
  serve_died || true
  port=$(curl_conn "" "http://127.0.0.2:$http_port/" --interface 127.0.0.2) ||
    fail "warm-up request failed"
  if poll_until 1 sees "$port"; then ready=1; break; fi
done
((ready)) || fail "no records for warm-up connections after 20 tries; stderr: $(tail -n 5 "$work/serve.stderr")"
note "capture live after $attempt warm-up request(s)"

conns=()
ports=()
for _ in 1 2 3; do
  port=$(curl_conn "" "http://127.0.0.1:$http_port/") || fail "curl over IPv4 failed"
  conns+=("127.0.0.1/$port>127.0.0.1"); ports+=("$port")
  sleep 0.06
  port=$(curl_conn "" "http://[::1]:$http_port/") || fail "curl over IPv6 failed"
  conns+=("::1/$port>::1"); ports+=("$port")
  sleep 0.06
done

finish_live_check lo

note "ok: ${#conns[@]} connections logged, clean exit on SIGTERM"
