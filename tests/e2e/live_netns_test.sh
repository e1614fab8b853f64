#!/usr/bin/env bash
# live_netns_test.sh [jsonl|p0f]
#
# `huginn-profiler serve -i VETH` on a real Ethernet-framed link: two network
# namespaces made here (client, server) joined by a veth pair and addressed
# from the documentation ranges 192.0.2.0/24 (RFC 5737) and 2001:db8::/64
# (RFC 3849). The profiler and a dual-stack HTTP server run in the server
# namespace; curl runs in the client namespace. Checks as in
# live_capture_test.sh: warm-up requests (from 192.0.2.3) until the capture
# is live, then three requests each over IPv4 and IPv6 whose syn, syn+ack and
# mtu records must reach the log, then exit status 0 within 2 s of SIGTERM.
# With "p0f", `p0f -i VETH` runs beside it and must log the same records.
#
# Root only; exits 77 without root or `ip netns`. The namespaces carry the PID
# and a random tag and are deleted by the EXIT trap.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode=${1:-jsonl}
[[ $mode == jsonl || $mode == p0f ]] || fail "usage: $0 [jsonl|p0f]"
e2e_name+=".$mode"

require_bin
require_root
require_tools curl ip
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"
[[ $mode == jsonl ]] || require_tools p0f
export TZ=UTC

make_netns_pair netns 192.0.2.1 2001:db8::1 192.0.2.2 2001:db8::2
ip -n "$cns" addr add 192.0.2.3/24 dev vc

start_http_server "$sns" "$work/www" "$work/http.log"
pids+=("$http_pid")
filter="tcp port $http_port"

out="$work/huginn.$mode"
ip netns exec "$sns" "$HUGINN_BIN" serve -i vs --listen none --tls-listen none -o "$out" --format "$mode" "$filter" \
  >"$work/serve.stdout" 2>"$work/serve.stderr" &
serve_pid=$!
pids+=("$serve_pid")

p0f_log="$work/p0f.log"
if [[ $mode == p0f ]]; then
  ip netns exec "$sns" p0f -i vs -o "$p0f_log" "$filter" >"$work/p0f.stdout" 2>&1 &
  p0f_pid=$!
  pids+=("$p0f_pid")
fi

serve_died() {
  kill -0 "$serve_pid" 2>/dev/null && return 1
  local rc=0
  wait "$serve_pid" || rc=$?
  fail "serve exited early with status $rc: $(tail -n 5 "$work/serve.stderr")"
}

sees() { # PORT
  check_records --quiet "$mode" "$out" "$http_port" "192.0.2.3/$1>192.0.2.2" || return 1
  [[ $mode == jsonl ]] || check_records --quiet p0f "$p0f_log" "$http_port" "192.0.2.3/$1>192.0.2.2"
}
ready=0
for attempt in $(seq 1 20); do
  serve_died || true
  port=$(curl_conn "$cns" "http://192.0.2.2:$http_port/" --interface 192.0.2.3) ||
    fail "warm-up request failed"
  if poll_until 1 sees "$port"; then ready=1; break; fi
done
((ready)) || fail "no records for warm-up connections after 20 tries; stderr: $(tail -n 5 "$work/serve.stderr")"
note "capture live after $attempt warm-up request(s)"

conns=()
ports=()
for _ in 1 2 3; do
  port=$(curl_conn "$cns" "http://192.0.2.2:$http_port/" --interface 192.0.2.1) ||
    fail "curl over IPv4 failed"
  conns+=("192.0.2.1/$port>192.0.2.2"); ports+=("$port")
  sleep 0.06
  port=$(curl_conn "$cns" "http://[2001:db8::2]:$http_port/") || fail "curl over IPv6 failed"
  conns+=("2001:db8::1/$port>2001:db8::2"); ports+=("$port")
  sleep 0.06
done

finish_live_check vs

note "ok: ${#conns[@]} connections logged, clean exit on SIGTERM"
