#!/usr/bin/env node
// WebSocket over HTTP/2 (RFC 8441) with Node's http2 module, for
// server_test.sh: waits for SETTINGS_ENABLE_CONNECT_PROTOCOL, opens
// extended CONNECT streams with :protocol websocket and speaks RFC 6455
// frames (masked, as clients must) on them. Exit 0 when the scenario held.
//
// usage: ws_h2_client.js URL SCENARIO     (URL http://127.0.0.1:P or https://...)
'use strict';
const http2 = require('node:http2');
const crypto = require('node:crypto');

const [url, scenario] = process.argv.slice(2);
const TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10;

function die(msg) {
  console.error('ws_h2_client: ' + msg);
  process.exit(1);
}
setTimeout(() => die('timed out'), 10000).unref();

function frame(op, payload) {
  const data = Buffer.from(payload);
  const n = data.length;
  let hdr;
  if (n < 126) hdr = Buffer.from([0x80 | op, 0x80 | n]);
  else if (n < 65536) { hdr = Buffer.alloc(4); hdr[0] = 0x80 | op; hdr[1] = 0x80 | 126; hdr.writeUInt16BE(n, 2); }
  else { hdr = Buffer.alloc(10); hdr[0] = 0x80 | op; hdr[1] = 0x80 | 127; hdr.writeBigUInt64BE(BigInt(n), 2); }
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(n);
  for (let i = 0; i < n; ++i) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([hdr, key, masked]);
}

// One WebSocket on one stream: frames in order through `next()`.
class H2Ws {
  constructor(session) {
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.frames = [];
    this.ended = false;
    this.stream = session.request({
      ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/ws',
      'sec-websocket-version': '13', 'sec-websocket-protocol': 'huginn',
    });
    this.response = new Promise((resolve) => this.stream.on('response', resolve));
    this.stream.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.parse(); });
    this.stream.on('end', () => { this.ended = true; this.flush(); });
    this.stream.on('close', () => { this.ended = true; this.flush(); });
    this.stream.on('error', () => { this.ended = true; this.flush(); });
  }
  parse() {
    for (;;) {
      if (this.buf.length < 2) break;
      const b0 = this.buf[0], b1 = this.buf[1];
      if (b1 & 0x80) die('server frame is masked');
      let n = b1 & 0x7f, pos = 2;
      if (n === 126) { if (this.buf.length < 4) break; n = this.buf.readUInt16BE(2); pos = 4; }
      else if (n === 127) { if (this.buf.length < 10) break; n = Number(this.buf.readBigUInt64BE(2)); pos = 10; }
      if (this.buf.length < pos + n) break;
      this.frames.push({ op: b0 & 0x0f, payload: this.buf.subarray(pos, pos + n) });
      this.buf = this.buf.subarray(pos + n);
    }
    this.flush();
  }
  flush() {
    while (this.waiters.length && (this.frames.length || this.ended)) {
      this.waiters.shift()(this.frames.length ? this.frames.shift() : null);
    }
  }
  next() { return new Promise((resolve) => { this.waiters.push(resolve); this.flush(); }); }
  send(op, payload) { this.stream.write(frame(op, payload)); }
  async message() {
    for (;;) {
      const f = await this.next();
      if (!f) die('stream ended while waiting for a message');
      if (f.op === PING) { this.send(PONG, f.payload); continue; }
      if (f.op === CLOSE) die('closed: ' + f.payload.readUInt16BE(0));
      if (f.op === TEXT) return f.payload.toString();
    }
  }
  async expectClose(code) {
    for (;;) {
      const f = await this.next();
      if (!f) die(`stream ended before close ${code}`);
      if (f.op !== CLOSE) continue;
      const got = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
      if (got !== code) die(`close code ${got}, expected ${code}`);
      this.send(CLOSE, f.payload.subarray(0, 2));
      this.stream.end();
      if (await this.next()) die('frames after close');
      return;
    }
  }
}

async function main() {
  const session = http2.connect(url, { rejectUnauthorized: false });
  session.on('error', (e) => die('session: ' + e.message));
  const settings = await new Promise((resolve) => session.once('remoteSettings', resolve));
  if (!settings.enableConnectProtocol) die('server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL');

  if (scenario === 'echo') {
    const a = new H2Ws(session), b = new H2Ws(session);
    for (const w of [a, b]) {
      const h = await w.response;
      if (h[':status'] !== 200) die('status ' + h[':status']);
      if (h['sec-websocket-protocol'] !== 'huginn') die('subprotocol not echoed');
    }
    // Two WebSockets and a plain request multiplexed on one connection.
    const msgs = ['hello', 'ünïcödé ✓', 'x'.repeat(70000 - 6000)];
    for (const m of msgs) {
      a.send(TEXT, m); b.send(TEXT, m + '!');
      if ((await a.message()) !== m) die('echo a');
      if ((await b.message()) !== m + '!') die('echo b');
    }
    const plain = session.request({ ':path': '/hello' });
    let body = '';
    plain.on('data', (d) => { body += d; });
    await new Promise((resolve) => plain.on('end', resolve));
    if (body !== 'hello\n') die('plain request beside websockets: ' + body);
    a.send(PING, 'pp');
    const p = await a.next();
    if (p.op !== PONG || p.payload.toString() !== 'pp') die('ping not answered');
    a.send(TEXT, 'push 3');
    for (let i = 0; i < 3; ++i) if ((await a.message()) !== `tick ${i}`) die('push');
    a.send(CLOSE, Buffer.from([0x03, 0xe8]));
    const c = await a.next();
    if (!c || c.op !== CLOSE || c.payload.readUInt16BE(0) !== 1000) die('close not answered');
    a.stream.end();
    if (await a.next()) die('frames after the close reply');
    b.send(BINARY, Buffer.from([1, 2, 3]));
    await b.expectClose(1003);
    const big = new H2Ws(session);
    await big.response;
    big.send(TEXT, 'y'.repeat(64 * 1024 + 1));
    await big.expectClose(1009);
    console.log('h2 echo ok');
    session.close();
    return;
  }
  if (scenario === 'ping') {
    // Server pings (--ws-ping-ms small) are answered and the stream stays;
    // a stream that says nothing is ended after ping + idle timeout.
    const w = new H2Ws(session), quiet = new H2Ws(session);
    await w.response;
    await quiet.response;
    const t0 = Date.now();
    const f = await w.next();
    if (!f || f.op !== PING) die('no ping from the server');
    w.send(PONG, f.payload);
    let q;
    while ((q = await quiet.next())) if (q.op !== PING) die('unexpected frame ' + q.op);
    const dt = (Date.now() - t0) / 1000;
    if (dt > 3) die(`silent stream ended only after ${dt} s`);
    w.send(TEXT, 'still here');
    if ((await w.message()) !== 'still here') die('no echo after the ping');
    console.log(`h2 ping ok, silent stream ended after ${dt} s`);
    return;
  }
  if (scenario === 'hold') {
    const w = new H2Ws(session);
    await w.response;
    w.send(TEXT, 'ready');
    await w.message();
    console.log('open');
    const t0 = Date.now();
    await w.expectClose(1001);
    console.log(`closed 1001 after ${(Date.now() - t0) / 1000} s`);
    session.close();
    return;
  }
  die('unknown scenario ' + scenario);
}

main().then(() => process.exit(0), (e) => die(String(e && e.stack || e)));
