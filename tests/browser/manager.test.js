// RealtimeManager (web/realtime.js) alone, in node, over its polling
// strategy with a scripted fetch: what the browser tests cannot force.
//   - dedup: per IP an event at or below the seq applied is dropped;
//   - a reset with a lower seq (a restarted server) replaces the table and
//     the per-IP seqs, so later events with small seqs apply;
//   - resumes ask for since=<last seq applied>, long polls after the first;
//   - a server that refuses `wait` is polled without it;
//   - a failed poll backs off with full jitter (first retry < 500 ms) and
//     shows "reconnecting"; three unreachable in a row show "offline".
// Usage: node manager.test.js <path of web/realtime.js>
'use strict';

const fs = require('node:fs');
const vm = require('node:vm');

const source = fs.readFileSync(process.argv[2], 'utf8');
const requests = [];
const script = [];  // responses, in order: {status, body} or 'fail'
let pending = null;   // the held request once the script is used up

function fakeFetch(url, opts) {
  requests.push(url);
  const next = script.shift();
  if (next === undefined) {
    // Held like a long poll until aborted.
    return new Promise((_, reject) => {
      pending = reject;
      opts.signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
  }
  if (next === 'fail') return Promise.reject(new TypeError('connection refused'));
  return Promise.resolve({ status: next.status, json: async () => next.body });
}

const context = {
  location: { protocol: 'http:', host: '127.0.0.1:1' },
  navigator: { onLine: true },
  fetch: fakeFetch,
  addEventListener() {},
  removeEventListener() {},
  setTimeout, clearTimeout, AbortController, URLSearchParams, console,
};
context.window = context;
vm.createContext(context);
vm.runInContext(source, context, { filename: 'realtime.js' });

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
let failures = 0;
function check(cond, what, extra) {
  if (!cond) {
    failures += 1;
    console.error('manager: FAIL: ' + what + (extra !== undefined ? ' ' + JSON.stringify(extra) : ''));
  }
}
const prof = (ip, seq) => ({ type: 'profile', seq, profile: { ip, seq, os: 'Linux' } });

async function main() {
  const m = new context.HuginnRealtimeManager({ forced: 'poll' });
  const table = () => Object.fromEntries([...m.profiles].map(([ip, p]) => [ip, p.seq]));

  script.push({ status: 200, body: { reset: false, seq: 3, changes: [prof('10.0.0.1', 1), prof('10.0.0.2', 2), prof('10.0.0.1', 3)] } });
  script.push({ status: 200, body: { reset: false, seq: 5, changes: [prof('10.0.0.1', 2), prof('10.0.0.2', 2), { type: 'deleted', seq: 4, ip: '10.0.0.2' }, prof('10.0.0.4', 5)] } });
  // The server restarted: its seq went back to 2; resuming from 5 gets a
  // reset. 10.0.0.4 comes back later with seq 4, below the 5 of before.
  script.push({ status: 200, body: { reset: true, seq: 2, profiles: [{ ip: '10.0.0.3', seq: 1 }, { ip: '10.0.0.1', seq: 2 }] } });
  script.push({ status: 200, body: { reset: false, seq: 3, changes: [prof('10.0.0.1', 3)] } });
  script.push({ status: 400, body: { error: 'bad_request', parameter: 'wait' } });
  script.push({ status: 200, body: { reset: false, seq: 4, changes: [prof('10.0.0.4', 4)] } });
  m.start();
  for (let i = 0; i < 20 && script.length; i++) await tick();
  await tick();

  check(requests[0] === '/api/profiles?since=0', 'first poll', requests[0]);
  check(requests[1] === '/api/profiles?since=3&wait=25', 'second poll resumes and waits', requests[1]);
  check(requests[2] === '/api/profiles?since=5&wait=25', 'third poll', requests[2]);
  check(requests[3] === '/api/profiles?since=2&wait=25', 'after the reset, since is its seq', requests[3]);
  check(requests[5] === '/api/profiles?since=3', 'wait refused: polled without it', requests[5]);
  check(JSON.stringify(table()) === JSON.stringify({ '10.0.0.3': 1, '10.0.0.1': 3, '10.0.0.4': 4 }),
        'table after dedup, delete, reset and later events', table());
  check(m.status.duplicatesDropped === 2, 'two duplicates dropped', m.status);
  check(m.status.resets === 1 && m.status.lastSeq === 4 && m.status.state === 'live', 'status', m.status);
  m.stop();

  // Failures: backoff with jitter, then offline.
  requests.length = 0;
  const f = new context.HuginnRealtimeManager({ forced: 'poll' });
  script.push('fail');
  f.start();
  await tick();
  check(f.status.state === 'reconnecting' && f.status.reconnects === 1, 'reconnecting after a failed poll', f.status);
  check(f.status.retryInMs >= 0 && f.status.retryInMs < 500, 'first retry within the 500 ms base', f.status);
  script.push('fail', 'fail');
  for (let i = 0; i < 200 && f.status.reconnects < 3; i++) await tick();
  check(f.status.state === 'offline', 'offline after three unreachable polls', f.status);
  f.stop();
  if (pending) pending(new Error('done'));

  console.error('manager: ' + (failures ? 'FAIL' : 'ok') + ' (' + requests.length + ' scripted requests in the second part)');
  return failures ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error('manager: FAIL: ' + e.stack);
  process.exit(1);
});
