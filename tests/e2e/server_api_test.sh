#!/usr/bin/env bash
# server_api_test.sh
#
# `huginn-profiler serve --no-capture` with its HTTP server on ephemeral
# loopback ports, driven by real clients:
#   - the server's own visitors get profiles with no capture at all: the
#     saved SYN (TCP_SAVED_SYN), the ClientHello (JA4), the HTTP/1 request
#     and the HTTP/2 client fingerprint, joined by the connection's address;
#   - the same connections captured with tcpdump and run through
#     `huginn-profiler analyze --format jsonl` give the same SYN signature,
#     JA4 and HTTP/2 fingerprint for the same client port: one fingerprint
#     code for both paths;
#   - the API: list, filters, single profile, /api/me, 400/404/405, ETag and
#     304, gzip, Cache-Control, DELETE, /api/stats, /api/health,
#     /api/openapi.json, /metrics (checked by promtool when installed);
#   - protocols: HTTP/1.1, h2c prior knowledge and Upgrade (curl, nghttp),
#     HTTPS with ALPN h2 and http/1.1, and a bounded h2load run;
#   - the self-signed certificate is made once in the state directory and
#     reused after a restart (same fingerprint);
#   - SIGTERM stops serve with status 0 within 2 s.
#
# Needs root only for tcpdump (the comparison part is skipped without it).

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_bin
require_tools curl openssl
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"
export TZ=UTC

make_workdir server

# start_serve LOGNAME: serve on ephemeral ports; sets serve_pid, http_port, tls_port.
start_serve() {
  local log="$work/$1.stderr"
  "$HUGINN_BIN" serve --no-capture --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 \
    --state-dir "$work/state" >"$work/$1.stdout" 2>"$log" &
  serve_pid=$!
  pids+=("$serve_pid")
  poll_until 10 grep -qs "dashboard at https://" "$log" || {
    cat "$log" >&2
    fail "serve did not start listening"
  }
  http_port=$(sed -n 's|.*dashboard at http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log" | head -n 1)
  tls_port=$(sed -n 's|.*dashboard at https://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log" | head -n 1)
  [[ $http_port =~ ^[0-9]+$ && $tls_port =~ ^[0-9]+$ ]] || fail "cannot read ports: $(cat "$log")"
}

stop_serve() {
  local log="$work/$1.stderr"
  stop_within 2 "$serve_pid" TERM || fail "serve did not exit within 2 s of SIGTERM"
  ((stop_status == 0)) || fail "serve exited with status $stop_status: $(tail -n 5 "$log")"
  if grep -qiE "terminate called|Aborted|Segmentation fault|AddressSanitizer|runtime error:" "$log"; then
    fail "serve stderr shows a crash: $(cat "$log")"
  fi
}

H="http://127.0.0.1"
S="https://127.0.0.1"
c() { curl --globoff --noproxy '*' -sS --max-time 5 "$@"; }

# --- capture beside the server (root only), to compare both paths ---------
have_tcpdump=0
if [[ ${EUID:-$(id -u)} -eq 0 ]] && command -v tcpdump >/dev/null; then have_tcpdump=1; fi

start_serve serve1
note "serve on http $http_port, https $tls_port"
fp1=$(sed -n 's/.*SHA-256 \([0-9A-Fa-f:]*\).*/\1/p' "$work/serve1.stderr" | head -n 1)
[[ -n $fp1 ]] || fail "no certificate fingerprint logged"
[[ -n $(find "$work/state" -type f -name '*.pem' 2>/dev/null) ]] ||
  fail "no certificate kept in the state dir $work/state"

if ((have_tcpdump)); then
  tcpdump -i lo -U --immediate-mode -n -s 0 -w "$work/visitors.pcap" "tcp port $http_port or tcp port $tls_port" \
    >"$work/tcpdump.log" 2>&1 &
  tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  poll_until 10 grep -qs "listening on" "$work/tcpdump.log" || fail "tcpdump did not start"
fi

# Visitors: HTTPS with h2, HTTPS with HTTP/1.1, cleartext HTTP/1.1, h2c.
p_tls_h2=$(c -k --http2 -o /dev/null -w '%{local_port}' "$S:$tls_port/api/health")
p_tls_h1=$(c -k --http1.1 -o /dev/null -w '%{local_port}' "$S:$tls_port/api/health")
p_h1=$(c --http1.1 -o /dev/null -w '%{local_port}' "$H:$http_port/api/health")
p_h2c=$(c --http2-prior-knowledge -o /dev/null -w '%{local_port}' "$H:$http_port/api/health")
note "client ports: tls-h2 $p_tls_h2, tls-h1 $p_tls_h1, h1 $p_h1, h2c $p_h2c"

if ((have_tcpdump)); then
  sleep 1
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  "$HUGINN_BIN" analyze --format jsonl "$work/visitors.pcap" >"$work/captured.jsonl" ||
    fail "analyze failed on the visitors' capture"
fi

# The profile of 127.0.0.1 must hold every layer.
poll_until 5 bash -c "curl -fsS --max-time 2 '$H:$http_port/api/profiles/127.0.0.1' |
  grep -q '\"http2\"'" || {
  c "$H:$http_port/api/profiles/127.0.0.1" >&2 || true
  fail "profile of 127.0.0.1 never got its HTTP/2 section"
}
c "$H:$http_port/api/profiles/127.0.0.1" >"$work/profile.json"
c "$H:$http_port/api/me" >"$work/me.json"

/usr/bin/python3 - "$work" "$have_tcpdump" "$p_tls_h1" "$p_h2c" "$p_h1" <<'PY' || fail "profile check failed"
import json, sys
work, have_cap, p_tls, p_h2c, p_h1 = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4], sys.argv[5]
prof = json.load(open(f"{work}/profile.json"))
me = json.load(open(f"{work}/me.json"))
def need(cond, msg):
    if not cond:
        print("profile:", json.dumps(prof, indent=1)[:3000], file=sys.stderr)
        raise SystemExit(msg)
need(prof["ip"] == "127.0.0.1", "ip")
need(me.get("ip") == "127.0.0.1", "/api/me is not the caller's profile")
need(prof["connections"] >= 4, f"connections {prof['connections']} < 4")
syn = prof["tcp"]["syn"]
need(syn["signature"].startswith("4:"), "tcp.syn.signature")
need(prof["tls"]["ja4"].startswith("t13"), "tls.ja4")
need(prof["tls"]["sni"] in ("", None) or isinstance(prof["tls"]["sni"], str), "tls.sni")
# The last TLS visitor was curl --http1.1: it offered http/1.1 only.
need(prof["tls"]["alpn"] == ["http/1.1"], "tls.alpn")
need(prof["http2"]["akamai"].count("|") == 3, "http2.akamai")
need(prof["http"]["request"]["user_agent"].startswith("curl/"), "http.request.user_agent")
for k in ("first_seen", "last_seen", "verdict", "history"):
    need(k in prof, k)
if have_cap:
    recs = [json.loads(l) for l in open(f"{work}/captured.jsonl") if l.strip()]
    def rec(kind, port):
        for r in recs:
            if r.get("kind") == kind and r["client"].endswith("/" + port):
                return r
        raise SystemExit(f"capture has no {kind} record for client port {port}")
    cap_syn = rec("syn", p_h1)
    need(cap_syn["signature"] == syn["signature"],
         f"SYN signature differs: capture {cap_syn.get('signature')} vs server {syn['signature']}")
    cap_tls = rec("tls_client", p_tls)
    need(cap_tls["ja4"] == prof["tls"]["ja4"],
         f"JA4 differs: capture {cap_tls['ja4']} vs server {prof['tls']['ja4']}")
    cap_h2 = rec("http2_client", p_h2c)
    need(cap_h2["akamai"] == prof["http2"]["akamai"],
         f"HTTP/2 fingerprint differs: capture {cap_h2['akamai']} vs server {prof['http2']['akamai']}")
PY
cp "$work/captured.jsonl" /tmp/captured.jsonl 2>/dev/null || true
((have_tcpdump)) && note "server-side SYN, JA4 and HTTP/2 fingerprints equal the capture path's"

# --- API behaviour -------------------------------------------------------------
code() { c -o /dev/null -w '%{http_code}' "$@"; }
expect_code() { # WANT ARGS...
  local want=$1 got
  shift
  got=$(code "$@")
  [[ $got == "$want" ]] || fail "$* gave HTTP $got, want $want"
}
expect_code 200 "$H:$http_port/api/profiles"
expect_code 200 "$H:$http_port/api/profiles?has=tls,h2&sort=ip&order=asc&limit=5"
expect_code 400 "$H:$http_port/api/profiles?limit=abc"
expect_code 400 "$H:$http_port/api/profiles/not-an-ip"
expect_code 404 "$H:$http_port/api/profiles/192.0.2.1"
expect_code 404 "$H:$http_port/api/nothing-here"
expect_code 405 -X PUT "$H:$http_port/api/profiles"
expect_code 200 "$H:$http_port/"
expect_code 200 "$H:$http_port/api/openapi.json"

list=$(c "$H:$http_port/api/profiles?has=tls")
/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["total"] >= 1 and d["seq"] >= 1, d
assert any(p["ip"] == "127.0.0.1" for p in d["profiles"]), d
' "$list" || fail "/api/profiles?has=tls does not list 127.0.0.1: $list"

# ETag / 304 on a single profile and on the list. Every new connection from
# 127.0.0.1 changes 127.0.0.1's own profile (its SYN, its first request), so
# the revalidation runs on one kept-alive connection.
/usr/bin/python3 - "$http_port" <<'PY' || fail "ETag revalidation failed"
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
for path in ("/api/profiles/127.0.0.1", "/api/profiles"):
    conn.request("GET", path)
    r = conn.getresponse(); r.read()
    etag = r.getheader("ETag")
    assert r.status == 200 and etag, (path, r.status, etag)
    conn.request("GET", path, headers={"If-None-Match": etag})
    r = conn.getresponse(); body = r.read()
    assert r.status == 304 and body == b"", (path, r.status, body[:100])
    conn.request("GET", path, headers={"If-None-Match": '"not-the-etag"'})
    r = conn.getresponse(); r.read()
    assert r.status == 200, (path, r.status)
PY

# gzip when accepted (the OpenAPI document is large enough to compress).
hdrs=$(c -D - -o "$work/openapi.gz" -H 'Accept-Encoding: gzip' "$H:$http_port/api/openapi.json" | tr -d '\r')
grep -qi '^content-encoding: gzip' <<<"$hdrs" || fail "no gzip for Accept-Encoding: gzip: $hdrs"
/usr/bin/python3 -c 'import gzip,json,sys; d=json.loads(gzip.open(sys.argv[1]).read()); assert d["openapi"].startswith("3.1"), d["openapi"]' \
  "$work/openapi.gz" || fail "gzip'd OpenAPI document does not inflate to OpenAPI 3.1 JSON"
grep -qi '^cache-control: no-cache' < <(c -D - -o /dev/null "$H:$http_port/api/profiles" | tr -d '\r') ||
  fail "/api/profiles lacks Cache-Control: no-cache"

# Health, stats, metrics.
expect_code 200 "$H:$http_port/api/health"
c "$H:$http_port/api/stats" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d, d' ||
  fail "/api/stats is not JSON"
c "$H:$http_port/metrics" >"$work/metrics.txt"
grep -q '^# TYPE ' "$work/metrics.txt" || fail "/metrics has no TYPE lines"
if command -v promtool >/dev/null; then
  promtool check metrics <"$work/metrics.txt" >"$work/promtool.log" 2>&1 ||
    fail "promtool rejects /metrics: $(cat "$work/promtool.log")"
fi

# Protocols through other real clients.
if command -v nghttp >/dev/null; then
  nghttp -n "$H:$http_port/api/health" || fail "nghttp (h2c prior knowledge) failed"
  nghttp -nu "$H:$http_port/api/health" || fail "nghttp -u (h2c upgrade) failed"
  nghttp -n "$S:$tls_port/api/health" || fail "nghttp over TLS failed"
fi
alpn=$(echo | openssl s_client -connect "127.0.0.1:$tls_port" -alpn h2,http/1.1 2>/dev/null |
  sed -n 's/^ALPN protocol: //p')
[[ $alpn == h2 ]] || fail "ALPN chose '$alpn', want h2"
if echo | openssl s_client -connect "127.0.0.1:$tls_port" -tls1_1 >/dev/null 2>&1; then
  fail "TLS 1.1 was accepted"
fi
if command -v h2load >/dev/null; then
  h2load -n 2000 -c 10 -m 10 "$S:$tls_port/api/health" >"$work/h2load.log" 2>&1 ||
    fail "h2load failed: $(tail -n 5 "$work/h2load.log")"
  grep -q "2000 succeeded" "$work/h2load.log" || fail "h2load: $(grep requests: "$work/h2load.log")"
fi

# Deletes, on one kept-alive connection (a new connection would recreate
# 127.0.0.1's profile from its own SYN before the request is answered).
/usr/bin/python3 - "$http_port" <<'PY' || fail "DELETE checks failed"
import http.client, json, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
def req(method, path):
    conn.request(method, path)
    r = conn.getresponse()
    return r.status, r.read()
assert req("DELETE", "/api/profiles/127.0.0.1")[0] == 204
assert req("DELETE", "/api/profiles/127.0.0.1")[0] == 404
assert req("GET", "/api/profiles/127.0.0.1")[0] == 404
status, _ = req("DELETE", "/api/profiles")
assert status in (200, 204), status
status, body = req("GET", "/api/profiles")
assert status == 200 and json.loads(body)["total"] == 0, body[:200]
PY

stop_serve serve1

# --- restart: the generated certificate is kept -----------------------------------
start_serve serve2
fp2=$(sed -n 's/.*SHA-256 \([0-9A-Fa-f:]*\).*/\1/p' "$work/serve2.stderr" | head -n 1)
[[ $fp1 == "$fp2" ]] || fail "certificate changed across a restart: $fp1 then $fp2"
stop_serve serve2
note "ok"
