#!/usr/bin/env bash
# Drives huginn-test-server with real clients on 127.0.0.1 and ::1 only.
# usage: server_test.sh PATH/TO/huginn-test-server CASE
# Exit 0 pass, 1 fail, 77 skip (a client tool is missing).
set -uo pipefail
BIN=$1
CASE=$2
WORK=$(mktemp -d /tmp/huginn-server-test.XXXXXX)
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill -KILL "$SERVER_PID" 2>/dev/null
  jobs -p | xargs -r kill -KILL 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL [$CASE]: $*" >&2
  [[ -f $WORK/err ]] && { echo "--- server stderr (tail)" >&2; tail -20 "$WORK/err" >&2; }
  exit 1
}
need() { command -v "$1" >/dev/null || { echo "SKIP: $1 not installed"; exit 77; }; }
need curl
need python3

# start_server [extra flags]: sets HTTP HTTPS HTTP6 HTTPS6 (ports).
start_server() {
  : >"$WORK/out"
  "$BIN" --listen 127.0.0.1:0 --listen '[::1]:0' --tls-listen 127.0.0.1:0 --tls-listen '[::1]:0' \
    --state-dir "$WORK/state" --visitor-log "$WORK/visitors.log" "$@" >"$WORK/out" 2>"$WORK/err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q '^ports' "$WORK/out" && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited: $(cat "$WORK/err")"
    sleep 0.05
  done
  local line
  line=$(grep '^ports' "$WORK/out") || fail "no ports line"
  HTTP=$(sed -E 's/.* http=([0-9]+).*/\1/' <<<"$line")
  HTTPS=$(sed -E 's/.* https=([0-9]+).*/\1/' <<<"$line")
  HTTP6=$(sed -E 's/.* http6=([0-9]+).*/\1/' <<<"$line")
  HTTPS6=$(sed -E 's/.* https6=([0-9]+).*/\1/' <<<"$line")
}

# stop_server: SIGTERM, must exit 0 within 2.5 s; sets STOP_MS.
stop_server() {
  local t0 t1 rc
  t0=$(date +%s%N)
  kill -TERM "$SERVER_PID"
  for _ in $(seq 250); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.01; done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "server still running 2.5 s after SIGTERM"
  wait "$SERVER_PID"
  rc=$?
  t1=$(date +%s%N)
  STOP_MS=$(((t1 - t0) / 1000000))
  SERVER_PID=
  [[ $rc -eq 0 ]] || fail "server exited $rc after SIGTERM"
}

C=(curl -sS --max-time 10)
WSC=$(dirname "$0")/ws_client.py
WSH2=$(dirname "$0")/ws_h2_client.js
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected '$2', got '$1'"; }
expect_has() { grep -qF -- "$2" <<<"$1" || fail "$3: '$2' not in: $(head -c 600 <<<"$1")"; }

# An HTTP/2 client that ignores the server's SETTINGS: opens N streams on
# /slow at once and counts what comes back (HEADERS vs RST_STREAM codes).
raw_h2_streams() {
  python3 - "$1" "$2" <<'PY'
import socket, struct, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
def frame(t, f, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([t, f]) + struct.pack(">I", sid) + payload
out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0)
# HPACK (RFC 7541): :method GET, :scheme http, literal :path and :authority.
block = b"\x82\x86\x04\x05/slow\x01\x01x"
for i in range(n):
    out += frame(1, 0x5, 1 + 2 * i, block)   # END_STREAM | END_HEADERS
s.sendall(out)
buf, headers, refused, deadline = b"", set(), set(), time.time() + 4
while time.time() < deadline and len(headers) + len(refused) < n:
    try:
        d = s.recv(65536)
    except socket.timeout:
        break
    if not d:
        break
    buf += d
    while len(buf) >= 9:
        ln = int.from_bytes(buf[:3], "big"); t = buf[3]; sid = int.from_bytes(buf[5:9], "big") & 0x7fffffff
        if len(buf) < 9 + ln: break
        p = buf[9:9 + ln]; buf = buf[9 + ln:]
        if t == 1: headers.add(sid)
        if t == 3 and int.from_bytes(p[:4], "big") == 7: refused.add(sid)
        if t == 4 and not (buf and False): pass
print(len(headers), len(refused))
PY
}

case $CASE in
http11)
  start_server
  out=$("${C[@]}" --http1.1 "http://127.0.0.1:$HTTP/hello") || fail "curl"
  expect_eq "$out" "hello" "GET /hello"
  out=$("${C[@]}" --http1.1 -H 'X-Test: One' --data-binary 'abc' "http://127.0.0.1:$HTTP/echo?x=1") || fail "curl"
  expect_has "$out" '"method":"POST"' "echo method"
  expect_has "$out" '"query":"x=1"' "echo query"
  expect_has "$out" '["x-test","One"]' "header names folded to lower case"
  expect_has "$out" '"body_bytes":3' "body"
  expect_has "$out" '"version":"http/1.1"' "version"
  # Expect: 100-continue gets its interim response at once (curl would
  # otherwise wait a second before sending the body).
  head -c 5000 /dev/zero >"$WORK/body"
  out=$("${C[@]}" --http1.1 -H 'Expect: 100-continue' --expect100-timeout 5 --data-binary @"$WORK/body" \
    -w '\n%{time_total}' "http://127.0.0.1:$HTTP/echo")
  expect_has "$out" '"body_bytes":5000' "body after 100-continue"
  python3 -c "import sys; assert float(sys.argv[1]) < 2" "$(tail -1 <<<"$out")" || fail "100-continue not sent"
  # Keep-alive: two requests, one connection.
  v=$("${C[@]}" -v --http1.1 "http://127.0.0.1:$HTTP/hello" "http://127.0.0.1:$HTTP/hello" 2>&1 >/dev/null)
  expect_has "$v" "Re-using existing connection" "keep-alive"
  # Connection: close is honoured.
  v=$("${C[@]}" -v --http1.1 -H 'Connection: close' "http://127.0.0.1:$HTTP/hello" 2>&1)
  expect_has "$v" "< connection: close" "connection close"
  # HEAD: length, no body.
  v=$("${C[@]}" -I --http1.1 "http://127.0.0.1:$HTTP/hello")
  expect_has "$v" "content-length: 6" "HEAD length"
  expect_has "$v" "date: " "Date header"
  # 304: no body, no content-length; the connection stays usable.
  v=$("${C[@]}" -i --http1.1 "http://127.0.0.1:$HTTP/status?c=304" "http://127.0.0.1:$HTTP/hello")
  grep -qi 'content-length' <<<"$(sed -n '1,/^\r$/p' <<<"$v")" && fail "content-length on 304: $v"
  expect_has "$v" "hello" "request after a 304"
  grep -q "must not" <<<"$v" && fail "304 with a body"
  # HEAD on a streamed response: headers only.
  v=$("${C[@]}" -I --http1.1 "http://127.0.0.1:$HTTP/stream?n=3" "http://127.0.0.1:$HTTP/hello")
  grep -q tick <<<"$v" && fail "HEAD stream with body"
  # Chunked streaming (SSE over HTTP/1.1).
  v=$("${C[@]}" -N -D "$WORK/h" --http1.1 "http://127.0.0.1:$HTTP/stream?n=3")
  expect_eq "$(grep -c '^data: tick' <<<"$v")" "3" "stream events"
  grep -qi '^transfer-encoding: chunked' "$WORK/h" || fail "stream not chunked"
  # IPv6 and pipelining: two requests in one write, answered in order.
  v=$(python3 - "$HTTP6" <<'PY'
import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
d = b""
while True:
    x = s.recv(65536)
    if not x: break
    d += x
print(d.decode())
PY
)
  expect_eq "$(grep -c '^HTTP/1.1 200' <<<"$v")" "2" "pipelined responses"
  expect_has "$v" '"authority":"b"' "second pipelined request"
  stop_server
  ;;
h2_prior)
  start_server
  out=$("${C[@]}" --http2-prior-knowledge -w '\n%{http_version}' "http://127.0.0.1:$HTTP/echo?a=b") || fail "curl"
  expect_has "$out" '"version":"h2"' "h2 echo"
  expect_has "$out" '"query":"a=b"' "h2 query"
  expect_eq "$(tail -1 <<<"$out")" "2" "curl http_version"
  out=$("${C[@]}" --http2-prior-knowledge "http://[::1]:$HTTP6/hello") || fail "curl v6"
  expect_eq "$out" "hello" "h2 over ::1"
  out=$("${C[@]}" --http2-prior-knowledge --data-binary 'xyz' "http://127.0.0.1:$HTTP/echo") || fail "curl"
  v=$("${C[@]}" -i --http2-prior-knowledge "http://127.0.0.1:$HTTP/status?c=204")
  grep -qi 'content-length' <<<"$v" && fail "content-length on 204: $v"
  grep -q "must not" <<<"$v" && fail "204 with a body"
  expect_has "$v" "HTTP/2 204" "204 over h2"
  expect_has "$out" '"body_bytes":3' "h2 body"
  v=$("${C[@]}" -N --http2-prior-knowledge "http://127.0.0.1:$HTTP/stream?n=4")
  expect_eq "$(grep -c '^data: tick' <<<"$v")" "4" "h2 stream events"
  stop_server
  ;;
h2c_upgrade)
  start_server
  out=$("${C[@]}" -v --http2 -w '\n%{http_version}' "http://127.0.0.1:$HTTP/echo" 2>"$WORK/v") || fail "curl"
  expect_has "$(cat "$WORK/v")" "< HTTP/1.1 101" "101 Switching Protocols"
  expect_has "$out" '"version":"h2"' "upgraded request answered over h2"
  expect_eq "$(tail -1 <<<"$out")" "2" "curl http_version"
  if command -v nghttp >/dev/null; then
    out=$(nghttp -v -u "http://127.0.0.1:$HTTP/hello" 2>&1) || fail "nghttp -u: $out"
    expect_has "$out" "HTTP Upgrade success" "nghttp upgrade"
    expect_has "$out" "hello" "nghttp upgrade body"
  fi
  stop_server
  ;;
tls_alpn)
  need openssl
  start_server
  out=$("${C[@]}" -k --http2 -w '\n%{http_version}' "https://127.0.0.1:$HTTPS/echo") || fail "curl h2"
  expect_has "$out" '"alpn":"h2"' "ALPN h2"
  expect_has "$out" '"tls":true' "tls flag"
  expect_eq "$(tail -1 <<<"$out")" "2" "h2 over TLS"
  out=$("${C[@]}" -k --http1.1 "https://[::1]:$HTTPS6/echo") || fail "curl http/1.1"
  expect_has "$out" '"alpn":"http/1.1"' "ALPN http/1.1"
  out=$("${C[@]}" -k --no-alpn --http1.1 "https://127.0.0.1:$HTTPS/echo") || fail "curl no alpn"
  expect_has "$out" '"alpn":""' "no ALPN"
  expect_has "$out" '"version":"http/1.1"' "no ALPN -> HTTP/1.1"
  s=$(openssl s_client -connect "127.0.0.1:$HTTPS" -alpn h2 </dev/null 2>&1)
  expect_has "$s" "ALPN protocol: h2" "s_client h2"
  s=$(openssl s_client -connect "127.0.0.1:$HTTPS" -alpn 'spdy/3,http/1.1' </dev/null 2>&1)
  expect_has "$s" "ALPN protocol: http/1.1" "s_client http/1.1"
  # A closing TLS connection says close_notify first (no truncation error).
  s=$( (printf 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'; sleep 1) |
    openssl s_client -quiet -connect "127.0.0.1:$HTTPS" 2>&1)
  expect_has "$s" "hello" "TLS HTTP/1.1 response"
  grep -q "unexpected eof" <<<"$s" && fail "TLS closed without close_notify: $s"
  fp=$(grep '^fingerprint' "$WORK/out" | cut -d' ' -f2)
  s=$(openssl s_client -connect "127.0.0.1:$HTTPS" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256)
  expect_eq "${s#*=}" "$fp" "served certificate is the fingerprinted one"
  stop_server
  ;;
tls_refuse_old)
  need openssl
  start_server
  # The client offers only TLS 1.1 (its own security level lowered so that
  # it tries); the server must answer with a protocol_version alert (70).
  s=$(openssl s_client -connect "127.0.0.1:$HTTPS" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' </dev/null 2>&1)
  expect_has "$s" "alert protocol version" "TLS 1.1 refused"
  expect_has "$s" "Cipher is (NONE)" "no TLS 1.1 session"
  s=$(openssl s_client -connect "127.0.0.1:$HTTPS" -tls1_2 </dev/null 2>&1) || fail "TLS 1.2 refused: $s"
  expect_has "$s" "TLSv1.2" "TLS 1.2"
  s=$(openssl s_client -connect "127.0.0.1:$HTTPS" -tls1_3 </dev/null 2>&1) || fail "TLS 1.3 refused"
  expect_has "$s" "TLSv1.3" "TLS 1.3"
  out=$("${C[@]}" --http1.1 "http://127.0.0.1:$HTTP/hello")
  expect_eq "$out" "hello" "still serving"
  stop_server
  ;;
nghttp_push)
  need nghttp
  start_server
  out=$(nghttp -v -n "http://127.0.0.1:$HTTP/" 2>&1) || fail "nghttp: $out"
  expect_has "$out" "PUSH_PROMISE" "push promise sent"
  expect_has "$out" ":path: /pushed" "pushed path"
  out=$(nghttp "http://127.0.0.1:$HTTP/" 2>&1)
  expect_has "$out" "pushed" "pushed body received"
  out=$(nghttp -v -n --no-push "http://127.0.0.1:$HTTP/" 2>&1) || fail "nghttp --no-push"
  grep -q PUSH_PROMISE <<<"$out" && fail "pushed although SETTINGS_ENABLE_PUSH=0"
  out=$(nghttp -v -n "https://127.0.0.1:$HTTPS/" 2>&1) || fail "nghttp tls"
  expect_has "$out" "PUSH_PROMISE" "push over TLS"
  stop_server
  ;;
h2load)
  need h2load
  start_server
  out=$(h2load -n 2000 -c 10 -m 10 "http://127.0.0.1:$HTTP/hello" 2>&1) || fail "h2load: $out"
  expect_has "$out" "2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed" "h2c run"
  echo "$out" | grep -E '^finished in'
  out=$(h2load -n 2000 -c 10 -m 10 "https://127.0.0.1:$HTTPS/hello" 2>&1) || fail "h2load tls: $out"
  expect_has "$out" "2000 succeeded, 0 failed" "h2 TLS run"
  echo "$out" | grep -E '^finished in'
  out=$(h2load -n 500 -c 5 --h1 "http://127.0.0.1:$HTTP/hello" 2>&1) || fail "h2load h1: $out"
  expect_has "$out" "500 succeeded, 0 failed" "HTTP/1.1 run"
  stop_server
  ;;
header_limit)
  start_server
  big=$(head -c 20000 /dev/zero | tr '\0' a)
  code=$("${C[@]}" -o /dev/null -w '%{http_code}' --http1.1 -H "X-Big: $big" "http://127.0.0.1:$HTTP/hello")
  expect_eq "$code" "431" "HTTP/1.1 oversized header"
  code=$("${C[@]}" -o /dev/null -w '%{http_code}' --http2-prior-knowledge -H "X-Big: $big" "http://127.0.0.1:$HTTP/hello")
  expect_eq "$code" "431" "HTTP/2 oversized header list"
  out=$("${C[@]}" --http1.1 "http://127.0.0.1:$HTTP/hello")
  expect_eq "$out" "hello" "still serving"
  stop_server
  ;;
body_limit)
  start_server
  head -c 1000000 /dev/zero >"$WORK/big"
  code=$("${C[@]}" -o /dev/null -w '%{http_code}' --http1.1 --data-binary @"$WORK/big" "http://127.0.0.1:$HTTP/echo")
  expect_eq "$code" "413" "HTTP/1.1 body"
  code=$("${C[@]}" -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --http1.1 --data-binary @"$WORK/big" "http://127.0.0.1:$HTTP/echo")
  expect_eq "$code" "413" "HTTP/1.1 chunked body"
  code=$("${C[@]}" -o /dev/null -w '%{http_code}' --http2-prior-knowledge --data-binary @"$WORK/big" "http://127.0.0.1:$HTTP/echo")
  expect_eq "$code" "413" "HTTP/2 body"
  # A client that sends its whole body without waiting still reads the 413
  # (lingering close: no RST over the unread body).
  v=$(python3 - "$HTTP" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" + b"a" * 300000)
d = b""
while True:
    x = s.recv(65536)
    if not x: break
    d += x
print(d.split(b"\r\n")[0].decode())
PY
)
  expect_eq "$v" "HTTP/1.1 413 Payload Too Large" "413 read after sending the body"
  head -c 60000 /dev/zero >"$WORK/ok"
  out=$("${C[@]}" --http2-prior-knowledge --data-binary @"$WORK/ok" "http://127.0.0.1:$HTTP/echo")
  expect_has "$out" '"body_bytes":60000' "body under the limit"
  stop_server
  ;;
transport_bulk)
  # Bodies larger than a read, a TLS record and the socket buffers, both
  # ways, over TCP and TLS: reads that find several records (or part of
  # one) buffered, and writes that wait for a client reading slowly.
  start_server
  big() { python3 -c 'import sys; n = int(sys.argv[1]); sys.stdout.write(("0123456789abcdefghijklmnopqrstuvwxyz" * (n // 36 + 1))[:n])' "$1"; }
  big 3000000 >"$WORK/expect"
  big 12000000 >"$WORK/expect-slow"
  head -c 60000 /dev/urandom >"$WORK/up"
  for url in "http://127.0.0.1:$HTTP" "https://127.0.0.1:$HTTPS" "https://[::1]:$HTTPS6"; do
    for v in --http1.1 --http2; do
      mode=$v
      [[ $url == http:* && $v == --http2 ]] && mode=--http2-prior-knowledge
      out=$("${C[@]}" -k "$mode" --data-binary @"$WORK/up" "$url/echo") || fail "upload $url $v"
      expect_has "$out" '"body_bytes":60000' "upload $url $v"
      "${C[@]}" -k "$mode" -o "$WORK/got" "$url/big?n=3000000" || fail "download $url $v"
      cmp -s "$WORK/got" "$WORK/expect" || fail "download $url $v: $(stat -c %s "$WORK/got") bytes, not the expected 3000000"
    done
  done
  # A client with a small receive window that reads only after a pause,
  # for more than the kernel buffers (tcp_wmem max 4 MiB): the server's
  # writes find the socket full (EAGAIN / SSL_ERROR_WANT_WRITE) and must
  # resume where they stopped.
  for tls in 0 1; do
    port=$HTTP
    [[ $tls -eq 1 ]] && port=$HTTPS
    v=$(python3 - "$port" "$tls" "$WORK/expect-slow" <<'PY'
import socket, ssl, sys, time
port, tls = int(sys.argv[1]), sys.argv[2] == "1"
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
raw.settimeout(10)
raw.connect(("127.0.0.1", port))
s = raw
if tls:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(raw)
s.sendall(b"GET /big?n=12000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
time.sleep(0.5)
d = bytearray()
while True:
    x = s.recv(65536)
    if not x: break
    d += x
body = bytes(d).split(b"\r\n\r\n", 1)[1]
print("same" if body == open(sys.argv[3], "rb").read() else "differs: %d bytes" % len(body))
PY
)
    expect_eq "$v" "same" "slow reader, tls=$tls"
  done
  # TLS peers that leave while the server still writes or is about to: a
  # large response cut by an RST, an event stream closed with FIN, an idle
  # connection reset. After an RST the first socket call gets ECONNRESET
  # and every later write EPIPE; OpenSSL writes with write(2), so unless
  # SIGPIPE is ignored such a write ends the process.
  v=$(python3 - "$HTTPS" <<'PY'
import socket, ssl, struct, sys, time
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
def tls():
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10))
for _ in range(3):
    s = tls()
    s.sendall(b"GET /big?n=12000000 HTTP/1.1\r\nHost: x\r\n\r\n")
    s.recv(1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
for _ in range(3):
    s = tls()
    s.sendall(b"GET /stream?n=50 HTTP/1.1\r\nHost: x\r\n\r\n")
    s.recv(1000)
    s.close()
# An idle keep-alive connection reset by its peer: the server's read takes
# the ECONNRESET, so the write of its close_notify is the one that fails.
for _ in range(3):
    s = tls()
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    s.recv(1000)
    time.sleep(0.1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
time.sleep(1)
print("done")
PY
)
  expect_eq "$v" "done" "tls peers that leave mid-response"
  out=$("${C[@]}" -k "https://127.0.0.1:$HTTPS/big?n=10" 2>&1) || fail "server gone after peers left: $out"
  kill -0 "$SERVER_PID" 2>/dev/null || fail "server died after TLS peers left mid-response"
  # Many connections at once share the I/O threads' read buffers.
  need h2load
  out=$(h2load -n 400 -c 40 -m 4 --data="$WORK/up" "https://127.0.0.1:$HTTPS/echo" 2>&1) || fail "h2load tls upload: $out"
  expect_has "$out" "400 succeeded" "h2load tls uploads"
  out=$(h2load -n 400 -c 40 -m 4 --data="$WORK/up" "http://127.0.0.1:$HTTP/echo" 2>&1) || fail "h2load h2c upload: $out"
  expect_has "$out" "400 succeeded" "h2load h2c uploads"
  stop_server
  ;;
garbage)
  start_server
  v=$(python3 - "$HTTP" <<'PY'
import socket, sys, os
p = int(sys.argv[1])
for payload in (os.urandom(3000), b"\x16\x03\x01\x02\x00" + os.urandom(200), b"GET / HTTP/9.9 x\r\n\r\n",
                b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + os.urandom(100)):
    s = socket.create_connection(("127.0.0.1", p), timeout=5)
    s.sendall(payload)
    d = b""
    while True:
        x = s.recv(65536)
        if not x: break
        d += x
    print(repr(d[:12]))
PY
) || fail "garbage connection not closed: $v"
  expect_has "$v" "HTTP/1.1 400" "garbage -> 400"
  out=$("${C[@]}" --http2-prior-knowledge "http://127.0.0.1:$HTTP/hello")
  expect_eq "$out" "hello" "still serving"
  stop_server
  ;;
slowloris)
  start_server --request-timeout-ms 500 --idle-timeout-ms 800
  python3 - "$HTTP" >"$WORK/slow.out" 2>&1 <<'PY' &
import socket, sys, time
p = int(sys.argv[1])
def closed_after(s, t0, limit=4.0):
    s.settimeout(limit)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    return time.time() - t0
# Slowloris: a header line every 100 ms, never the blank line.
s = socket.create_connection(("127.0.0.1", p), timeout=5)
t0 = time.time()
s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
cut = None
for i in range(30):
    time.sleep(0.1)
    try:
        s.sendall(b"X-A: b\r\n")
    except OSError:
        cut = time.time() - t0
        break
if cut is None:
    cut = closed_after(s, t0)
print("slowloris cut after %.2f s" % cut)
assert 0.4 <= cut <= 1.5, cut
# Idle keep-alive connection: closed after the idle timeout.
k = socket.create_connection(("127.0.0.1", p), timeout=5)
k.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
k.recv(1000)
idle = closed_after(k, time.time())
print("idle HTTP/1.1 cut after %.2f s" % idle)
assert 0.6 <= idle <= 2.0, idle
# HTTP/2 connection that opens no stream.
h = socket.create_connection(("127.0.0.1", p), timeout=5)
h.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
t = closed_after(h, time.time())
print("idle HTTP/2 cut after %.2f s" % t)
assert t <= 2.0, t
PY
  slow=$!
  sleep 0.2
  out=$("${C[@]}" --http1.1 "http://127.0.0.1:$HTTP/hello")
  expect_eq "$out" "hello" "others served while a slow client holds a connection"
  wait "$slow" || fail "timeouts: $(cat "$WORK/slow.out")"
  cat "$WORK/slow.out"
  stop_server
  ;;
stream_limit)
  start_server --max-streams 5
  read -r h r < <(raw_h2_streams "$HTTP" 10)
  expect_eq "$h" "5" "streams answered"
  expect_eq "$r" "5" "streams refused with REFUSED_STREAM"
  if command -v h2load >/dev/null; then
    out=$(h2load -n 20 -c 1 -m 5 "http://127.0.0.1:$HTTP/slow" 2>&1) || fail "h2load: $out"
    expect_has "$out" "20 succeeded, 0 failed" "client within the limit"
  fi
  stop_server
  ;;
graceful_stop)
  start_server
  "${C[@]}" -N --http1.1 "http://127.0.0.1:$HTTP/stream?n=0" >"$WORK/s1" 2>&1 &
  p1=$!
  "${C[@]}" -N --http2-prior-knowledge "http://127.0.0.1:$HTTP/stream?n=0" >"$WORK/s2" 2>&1 &
  p2=$!
  "${C[@]}" -N -k --http2 "https://127.0.0.1:$HTTPS/stream?n=0" >"$WORK/s3" 2>&1 &
  p3=$!
  for _ in $(seq 100); do
    [[ $(grep -c tick "$WORK/s1") -ge 2 && $(grep -c tick "$WORK/s2") -ge 2 && $(grep -c tick "$WORK/s3") -ge 2 ]] && break
    sleep 0.05
  done
  "${C[@]}" --http1.1 "http://127.0.0.1:$HTTP/slow" >"$WORK/slow" &
  p4=$!
  sleep 0.05
  stop_server
  echo "graceful stop with 3 open streams and a pending response: ${STOP_MS} ms"
  [[ $STOP_MS -lt 2000 ]] || fail "stop took ${STOP_MS} ms"
  for p in $p1 $p2 $p3; do wait "$p" || fail "a stream did not end cleanly (curl exit $?): $(cat "$WORK/s1" "$WORK/s2" "$WORK/s3" | tail -3)"; done
  wait "$p4" || fail "in-flight /slow not completed"
  expect_eq "$(cat "$WORK/slow")" "slow" "in-flight response finished"
  ;;
saved_syn)
  start_server
  "${C[@]}" --http1.1 "http://127.0.0.1:$HTTP/hello" >/dev/null
  "${C[@]}" --http1.1 "http://[::1]:$HTTP6/hello" >/dev/null
  sleep 0.1
  python3 - "$WORK/visitors.log" "$HTTP" "$HTTP6" <<'PY' || fail "saved SYN check"
import sys
log, p4, p6 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = set()
for line in open(log):
    kind, conn, client, server, payload = line.split()
    if kind != "syn": continue
    b = bytes.fromhex(payload)
    cport = int(client.rsplit(":", 1)[1]); sport = int(server.rsplit(":", 1)[1])
    ver = b[0] >> 4
    if ver == 4:
        assert b[9] == 6, "protocol not TCP"
        off = (b[0] & 0xF) * 4
        assert client.startswith("127.0.0.1:"), client
    elif ver == 6:
        assert b[6] == 6, "next header not TCP"
        off = 40
        assert client.startswith("[::1]:"), client
    else:
        raise SystemExit("bad version nibble %d" % ver)
    tcp = b[off:]
    src, dst, flags = int.from_bytes(tcp[0:2], "big"), int.from_bytes(tcp[2:4], "big"), tcp[13]
    assert flags & 0x02 and not flags & 0x10, "not a bare SYN: flags %#x" % flags
    assert src == cport and dst == sport, "4-tuple mismatch %d/%d vs %d/%d" % (src, dst, cport, sport)
    assert len(tcp) >= (tcp[12] >> 4) * 4 > 20, "no TCP options"
    seen.add(ver)
    print("syn v%d ok: %d bytes, %s -> %s" % (ver, len(b), client, server))
assert seen == {4, 6}, "saw %s" % seen
PY
  grep -q '^closed ' "$WORK/visitors.log" || fail "no on_closed record"
  grep '^prefix ' "$WORK/visitors.log" | head -1 | grep -q " $(printf 'GET /hello' | xxd -p)" || fail "cleartext prefix"
  stop_server
  ;;
client_hello)
  need xxd
  start_server
  "${C[@]}" -k --http1.1 --resolve "localhost:$HTTPS:127.0.0.1" "https://localhost:$HTTPS/hello" >/dev/null || fail "curl"
  "${C[@]}" -k --http2 --resolve "localhost:$HTTPS6:::1" "https://localhost:$HTTPS6/hello" >/dev/null || fail "curl v6"
  sleep 0.1
  python3 - "$WORK/visitors.log" <<'PY' || fail "ClientHello check"
import sys
n = 0
for line in open(sys.argv[1]):
    kind, conn, client, server, payload = line.split()
    if kind == "hello":
        b = bytes.fromhex(payload)
        assert b[0] == 1, "not a ClientHello"
        assert int.from_bytes(b[1:4], "big") + 4 == len(b), "length field disagrees"
        assert b"localhost" in b, "SNI missing"
        n += 1
    if kind == "prefix-tls":
        b = bytes.fromhex(payload)
        assert b.startswith(b"GET /hello HTTP/1.1") or b.startswith(b"PRI * HTTP/2.0"), b[:20]
assert n == 2, "expected 2 ClientHellos, saw %d" % n
print("client hellos ok")
PY
  grep -q '^prefix-tls ' "$WORK/visitors.log" || fail "no TLS prefix record"
  stop_server
  ;;
long_poll)
  start_server
  t0=$(date +%s%N)
  out=$("${C[@]}" --http1.1 "http://127.0.0.1:$HTTP/slow")
  t1=$(date +%s%N)
  expect_eq "$out" "slow" "slow answer"
  [[ $(((t1 - t0) / 1000000)) -ge 190 ]] || fail "answered too early"
  # Multiplexed on one HTTP/2 connection (TLS: curl 7.88 fails --parallel
  # with --http2-prior-knowledge on its own): /hello is not held up by /slow.
  "${C[@]}" -k --http2 -w '%{time_total} %{num_connects}\n' -o /dev/null "https://127.0.0.1:$HTTPS/slow" \
    -o /dev/null "https://127.0.0.1:$HTTPS/hello" --parallel >"$WORK/t" 2>/dev/null || fail "curl parallel"
  python3 - "$WORK/t" <<'PY' || fail "multiplexing: $(cat "$WORK/t")"
import sys
rows = sorted(tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip())
assert len(rows) == 2 and rows[0][0] < 0.15 and rows[1][0] >= 0.19, rows
assert sorted(r[1] for r in rows) == [0, 1], "two connections: %s" % rows
PY
  stop_server
  ;;
cert_reuse)
  need openssl
  start_server
  fp1=$(grep '^fingerprint' "$WORK/out" | cut -d' ' -f2)
  stop_server
  [[ $(stat -c %a "$WORK/state/tls/key.pem") == 600 ]] || fail "key mode $(stat -c %a "$WORK/state/tls/key.pem")"
  [[ $(stat -c %a "$WORK/state/tls") == 700 ]] || fail "dir mode"
  start_server
  fp2=$(grep '^fingerprint' "$WORK/out" | cut -d' ' -f2)
  expect_eq "$fp2" "$fp1" "certificate reused"
  s=$(openssl x509 -in "$WORK/state/tls/cert.pem" -noout -text)
  expect_has "$s" "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1" "SAN"
  expect_has "$s" "prime256v1" "P-256"
  stop_server
  ;;
bind_error)
  start_server
  "$BIN" --listen "127.0.0.1:$HTTP" --state-dir "$WORK/state" >"$WORK/out2" 2>"$WORK/err2"
  rc=$?
  [[ $rc -eq 1 ]] || fail "second server exit $rc"
  expect_has "$(cat "$WORK/err2")" "cannot listen on 127.0.0.1:$HTTP: Address already in use" "bind error"
  "$BIN" --tls-listen 127.0.0.1:0 --state-dir "$WORK/s2" --cert /nonexistent.pem --key /nonexistent.key \
    >"$WORK/out3" 2>"$WORK/err3"
  expect_has "$(cat "$WORK/err3")" "cannot read certificate /nonexistent.pem" "missing cert"
  stop_server
  ;;
ws_handshake)
  # RFC 6455 §4.2: 101 with the right Sec-WebSocket-Accept, the chosen
  # subprotocol, and a frame sent along with the handshake not lost; a
  # wrong version or key is no handshake (426 naming version 13).
  start_server
  python3 "$WSC" "$HTTP" handshake || fail "ws:// handshake"
  python3 "$WSC" --host ::1 "$HTTP6" handshake || fail "ws:// handshake over ::1"
  python3 "$WSC" --tls "$HTTPS" handshake || fail "wss:// handshake"
  python3 "$WSC" "$HTTP" badversion || fail "bad version / key"
  out=$("${C[@]}" --http1.1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/ws")
  expect_eq "$out" "426" "plain GET /ws"
  ;;
ws_echo)
  # Echo of messages from 0 bytes to 64 KiB (all three length forms), a
  # fragmented message with a ping between its fragments, close handshake;
  # over ws:// (IPv4, IPv6) and wss:// (ALPN http/1.1).
  start_server
  python3 "$WSC" "$HTTP" echo || fail "ws:// echo"
  python3 "$WSC" --host ::1 "$HTTP6" echo || fail "ws:// echo over ::1"
  python3 "$WSC" --tls "$HTTPS" echo || fail "wss:// echo"
  python3 "$WSC" --tls --host ::1 "$HTTPS6" echo || fail "wss:// echo over ::1"
  out=$("${C[@]}" "http://127.0.0.1:$HTTP/ws-stats")
  expect_has "$out" '"accepted":4' "accepted count"
  ;;
ws_push)
  # Server-initiated messages every 100 ms, then a close with the
  # application's code and reason.
  start_server
  python3 "$WSC" "$HTTP" push || fail "ws:// push"
  python3 "$WSC" --tls "$HTTPS" push || fail "wss:// push"
  ;;
ws_ping)
  # Pings every 300 ms without input; a client answering them stays, one
  # that says nothing is dropped after ping + idle timeout (0.3 + 0.6 s).
  start_server --ws-ping-ms 300 --idle-timeout-ms 600
  python3 "$WSC" "$HTTP" ping || fail "ws:// ping"
  python3 "$WSC" --tls "$HTTPS" ping || fail "wss:// ping"
  if command -v node >/dev/null; then
    node "$WSH2" "https://127.0.0.1:$HTTPS" ping || fail "h2 websocket ping"
  fi
  ;;
ws_limits)
  # 1009 over 64 KiB (one frame or fragments), 1003 for binary, 1002 for
  # an unmasked frame, reserved bits, an orphan continuation, a long ping
  # or a reserved close code, 1007 for text that is not UTF-8.
  start_server
  python3 "$WSC" "$HTTP" limits || fail "ws:// limits"
  python3 "$WSC" --tls "$HTTPS" limits || fail "wss:// limits"
  "${C[@]}" --http1.1 "http://127.0.0.1:$HTTP/hello" >/dev/null || fail "server hurt by bad frames"
  ;;
ws_slow)
  # A subscriber that stops reading (4 KiB receive buffer) is refused by
  # send_text() once 256 KiB are queued and dropped by the caller; another
  # one on the same feed keeps receiving.
  start_server --max-queue-bytes 262144
  python3 "$WSC" "$HTTP" slow "$HTTP" || fail "ws:// slow subscriber"
  python3 "$WSC" --tls "$HTTPS" slow "$HTTP" || fail "wss:// slow subscriber"
  ;;
ws_h2)
  # RFC 8441: SETTINGS_ENABLE_CONNECT_PROTOCOL, extended CONNECT with
  # :protocol websocket, two WebSockets and a plain request multiplexed on
  # one connection, echo, ping, push, close, 1003 and 1009; h2c and h2.
  need node
  start_server
  node "$WSH2" "http://127.0.0.1:$HTTP" echo || fail "h2c websocket"
  node "$WSH2" "https://127.0.0.1:$HTTPS" echo || fail "h2 websocket"
  node "$WSH2" "https://[::1]:$HTTPS6" echo || fail "h2 websocket over ::1"
  ;;
ws_stop)
  # Graceful stop closes every WebSocket with 1001: HTTP/1.1 cleartext and
  # TLS, and HTTP/2 (RFC 8441) when node is there.
  start_server
  python3 "$WSC" "$HTTP" hold 2 >"$WORK/h1" 2>&1 &
  p1=$!
  python3 "$WSC" --tls "$HTTPS" hold 1 >"$WORK/h2" 2>&1 &
  p2=$!
  pids=("$p1" "$p2")
  files=("$WORK/h1" "$WORK/h2")
  if command -v node >/dev/null; then
    node "$WSH2" "https://127.0.0.1:$HTTPS" hold >"$WORK/h3" 2>&1 &
    pids+=("$!")
    files+=("$WORK/h3")
  fi
  for _ in $(seq 100); do
    n=0
    for f in "${files[@]}"; do grep -q '^open' "$f" && n=$((n + 1)); done
    [[ $n -eq ${#files[@]} ]] && break
    sleep 0.05
  done
  [[ $n -eq ${#files[@]} ]] || fail "websockets did not open: $(cat "${files[@]}")"
  stop_server
  echo "graceful stop with ${#files[@]} WebSocket clients: ${STOP_MS} ms"
  [[ $STOP_MS -lt 2000 ]] || fail "stop took ${STOP_MS} ms"
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "no close 1001: $(cat "${files[$i]}")"
    expect_has "$(cat "${files[$i]}")" "closed 1001" "close code at stop"
  done
  ;;
*)
  fail "unknown case $CASE"
  ;;
esac
echo "PASS [$CASE]"
