#!/usr/bin/env bash
# app_layer_live_test.sh
#
# `huginn-profiler serve -i lo --format jsonl` must log app-layer records for
# real clients on loopback:
#   - curl -k (with SNI "huginn.test") against a local `openssl s_server`:
#     a tls_client record for that connection, JA4 starting "t1", SNI
#     huginn.test, ALPN offered by curl (h2, http/1.1);
#   - curl --http2-prior-knowledge against `nghttpd --no-tls` (Debian
#     nghttp2-server): an http2_client record, complete, :method GET,
#     user-agent curl/..., pseudo-header order m,p,s,a;
#   - nghttp (if installed) against the same server: an http2_client record
#     with user-agent nghttp2/...;
#   - curl --http2 (HTTP/1.1 Upgrade: h2c; nghttpd does not upgrade, so
#     curl gives up): a partial http2_client record (mode upgrade, complete
#     false) when the connection closes.
# Each record is found by its client port and server port. SIGTERM must
# stop serve with status 0.
#
# Root only (live capture); exits 77 otherwise, or without openssl, curl
# or nghttpd.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_bin
require_root
require_tools curl openssl nghttpd
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"
export TZ=UTC

make_workdir app

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# TLS server: a throwaway self-signed P-256 certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=huginn.test -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 ||
  fail "openssl could not make a certificate"
tls_port=$(free_port)
openssl s_server -accept "127.0.0.1:$tls_port" -cert "$work/cert.pem" -key "$work/key.pem" \
  -www -quiet >"$work/s_server.log" 2>&1 </dev/null &
pids+=("$!")

# Cleartext HTTP/2 server.
mkdir -p "$work/www"
echo "huginn e2e" >"$work/www/index.html"
h2_port=$(free_port)
nghttpd --no-tls -a 127.0.0.1 -d "$work/www" "$h2_port" >"$work/nghttpd.log" 2>&1 &
pids+=("$!")

listening() { # PORT
  /usr/bin/python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null
}
poll_until 10 listening "$tls_port" || fail "openssl s_server did not start: $(cat "$work/s_server.log")"
poll_until 10 listening "$h2_port" || fail "nghttpd did not start: $(cat "$work/nghttpd.log")"

out="$work/huginn.jsonl"
"$HUGINN_BIN" serve -i lo --listen none --tls-listen none -o "$out" --format jsonl "tcp port $tls_port or tcp port $h2_port" \
  >"$work/serve.stdout" 2>"$work/serve.stderr" &
serve_pid=$!
pids+=("$serve_pid")

serve_died() {
  kill -0 "$serve_pid" 2>/dev/null && return 1
  local rc=0
  wait "$serve_pid" || rc=$?
  fail "serve exited early with status $rc: $(tail -n 5 "$work/serve.stderr")"
}

# has_record KIND CLIENT_PORT SERVER_PORT [PYTHON_CONDITION on r]
has_record() {
  /usr/bin/python3 - "$out" "$@" <<'PY'
import json, sys
path, kind, cport, sport = sys.argv[1:5]
cond = sys.argv[5] if len(sys.argv) > 5 else "True"
try:
    lines = open(path, encoding="utf-8").read().splitlines()
except FileNotFoundError:
    sys.exit(1)
for line in lines:
    r = json.loads(line)
    if r.get("kind") != kind:
        continue
    if cport != "*" and not r["client"].endswith("/" + cport):
        continue
    if not r["server"].endswith("/" + sport):
        continue
    if eval(cond, {}, {"r": r}):
        sys.exit(0)
sys.exit(1)
PY
}

tls_curl() {
  curl --globoff --noproxy '*' -ksS --max-time 5 -o /dev/null -w '%{local_port}\n' \
    --resolve "huginn.test:$tls_port:127.0.0.1" "https://huginn.test:$tls_port/"
}

# The capture is live once a TLS connection shows up; that connection is
# also the TLS check.
ready=0
tls_cond='r["ja4"].startswith("t1") and r["sni"] == "huginn.test" and r["alpn"][:1] == ["h2"] and len(r["ciphers"]) > 0 and r["hello"] == 1'
for attempt in $(seq 1 20); do
  serve_died || true
  port=$(tls_curl) || fail "curl over TLS failed: $(tail -n 3 "$work/s_server.log")"
  if poll_until 1 has_record tls_client "$port" "$tls_port" "$tls_cond"; then ready=1; break; fi
done
((ready)) || {
  echo "--- $out" >&2; cat "$out" >&2 || true
  fail "no matching tls_client record after 20 TLS connections"
}
note "tls_client record for curl after $attempt connection(s)"

port=$(curl_conn "" "http://127.0.0.1:$h2_port/" --http2-prior-knowledge) ||
  fail "curl --http2-prior-knowledge failed: $(tail -n 3 "$work/nghttpd.log")"
h2_cond='r["complete"] and r["mode"] == "prior_knowledge" and r["method"] == "GET" and (r["user_agent"] or "").startswith("curl/") and r["pseudo_header_order"] == "m,p,s,a" and r["akamai"].endswith("|m,p,s,a") and r["settings"]'
poll_until 10 has_record http2_client "$port" "$h2_port" "$h2_cond" || {
  echo "--- $out" >&2; cat "$out" >&2 || true
  fail "no matching http2_client record for curl --http2-prior-knowledge (port $port)"
}
note "http2_client record for curl --http2-prior-knowledge"

if command -v nghttp >/dev/null 2>&1; then
  nghttp -n "http://127.0.0.1:$h2_port/" >"$work/nghttp.log" 2>&1 || fail "nghttp failed: $(cat "$work/nghttp.log")"
  poll_until 10 has_record http2_client '*' "$h2_port" \
    'r["complete"] and (r["user_agent"] or "").startswith("nghttp2/")' || {
    echo "--- $out" >&2; cat "$out" >&2 || true
    fail "no http2_client record for nghttp"
  }
  note "http2_client record for nghttp"
else
  note "nghttp not installed: its check skipped"
fi

# nghttpd does not implement the Upgrade, so curl gives up on its answer;
# the client's side (request with HTTP2-Settings) is what is fingerprinted.
port=$(curl_conn "" "http://127.0.0.1:$h2_port/" --http2 2>/dev/null || true)
[[ $port =~ ^[0-9]+$ && $port != 0 ]] || fail "curl --http2 (Upgrade) did not connect"
poll_until 10 has_record http2_client "$port" "$h2_port" \
  'r["mode"] == "upgrade" and not r["complete"] and r["settings"] and r["method"] is None' || {
  echo "--- $out" >&2; cat "$out" >&2 || true
  fail "no partial http2_client record for curl --http2 (port $port)"
}
note "partial http2_client record for curl --http2 (Upgrade)"

stop_within 2 "$serve_pid" TERM || fail "serve did not exit within 2 s of SIGTERM"
((stop_status == 0)) || fail "serve exited with status $stop_status after SIGTERM: $(tail -n 5 "$work/serve.stderr")"
if grep -qiE "terminate called|Aborted|Segmentation fault|AddressSanitizer|runtime error:" "$work/serve.stderr"; then
  fail "serve stderr shows a crash: $(cat "$work/serve.stderr")"
fi
grep -q "mod=tls|" "$work/serve.stderr" "$work/serve.stdout" 2>/dev/null &&
  note "serve's console log shows mod=tls lines"
note "ok: tls_client and http2_client records for real clients"
