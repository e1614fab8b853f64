#!/usr/bin/env bash
# realtime_ws_test.sh
#
# GET /ws (WebSocket subscriptions on the event hub) against the real
# binary:
#   - HTTP/1.1 (RFC 6455) with ws_subscriber.py: the same ids and data
#     bytes as /events for the same changes, a live filter change,
#     pause/resume, resume with ?last_event_id= and with a subscribe op,
#     error answers, ping/pong, the counters on /metrics;
#   - HTTP/2 over TLS (RFC 8441 extended CONNECT) with Node's http2: the
#     server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, the stream is
#     accepted with 200, a reset then a live profile event arrive;
#   - a plain GET /ws is a 426 with sec-websocket-version: 13 (HTTP/1.1
#     and HTTP/2);
#   - SIGTERM with WebSockets open: exit 0 within 2 s.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_bin
require_tools curl
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"
export TZ=UTC
make_workdir realtime_ws
here=$(dirname "${BASH_SOURCE[0]}")

start_serve 'https://' --no-capture --listen 127.0.0.1:0 --listen '[::1]:0' --tls-listen '[::1]:0' \
  --state-dir "$work/state"
port=$(served_port 'http://127\.0\.0\.1')
port6=$(served_port 'http://\[::1\]')
tls6=$(served_port 'https://\[::1\]')

# Not a handshake: 426 naming the version (RFC 6455 §4.4), over HTTP/1.1
# and HTTP/2 (h2 over TLS by ALPN).
curl -s --http1.1 -o /dev/null -D "$work/h1.head" "http://[::1]:$port6/ws"
head -n 1 "$work/h1.head" | grep -q " 426" || fail "plain GET /ws over HTTP/1.1: $(cat "$work/h1.head")"
grep -qi "^sec-websocket-version: 13" "$work/h1.head" || fail "426 without sec-websocket-version: $(cat "$work/h1.head")"
# RFC 9110 §15.5.22: a 426 names the protocol to upgrade to, and §7.8 lists
# Upgrade in Connection.
grep -qi "^upgrade: websocket" "$work/h1.head" || fail "426 without Upgrade: $(cat "$work/h1.head")"
grep -qi "^connection: upgrade" "$work/h1.head" || fail "426 without Connection: upgrade: $(cat "$work/h1.head")"
curl -sk --http2 -o /dev/null -D "$work/h2.head" "https://[::1]:$tls6/ws"
head -n 1 "$work/h2.head" | grep -q "^HTTP/2 426" || fail "plain GET /ws over HTTP/2: $(cat "$work/h2.head")"
grep -qi "^sec-websocket-version: 13" "$work/h2.head" || fail "h2 426 without sec-websocket-version"
note "426 ok"

# HTTP/1.1 WebSocket subscriber against /events.
/usr/bin/python3 "$here/ws_subscriber.py" "$port" "$port6" >"$work/ws.log" 2>&1 ||
  fail "ws_subscriber: $(cat "$work/ws.log")"
while read -r line; do note "$line"; done <"$work/ws.log"

# RFC 8441 over h2 (TLS): a reset, then a live event for a visitor.
if command -v node >/dev/null; then
  node - "https://[::1]:$tls6" "http://127.0.0.1:$port" >"$work/h2ws.log" 2>&1 <<'JS' || fail "h2 websocket: $(cat "$work/h2ws.log")"
'use strict';
const http2 = require('node:http2');
const http = require('node:http');
const crypto = require('node:crypto');
const [url, visitor] = process.argv.slice(2);
const die = (m) => { console.error('h2 ws: ' + m); process.exit(1); };
setTimeout(() => die('timed out'), 10000).unref();
// A masked client text frame (RFC 6455 §5.2, §5.3).
function text(s) {
  const data = Buffer.from(s);
  if (data.length >= 126) die('test message too long');
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ key[i & 3]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | data.length]), key, masked]);
}
const session = http2.connect(url, { rejectUnauthorized: false });
session.on('error', (e) => die('session: ' + e.message));
session.once('remoteSettings', (settings) => {
  if (!settings.enableConnectProtocol) die('no SETTINGS_ENABLE_CONNECT_PROTOCOL');
  const s = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws?ip=127.0.0.1',
                              'sec-websocket-version': '13' });
  s.on('response', (h) => { if (h[':status'] !== 200) die('status ' + h[':status']); });
  let buf = Buffer.alloc(0);
  const seen = [];
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      let n = buf[1] & 0x7f, pos = 2;
      if (n === 126) { if (buf.length < 4) return; n = buf.readUInt16BE(2); pos = 4; }
      else if (n === 127) { if (buf.length < 10) return; n = Number(buf.readBigUInt64BE(2)); pos = 10; }
      if (buf.length < pos + n) return;
      const op = buf[0] & 0x0f, payload = buf.subarray(pos, pos + n).toString();
      buf = buf.subarray(pos + n);
      if (op !== 1) continue;
      const m = JSON.parse(payload);
      seen.push(m.event);
      if (seen.length === 1) {
        if (m.event !== 'reset') die('first message ' + payload);
        s.write(text('{"op":"ping"}'));
      } else if (m.event === 'pong') {
        http.get(visitor + '/api/health', (r) => r.resume()).on('error', (e) => die('visitor: ' + e.message));
      } else if (m.event === 'profile') {
        if (m.data.ip !== '127.0.0.1' || !(m.id > 0)) die('profile ' + payload);
        console.log('h2 websocket: ' + seen.join(', ') + ' (id ' + m.id + ')');
        session.close();
        process.exit(0);
      }
    }
  });
  s.on('close', () => die('stream closed after ' + seen.join(', ')));
});
JS
  note "$(cat "$work/h2ws.log")"
else
  note "node not installed: RFC 8441 check skipped"
fi

# Shutdown with a WebSocket open: the hub closes it with 1001.
/usr/bin/python3 - "$port6" "$here" >"$work/hold.log" 2>&1 <<'PY' &
import os, struct, sys
sys.path.insert(0, os.path.join(sys.argv[2], "..", "server"))
import ws_client
w = ws_client.Ws("::1", int(sys.argv[1]), False).expect_open()
w.recv_message()
print("open", flush=True)
w.expect_close(1001)
print("closed 1001", flush=True)
PY
hold_pid=$!
poll_until 5 grep -qs "^open" "$work/hold.log" || fail "holding subscriber did not start: $(cat "$work/hold.log")"
stop_within 2 "$serve_pid" TERM || fail "serve did not exit within 2 s of SIGTERM"
((stop_status == 0)) || fail "serve exited with status $stop_status: $(tail -n 5 "$work/serve.stderr")"
wait "$hold_pid" || fail "holding subscriber: $(cat "$work/hold.log")"
if grep -qiE "terminate called|Aborted|Segmentation fault|AddressSanitizer|runtime error:" "$work/serve.stderr"; then
  fail "serve stderr shows a crash: $(cat "$work/serve.stderr")"
fi
note "ok"
