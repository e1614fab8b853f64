// RealtimeManager: keeps the dashboard's copy of the profile store current
// over the best channel the browser and the network allow
// (docs/realtime.md), and survives drops, proxies and server restarts.
//
// Strategies, best first:
//   ws    GET /ws (WebSocket): the page changes its subscription (the OS
//         filter) and pauses/resumes it without reconnecting;
//   sse   GET /events (EventSource, HTML §9.2);
//   poll  GET /api/profiles?since=SEQ&wait=25 (long poll), or plain
//         polling every 5 s if the server refuses `wait`.
// HTTP/2 server push (/api/profiles/stream) is not among them: no browser
// can receive pushes (Chrome removed push in 106, Firefox in 132, and the
// Fetch API never exposed pushed responses), so a page could not see them.
//
// Invariants:
//   - every event carries the store's seq; per IP the highest seq applied
//     is kept, and an event at or below it is a duplicate and dropped (a
//     resume or a strategy switch may deliver an event twice);
//   - a `reset` replaces the whole table, whatever its seq: after a server
//     restart sequence numbers start again, and the server answers a resume
//     point it cannot have sent with a reset (docs/realtime.md, Resuming);
//   - resumes start after `lastSeq`, the seq of the newest event applied.
'use strict';

(() => {
  const kOrder = ['ws', 'sse', 'poll'];
  const kBackoffBaseMs = 500;
  const kBackoffCapMs = 30000;
  const kHealthyMs = 10000;      // live this long: backoff and failure count start again
  const kFailuresToDegrade = 3;  // consecutive failures before the next strategy is tried
  const kOpenTimeoutMs = 10000;  // a stream a proxy holds back counts as failed
  const kSilenceMs = 45000;      // no event (stats come every 5 s) this long: a dead link
  const kProbeFirstMs = 15000;   // first retry of a better strategy after degrading
  const kProbeCapMs = 300000;
  const kLongPollSeconds = 25;
  const kPlainPollMs = 5000;

  // Exponential backoff with full jitter: the n-th retry waits a uniform
  // random time in [0, min(cap, base * 2^n)), so dashboards that lost the
  // same server do not all come back in the same millisecond.
  class Backoff {
    constructor(baseMs, capMs) {
      this.baseMs = baseMs;
      this.capMs = capMs;
      this.attempt = 0;
    }
    next() {
      const ceiling = Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
      this.attempt = Math.min(this.attempt + 1, 30);
      return Math.random() * ceiling;
    }
    reset() {
      this.attempt = 0;
    }
  }

  function query(params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
    }
    const s = p.toString();
    return s ? '?' + s : '';
  }

  // A transport opens one channel and reports through `sink`:
  //   sink.open(t)                 the channel is established
  //   sink.event(t, type, data)    one event (data as SSE's `data:`)
  //   sink.fail(t, reason)         it is closed for good; the manager decides what next
  //   sink.retrying(t, ms)         it reconnects by itself in ms (EventSource)
  // `t` lets the manager ignore a transport it has already replaced.
  // Each is started once; stop() silences it.

  class Transport {
    constructor(name, sink) {
      this.name = name;
      this.sink = sink;
      this.stopped = false;  // stop() was called: report nothing more
      this.opened = false;   // the channel is (or, failing, was) established
    }
  }

  class WsTransport extends Transport {
    constructor(sink, { resumeFrom, filter }) {
      super('ws', sink);
      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const q = query({ os: filter.os, last_event_id: resumeFrom || undefined });
      this.ws = new WebSocket(scheme + '//' + location.host + '/ws' + q);
      this.ws.onopen = () => {
        if (this.stopped) return;
        this.opened = true;
        sink.open(this);
      };
      this.ws.onmessage = (m) => {
        if (this.stopped) return;
        let msg;
        try {
          msg = JSON.parse(m.data);
        } catch (e) {
          return;  // not ours; the server only sends JSON objects
        }
        if (!msg || typeof msg.event !== 'string') return;
        if (msg.event === 'error') {
          console.warn('huginn /ws:', msg.data && msg.data.message);
        } else if (msg.event !== 'subscribed' && msg.event !== 'pong') {
          sink.event(this, msg.event, msg.data);
        }
      };
      // A refused upgrade (404, 426) and a dropped connection both end here.
      this.ws.onclose = (e) => {
        if (!this.stopped) sink.fail(this, 'closed (' + e.code + ')');
      };
    }
    setFilter(filter) {
      // A new filter is a new subscription: without last_event_id the
      // server answers a reset for it.
      if (!this.opened || this.ws.readyState !== WebSocket.OPEN) return false;
      this.ws.send(JSON.stringify({ op: 'subscribe', filter: { os: filter.os || undefined } }));
      return true;
    }
    pause(paused) {
      if (this.ws.readyState !== WebSocket.OPEN) return false;
      this.ws.send(JSON.stringify({ op: paused ? 'pause' : 'resume' }));
      return true;
    }
    stop() {
      this.stopped = true;
      this.ws.onopen = this.ws.onmessage = this.ws.onclose = null;
      this.ws.close();
    }
  }

  class SseTransport extends Transport {
    constructor(sink, { resumeFrom, filter, retryMs }) {
      super('sse', sink);
      // `last_event_id` because a new EventSource cannot set Last-Event-ID;
      // when the EventSource reconnects by itself it sends the header,
      // which the server prefers.
      this.es = new EventSource('/events' + query({ os: filter.os, last_event_id: resumeFrom || undefined }));
      this.es.onopen = () => {
        if (this.stopped) return;
        this.opened = true;
        sink.open(this);
      };
      for (const type of ['reset', 'profile', 'expired', 'deleted', 'stats']) {
        this.es.addEventListener(type, (e) => {
          if (this.stopped) return;
          let data;
          try {
            data = JSON.parse(e.data);
          } catch (err) {
            return;
          }
          sink.event(this, type, data);
        });
      }
      this.es.onerror = () => {
        if (this.stopped) return;
        // CONNECTING: the EventSource reconnects by itself after the
        // server's `retry:` and resumes with Last-Event-ID. We let it do so
        // after a stream that was up; an error before the next open means
        // the server is not back, and the manager takes over with backoff.
        // `opened` is true here only if this error ended an open stream.
        const wasOpen = this.opened;
        this.opened = false;
        if (this.es.readyState === EventSource.CONNECTING && wasOpen) {
          sink.retrying(this, retryMs);
          return;
        }
        sink.fail(this, this.es.readyState === EventSource.CLOSED ? 'refused' : 'unreachable');
      };
    }
    setFilter() {
      return false;  // the filter is in the URL: a new stream is needed
    }
    pause() {
      return false;
    }
    stop() {
      this.stopped = true;
      this.es.close();
    }
  }

  class PollTransport extends Transport {
    constructor(sink, { resumeFrom, seqNow }) {
      super('poll', sink);
      this.useWait = true;
      this.seqNow = seqNow;  // the manager's lastSeq, read at each request
      this.controller = null;
      this.timer = null;
      this.request(resumeFrom);
    }
    async request(since) {
      const controller = new AbortController();
      this.controller = controller;
      // The first request is answered at once, which is what tells the
      // manager the channel is up; the ones after it are held.
      const wait = this.useWait && this.opened ? kLongPollSeconds : 0;
      // A held request the network silently lost must not hang forever.
      const guard = setTimeout(() => controller.abort(), (wait + 15) * 1000);
      let res;
      let body = null;
      try {
        res = await fetch('/api/profiles' + query({ since: since || 0, wait: wait || undefined }), {
          headers: { Accept: 'application/json' }, cache: 'no-store', signal: controller.signal,
        });
        body = await res.json();
      } catch (e) {
        res = null;
      } finally {
        clearTimeout(guard);
      }
      if (this.stopped) return;
      if (res && res.status === 400 && body && body.parameter === 'wait' && this.useWait) {
        this.useWait = false;  // a server (or proxy) without long polls: poll every 5 s
        this.request(this.seqNow());
        return;
      }
      if (!res || res.status !== 200 || !body || typeof body.seq !== 'number') {
        // Polls have no stream a proxy could cut: a failed one means the
        // server is away, not that polling does not work here.
        this.opened = false;
        this.sink.fail(this, res ? 'HTTP ' + res.status : 'unreachable');
        return;
      }
      if (!this.opened) {
        this.opened = true;
        this.sink.open(this);
      }
      if (body.reset) {
        this.sink.event(this, 'reset', { seq: body.seq, profiles: body.profiles || [] });
      } else {
        for (const c of body.changes || []) {
          if (c.type === 'profile') this.sink.event(this, 'profile', c.profile);
          else this.sink.event(this, c.type, { ip: c.ip, seq: c.seq });
        }
      }
      if (this.stopped) return;
      if (this.useWait) this.request(this.seqNow());
      else this.timer = setTimeout(() => this.request(this.seqNow()), kPlainPollMs);
    }
    setFilter() {
      return true;  // polls carry no filter; the view filters
    }
    pause() {
      return false;
    }
    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
      if (this.controller) this.controller.abort();
    }
  }

  const kTransports = { ws: WsTransport, sse: SseTransport, poll: PollTransport };
  const kLabels = { ws: 'WebSocket', sse: 'SSE', poll: 'polling' };

  class RealtimeManager {
    // forced: 'ws' | 'sse' | 'poll' | null (then the best available, degrading).
    constructor({ forced = null } = {}) {
      this.forced = kOrder.includes(forced) ? forced : null;
      this.profiles = new Map();  // ip -> profile JSON (newest applied revision)
      this.ipSeq = new Map();     // ip -> highest seq applied, deletions included
      this.filter = { os: '' };
      this.backoff = new Backoff(kBackoffBaseMs, kBackoffCapMs);
      this.probeDelay = kProbeFirstMs;
      this.current = null;
      this.probe = null;
      this.timers = {};
      this.everOpened = {};
      this.failures = 0;     // consecutive failures of the current strategy itself
      this.unreachable = 0;  // consecutive connections that could not be made at all
      this.running = false;
      this.paused = false;
      // What the page header shows and tests read (window.huginnRealtime).
      this.status = {
        strategy: null, state: 'connecting', retryInMs: 0, lastSeq: 0, applied: 0,
        duplicatesDropped: 0, reconnects: 0, resets: 0, degraded: 0,
      };
      this.onUpdate = () => {};  // (profiles Map, {reset, ip}) after a change is applied
      this.onStats = () => {};   // (stats data)
      this.onStatus = () => {};  // (status) on every state change
    }

    start() {
      if (this.running) return;
      this.running = true;
      this.index = this.forced ? kOrder.indexOf(this.forced) : this.firstAvailable(0);
      this.connect();
      this.onlineListener = () => {
        if (this.running && this.status.state !== 'live') this.retryNow();
      };
      window.addEventListener('online', this.onlineListener);
    }

    stop() {
      this.running = false;
      for (const t of Object.values(this.timers)) clearTimeout(t);
      this.timers = {};
      if (this.current) this.current.stop();
      if (this.probe) this.probe.stop();
      this.current = this.probe = null;
      window.removeEventListener('online', this.onlineListener);
      this.setState('offline', 0);
    }

    // The page went to the background (true) or came back (false). A
    // WebSocket is paused on the server; other channels are closed and
    // resumed from lastSeq.
    setPaused(paused) {
      if (!this.running || paused === this.paused) return;
      this.paused = paused;
      if (this.current && this.current.opened && this.current.pause(paused)) {
        clearTimeout(this.timers.silence);
        if (paused) this.setState('paused', 0);
        else this.onOpen(this.current);
        return;
      }
      if (paused) {
        this.dropTransports();
        this.setState('paused', 0);
      } else {
        this.connect();
      }
    }

    setFilter(filter) {
      const os = (filter.os || '').trim();
      if (os === this.filter.os) return;
      this.filter = { os };
      if (!this.running || this.paused) return;
      if (this.current && this.current.opened && this.current.setFilter(this.filter)) return;
      // A stream whose filter is in its URL: start afresh (a reset), since
      // profiles that match only the new filter are not in the journal after lastSeq.
      this.dropTransports();
      this.status.lastSeq = 0;
      this.connect();
    }

    // ---- internals ----

    available(name) {
      if (name === 'ws') return typeof window.WebSocket === 'function';
      if (name === 'sse') return typeof window.EventSource === 'function';
      return typeof window.fetch === 'function';
    }

    firstAvailable(from) {
      for (let i = from; i < kOrder.length; i++) if (this.available(kOrder[i])) return i;
      return kOrder.length - 1;
    }

    dropTransports() {
      for (const name of ['retry', 'probe', 'healthy', 'silence', 'countdown']) {
        clearTimeout(this.timers[name]);
      }
      if (this.current) this.current.stop();
      if (this.probe) this.probe.stop();
      this.current = this.probe = null;
    }

    make(name) {
      const sink = {
        open: (t) => this.onOpen(t),
        event: (t, type, data) => this.onEvent(t, type, data),
        fail: (t, reason) => this.onFail(t, reason),
        retrying: (t, ms) => this.onRetrying(t, ms),
      };
      return new kTransports[name](sink, {
        resumeFrom: this.status.lastSeq,
        filter: this.filter,
        retryMs: 3000,  // the server's `retry:` (docs/realtime.md)
        seqNow: () => this.status.lastSeq,
      });
    }

    connect() {
      clearTimeout(this.timers.retry);
      if (!this.running || this.paused) return;
      const name = kOrder[this.index];
      this.status.strategy = name;
      if (this.status.state !== 'offline') this.setState('connecting', 0);
      let t;
      try {
        t = this.make(name);
      } catch (e) {
        // The constructor threw (a WebSocket URL the browser refuses, a
        // missing API): treat as a failure to open.
        this.current = null;
        this.onFail({ name, opened: false, stop() {} }, e.message, true);
        return;
      }
      this.current = t;
      this.armOpenTimeout(t);
    }

    armOpenTimeout(t) {
      clearTimeout(t.openTimer);
      t.openTimer = setTimeout(() => {
        if (!t.opened && (t === this.current || t === this.probe)) this.onFail(t, 'no answer');
      }, kOpenTimeoutMs);
    }

    armSilence() {
      // Stats events arrive every 5 s on ws and sse; a channel silent far
      // longer is dead without knowing it (a NAT or proxy dropped it).
      clearTimeout(this.timers.silence);
      const t = this.current;
      if (!t || t.name === 'poll') return;
      this.timers.silence = setTimeout(() => {
        if (t === this.current && !this.paused) this.onFail(t, 'silent');
      }, kSilenceMs);
    }

    onOpen(t) {
      if (t === this.probe) {
        // The better strategy works again: switch to it. Events that both
        // deliver are dropped as duplicates by seq.
        if (this.current) this.current.stop();
        this.current = t;
        this.probe = null;
        this.index = kOrder.indexOf(t.name);
        this.status.strategy = t.name;
        this.failures = 0;
        this.probeDelay = kProbeFirstMs;
      }
      clearTimeout(t.openTimer);
      if (t !== this.current) return;
      this.everOpened[t.name] = true;
      this.unreachable = 0;
      this.setState('live', 0);
      this.armSilence();
      clearTimeout(this.timers.healthy);
      this.timers.healthy = setTimeout(() => {
        this.backoff.reset();
        this.failures = 0;
      }, kHealthyMs);
      this.scheduleProbe();
    }

    onRetrying(t, ms) {
      if (t !== this.current) return;
      this.status.reconnects += 1;
      clearTimeout(this.timers.healthy);
      this.setState('reconnecting', ms);
      this.armOpenTimeout(t);
    }

    onFail(t, reason, synchronous) {
      clearTimeout(t.openTimer);
      if (t === this.probe) {
        t.stop();
        this.probe = null;
        this.probeDelay = Math.min(this.probeDelay * 2, kProbeCapMs);
        this.scheduleProbe();
        return;
      }
      if (t !== this.current && !synchronous) return;
      if (t.stop) t.stop();
      this.current = null;
      clearTimeout(this.timers.healthy);
      clearTimeout(this.timers.silence);
      if (!this.running) return;
      // A channel that opened and then died before it was healthy, or that
      // was held without an answer or went silent, points at this strategy
      // (a proxy that cuts or buffers streams). A connection refused to a
      // strategy that has worked here points at the server being away (a
      // restart): that is retried, not a reason to degrade.
      if (t.opened || reason === 'no answer' || reason === 'silent') this.failures += 1;
      else this.unreachable += 1;
      const last = this.firstAvailable(this.index + 1) === this.index || this.index === kOrder.length - 1;
      // Degrade: a strategy that never opened here (no /ws on this server,
      // a proxy that eats event streams) or that failed N times in a row.
      if (!this.forced && !last && (!this.everOpened[t.name] || this.failures >= kFailuresToDegrade)) {
        this.index = this.firstAvailable(this.index + 1);
        this.status.degraded += 1;
        this.failures = 0;
        this.status.strategy = kOrder[this.index];
        this.connect();
        return;
      }
      this.status.reconnects += 1;
      const delay = this.backoff.next();
      // The server (or the network) has been unreachable N times in a row:
      // shown as offline; retries go on, slower.
      const offline = navigator.onLine === false || this.unreachable >= kFailuresToDegrade;
      this.setState(offline ? 'offline' : 'reconnecting', delay, reason);
      this.timers.retry = setTimeout(() => this.connect(), delay);
    }

    retryNow() {
      if (this.current || !this.running || this.paused) return;
      this.backoff.reset();
      this.connect();
    }

    scheduleProbe() {
      clearTimeout(this.timers.probe);
      if (this.forced || this.probe) return;
      const best = this.firstAvailable(0);
      if (this.index <= best) return;
      this.timers.probe = setTimeout(() => {
        if (!this.running || this.paused || this.probe || this.index <= best) return;
        try {
          this.probe = this.make(kOrder[best]);
          this.armOpenTimeout(this.probe);
        } catch (e) {
          this.probe = null;
        }
      }, this.probeDelay);
    }

    onEvent(t, type, data) {
      if (t !== this.current && t !== this.probe) return;
      if (t === this.current) this.armSilence();
      if (type === 'stats') {
        this.onStats(data);
        return;
      }
      if (!data || typeof data !== 'object') return;
      if (type === 'reset') {
        if (typeof data.seq !== 'number' || !Array.isArray(data.profiles)) return;
        this.profiles = new Map();
        this.ipSeq = new Map();
        for (const p of data.profiles) {
          if (!p || typeof p.ip !== 'string') continue;
          this.profiles.set(p.ip, p);
          this.ipSeq.set(p.ip, typeof p.seq === 'number' ? p.seq : 0);
        }
        this.status.lastSeq = data.seq;
        this.status.applied += 1;
        this.status.resets += 1;
        this.onUpdate(this.profiles, { reset: true });
        this.publish();
        return;
      }
      if (typeof data.ip !== 'string' || typeof data.seq !== 'number') return;
      const had = this.ipSeq.get(data.ip);
      if (had !== undefined && data.seq <= had) {
        this.status.duplicatesDropped += 1;
        this.publish();
        return;
      }
      this.ipSeq.set(data.ip, data.seq);
      if (type === 'profile') this.profiles.set(data.ip, data);
      else if (type === 'expired' || type === 'deleted') this.profiles.delete(data.ip);
      else return;
      if (data.seq > this.status.lastSeq) this.status.lastSeq = data.seq;
      this.status.applied += 1;
      this.onUpdate(this.profiles, { reset: false, ip: data.ip });
      this.publish();
    }

    setState(state, retryInMs, detail) {
      this.status.state = state;
      this.status.retryInMs = Math.round(retryInMs || 0);
      this.status.detail = detail || '';
      clearTimeout(this.timers.countdown);
      if (retryInMs > 0) {
        // Ticks the "reconnecting in N s" countdown in the header.
        const until = Date.now() + retryInMs;
        const tick = () => {
          this.status.retryInMs = Math.max(0, until - Date.now());
          this.publish();
          if (this.status.retryInMs > 0) this.timers.countdown = setTimeout(tick, 1000);
        };
        this.timers.countdown = setTimeout(tick, 1000);
      }
      this.publish();
    }

    publish() {
      this.onStatus(this.status);
    }
  }

  RealtimeManager.labels = kLabels;
  window.HuginnRealtimeManager = RealtimeManager;
})();
