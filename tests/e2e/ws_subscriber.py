#!/usr/bin/env python3
"""GET /ws against the real binary, for realtime_ws_test.sh: a WebSocket
subscriber (the RFC 6455 client of tests/server/ws_client.py) beside an
SSE subscriber on /events, both over [::1] so that their own connections
do not touch 127.0.0.1's profile; changes are made by visitor requests
from 127.0.0.1 and DELETE /api/profiles/127.0.0.1.

Checks: the first message is a reset; ids ascend; /ws gets the same ids
and byte-for-byte the same data as /events for the same changes; a live
filter change (subscribed + reset, then only matching events); pause
(nothing arrives) and resume (what was missed, from the journal, nothing
twice); resume with ?last_event_id= and with a subscribe op; bad control
messages get an error and the socket stays; ping/pong.

usage: ws_subscriber.py PORT PORT6     (cleartext listeners on 127.0.0.1 and [::1])
Exit 0 when every check held, 1 with a message otherwise.
"""
import http.client
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
import ws_client  # noqa: E402  (tests/server/ws_client.py)

VISITOR = "127.0.0.1"


def die(msg):
    print("ws_subscriber: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        die(msg)


class WsSub:
    """One /ws subscriber: JSON messages with a deadline."""

    def __init__(self, port6, query=""):
        path = "/ws" + ("?" + query if query else "")
        self.w = ws_client.Ws("::1", port6, False, path=path).expect_open()
        self.last_id = 0

    def send(self, obj):
        self.w.send_text(obj if isinstance(obj, str) else json.dumps(obj))

    def recv(self, timeout=5.0):
        """(raw text, parsed) of the next message, or None after `timeout`."""
        self.w.s.settimeout(timeout)
        try:
            text = self.w.recv_message()
        except socket.timeout:
            return None
        finally:
            self.w.s.settimeout(5)
        msg = json.loads(text)
        if "id" in msg:
            if msg["event"] != "reset":
                check(msg["id"] > self.last_id, "ids not ascending: %d after %d" % (msg["id"], self.last_id))
            self.last_id = msg["id"]
        return text, msg

    def expect(self, event, timeout=5.0):
        got = self.recv(timeout)
        check(got is not None, "no %s message within %.1f s" % (event, timeout))
        check(got[1]["event"] == event, "expected %s, got %s" % (event, got[0][:300]))
        return got[1]

    def until(self, pred, timeout=5.0):
        """Messages up to and including the first one `pred` accepts."""
        out = []
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            check(left > 0, "condition not met within %.1f s; got %r" % (timeout, [m for _, m in out][-5:]))
            got = self.recv(left)
            check(got is not None, "condition not met within %.1f s" % timeout)
            out.append(got)
            if pred(got[1]):
                return out


class SseSub:
    """GET /events over [::1] read on a thread: (event, id, data) triples."""

    def __init__(self, port6):
        self.c = http.client.HTTPConnection("::1", port6, timeout=30)
        self.c.request("GET", "/events")
        self.r = self.c.getresponse()
        check(self.r.status == 200, "/events status %d" % self.r.status)
        self.events = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        fields = {}
        try:
            for raw in self.r:
                line = raw.decode().rstrip("\n")
                if line == "":
                    if "data" in fields:
                        with self.lock:
                            self.events.append((fields.get("event"), fields.get("id"), fields["data"]))
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError):
            pass

    def wait_for(self, pred, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for e in self.events:
                    if pred(e):
                        return list(self.events)
            time.sleep(0.02)
        die("SSE: condition not met; last events %r" % [(e[0], e[1]) for e in self.events[-5:]])


def visit(port, path="/api/health"):
    """A visitor request from 127.0.0.1: changes 127.0.0.1's profile."""
    c = http.client.HTTPConnection(VISITOR, port, timeout=5)
    c.request("GET", path)
    c.getresponse().read()
    c.close()


def delete(port6, ip=VISITOR):
    c = http.client.HTTPConnection("::1", port6, timeout=5)
    c.request("DELETE", "/api/profiles/" + ip)
    status = c.getresponse().status
    c.close()
    return status


def data_of(text):
    """The bytes after "data": in a /ws message, without the closing brace:
    the SSE data line it must equal."""
    i = text.index(',"data":') + len(',"data":')
    check(text.endswith("}"), "message does not end in }")
    return text[i:-1]


def main():
    port, port6 = int(sys.argv[1]), int(sys.argv[2])

    # 1. Same events as /events, byte for byte.
    sse = SseSub(port6)
    sse.wait_for(lambda e: e[0] == "reset")
    ws = WsSub(port6)
    first = ws.expect("reset")
    check(first["id"] == first["data"]["seq"], "reset id %r != seq" % first)
    visit(port)
    time.sleep(0.25)  # past the 100 ms coalescing interval: a second event
    visit(port, "/api/stats")
    check(delete(port6) == 204, "DELETE /api/profiles/127.0.0.1")
    got = ws.until(lambda m: m["event"] == "deleted" and m["data"]["ip"] == VISITOR)
    deleted_id = got[-1][1]["id"]
    sse_events = sse.wait_for(lambda e: e[0] == "deleted" and e[1] == str(deleted_id))
    start = max(first["id"], max(int(e[1]) for e in sse_events if e[0] == "reset"))
    ws_seen = [(m["event"], str(m["id"]), data_of(t)) for t, m in got if "id" in m and start < m["id"] <= deleted_id]
    sse_seen = [e for e in sse_events if e[1] is not None and start < int(e[1]) <= deleted_id and e[0] != "reset"]
    check(ws_seen == sse_seen, "ws and sse differ:\n ws  %r\n sse %r" % ([x[:2] for x in ws_seen],
                                                                       [x[:2] for x in sse_seen]))
    # Coalescing (100 ms) may merge the two visits, whose observations
    # trail the requests; the first is published 250 ms before the
    # deletion, and the deletion, the newest change, always is.
    visitor_events = [x[0] for x in ws_seen if '"ip":"127.0.0.1"' in x[2]]
    check("profile" in visitor_events and visitor_events[-1] == "deleted",
          "expected the visitor's profile and deletion, got %r" % [x[:2] for x in ws_seen])
    print("same as SSE: %d events, ids %s..%s" % (len(ws_seen), ws_seen[0][1], ws_seen[-1][1]))

    # 2. ping, bad control messages.
    ws.send({"op": "ping"})
    ws.until(lambda m: m["event"] == "pong")
    for bad in ["{", '{"op":"fly"}', '{"op":"subscribe","filter":{"ip":"not-an-ip"}}', "[" * 1000]:
        ws.send(bad)
        m = ws.until(lambda m: m["event"] == "error")[-1][1]
        check(isinstance(m["data"]["message"], str), "error without message")
    print("ping and errors ok")

    # 3. Live filter change: only 127.0.0.1 from now on.
    ws.send({"op": "subscribe", "filter": {"ip": VISITOR}})
    sub = ws.until(lambda m: m["event"] == "subscribed")[-1][1]
    check(sub["data"]["filter"] == {"ip": VISITOR} and sub["data"]["paused"] is False, "subscribed %r" % sub)
    reset = ws.expect("reset")
    check(all(p["ip"] == VISITOR for p in reset["data"]["profiles"]), "reset for the filter: %r" % reset)
    h = http.client.HTTPConnection("::1", port6, timeout=5)  # changes ::1, filtered out
    h.request("GET", "/api/health")
    h.getresponse().read()
    h.close()
    visit(port)
    got = ws.until(lambda m: m["event"] == "profile")
    check(all(m.get("data", {}).get("ip") in (None, VISITOR) for _, m in got), "filtered out event arrived: %r" % got)
    check(got[-1][1]["data"]["ip"] == VISITOR, "profile for %r" % got[-1][1])
    print("filter change ok")

    # 4. Pause: nothing; resume: what was missed, once. Unfiltered again
    # (resuming after the last id), so that [::1]'s changes are missed too.
    ws.send({"op": "subscribe", "last_event_id": ws.last_id})
    sub = ws.until(lambda m: m["event"] == "subscribed")[-1][1]
    check(sub["data"]["filter"] == {}, "subscribed %r" % sub)
    ws.send({"op": "pause"})
    paused = ws.until(lambda m: m["event"] == "subscribed")[-1][1]
    check(paused["data"]["paused"] is True, "pause answer %r" % paused)
    p_seq = paused["data"]["seq"]
    visit(port)
    time.sleep(0.25)
    visit(port)
    time.sleep(0.25)
    check(delete(port6) == 204, "second DELETE")
    sse_events = sse.wait_for(lambda e: e[0] == "deleted" and e[1] is not None and int(e[1]) > p_seq)
    check(ws.recv(0.5) is None, "a message arrived while paused")
    ws.send({"op": "resume"})
    resumed = ws.until(lambda m: m["event"] == "deleted")
    check(resumed[0][1]["event"] == "subscribed", "resume answer %r" % resumed[0][1])
    ids = [m["id"] for _, m in resumed if "id" in m]
    # [::1]'s change from the DELETE's own connection may follow the
    # deletion: coalescing deferred it and re-issued it under a newer seq
    # (docs/realtime.md). It is replayed all the same.
    if len(ids) < 2:
        after = ws.until(lambda m: "id" in m and m["data"]["ip"] != VISITOR)
        ids += [m["id"] for _, m in after if "id" in m]
    check(len(ids) >= 2 and min(ids) > p_seq and ids == sorted(set(ids)), "resumed ids %r after %d" % (ids, p_seq))
    check(not any(m["event"] == "reset" for _, m in resumed), "resume sent a reset")
    sse_by_id = {int(e[1]): e for e in sse_events if e[1] is not None}
    for t, m in resumed:
        if "id" in m:
            check(m["id"] in sse_by_id and sse_by_id[m["id"]][2] == data_of(t), "resumed id %d not as SSE" % m["id"])
    print("pause/resume ok: paused at %d, replayed %r" % (p_seq, ids))
    ids = [m["id"] for _, m in resumed if "id" in m and m["data"]["ip"] == VISITOR]

    # 5. Resume point in the URL, and by a subscribe op.
    mid = p_seq
    r = WsSub(port6, "last_event_id=%d&ip=%s" % (mid, VISITOR))
    got = r.until(lambda m: m["event"] == "deleted" and m["id"] == resumed[-1][1]["id"])
    check(got[0][1]["event"] != "reset", "URL resume began with a reset")
    url_ids = [m["id"] for _, m in got if "id" in m]
    check(url_ids == ids, "URL resume ids %r != %r" % (url_ids, ids))
    r.last_id = mid  # asked to go back: ids ascend again from there
    r.send({"op": "subscribe", "filter": {"ip": VISITOR}, "last_event_id": mid})
    got = r.until(lambda m: m["event"] == "deleted")
    check(got[0][1]["event"] == "subscribed", "subscribe answer %r" % got[0][1])
    check([m["id"] for _, m in got if "id" in m] == ids, "op resume ids %r" % got)
    r.send({"op": "subscribe", "last_event_id": 10 ** 15})  # newer than the store: a reset
    got = r.until(lambda m: m["event"] == "reset")
    check(got[-1][1]["id"] == got[-1][1]["data"]["seq"], "reset %r" % got[-1][1])
    print("resume by URL and op ok")

    # 6. The counters on /metrics.
    c = http.client.HTTPConnection("::1", port6, timeout=5)
    c.request("GET", "/metrics")
    metrics = c.getresponse().read().decode()
    for name in ("ws_subscribers_current", "ws_messages_in", "ws_errors_sent"):
        check(name in metrics, "/metrics lacks %s" % name)
    print("metrics ok")


if __name__ == "__main__":
    main()
