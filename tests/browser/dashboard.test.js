// The dashboard in a real browser against the real binary (issue 5, Proof):
//   https_h2      over TLS the page is served with h2; a new visitor's row
//                 appears without reload over ws (when /ws exists) or sse;
//   http1         the same over cleartext HTTP/1.1;
//   live_filter   an OS filter typed in the page changes the subscription
//                 (over ws without reconnecting) and clearing it restores the rows;
//   polling       with EventSource and WebSocket removed from the page the
//                 row arrives by long polling;
//   ws_refused    a WebSocket the server refuses (404) falls back to SSE;
//   forced        ?transport=sse and ?transport=poll are obeyed;
//   restart       the server stops and starts again on the same ports with
//                 an empty store: the open pages (ws or sse, forced sse,
//                 poll) return to live on their own, show the profile made
//                 after the restart, drop the ones that are gone (rows equal
//                 the server's list), and no IP has two rows;
//   screenshot    (HUGINN_SCREENSHOTS=1) docs/screenshots/dashboard.png (Chromium)
//                 and dashboard-firefox.png, 1280x800.
//
// Usage: node dashboard.test.js chromium|firefox
// Env:   HUGINN_BIN (the binary), HUGINN_BROWSER_WORK (scratch directory),
//        HUGINN_SOURCE_DIR (for screenshots), HUGINN_SCREENSHOTS=1.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const puppeteer = require('puppeteer-core');
const { Server, visit, launch, within, sleep, killAll } = require('./harness.js');

const browserName = process.argv[2];
if (browserName !== 'chromium' && browserName !== 'firefox') {
  console.error('usage: node dashboard.test.js chromium|firefox');
  process.exit(2);
}
const bin = process.env.HUGINN_BIN;
const work = process.env.HUGINN_BROWSER_WORK;
if (!bin || !work) {
  console.error('HUGINN_BIN and HUGINN_BROWSER_WORK must be set');
  process.exit(2);
}
const kRowTimeoutMs = 8000;
const kLiveTimeoutMs = 10000;

// Whole-file deadline: whatever hangs, the browser and server die with us.
const watchdog = setTimeout(() => {
  console.error(browserName + ': FAIL: whole test over 75 s');
  killAll();
  process.exit(1);
}, 75000);

const results = [];
function log(msg) {
  console.error(browserName + ': ' + msg);
}

async function status(page) {
  return page.evaluate(() => (window.huginnRealtime ? { ...window.huginnRealtime } : null));
}

async function waitFor(page, what, fn, arg, timeout) {
  try {
    await page.waitForFunction(fn, { timeout, polling: 50 }, arg);
  } catch (e) {
    const s = await status(page).catch(() => null);
    throw new Error('waiting for ' + what + ': ' + e.message + '; realtime ' + JSON.stringify(s));
  }
}

function waitLive(page, minReconnects = 0) {
  return waitFor(page, 'state live', (n) => {
    const s = window.huginnRealtime;
    return s && s.state === 'live' && s.reconnects + s.resets >= n;
  }, minReconnects, kLiveTimeoutMs);
}

function waitRow(page, ip) {
  return waitFor(page, 'a row for ' + ip,
                 (a) => document.querySelector('#profiles tbody tr[data-ip="' + a + '"]') !== null,
                 ip, kRowTimeoutMs);
}

function rowCounts(page) {
  return page.evaluate(() => {
    const n = {};
    for (const tr of document.querySelectorAll('#profiles tbody tr')) n[tr.dataset.ip] = (n[tr.dataset.ip] || 0) + 1;
    return n;
  });
}

async function open(browser, url, { hideStreams = false } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  if (hideStreams) {
    await page.evaluateOnNewDocument(() => {
      delete window.EventSource;
      delete window.WebSocket;
    });
  }
  await page.goto(url, { waitUntil: 'load', timeout: 10000 });
  await waitLive(page);
  return page;
}

function protocolOf(page) {
  return page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
}

// A visitor from `ip` and the time until its row is on the page.
async function newRowLatency(page, server, ip) {
  const t0 = Date.now();
  const r = await visit(server.http + '/api/health', ip);
  if (!r.ok) throw new Error('visitor request from ' + ip + ' failed: ' + JSON.stringify(r));
  await waitRow(page, ip);
  return Date.now() - t0;
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function run(name, fn) {
  const t0 = Date.now();
  try {
    const detail = await within(30000, name, fn);
    results.push({ name, ok: true, ms: Date.now() - t0, detail });
    log('ok   ' + name + ' (' + (Date.now() - t0) + ' ms) ' + (detail ? JSON.stringify(detail) : ''));
  } catch (e) {
    results.push({ name, ok: false, ms: Date.now() - t0, error: e.message });
    log('FAIL ' + name + ': ' + e.message);
  }
}

async function main() {
  const t0 = Date.now();
  const dir = path.join(work, browserName);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const server = new Server({ bin, stateDir: path.join(dir, 'state'), logPath: path.join(dir, 'serve.log') });
  await server.start();
  // Does this build have GET /ws? A plain GET there is a 426 (Upgrade
  // Required) when it does; the page must fall back to SSE when it does not.
  const wsStatus = (await fetch(server.http + '/ws')).status;
  const expectStream = wsStatus === 426 ? 'ws' : 'sse';
  log('server up on ' + server.httpPort + '/' + server.tlsPort + ', GET /ws -> ' + wsStatus +
      ', expecting ' + expectStream);

  const browser = await launch(puppeteer, browserName, path.join(dir, 'profile'));
  log('browser ' + (await browser.version()) + ' launched in ' + (Date.now() - t0) + ' ms');
  const pages = {};
  try {
    // The dashboard over one transport: the protocol the page came over,
    // the best stream strategy, and a new visitor's row without reload.
    const streamCase = (key, url, protocol, ip) => run(key === 'https' ? 'https_h2' : 'http1', async () => {
      const page = await open(browser, url);
      pages[key] = page;
      const proto = await protocolOf(page);
      assert(proto === protocol, 'nextHopProtocol ' + proto + ', expected ' + protocol);
      const ms = await newRowLatency(page, server, ip);
      const s = await status(page);
      assert(s.strategy === expectStream, 'strategy ' + s.strategy + ', expected ' + expectStream);
      if (expectStream === 'sse') assert(s.degraded >= 1, 'did not record the fall back from ws');
      return { protocol: proto, strategy: s.strategy, rowMs: ms };
    });
    await streamCase('https', server.https + '/', 'h2', '127.0.0.2');
    await streamCase('http', server.http + '/', 'http/1.1', '127.0.0.3');

    await run('live_filter', async () => {
      // Typing an OS filter changes the subscription: over a WebSocket on the
      // same connection (a `subscribe` answered by a reset), otherwise by a
      // new stream; clearing it brings every row back.
      const page = pages.http;
      assert(page, 'needs the page of http1');
      await page.bringToFront();
      const s0 = await status(page);
      await page.type('#f-os', 'no-such-os');
      // The new subscription's reset (after the form's 250 ms debounce),
      // then a table without rows.
      await waitFor(page, 'a reset', (n) => window.huginnRealtime.resets >= n, s0.resets + 1, kRowTimeoutMs);
      await waitFor(page, 'the table to empty', () => document.querySelector('#profiles tbody tr') === null,
                    null, kRowTimeoutMs);
      await page.evaluate(() => {
        const input = document.getElementById('f-os');
        input.value = '';
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
      await waitFor(page, 'a second reset', (n) => window.huginnRealtime.resets >= n, s0.resets + 2, kRowTimeoutMs);
      await waitRow(page, '127.0.0.3');
      const s1 = await status(page);
      if (s1.strategy === 'ws') {
        assert(s1.reconnects === s0.reconnects && s1.degraded === s0.degraded,
               'the WebSocket reconnected for a filter change: ' + JSON.stringify([s0, s1]));
      }
      return { strategy: s1.strategy, resets: s1.resets - s0.resets };
    });

    await run('polling', async () => {
      const page = await open(browser, server.http + '/', { hideStreams: true });
      pages.poll = page;
      const s0 = await status(page);
      assert(s0.strategy === 'poll', 'strategy ' + s0.strategy + ', expected poll');
      const ms = await newRowLatency(page, server, '127.0.0.4');
      return { strategy: 'poll', rowMs: ms };
    });

    await run('ws_refused', async () => {
      // The page's WebSocket is pointed at a path the server answers with
      // 404, as a server without /ws (or a proxy that refuses upgrades)
      // would: the manager must fall back to SSE at once.
      const page = await browser.newPage();
      await page.evaluateOnNewDocument(() => {
        const Real = window.WebSocket;
        window.WebSocket = class extends Real {
          constructor(url, protocols) {
            super(String(url).replace('/ws', '/no-such-ws'), protocols);
          }
        };
      });
      await page.goto(server.https + '/', { waitUntil: 'load', timeout: 10000 });
      await waitLive(page);
      const s = await status(page);
      assert(s.strategy === 'sse' && s.degraded >= 1, 'expected sse after a refused ws: ' + JSON.stringify(s));
      const ms = await newRowLatency(page, server, '127.0.0.15');
      await page.close();
      return { strategy: s.strategy, degraded: s.degraded, rowMs: ms };
    });

    await run('forced', async () => {
      const out = {};
      for (const t of ['sse', 'poll']) {
        const page = await open(browser, server.https + '/?transport=' + t);
        const s = await status(page);
        assert(s.strategy === t && s.degraded === 0, 'forced ' + t + ' gave ' + JSON.stringify(s));
        out[t] = await newRowLatency(page, server, t === 'sse' ? '127.0.0.5' : '127.0.0.6');
        if (t === 'sse') pages.sse = page;  // kept for the restart
        else await page.close();
      }
      return out;
    });

    await run('restart', async () => {
      const restarted = [['https', pages.https], ['sse', pages.sse], ['poll', pages.poll]];
      assert(restarted.every(([, page]) => page), 'needs the pages of https_h2, forced and polling');
      for (const ip of ['127.0.0.7', '127.0.0.8', '127.0.0.9']) await visit(server.http + '/', ip);
      // A page renders only while it is shown (requestAnimationFrame); its
      // manager keeps the table current in the background either way.
      const before = {};
      for (const [name, page] of restarted) {
        await page.bringToFront();
        await waitRow(page, '127.0.0.9');
        before[name] = await status(page);
      }
      await server.stop();
      await sleep(300);
      await server.start();  // same ports, same state dir; the store starts empty
      const t1 = Date.now();
      const out = {};
      for (const [name, page] of restarted) {
        const b = before[name];
        await waitLive(page, b.reconnects + b.resets + 1);
        out[name + 'LiveMs'] = Date.now() - t1;
      }
      await pages.https.bringToFront();
      out.rowMs = await newRowLatency(pages.https, server, '127.0.0.10');
      for (const [name, page] of restarted) {
        await page.bringToFront();
        await waitRow(page, '127.0.0.10');
        await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
        const counts = await rowCounts(page);
        const dup = Object.entries(counts).filter(([, n]) => n > 1);
        assert(dup.length === 0, name + ' page has duplicate rows: ' + JSON.stringify(dup));
        // The store is empty after the restart: the profiles of before are gone.
        assert(!counts['127.0.0.7'], name + ' page still shows 127.0.0.7: ' + JSON.stringify(counts));
        // Nothing lost, nothing left over: the rows are the server's profiles.
        const listed = await (await fetch(server.http + '/api/profiles?limit=1000')).json();
        const want = listed.profiles.map((p) => p.ip).sort().join(' ');
        const have = Object.keys(counts).sort().join(' ');
        assert(have === want, name + ' page shows [' + have + '], the server has [' + want + ']');
        const s = await status(page);
        out[name] = { strategy: s.strategy, resets: s.resets, reconnects: s.reconnects, lastSeq: s.lastSeq };
        assert(s.lastSeq < before[name].lastSeq || s.resets > before[name].resets,
               name + ' page did not take the reset: ' + JSON.stringify(s));
      }
      return out;
    });

    if (process.env.HUGINN_SCREENSHOTS === '1') {
      await run('screenshot', async () => {
        // A few different visitors: HTTP/1.1, HTTP/2 and TLS clients.
        await visit(server.https + '/', '127.0.0.11', ['--http2']);
        await visit(server.https + '/api/stats', '127.0.0.12', ['--http1.1', '-H', 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0']);
        await visit(server.http + '/api/me', '127.0.0.13', ['--http2-prior-knowledge']);
        await visit(server.http + '/', '127.0.0.14', ['-H', 'Accept-Language: de-DE']);
        const page = await open(browser, server.https + '/');
        await waitRow(page, '127.0.0.14');
        await sleep(1600);  // the "fresh" highlight fades in 1.5 s
        const outDir = path.join(process.env.HUGINN_SOURCE_DIR || '.', 'docs', 'screenshots');
        fs.mkdirSync(outDir, { recursive: true });
        const file = path.join(outDir, browserName === 'chromium' ? 'dashboard.png' : 'dashboard-firefox.png');
        await page.screenshot({ path: file });
        return { file };
      });
    }
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
  const failed = results.filter((r) => !r.ok);
  console.log(JSON.stringify({ browser: browserName, ms: Date.now() - t0, results }));
  log((failed.length ? 'FAIL' : 'ok') + ': ' + (results.length - failed.length) + '/' + results.length +
      ' passed in ' + (Date.now() - t0) + ' ms');
  return failed.length ? 1 : 0;
}

main().then((code) => {
  clearTimeout(watchdog);
  process.exit(code);
}, (e) => {
  console.error(browserName + ': FAIL: ' + (e && e.stack || e));
  killAll();
  process.exit(1);
});
