#!/usr/bin/env bash
# realtime_test.sh
#
# The real binary's real-time channels, driven by curl:
#   - GET /events (SSE): `retry:` first, a `reset` snapshot for a fresh
#     client, then a `profile` event for a new visitor, ids strictly
#     increasing;
#   - resume: a client that reconnects with Last-Event-ID gets the events
#     after it (no reset, nothing it already had);
#   - polling: GET /api/profiles?since=SEQ returns the changes after SEQ;
#     with wait=SECONDS it is held until a change arrives;
#   - SIGTERM with event streams open: exit 0 within 2 s.

set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_bin
require_tools curl
[[ -x /usr/bin/python3 ]] || skip "/usr/bin/python3 not installed"
export TZ=UTC
make_workdir realtime

start_serve 'http://\[::1\]' --no-capture --listen 127.0.0.1:0 --listen '[::1]:0' --tls-listen none
port=$(served_port 'http://127\.0\.0\.1')
port6=$(served_port 'http://\[::1\]')
H="http://127.0.0.1:$port"

# A subscriber over IPv6, so its own connection does not touch 127.0.0.1's profile.
curl -sN --max-time 20 "http://[::1]:$port6/events" >"$work/sse1.txt" 2>"$work/sse1.err" &
sse_pid=$!
pids+=("$sse_pid")
poll_until 5 grep -qs "^event: reset" "$work/sse1.txt" || fail "no reset snapshot on /events: $(cat "$work/sse1.txt")"

# A visitor over IPv4 creates 127.0.0.1's profile.
curl -sS --max-time 5 -o /dev/null "$H/api/health" || fail "visitor request failed"
poll_until 5 grep -qs '"ip":"127.0.0.1"' "$work/sse1.txt" ||
  fail "no profile event for the visitor: $(cat "$work/sse1.txt")"

check_stream() { # FILE: SSE framing and strictly increasing ids
  /usr/bin/python3 - "$1" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
assert text.startswith("retry: "), text[:80]
ids, events = [], []
for block in text.split("\n\n"):
    fields = {}
    for line in block.split("\n"):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name, value[1:] if value.startswith(" ") else value)
    if "id" in fields:
        ids.append(int(fields["id"]))
    if "event" in fields:
        events.append(fields["event"])
assert ids == sorted(set(ids)), f"ids not strictly increasing: {ids}"
print(ids[-1] if ids else 0)
PY
}
last=$(check_stream "$work/sse1.txt") || fail "bad SSE stream: $(head -c 2000 "$work/sse1.txt")"
note "first stream ok, last id $last"

# Resume after the last id: the next change arrives, no reset, no old id.
curl -sN --max-time 4 -H "Last-Event-ID: $last" "http://[::1]:$port6/events" >"$work/sse2.txt" &
sse2_pid=$!
pids+=("$sse2_pid")
sleep 0.5
curl -sS --max-time 5 -o /dev/null "$H/api/stats" || fail "second visitor request failed"
poll_until 5 grep -qs '"ip":"127.0.0.1"' "$work/sse2.txt" || fail "resumed stream missed the change: $(cat "$work/sse2.txt")"
grep -q "^event: reset" "$work/sse2.txt" && fail "resumed stream got a reset: $(head -c 500 "$work/sse2.txt")"
/usr/bin/python3 - "$work/sse2.txt" "$last" <<'PY' || fail "resumed stream repeated an old event"
import re, sys
ids = [int(x) for x in re.findall(r"^id: (\d+)$", open(sys.argv[1]).read(), re.M)]
assert ids and min(ids) > int(sys.argv[2]), (ids, sys.argv[2])
PY

# Polling: the changes after a sequence number, and a long poll that is held
# until something changes. One kept-alive connection: a new one would itself
# change [::1]'s profile (its SYN and first request) and end the wait at once.
/usr/bin/python3 - "$port6" "$work/longpoll.log" <<'PY' &
import http.client, json, sys, time
conn = http.client.HTTPConnection("::1", int(sys.argv[1]), timeout=15)
# This run's seqs start at its start time in microseconds, so 0 (or any
# seq of an earlier run) is older than the journal: a reset with the list.
conn.request("GET", "/api/profiles?since=0")
d = json.loads(conn.getresponse().read())
assert d["reset"] is True and d["profiles"] and d["seq"] > 1_000_000_000_000_000, d
assert all(p["seq"] <= d["seq"] for p in d["profiles"]), d
seq = d["seq"]
conn.request("GET", f"/api/profiles?since={seq}")
d = json.loads(conn.getresponse().read())
assert d["reset"] is False and d["seq"] >= seq, d
seq = d["seq"]
# Settle: this connection's first request (and the other visitors' last
# ones) may still come back once, re-issued under a new seq when the IP's
# coalescing interval ends (docs/realtime.md, "Coalescing"). Quiet for a
# whole held second means settled.
for _ in range(5):
    conn.request("GET", f"/api/profiles?since={seq}&wait=1")
    d = json.loads(conn.getresponse().read())
    assert d["reset"] is False, d
    if not d["changes"]:
        break
    seq = d["seq"]
else:
    raise AssertionError("the profiles kept changing")
open(sys.argv[2] + ".ready", "w").close()
t0 = time.monotonic()
conn.request("GET", f"/api/profiles?since={seq}&wait=8")
d = json.loads(conn.getresponse().read())
ms = int((time.monotonic() - t0) * 1000)
assert d["reset"] is False and any(c.get("profile", {}).get("ip") == "127.0.0.1" for c in d["changes"]), d
assert all(c["seq"] > seq for c in d["changes"]), d
assert 300 <= ms < 7000, f"held {ms} ms"
open(sys.argv[2], "w").write(f"held {ms} ms\n")
PY
lp_pid=$!
poll_until 10 test -e "$work/longpoll.log.ready" || fail "the long-poll client did not settle"
sleep 0.5
curl -sS --max-time 5 -o /dev/null "$H/api/health" || fail "third visitor request failed"
wait "$lp_pid" || fail "long poll check failed"
note "long poll $(cat "$work/longpoll.log")"

# Shutdown with a stream open.
stop_within 2 "$serve_pid" TERM || fail "serve did not exit within 2 s of SIGTERM"
((stop_status == 0)) || fail "serve exited with status $stop_status: $(tail -n 5 "$work/serve.stderr")"
if grep -qiE "terminate called|Aborted|Segmentation fault|AddressSanitizer|runtime error:" "$work/serve.stderr"; then
  fail "serve stderr shows a crash: $(cat "$work/serve.stderr")"
fi
note "ok"
