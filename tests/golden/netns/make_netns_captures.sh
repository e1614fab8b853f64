#!/usr/bin/env bash
# make_netns_captures.sh OUTDIR
#
# Records one capture per TCP/IP "personality": a client and a server network
# namespace joined by a veth pair, each side given its own sysctls (initial
# TTL / hop limit, RFC 7323 timestamps and window scaling, RFC 2018 SACK,
# RFC 3168 ECN), link MTU and route advmss, so one Linux kernel produces SYNs
# and SYN+ACKs with several different p0f signatures. The client makes a few
# HTTP requests over IPv4 and IPv6 while tcpdump records the server's veth.
#
# Writes OUTDIR/NAME.pcap and OUTDIR/NAME.expect for each personality. The
# .expect file (key=value lines) states what p0f must see in that capture;
# run_netns_golden.sh checks it, so a sysctl that silently failed to apply is
# caught instead of producing a capture that tests nothing new.
#
# Needs root, `ip netns`, tcpdump, curl and /usr/bin/python3; exits 77 (ctest
# "skipped") without them. Only documentation addresses are used: 192.0.2.0/24
# (RFC 5737) and 2001:db8::/64 (RFC 3849). Namespace names carry the PID and a
# random tag, and the veths are created inside the namespaces, so parallel runs
# do not collide. Everything started here is removed by the EXIT trap.
#
# What p0f 3.09b with the stock /etc/p0f/p0f.fp reports for each personality
# (Linux 6.x on both sides; os= / link= of the syn, syn+ack and mtu records).
# run_netns_golden.sh does not depend on these labels: a newer p0f.fp may
# change them, but p0f and huginn-profiler must still agree.
#   linux_default  SYN IPv4 "Linux 2.2.x-3.x" (generic); SYN IPv6 ???;
#                  SYN+ACK ???; mtu 1500 "Ethernet or modem"; no uptime, as
#                  tcp_timestamps=1 gives every connection its own offset.
#   ttl128_nots    SYN IPv4 "Linux 2.2.x-3.x (no timestamps)" (generic fuzzy:
#                  the TTL is off); IPv6 ???; SYN+ACK ???;
#                  mtu 1400 "generic tunnel or VPN".
#   ttl255_ecn     SYN ??? (quirk ecn, mss 536, olayout mss,nop,nop,ts);
#                  SYN+ACK ??? (ecn, no ts); mtu 576 "Ethernet or modem" (IPv4),
#                  596 and 1340/1360 ???; client uptime at ~1000 Hz.
#   ttl32_bare     SYN IPv4 "Linux 2.2.x-3.x (barebone)" at dist=32 (olayout
#                  "mss" only); IPv6 ???; SYN+ACK ???; mtu 1440/1460 "generic
#                  tunnel or VPN", 1240 "GIF", 1260 ???.
#   ts_uptime      SYN and SYN+ACK ??? (olayout mss,nop,nop,ts,nop,ws, no sok);
#                  mtu 1280 "GIF"; client and server uptime at ~1000 Hz.

set -euo pipefail

readonly kPort=8080
readonly kRequestsPerFamily=3
readonly kRequestGapSeconds=0.1   # p0f wants >= 25 ms between timestamp samples

die() { echo "make_netns_captures: $*" >&2; exit 1; }
skip() { echo "make_netns_captures: SKIP: $*" >&2; exit 77; }

[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
outdir=$1
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

[[ ${EUID:-$(id -u)} -eq 0 ]] || skip "needs root"
for tool in ip tcpdump curl ss sysctl; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
done
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"

tag="hg$$-$RANDOM"
probe="${tag}-probe"
ip netns add "$probe" 2>/dev/null || skip "ip netns unavailable"
ip netns del "$probe"

namespaces=()
pids=()
workdir=$(mktemp -d "${TMPDIR:-/tmp}/huginn-netns.XXXXXX")

cleanup() {
  local pid ns
  for pid in "${pids[@]}"; do
    stop_pid "$pid" TERM
  done
  for ns in "${namespaces[@]}"; do
    # Any process still inside is killed by PID, one namespace at a time.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# poll_until SECONDS CMD...: runs CMD every 50 ms until it succeeds.
poll_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.05
  done
}

# stop_pid PID SIGNAL: signals PID and reaps it, escalating to KILL after 5 s.
stop_pid() {
  kill -"$2" "$1" 2>/dev/null || true
  local deadline=$((SECONDS + 5))
  while kill -0 "$1" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# setup_side NS DEV ADDR4 ADDR6 MTU ADVMSS TTL TS WS SACK ECN
setup_side() {
  local ns=$1 dev=$2 a4=$3 a6=$4 mtu=$5 advmss=$6 ttl=$7 ts=$8 ws=$9 sack=${10} ecn=${11}
  nsx "$ns" sysctl -qw \
    net.ipv4.ip_default_ttl="$ttl" \
    net.ipv4.tcp_timestamps="$ts" \
    net.ipv4.tcp_window_scaling="$ws" \
    net.ipv4.tcp_sack="$sack" \
    net.ipv4.tcp_ecn="$ecn" \
    net.ipv6.conf.all.hop_limit="$ttl" \
    net.ipv6.conf.default.hop_limit="$ttl" \
    net.ipv6.conf."$dev".hop_limit="$ttl" \
    net.ipv6.conf."$dev".accept_ra=0 \
    net.ipv6.conf."$dev".router_solicitations=0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "$dev" mtu "$mtu" up
  # noprefixroute + an explicit subnet route, so the route can carry advmss.
  ip -n "$ns" addr add "$a4/24" dev "$dev" noprefixroute
  ip -n "$ns" -6 addr add "$a6/64" dev "$dev" nodad noprefixroute
  local metric=()
  [[ $advmss == - ]] || metric=(advmss "$advmss")
  ip -n "$ns" route add 192.0.2.0/24 dev "$dev" src "$a4" "${metric[@]}"
  ip -n "$ns" -6 route add 2001:db8::/64 dev "$dev" src "$a6" "${metric[@]}"
}

# Linux's advertised MSS: the route's advmss if set, else MTU minus the
# IPv4 (20) or IPv6 (40) header and the 20-byte TCP header.
mss_for() { # FAMILY MTU ADVMSS
  if [[ $3 != - ]]; then echo "$3"
  elif [[ $1 == 4 ]]; then echo $(($2 - 40))
  else echo $(($2 - 60)); fi
}

# run_personality NAME INDEX MTU | client: TTL TS WS SACK ECN ADVMSS | server: TTL TS WS SACK ECN ADVMSS
run_personality() {
  local name=$1 idx=$2 mtu=$3
  local c_ttl=$4 c_ts=$5 c_ws=$6 c_sack=$7 c_ecn=$8 c_advmss=$9
  local s_ttl=${10} s_ts=${11} s_ws=${12} s_sack=${13} s_ecn=${14} s_advmss=${15}
  local cns="${tag}-${idx}c" sns="${tag}-${idx}s"
  local c4="192.0.2.$((idx * 10 + 1))" s4="192.0.2.$((idx * 10 + 2))"
  local c6="2001:db8::$((idx * 10 + 1))" s6="2001:db8::$((idx * 10 + 2))"

  ip netns add "$cns"; namespaces+=("$cns")
  ip netns add "$sns"; namespaces+=("$sns")
  ip -n "$cns" link add vc type veth peer name vs netns "$sns"
  setup_side "$cns" vc "$c4" "$c6" "$mtu" "$c_advmss" "$c_ttl" "$c_ts" "$c_ws" "$c_sack" "$c_ecn"
  setup_side "$sns" vs "$s4" "$s6" "$mtu" "$s_advmss" "$s_ttl" "$s_ts" "$s_ws" "$s_sack" "$s_ecn"

  local docroot="$workdir/$name-www"
  mkdir -p "$docroot"
  echo "huginn netns personality $name" >"$docroot/index.html"
  # `--bind ::` makes http.server dual-stack, so one server answers both families.
  # Started with `ip netns exec` directly (it execs), so $! is the server.
  ip netns exec "$sns" /usr/bin/python3 -m http.server --bind :: --directory "$docroot" "$kPort" \
    >"$workdir/$name-http.log" 2>&1 &
  pids+=($!)
  local http_pid=$!
  poll_until 10 bash -c "[[ -n \$(ip netns exec '$sns' ss -Hltn 'sport = :$kPort') ]]" ||
    die "$name: HTTP server did not start: $(cat "$workdir/$name-http.log")"

  local pcap="$outdir/$name.pcap"
  ip netns exec "$sns" tcpdump -i vs -n -U --immediate-mode -Z root -w "$pcap" 'tcp port '"$kPort" \
    >"$workdir/$name-tcpdump.log" 2>&1 &
  pids+=($!)
  local dump_pid=$!
  poll_until 10 grep -qs "listening on" "$workdir/$name-tcpdump.log" ||
    die "$name: tcpdump did not start: $(cat "$workdir/$name-tcpdump.log")"

  local i url
  for url in "http://$s4:$kPort/" "http://[$s6]:$kPort/"; do
    for ((i = 0; i < kRequestsPerFamily; i++)); do
      nsx "$cns" curl --globoff --noproxy '*' -fsS --max-time 5 -o /dev/null "$url" ||
        die "$name: curl $url failed"
      sleep "$kRequestGapSeconds"
    done
  done

  # Let the last FIN/ACKs land, then stop tcpdump so it flushes the file.
  sleep 0.2
  stop_pid "$dump_pid" INT
  stop_pid "$http_pid" TERM
  [[ -s $pcap ]] || die "$name: empty capture"

  local syn_ts=0 syn_ws=0 syn_sok=0 syn_ecn=0 ack_ts=0 ack_ws=0 ack_sok=0 ack_ecn=0
  ((c_ts > 0)) && syn_ts=1
  ((c_ws > 0)) && syn_ws=1
  ((c_sack > 0)) && syn_sok=1
  ((c_ecn == 1)) && syn_ecn=1
  # RFC 7323 / RFC 2018 / RFC 3168: the server sends an option (or ECE) in
  # its SYN+ACK only when the client offered it and the server has it on
  # (tcp_ecn=2 still answers an ECN request).
  ((syn_ts && s_ts > 0)) && ack_ts=1
  ((syn_ws && s_ws > 0)) && ack_ws=1
  ((syn_sok && s_sack > 0)) && ack_sok=1
  ((syn_ecn && s_ecn > 0)) && ack_ecn=1
  cat >"$outdir/$name.expect" <<EOF
client4=$c4
server4=$s4
client6=$c6
server6=$s6
port=$kPort
connections=$((2 * kRequestsPerFamily))
syn_ttl=$c_ttl
syn_mss4=$(mss_for 4 "$mtu" "$c_advmss")
syn_mss6=$(mss_for 6 "$mtu" "$c_advmss")
syn_ts=$syn_ts
syn_ws=$syn_ws
syn_sok=$syn_sok
syn_ecn=$syn_ecn
synack_ttl=$s_ttl
synack_mss4=$(mss_for 4 "$mtu" "$s_advmss")
synack_mss6=$(mss_for 6 "$mtu" "$s_advmss")
synack_ts=$ack_ts
synack_ws=$ack_ws
synack_sok=$ack_sok
synack_ecn=$ack_ecn
uptime_cli=$((c_ts == 2))
uptime_srv=$((ack_ts && s_ts == 2))
EOF
  echo "make_netns_captures: $name -> $pcap" >&2
}

#                 name         idx mtu  | client: ttl ts ws sack ecn advmss | server: ttl ts ws sack ecn advmss
# tcp_timestamps=2 is "on, without a per-connection random offset", so
# successive SYNs from one host carry one clock and p0f can estimate uptime.
run_personality linux_default 1 1500    64  1 1 1 2 -                   64  1 1 1 2 -
run_personality ttl128_nots   2 1400    128 0 1 1 2 -                   128 1 1 1 2 -
run_personality ttl255_ecn    3 1500    255 2 0 0 1 536                 255 0 1 1 1 1300
run_personality ttl32_bare    4 1500    32  0 0 0 2 1400                64  2 0 0 2 1200
run_personality ts_uptime     5 1280    64  2 1 0 2 -                   64  2 1 1 2 -
