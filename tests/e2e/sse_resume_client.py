#!/usr/bin/env python3
"""Resuming real-time clients and their checks, for realtime_faults_test.sh.

usage:
  sse_resume_client.py sse  URL LOG STATE [--idle S] [--source ADDR]
  sse_resume_client.py ws   URL LOG STATE [--idle S]
  sse_resume_client.py poll URL LOG STATE [--wait S] [--source ADDR]
  sse_resume_client.py converge URL TIMEOUT STATE... [--expect IP,...] [--source ADDR]
  sse_resume_client.py check LOG [--resets N] [--cut ID]
  sse_resume_client.py proxy LISTEN_HOST LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT CONTROL

sse: GET URL (/events) and behave as an EventSource does (HTML Living
  Standard §9.2): parse the stream per §9.2.6 (CR, LF or CRLF line ends; an
  event is dispatched only at its blank line, so a stream cut inside an
  event applies nothing of it), remember `retry:`, reconnect that many ms
  after the stream ends or fails, sending `Last-Event-ID` (§9.2.4). Like a
  dashboard (EventSource itself has no such timer) it also gives up on a
  stream that is silent for --idle seconds: an RST lost to packet loss
  would otherwise leave it waiting forever; the server's `stats` event
  every 5 s keeps a live stream from going silent that long.
ws: the same over a WebSocket (GET /ws, docs/realtime.md): resumes with
  ?last_event_id=N, reconnects 1 s after a loss.
poll: GET URL?since=SEQ&wait=S in a loop on one kept-alive connection,
  reconnecting after 0.5 s on any failure.
sse, ws and poll apply events to a table ip -> seq: `reset` replaces it, `profile`
  upserts (keeping the highest seq per IP), `expired`/`deleted` remove. They
  log every event they apply as a JSON line to LOG and write the table to
  STATE (atomically) after each one; SIGTERM ends them with status 0.
converge: over one kept-alive connection, read GET /api/profiles until every
  STATE's table equals the server's (same IPs, same seq per IP) and holds
  every --expect IP; status 1 with the difference after TIMEOUT seconds.
check: the log's promises: no (ip, seq) applied twice and ids strictly
  increasing within each server lifetime (a `reset` whose id is not above
  the last id starts a new lifetime: sequence numbers restarted); with
  --resets, exactly that many resets; with --cut ID, the stream was lost
  with half an event pending and nothing with id ID or above was applied
  before that.
proxy: forwards one TCP connection at a time to UPSTREAM; when CONTROL
  exists (then it is removed) the next `data:` line from upstream is cut in
  half and both sides are closed, so the client sees half an event; the
  event's id goes to CONTROL.id.
"""
import http.client
import json
import os
import select
import signal
import socket
import sys
import time


def die(msg):
    print("sse_resume_client: " + msg, file=sys.stderr)
    sys.exit(1)


def split_url(url):
    if not url.startswith("http://"):
        die("only http:// URLs: " + url)
    rest = url[len("http://"):]
    hostport, _, path = rest.partition("/")
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]:")
    else:
        host, _, port = hostport.partition(":")
    return host, int(port or 80), "/" + path


class Client:
    """The table, the log and the state file of the sse, ws and poll modes."""

    def __init__(self, log_path, state_path):
        self.log = open(log_path, "a", encoding="utf-8")
        self.state_path = state_path
        self.table = {}
        self.last_id = None
        self.connects = 0
        self.resets = 0
        self.stop = False
        signal.signal(signal.SIGTERM, self._on_term)

    def _on_term(self, *_):
        self.stop = True
        raise KeyboardInterrupt

    def record(self, **entry):
        entry["t"] = round(time.monotonic(), 3)
        self.log.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self.log.flush()

    def save(self):
        tmp = self.state_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"last_id": self.last_id, "table": self.table, "connects": self.connects,
                       "resets": self.resets}, f)
        os.replace(tmp, self.state_path)

    def apply_reset(self, seq, profiles):
        self.table = {p["ip"]: p["seq"] for p in profiles}
        self.resets += 1
        self.record(event="reset", id=seq, profiles=[[p["ip"], p["seq"]] for p in profiles])

    def apply_profile(self, ident, p):
        ip, seq = p["ip"], p["seq"]
        if seq > self.table.get(ip, 0):
            self.table[ip] = seq
        self.record(event="profile", id=ident, ip=ip, seq=seq)

    def apply_gone(self, kind, ident, ip, seq):
        self.table.pop(ip, None)
        self.record(event=kind, id=ident, ip=ip, seq=seq)


def connect(host, port, source, timeout):
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    conn.connect()
    return conn


class EventStream:
    """The HTML §9.2.6 event stream interpretation, fed bytes as they come."""

    def __init__(self, on_event):
        self.buf = b""
        self.on_event = on_event
        self.reset_fields()
        self.retry = None
        self.first = True

    def reset_fields(self):
        self.data = []
        self.type = ""
        self.id = None

    def feed(self, chunk):
        self.buf += chunk
        while True:
            cr, lf = self.buf.find(b"\r"), self.buf.find(b"\n")
            ends = [i for i in (cr, lf) if i >= 0]
            if not ends:
                return
            i = min(ends)
            if self.buf[i:i + 1] == b"\r" and i + 1 == len(self.buf):
                return  # a CR at the end: wait to see whether an LF follows
            line = self.buf[:i]
            step = 2 if self.buf[i:i + 2] == b"\r\n" else 1
            self.buf = self.buf[i + step:]
            if self.first:
                self.first = False
                if line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
            self.line(line.decode("utf-8", "replace"))

    def line(self, text):
        if text == "":
            self.dispatch()
            return
        if text.startswith(":"):
            return
        name, colon, value = text.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self.type = value
        elif name == "data":
            self.data.append(value)
        elif name == "id":
            if "\0" not in value:
                self.id = value
        elif name == "retry":
            if value.isdigit():
                self.retry = int(value)

    def dispatch(self):
        ident, data, kind = self.id, self.data, self.type or "message"
        self.reset_fields()
        if ident is not None:
            self.on_event("id", ident, None)
        if data:
            self.on_event(kind, ident, "\n".join(data))


def run_sse(url, log_path, state_path, idle, source):
    host, port, path = split_url(url)
    c = Client(log_path, state_path)
    retry_ms = 3000  # until the server says otherwise

    def on_event(kind, ident, data):
        if kind == "id":
            c.last_id = ident  # the last event ID buffer, §9.2.6 "dispatch"
            return
        if kind == "stats":
            return
        doc = json.loads(data)
        if kind == "reset":
            c.apply_reset(int(ident), doc["profiles"])
        elif kind == "profile":
            c.apply_profile(int(ident), doc)
        elif kind in ("expired", "deleted"):
            c.apply_gone(kind, int(ident), doc["ip"], doc["seq"])
        else:
            c.record(event="unknown", kind=kind)
        c.save()

    c.save()
    try:
        while not c.stop:
            stream = EventStream(on_event)
            conn = None
            try:
                conn = connect(host, port, source, idle)
                headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
                if c.last_id is not None:
                    headers["Last-Event-ID"] = c.last_id
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                c.connects += 1
                c.record(event="connect", last_event_id=c.last_id, status=resp.status)
                if resp.status != 200:
                    # EventSource fails the connection for good here; a test
                    # wants to know, so this is logged and retried.
                    resp.read()
                else:
                    while True:
                        chunk = resp.read1(65536)
                        if not chunk:
                            break
                        stream.feed(chunk)
                        if stream.retry is not None:
                            retry_ms = stream.retry
                why = "eof"
            except (OSError, http.client.HTTPException) as e:
                why = type(e).__name__
            finally:
                if conn is not None:
                    conn.close()
            c.record(event="lost", why=why, partial=bool(stream.buf or stream.data or stream.type))
            time.sleep(retry_ms / 1000)
    except KeyboardInterrupt:
        pass
    c.save()
    return 0


def run_poll(url, log_path, state_path, wait, source):
    host, port, path = split_url(url)
    c = Client(log_path, state_path)
    since = 0
    c.save()
    try:
        while not c.stop:
            conn = None
            try:
                conn = connect(host, port, source, wait + 5)
                c.connects += 1
                c.record(event="connect", since=since)
                while True:
                    conn.request("GET", "%s?since=%d&wait=%d" % (path, since, wait))
                    resp = conn.getresponse()
                    body = resp.read()
                    if resp.status != 200:
                        raise http.client.HTTPException("status %d: %r" % (resp.status, body[:200]))
                    doc = json.loads(body)
                    if doc["reset"]:
                        c.apply_reset(doc["seq"], doc["profiles"])
                    else:
                        for ch in doc["changes"]:
                            if ch["type"] == "profile":
                                c.apply_profile(ch["seq"], ch["profile"])
                            else:
                                c.apply_gone(ch["type"], ch["seq"], ch["ip"], ch["seq"])
                    since = doc["seq"]
                    c.last_id = str(since)
                    c.save()
            except (OSError, http.client.HTTPException, ValueError) as e:
                c.record(event="lost", why=type(e).__name__)
            finally:
                if conn is not None:
                    conn.close()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    c.save()
    return 0


def run_ws(url, log_path, state_path, idle):
    """/ws (RFC 6455, the framing of tests/server/ws_client.py): resumes with
    ?last_event_id=N on the opening request, reconnects 1 s after a loss."""
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
    import ws_client  # pylint: disable=import-outside-toplevel

    host, port, path = split_url(url)
    c = Client(log_path, state_path)
    c.save()
    try:
        while not c.stop:
            why = "eof"
            ws = None
            try:
                query = "?last_event_id=%s" % c.last_id if c.last_id is not None else ""
                ws = ws_client.Ws(host, port, False, path=path + query, timeout=idle)
                c.connects += 1
                c.record(event="connect", last_event_id=c.last_id, status=ws.status)
                if ws.status == 101:
                    while True:
                        f = ws.recv_frame()
                        if f is None:
                            break
                        op, payload = f
                        if op == ws_client.PING:
                            ws.send_frame(ws_client.PONG, payload)
                        elif op == ws_client.CLOSE:
                            why = "close " + ws_client.close_info(payload)
                            break
                        elif op == ws_client.TEXT:
                            ws_message(c, json.loads(payload))
            except (OSError, ValueError) as e:
                why = type(e).__name__
            except SystemExit as e:  # ws_client's die() on a failed handshake
                why = "handshake: %s" % e
            finally:
                if ws is not None:
                    ws.s.close()
            c.record(event="lost", why=why)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    c.save()
    return 0


def ws_message(c, m):
    kind, ident, data = m.get("event"), m.get("id"), m.get("data")
    if kind == "reset":
        c.apply_reset(ident, data["profiles"])
    elif kind == "profile" and ident is None:
        # The rest of a snapshot too big for one reset message: part of it.
        c.table[data["ip"]] = data["seq"]
        c.record(event="reset_more", ip=data["ip"], seq=data["seq"])
    elif kind == "profile":
        c.apply_profile(ident, data)
    elif kind in ("expired", "deleted"):
        c.apply_gone(kind, ident, data["ip"], data["seq"])
    elif kind in ("stats", "subscribed", "pong"):
        return
    else:
        c.record(event="unknown", kind=kind, data=data)
    if ident is not None:
        c.last_id = str(ident)
    c.save()


def run_converge(url, timeout, states, expect, source):
    host, port, _ = split_url(url)
    deadline = time.monotonic() + timeout
    conn = None
    why = "no answer from the server"
    while time.monotonic() < deadline:
        try:
            if conn is None:
                conn = connect(host, port, source, 5)
            conn.request("GET", "/api/profiles?limit=1000")
            resp = conn.getresponse()
            doc = json.loads(resp.read())
            server = {p["ip"]: p["seq"] for p in doc["profiles"]}
            if doc["total"] != len(server):
                die("more profiles than one page: %d" % doc["total"])
            why = ""
            missing = [ip for ip in expect if ip not in server]
            if missing:
                why = "server lacks expected profiles %s" % missing
            for path in states:
                try:
                    with open(path, encoding="utf-8") as f:
                        table = json.load(f)["table"]
                except (OSError, ValueError):
                    table = None
                if table != server:
                    why = "%s differs from the server" % path
                    if table is not None:
                        extra = {ip: s for ip, s in table.items() if server.get(ip) != s}
                        lack = {ip: s for ip, s in server.items() if table.get(ip) != s}
                        why += ": client has %s; server has %s" % (extra, lack)
                    break
            if not why:
                print("converged: %d profiles, seq %d" % (len(server), doc["seq"]))
                return 0
        except (OSError, http.client.HTTPException, ValueError) as e:
            why = "%s: %s" % (type(e).__name__, e)
            if conn is not None:
                conn.close()
            conn = None
        time.sleep(0.2)
    die("no convergence within %s s: %s" % (timeout, why))
    return 1


def run_check(log_path, resets, cut):
    lifetimes = [[]]
    errors = []
    n_resets = 0
    last = None
    cut_found, cut_seen = False, None  # the last id applied before the stream was lost mid-event
    counts = {}
    with open(log_path, encoding="utf-8") as f:
        for raw in f:
            e = json.loads(raw)
            kind = e["event"]
            counts[kind] = counts.get(kind, 0) + 1
            if cut is not None and kind == "lost" and e.get("partial") and not cut_found:
                cut_found, cut_seen = True, last
            if kind == "reset_more":
                lifetimes[-1][-1]["profiles"].append([e["ip"], e["seq"]])
                continue
            if kind in ("connect", "lost", "unknown"):
                if kind == "unknown":
                    errors.append("unknown event %s" % e)
                continue
            if kind == "reset":
                n_resets += 1
                if last is not None and e["id"] <= last:
                    lifetimes.append([])
            lifetimes[-1].append(e)
            last = e["id"]
    for n, events in enumerate(lifetimes):
        seen = set()
        prev = None
        for e in events:
            if prev is not None and e["id"] <= prev:
                errors.append("lifetime %d: id %d after %d" % (n, e["id"], prev))
            prev = e["id"]
            pairs = [tuple(p) for p in e["profiles"]] if e["event"] == "reset" else [(e["ip"], e["seq"])]
            for pair in pairs:
                if pair in seen:
                    errors.append("lifetime %d: %s seq %d applied twice (event id %d)" % (n, pair[0], pair[1], e["id"]))
                seen.add(pair)
    if cut is not None and (not cut_found or (cut_seen is not None and cut_seen >= cut)):
        errors.append("no partial event lost before id %d was applied (last id then: %s)" % (cut, cut_seen))
    if resets is not None and n_resets != resets:
        errors.append("%d resets, expected %d" % (n_resets, resets))
    summary = " ".join("%s=%d" % kv for kv in sorted(counts.items()))
    print("%s: %d lifetime(s), %s" % (log_path, len(lifetimes), summary))
    for err in errors[:20]:
        print("  " + err, file=sys.stderr)
    return 1 if errors else 0


def run_proxy(lhost, lport, uhost, uport, control):
    """One connection at a time; cuts a data: line in half on request."""
    family = socket.AF_INET6 if ":" in lhost else socket.AF_INET
    ls = socket.socket(family)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lhost, lport))
    ls.listen(8)
    print("listening", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        down, _ = ls.accept()
        try:
            up = socket.create_connection((uhost, uport), timeout=5)
        except OSError:
            down.close()
            continue
        try:
            forward(down, up, control)
        except OSError:
            pass  # either side reset (ss -K, loss): drop both, take the next
        try:
            # SO_LINGER 0: an RST, so the client cannot take it for a clean end.
            down.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        down.close()
        up.close()


def forward(down, up, control):
    """Copies both ways until either side ends or a cut is made."""
    pending = b""  # upstream bytes not yet forwarded while a cut is armed
    sent = b""  # the tail of what went down: an event's id line may be in it
    while True:
        r, _, _ = select.select([down, up], [], [], 0.05)
        if down in r:
            b = down.recv(65536)
            if not b:
                return
            up.sendall(b)
        if up in r:
            b = up.recv(65536)
            if not b:
                return
            pending += b
        armed = os.path.exists(control)
        if not armed:
            down.sendall(pending)
            sent = (sent + pending)[-4096:]
            pending = b""
            continue
        at = pending.find(b"\ndata: ")
        if at < 0:
            # Keep the tail that may start a "\ndata: " across reads.
            keep = max(0, len(pending) - 8)
            down.sendall(pending[:keep])
            sent = (sent + pending[:keep])[-4096:]
            pending = pending[keep:]
            continue
        end = pending.find(b"\n", at + 1)
        if end < 0:
            continue  # the data line is not complete yet
        # The event this data line belongs to starts after the last blank
        # line; its id line may have gone down in an earlier read. Events
        # without an id (stats) are let through: the check needs an id.
        seen = sent + pending[:at + 1]
        block = seen[seen.rfind(b"\n\n") + 2:]
        idl = block.rfind(b"id: ")
        if idl < 0 or (idl > 0 and block[idl - 1:idl] != b"\n"):
            down.sendall(pending[:end + 1])
            sent = (sent + pending[:end + 1])[-4096:]
            pending = pending[end + 1:]
            continue
        ident = block[idl + 4:block.find(b"\n", idl)]
        half = at + 1 + (end - at) // 2
        down.sendall(pending[:half])
        # The cut event's id, for the test to check it was not applied then.
        with open(control + ".id", "wb") as f:
            f.write(ident)
        os.unlink(control)
        return


def option(args, name, default, conv=str):
    if name in args:
        i = args.index(name)
        value = args[i + 1]
        del args[i:i + 2]
        return conv(value)
    return default


def main():
    args = sys.argv[1:]
    if not args:
        die(__doc__)
    mode = args.pop(0)
    source = option(args, "--source", None)
    if mode == "sse" and len(args) >= 3:
        idle = option(args, "--idle", 7.0, float)
        return run_sse(args[0], args[1], args[2], idle, source)
    if mode == "ws" and len(args) >= 3:
        idle = option(args, "--idle", 7.0, float)
        return run_ws(args[0], args[1], args[2], idle)
    if mode == "poll" and len(args) >= 3:
        wait = option(args, "--wait", 5, int)
        return run_poll(args[0], args[1], args[2], wait, source)
    if mode == "converge" and len(args) >= 3:
        expect = [ip for ip in option(args, "--expect", "").split(",") if ip]
        return run_converge(args[0], float(args[1]), args[2:], expect, source)
    if mode == "check":
        resets = option(args, "--resets", None, int)
        cut = option(args, "--cut", None, int)
        if len(args) == 1:
            return run_check(args[0], resets, cut)
    if mode == "proxy" and len(args) == 5:
        return run_proxy(args[0], int(args[1]), args[2], int(args[3]), args[4])
    die(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
