#!/usr/bin/env python3
"""A WebSocket client from the standard library only (RFC 6455), for
server_test.sh: the opening handshake, masked client frames, and one
scenario per test case. Exit status 0 when the scenario held, 1 with a
message otherwise.

usage: ws_client.py [--tls] [--host H] PORT SCENARIO
"""
import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def die(msg):
    print("ws_client: " + msg, file=sys.stderr)
    sys.exit(1)


class Ws:
    def __init__(self, host, port, tls, path="/ws", extra=b"", rcvbuf=None, timeout=5, early=b""):
        raw = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        if rcvbuf:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        raw.settimeout(timeout)
        raw.connect((host, port))
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["http/1.1"])
            raw = ctx.wrap_socket(raw, server_hostname="localhost")
            if raw.selected_alpn_protocol() != "http/1.1":
                die("ALPN: %r" % raw.selected_alpn_protocol())
        self.s = raw
        self.buf = b""
        self.key = base64.b64encode(os.urandom(16))
        hostport = ("[%s]" % host if ":" in host else host) + ":%d" % port
        req = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + hostport.encode() +
               b"\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
               b"Sec-WebSocket-Key: " + self.key + b"\r\nSec-WebSocket-Version: 13\r\n" +
               extra + b"\r\n" + early)
        self.s.sendall(req)
        head = self._read_until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()

    def expect_open(self):
        if self.status != 101:
            die("status %d, expected 101" % self.status)
        want = base64.b64encode(hashlib.sha1(self.key + GUID).digest()).decode()
        if self.headers.get("sec-websocket-accept") != want:
            die("Sec-WebSocket-Accept %r, expected %r" % (self.headers.get("sec-websocket-accept"), want))
        return self

    def _read_until(self, marker):
        while marker not in self.buf:
            d = self.s.recv(65536)
            if not d:
                die("connection closed during handshake")
            self.buf += d
        i = self.buf.index(marker) + len(marker)
        head, self.buf = self.buf[:i], self.buf[i:]
        return head

    def _need(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                return False
            self.buf += d
        return True

    def send_frame(self, op, payload=b"", fin=True, mask=True, rsv=0):
        self.s.sendall(masked_frame(op, payload, fin, mask, rsv))

    def send_text(self, text):
        self.send_frame(TEXT, text)

    def recv_frame(self):
        """(opcode, payload) or None at EOF. Server frames must be unmasked."""
        if not self._need(2):
            return None
        b0, b1 = self.buf[0], self.buf[1]
        if b1 & 0x80:
            die("server frame is masked (RFC 6455 §5.1)")
        n, pos = b1 & 0x7F, 2
        if n == 126:
            if not self._need(4):
                return None
            n, pos = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            if not self._need(10):
                return None
            n, pos = struct.unpack("!Q", self.buf[2:10])[0], 10
        if not self._need(pos + n):
            return None
        payload = self.buf[pos:pos + n]
        self.buf = self.buf[pos + n:]
        if not b0 & 0x80:
            die("server sent a fragmented frame")
        return b0 & 0x0F, payload

    def recv_message(self, answer_pings=True):
        while True:
            f = self.recv_frame()
            if f is None:
                die("EOF while waiting for a message")
            op, p = f
            if op == PING and answer_pings:
                self.send_frame(PONG, p)
                continue
            if op == CLOSE:
                die("closed by server: %s" % close_info(p))
            if op == TEXT:
                return p.decode()
            if op != PONG:
                die("unexpected opcode %d" % op)

    def expect_close(self, code, reply=True):
        """Reads until the server's close frame; checks its code, answers it
        and expects EOF after."""
        while True:
            f = self.recv_frame()
            if f is None:
                die("EOF before a close frame (expected %d)" % code)
            op, p = f
            if op == CLOSE:
                break
        got = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
        if got != code:
            die("close code %r (%s), expected %d" % (got, close_info(p), code))
        if reply:
            try:
                self.send_frame(CLOSE, p[:2])
            except OSError:
                pass
        self.expect_eof()
        return p[2:].decode()

    def expect_eof(self):
        try:
            while self.recv_frame() is not None:
                pass
        except (ConnectionResetError, ssl.SSLError):
            pass


def masked_frame(op, payload=b"", fin=True, mask=True, rsv=0):
    """One client frame (RFC 6455 §5.2); clients mask (§5.3)."""
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask:
        key = os.urandom(4)
        payload = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        hdr += key
    return hdr + payload


def close_info(p):
    if len(p) < 2:
        return "no code"
    return "%d %r" % (struct.unpack("!H", p[:2])[0], p[2:].decode(errors="replace"))


def ws_stats(host, port):
    c = http.client.HTTPConnection(host, port, timeout=5)
    c.request("GET", "/ws-stats")
    return json.loads(c.getresponse().read())


def main():
    args = sys.argv[1:]
    tls = "--tls" in args
    args = [a for a in args if a != "--tls"]
    host = "127.0.0.1"
    if args[0] == "--host":
        host, args = args[1], args[2:]
    port, scenario, rest = int(args[0]), args[1], args[2:]

    def conn(**kw):
        return Ws(host, port, tls, **kw)

    if scenario == "handshake":
        w = conn(extra=b"Sec-WebSocket-Protocol: chat, huginn\r\n").expect_open()
        if w.headers.get("upgrade", "").lower() != "websocket":
            die("Upgrade header: %r" % w.headers.get("upgrade"))
        if w.headers.get("sec-websocket-protocol") != "huginn":
            die("subprotocol not echoed: %r" % w.headers)
        w.send_text("hi")
        if w.recv_message() != "hi":
            die("no echo after handshake")
        # A frame sent in the same write as the handshake (the parser's
        # buffered bytes) reaches the WebSocket.
        w2 = conn(early=masked_frame(TEXT, b"early")).expect_open()
        if w2.recv_message() != "early":
            die("frame sent with the handshake was lost")
        print("handshake ok")
        return
    if scenario == "badversion":
        raw = socket.create_connection((host, port), timeout=5)
        raw.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        r = raw.recv(4096).decode()
        if not r.startswith("HTTP/1.1 426") or "sec-websocket-version: 13" not in r:
            die("version 8: %r" % r)
        raw = socket.create_connection((host, port), timeout=5)
        raw.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
        r = raw.recv(4096).decode()
        if not r.startswith("HTTP/1.1 426"):
            die("bad key: %r" % r)
        return
    if scenario == "echo":
        w = conn().expect_open()
        msgs = ["hello", "", "ünïcödé ✓ 𝄞", "x" * 125, "y" * 126, "z" * 65535, "w" * 65536]
        for m in msgs:
            w.send_text(m)
            got = w.recv_message()
            if got != m:
                die("echo of %d bytes came back as %d bytes" % (len(m), len(got)))
        # A fragmented message (§5.4) with a ping in between (§5.5).
        w.send_frame(TEXT, "frag", fin=False)
        w.send_frame(PING, "between")
        w.send_frame(CONT, "men", fin=False)
        w.send_frame(CONT, "ted", fin=True)
        f = w.recv_frame()
        if f != (PONG, b"between"):
            die("expected the pong first, got %r" % (f,))
        if w.recv_message() != "fragmented":
            die("fragments not joined")
        w.send_frame(CLOSE, struct.pack("!H", 1000))
        f = w.recv_frame()
        if f is None or f[0] != CLOSE or f[1][:2] != struct.pack("!H", 1000):
            die("close not answered with 1000: %r" % (f,))
        w.expect_eof()
        print("echo ok")
        return
    if scenario == "push":
        w = conn().expect_open()
        t0 = time.time()
        w.send_text("push 5")
        for i in range(5):
            m = w.recv_message()
            if m != "tick %d" % i:
                die("push %d: %r" % (i, m))
        dt = time.time() - t0
        if not 0.45 <= dt <= 2.0:
            die("5 pushes 100 ms apart took %.3f s" % dt)
        w.send_text("close 4001")
        reason = w.expect_close(4001)
        if reason != "asked to":
            die("close reason %r" % reason)
        print("push ok %.3f s" % dt)
        return
    if scenario == "ping":
        # Server pings (--ws-ping-ms small) are answered; the socket stays.
        w = conn().expect_open()
        w.send_frame(PING, "abc")
        if w.recv_frame() != (PONG, b"abc"):
            die("ping not answered with its payload")
        got_ping = False
        deadline = time.time() + 1.5
        while time.time() < deadline:
            w.s.settimeout(max(0.01, deadline - time.time()))
            try:
                f = w.recv_frame()
            except socket.timeout:
                break
            if f is None:
                die("dropped although pongs were sent")
            if f[0] == PING:
                got_ping = True
                w.send_frame(PONG, f[1])
        w.s.settimeout(5)
        if not got_ping:
            die("no ping from the server in 1.5 s")
        w.send_text("still here")
        if w.recv_message() != "still here":
            die("no echo after pings")
        # A client that answers nothing is dropped after ping + idle timeout.
        q = conn().expect_open()
        t0 = time.time()
        while True:
            f = q.recv_frame()
            if f is None:
                break
        dt = time.time() - t0
        if dt > 3:
            die("silent client dropped only after %.1f s" % dt)
        print("ping ok, silent client dropped after %.2f s" % dt)
        return
    if scenario == "limits":
        w = conn().expect_open()
        w.send_text("a" * (64 * 1024 + 1))
        w.expect_close(1009)
        w = conn().expect_open()
        w.send_frame(TEXT, "a" * 40000, fin=False)
        w.send_frame(CONT, "b" * 40000, fin=True)
        w.expect_close(1009)
        w = conn().expect_open()
        w.send_frame(BINARY, b"\x00\x01")
        w.expect_close(1003)
        w = conn().expect_open()
        w.send_frame(TEXT, "unmasked", mask=False)
        w.expect_close(1002)
        w = conn().expect_open()
        w.send_frame(TEXT, b"\xc3\x28")
        w.expect_close(1007)
        w = conn().expect_open()
        w.send_frame(TEXT, "rsv", rsv=0x40)
        w.expect_close(1002)
        w = conn().expect_open()
        w.send_frame(CONT, "orphan")
        w.expect_close(1002)
        w = conn().expect_open()
        w.send_frame(PING, "p" * 126)
        w.expect_close(1002)
        w = conn().expect_open()
        w.send_frame(CLOSE, struct.pack("!H", 1005))
        w.expect_close(1002)
        print("limits ok")
        return
    if scenario == "slow":
        base = ws_stats("127.0.0.1", int(rest[0]))["dropped"]
        fast = conn().expect_open()
        slow = conn(rcvbuf=4096).expect_open()
        slow.send_text("feed")
        fast.send_text("feed")
        count = [0]
        stop = threading.Event()
        err = []

        def reader():
            try:
                while not stop.is_set():
                    m = fast.recv_message()
                    if m.startswith("feed "):
                        count[0] += 1
            except SystemExit as e:
                err.append(e)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        deadline = time.time() + 15
        while time.time() < deadline and ws_stats("127.0.0.1", int(rest[0]))["dropped"] < base + 1:
            time.sleep(0.1)
        st = ws_stats("127.0.0.1", int(rest[0]))
        if st["dropped"] != base + 1:
            die("slow subscriber not dropped: %r" % st)
        before = count[0]
        time.sleep(0.5)
        after = count[0]
        if err:
            die("fast reader failed")
        if after - before < 10:
            die("fast subscriber stalled after the drop: %d -> %d" % (before, after))
        stop.set()
        print("slow dropped; fast got %d messages, %d in the 0.5 s after" % (after, after - before))
        return
    if scenario == "hold":
        # Opens N websockets, says "open", then expects close 1001 on each.
        n = int(rest[0]) if rest else 1
        ws = [conn().expect_open() for _ in range(n)]
        for w in ws:
            w.send_text("ready")
            w.recv_message()
        print("open", flush=True)
        t0 = time.time()
        for w in ws:
            w.s.settimeout(5)
            w.expect_close(1001)
        print("closed 1001 after %.3f s" % (time.time() - t0), flush=True)
        return
    die("unknown scenario " + scenario)


if __name__ == "__main__":
    main()
