#!/usr/bin/env bash
# realtime_faults_test.sh [visitors|capture]
#
# Real-time delivery under network faults (issue 5, "network failure
# simulation"): two network namespaces made here (client, server) joined by
# a veth pair, addressed from private ranges (10.77.0.0/24, RFC 1918;
# fd00:77::/64, RFC 4193). `huginn-profiler serve` runs in the server
# namespace: with "visitors" (the default) --no-capture, so its own visitors
# make the profiles; with "capture" also capturing on its veth end, so the
# SYNs, SYN+ACKs and requests it sees on the wire make changes too, from a
# second writer thread. In the client namespace run resuming clients
# (sse_resume_client.py):
#   - sse:   /events over IPv4 as EventSource does (retry:, Last-Event-ID);
#   - proxy: the same through a proxy this test controls, which cuts the
#            stream in the middle of a `data:` line;
#   - ws:    /ws resuming with ?last_event_id= (when the build has /ws);
#   - poll:  /api/profiles?since=&wait= over IPv6.
# A generator makes visitor connections from 60 addresses added to the
# client's veth (50 IPv4, 10 IPv6) while these faults happen:
#   1. `ss -K` in the server namespace kills the clients' connections, twice,
#      with events flowing;
#   2. packet loss and delay on both veth ends: tc netem (loss 10%, delay
#      50 ms +-20 ms) where the kernel has sch_netem, else 10% loss with
#      nftables and a 2 Mbit/s tbf; with one more `ss -K` under it;
#   3. the proxy cuts an event in half;
#   4. serve is stopped and started again on the same addresses: an empty
#      store whose sequence numbers start again, so the clients must get a
#      `reset` and drop every profile of the old run. After the restart only
#      a third of the addresses connect again.
# Then every client's table must equal GET /api/profiles (same IPs, same seq
# per IP: nothing lost, nothing stale), and each client's log must show no
# (ip, seq) applied twice, ids strictly increasing within each server
# lifetime, the expected number of resets, and (proxy) nothing of the cut
# event applied before the cut.
#
# The restarted server makes more changes than the first run did before
# the clients come back. Were seqs to start again at 1, the clients'
# Last-Event-ID / since= would then look valid to the new run, no reset
# would come, and they would keep profiles of the old run; seqs start at
# the run's start time instead (StoreConfig::first_seq), and this checks it.
#
# Root only; exits 77 without root, `ip netns`, ss, or a way to lose
# packets. The namespaces carry the PID and a random tag and are deleted by
# the EXIT trap. HUGINN_E2E_KEEP=1 keeps the logs.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scenario=${1:-visitors}
[[ $scenario == visitors || $scenario == capture ]] ||
  fail "usage: $0 [visitors|capture]"
e2e_name+=".$scenario"

require_bin
require_root
require_tools curl ip tc ss
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"
export TZ=UTC
client_py="$e2e_dir/sse_resume_client.py"
t_start=$(date +%s%3N)
elapsed() { echo "$(($(date +%s%3N) - t_start))ms"; }

make_netns_pair flt 10.77.0.1 fd00:77::1 10.77.0.2 fd00:77::2
# Loss and delay: tc netem where the kernel has it (sch_netem). Kernels
# built without it get the nearest we can make with what they have: 10%
# random loss of packets coming in from the veth on each side (nftables
# numgen, prerouting) and a 2 Mbit/s token bucket on each veth end (delay
# that grows with the load, no fixed delay).
if tc -n "$sns" qdisc add dev vs root netem delay 0ms 2>/dev/null; then
  tc -n "$sns" qdisc del dev vs root
  impair_kind=netem
elif tc -n "$sns" qdisc add dev vs root tbf rate 2mbit burst 8kb latency 300ms 2>/dev/null &&
  command -v nft >/dev/null 2>&1; then
  tc -n "$sns" qdisc del dev vs root
  impair_kind="nft loss + tbf"
else
  skip "neither tc netem nor tbf + nft available"
fi
# impair on|off: both sides of the veth.
impair() {
  local side ns dev
  for side in "$cns vc" "$sns vs"; do
    read -r ns dev <<<"$side"
    if [[ $impair_kind == netem ]]; then
      if [[ $1 == on ]]; then
        tc -n "$ns" qdisc add dev "$dev" root netem loss 10% delay 50ms 20ms
      else
        tc -n "$ns" qdisc del dev "$dev" root
      fi
    elif [[ $1 == on ]]; then
      tc -n "$ns" qdisc add dev "$dev" root tbf rate 2mbit burst 8kb latency 300ms
      ip netns exec "$ns" nft -f - <<NFT
table inet huginn_faults {
  chain pre {
    type filter hook prerouting priority -300; policy accept;
    iifname "$dev" numgen random mod 10 0 drop
  }
}
NFT
    else
      tc -n "$ns" qdisc del dev "$dev" root
      ip netns exec "$ns" nft delete table inet huginn_faults
    fi
  done
}

# .3 polls, .4 reads the server's table at the end; the generator's
# addresses are .100-.149 and fd00:77::100-109.
ip -n "$cns" addr add 10.77.0.4/24 dev vc
ip -n "$cns" -6 addr add fd00:77::3/64 dev vc nodad
gen=()
for i in $(seq 100 149); do gen+=("10.77.0.$i"); done
for i in $(seq 100 109); do gen+=("fd00:77::$i"); done
for a in "${gen[@]}"; do
  if [[ $a == *:* ]]; then ip -n "$cns" -6 addr add "$a/64" dev vc nodad; else ip -n "$cns" addr add "$a/24" dev vc; fi
done

serve_n=0
start_serve() {
  serve_n=$((serve_n + 1))
  local err="$work/serve$serve_n.stderr"
  local -a source=(--no-capture)
  [[ $scenario != capture ]] || source=(-i vs "tcp port 8080")
  ip netns exec "$sns" "$HUGINN_BIN" serve --listen 10.77.0.2:8080 --listen '[fd00:77::2]:8080' \
    --tls-listen none --state-dir "$work/state" "${source[@]}" >"$work/serve$serve_n.stdout" 2>"$err" &
  serve_pid=$!
  pids+=("$serve_pid")
  poll_until 10 grep -qs "dashboard at http://\[fd00:77::2\]:8080/" "$err" || fail "serve did not start: $(cat "$err")"
}
stop_serve() {
  stop_within 3 "$serve_pid" TERM || fail "serve did not exit within 3 s of SIGTERM"
  ((stop_status == 0)) || fail "serve exited with status $stop_status: $(tail -n 5 "$work/serve$serve_n.stderr")"
}

# in_client CMD...: run CMD in the client namespace.
in_client() { ip netns exec "$cns" "$@"; }

# generate ADDR...: one visitor connection from each address, in parallel;
# curl retries while serve is down or a SYN is lost to netem.
generate() {
  local a gpids=() url
  for a in "$@"; do
    if [[ $a == *:* ]]; then url="http://[fd00:77::2]:8080/api/health"; else url="http://10.77.0.2:8080/api/health"; fi
    in_client curl --noproxy '*' -fsS -o /dev/null --interface "$a" --connect-timeout 6 --max-time 10 \
      --retry 3 --retry-connrefused --retry-delay 1 "$url" &
    gpids+=($!)
  done
  for a in "${gpids[@]}"; do wait "$a" || fail "a generator connection failed"; done
}

# kill_streams: ss -K in the server namespace on every connection of the
# clients (sse, ws and the proxy from 10.77.0.1, poll from fd00:77::3).
kill_streams() {
  ip netns exec "$sns" ss -K dst 10.77.0.1 >/dev/null 2>&1 || true
  ip netns exec "$sns" ss -K dst "[fd00:77::3]" >/dev/null 2>&1 || true
  kills=$((kills + 1))
}
kills=0

# connects STATE: the client's number of connections so far.
connects() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["connects"])' "$1" 2>/dev/null || echo 0; }
# reconnected STATE N: the client connected more than N times.
reconnected() { (($(connects "$1") > $2)); }

start_serve
port_proxy=18080
in_client /usr/bin/python3 "$client_py" proxy 127.0.0.1 "$port_proxy" 10.77.0.2 8080 "$work/cut" \
  >"$work/proxy.out" 2>"$work/proxy.err" &
pids+=($!)
in_client /usr/bin/python3 "$client_py" sse http://10.77.0.2:8080/events "$work/sse.log" "$work/sse.state" \
  --source 10.77.0.1 2>"$work/sse.err" &
sse_pid=$!
pids+=("$sse_pid")
poll_until 5 grep -qs listening "$work/proxy.out" || fail "proxy did not start: $(cat "$work/proxy.err")"
in_client /usr/bin/python3 "$client_py" sse "http://127.0.0.1:$port_proxy/events" "$work/proxy.log" "$work/proxy.state" \
  2>"$work/proxyc.err" &
proxyc_pid=$!
pids+=("$proxyc_pid")
ws=0
if [[ -f $e2e_dir/../server/ws_client.py ]] && in_client curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
  --interface 10.77.0.4 http://10.77.0.2:8080/ws | grep -q 426; then
  ws=1
  in_client /usr/bin/python3 "$client_py" ws http://10.77.0.2:8080/ws "$work/ws.log" "$work/ws.state" \
    2>"$work/ws.err" &
  ws_pid=$!
  pids+=("$ws_pid")
fi
in_client /usr/bin/python3 "$client_py" poll "http://[fd00:77::2]:8080/api/profiles" "$work/poll.log" "$work/poll.state" \
  --source fd00:77::3 --wait 5 2>"$work/poll.err" &
poll_pid=$!
pids+=("$poll_pid")
clients=(sse proxy poll)
client_pids=("$sse_pid" "$proxyc_pid" "$poll_pid")
checks=("sse 2" "poll 2")
if ((ws)); then
  clients+=(ws)
  client_pids+=("$ws_pid")
  checks+=("ws 2")
else
  note "no /ws on this build: WebSocket variant not run"
fi
states=()
for s in "${clients[@]}"; do states+=("$work/$s.state"); done
for s in "${clients[@]}"; do
  poll_until 5 reconnected "$work/$s.state" 0 || fail "$s client did not connect: $(cat "$work/$s.err" "$work/$s.log" 2>/dev/null)"
done
note "clients connected ($(elapsed))"

# 1. ss -K with events flowing: kill, generate while the clients are away
#    (they catch up from the journal), kill again in the middle of a burst.
generate "${gen[@]:0:10}"
kill_streams
generate "${gen[@]:10:10}"
poll_until 6 reconnected "$work/sse.state" 1 || fail "sse client did not reconnect after ss -K"
generate "${gen[@]:20:5}" &
g=$!
sleep 0.05
kill_streams
wait "$g" || fail "generator failed"
poll_until 6 reconnected "$work/sse.state" 2 || fail "sse client did not reconnect after the second ss -K"
note "ss -K x$kills done ($(elapsed))"

# 2. loss and delay on both sides; an ss -K under it; updates to earlier
#    profiles.
impair on
generate "${gen[@]:25:15}"
kill_streams
generate "${gen[@]:40:20}" "${gen[@]:0:5}"
sleep 1
# 3. the proxy cuts the next event in half (under loss too). Its client
#    may still be waiting to notice a kill whose RST was lost (--idle 7 s)
#    and then for retry (3 s): changes keep coming until the cut is made.
cut_i=5
cut_made() {
  [[ -e $work/cut ]] || return 0
  generate "${gen[cut_i++ % ${#gen[@]}]}"
  return 1
}
: >"$work/cut"
poll_until 15 cut_made || fail "the proxy did not cut an event"
sleep 2
impair off
note "$impair_kind and the proxy cut done ($(elapsed))"

# Every client is up to date with the first run before it ends.
in_client /usr/bin/python3 "$client_py" converge http://10.77.0.2:8080 15 \
  "${states[@]}" --source 10.77.0.4 --expect "$(IFS=,; echo "${gen[*]}")" >"$work/converge1.out" || fail "clients did not converge before the restart"
note "before restart: $(cat "$work/converge1.out") ($(elapsed))"

# 4. restart on the same addresses.
sse_before=$(connects "$work/sse.state")
stop_serve
start_serve
# More changes than the first run made, before the clients come back.
generate "${gen[@]}"
generate "${gen[@]}"
poll_until 10 reconnected "$work/sse.state" "$sse_before" || fail "sse client did not reconnect after the restart"
sleep 0.5
later=("${gen[@]:0:15}" "${gen[@]:50:5}")
generate "${later[@]}"
note "restart done ($(elapsed))"

in_client /usr/bin/python3 "$client_py" converge http://10.77.0.2:8080 15 \
  "${states[@]}" --source 10.77.0.4 --expect "$(IFS=,; echo "${later[*]}")" >"$work/converge2.out" ||
  fail "clients did not converge after the restart"
note "after restart: $(cat "$work/converge2.out") ($(elapsed))"

for p in "${client_pids[@]}"; do
  stop_within 2 "$p" TERM || fail "a client did not stop"
done
bad=0
# A fresh /events stream starts with a reset, and so does a fresh poll
# (since=0 is older than any run's journal: seqs start at the run's start
# time in microseconds). The restart adds one reset each.
cut_id=$(cat "$work/cut.id")
[[ $cut_id =~ ^[0-9]+$ ]] || fail "the proxy cut an event without an id: '$cut_id'"
for s in "${checks[@]}" "proxy 2 --cut $cut_id"; do
  read -r name resets cut <<<"$s"
  # shellcheck disable=SC2086  # $cut is empty or two words
  out=$(/usr/bin/python3 "$client_py" check "$work/$name.log" --resets "$resets" $cut 2>&1) ||
    { bad=1; echo "$out" >&2; }
  note "$out"
done
((bad == 0)) || fail "a client applied something twice, out of order, or half (see above)"
for s in sse poll "${clients[@]:3}"; do
  n=$(connects "$work/$s.state")
  ((n >= kills + 2)) || fail "$s client connected only $n times for $kills kills and a restart"
done

stop_serve
if grep -qiE "terminate called|Aborted|Segmentation fault|AddressSanitizer|runtime error:" "$work"/serve*.stderr; then
  fail "serve stderr shows a crash: $(cat "$work"/serve*.stderr)"
fi
note "ok ($(elapsed))"
