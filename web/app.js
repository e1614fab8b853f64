// Huginn dashboard. No framework, no external resources (the page's CSP
// forbids them). Every string that comes from the network is untrusted
// (User-Agents, SNI, signatures): it reaches the DOM only through
// textContent or attribute setters, never through innerHTML.
'use strict';

(() => {
  // ---------------------------------------------------------------- API --

  // Thin wrappers over the JSON API (docs/api.md). Requests are made with
  // cache: 'no-store' and an explicit If-None-Match so that a 304 reaches
  // this code instead of being hidden by the browser's cache.
  const Api = {
    async getJson(url, etag, signal) {
      const headers = { Accept: 'application/json' };
      if (etag) headers['If-None-Match'] = etag;
      const res = await fetch(url, { headers, cache: 'no-store', signal });
      if (res.status === 304) return { status: 304, etag };
      let body = null;
      try {
        body = await res.json();
      } catch (e) {
        body = null;
      }
      return { status: res.status, etag: res.headers.get('ETag'), body };
    },
    profilesUrl(query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
      }
      const s = params.toString();
      return '/api/profiles' + (s ? '?' + s : '');
    },
    profileUrl(ip) {
      return '/api/profiles/' + encodeURIComponent(ip);
    },
  };

  // ------------------------------------------------------- live sources --

  // A live source delivers the profile list as it changes. Every strategy
  // (this poller now; Server-Sent Events, HTTP/2 push and WebSocket with
  // issue 5's RealtimeManager) has the same shape, so the view never knows
  // which one runs:
  //   start(), stop(), setQuery(query)
  //   onSnapshot({profiles, total, seq})  the full current page
  //   onChange(event)                     one incremental change (event
  //                                       streams; the poller never calls it)
  //   onState(state, strategy)            'connecting' | 'live' | 'error' | 'stopped'
  class PollingSource {
    constructor({ intervalMs = 2000, maxBackoffMs = 30000 } = {}) {
      this.strategy = 'polling';
      this.intervalMs = intervalMs;
      this.maxBackoffMs = maxBackoffMs;
      this.query = {};
      this.etag = null;
      this.timer = null;
      this.controller = null;
      this.failures = 0;
      this.running = false;
      this.onSnapshot = () => {};
      this.onChange = () => {};
      this.onState = () => {};
    }

    start() {
      if (this.running) return;
      this.running = true;
      this.onState('connecting', this.strategy);
      this.tick();
    }

    stop() {
      this.running = false;
      clearTimeout(this.timer);
      if (this.controller) this.controller.abort();
      this.onState('stopped', this.strategy);
    }

    setQuery(query) {
      this.query = { ...query };
      this.etag = null;  // another query is another resource
      if (this.running) {
        clearTimeout(this.timer);
        if (this.controller) this.controller.abort();
        this.tick();
      }
    }

    async tick() {
      const controller = new AbortController();
      this.controller = controller;
      try {
        const r = await Api.getJson(Api.profilesUrl(this.query), this.etag, controller.signal);
        if (controller !== this.controller || !this.running) return;  // superseded
        if (r.status === 200 && r.body && Array.isArray(r.body.profiles)) {
          this.etag = r.etag;
          this.onSnapshot(r.body);
        } else if (r.status !== 304) {
          throw new Error((r.body && r.body.message) || 'HTTP ' + r.status);
        }
        this.failures = 0;
        this.onState('live', this.strategy);
        this.schedule(this.intervalMs);
      } catch (e) {
        if (controller !== this.controller || !this.running) return;
        this.failures += 1;
        this.onState('error', this.strategy, e.message);
        // Exponential backoff with full jitter, so that a restarted server
        // is not met by every open dashboard in the same millisecond.
        const cap = Math.min(this.maxBackoffMs, this.intervalMs * 2 ** this.failures);
        this.schedule(this.intervalMs / 2 + Math.random() * cap);
      }
    }

    schedule(ms) {
      clearTimeout(this.timer);
      if (this.running) this.timer = setTimeout(() => this.tick(), ms);
    }
  }

  // ------------------------------------------------------------ helpers --

  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (className) e.className = className;
    return e;
  }

  function get(obj, path) {
    let v = obj;
    for (const k of path.split('.')) {
      if (v === null || v === undefined) return undefined;
      v = v[k];
    }
    return v;
  }

  function relativeTime(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return iso || '';
    const s = Math.round((Date.now() - t) / 1000);
    if (s < 0) return 'just now';
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return new Date(t).toISOString().slice(0, 10);
  }

  // p0f TCP signature "ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass"
  // (p0f README, section 5) as named fields.
  function tcpSignatureFields(sig) {
    if (typeof sig !== 'string') return [];
    const parts = sig.split(':');
    if (parts.length !== 8) return [['raw', sig]];
    const [wsize, scale] = parts[4].split(',');
    return [
      ['ver', parts[0]], ['ittl', parts[1]], ['olen', parts[2]], ['mss', parts[3]],
      ['wsize', wsize], ['scale', scale], ['olayout', parts[5]], ['quirks', parts[6]],
      ['pclass', parts[7]],
    ];
  }

  // ---------------------------------------------------------------- view --

  const state = {
    selected: null,   // IP whose detail is open
    myIp: null,
    meEtag: null,
    lastSeq: new Map(),  // ip -> seq last rendered, to mark fresh rows
    statsAt: 0,
  };

  function setConnection(s, strategy, detail) {
    $('conn-dot').dataset.state = s;
    $('conn-state').textContent = detail ? s + ': ' + detail : s;
    $('conn-strategy').textContent = strategy ? '(' + strategy + ')' : '';
  }

  function cell(tr, text, className, title) {
    const td = el('td', text === undefined || text === null ? '' : text, className);
    if (title) td.title = title;
    tr.appendChild(td);
  }

  function renderSnapshot(snap) {
    const tbody = $('profiles').tBodies[0];
    const rows = document.createDocumentFragment();
    const seen = new Map();
    for (const p of snap.profiles) {
      const tr = document.createElement('tr');
      tr.dataset.ip = p.ip;
      if (p.ip === state.myIp) tr.classList.add('me');
      if (p.ip === state.selected) tr.classList.add('selected');
      const before = state.lastSeq.get(p.ip);
      if (before !== undefined && before !== p.seq) tr.classList.add('fresh');
      seen.set(p.ip, p.seq);
      cell(tr, p.ip, 'mono');
      cell(tr, p.os || get(p, 'tcp.syn.app') || '', null);
      cell(tr, p.browser || get(p, 'http.request.app') || '', null, get(p, 'http.request.user_agent'));
      cell(tr, get(p, 'tls.ja4'), 'mono', get(p, 'tls.sni'));
      cell(tr, get(p, 'http2.akamai'), 'mono');
      cell(tr, get(p, 'tcp.syn.dist'), 'num');
      cell(tr, get(p, 'tcp.mtu.link'), null, get(p, 'tcp.mtu.value'));
      cell(tr, p.connections, 'num');
      cell(tr, relativeTime(p.last_seen), null, p.last_seen);
      const verdict = get(p, 'verdict.status') || '';
      const reasons = get(p, 'verdict.reasons');
      cell(tr, verdict, 'verdict-' + verdict.replace(/[^a-z]/g, ''),
           Array.isArray(reasons) ? reasons.join(', ') : '');
      rows.appendChild(tr);
    }
    state.lastSeq = seen;
    tbody.replaceChildren(rows);
    $('empty').hidden = snap.profiles.length !== 0;
    $('shown').textContent = snap.profiles.length + ' of ' + snap.total + ' shown';
    if (state.selected && seen.has(state.selected)) showDetail(state.selected);
  }

  function renderStats(s) {
    $('count-profiles').textContent = s.profiles;
    $('count-tcp').textContent = get(s, 'sections.tcp');
    $('count-http').textContent = get(s, 'sections.http');
    $('count-tls').textContent = get(s, 'sections.tls');
    $('count-http2').textContent = get(s, 'sections.http2');
    const cap = s.capture || {};
    $('capture-state').textContent = cap.state || '–';
    $('capture-state').title = 'packets ' + cap.packets + ', kernel drops ' + cap.kernel_drops +
                               ', malformed ' + cap.malformed;
  }

  function addFields(parent, title, pairs) {
    const present = pairs.filter(([, v]) => v !== undefined && v !== null && v !== '');
    if (!present.length) return;
    parent.appendChild(el('h3', title));
    const dl = el('dl');
    for (const [k, v] of present) {
      dl.appendChild(el('dt', k));
      dl.appendChild(el('dd', Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : v));
    }
    parent.appendChild(dl);
  }

  function renderDetail(p) {
    $('detail-title').textContent = p.ip;
    const box = $('detail-fields');
    box.replaceChildren();
    addFields(box, 'Summary', [
      ['OS', p.os], ['browser', p.browser], ['connections', p.connections],
      ['first seen', p.first_seen], ['last seen', p.last_seen],
      ['verdict', get(p, 'verdict.status')], ['reasons', get(p, 'verdict.reasons')],
    ]);
    for (const dir of ['syn', 'syn_ack']) {
      const s = get(p, 'tcp.' + dir);
      if (!s) continue;
      addFields(box, dir === 'syn' ? 'TCP SYN' : 'TCP SYN+ACK', [
        ['signature', s.signature], ['os', s.os], ['app', s.app], ['dist', s.dist], ['params', s.params],
        ...tcpSignatureFields(s.signature),
      ]);
    }
    addFields(box, 'MTU / uptime', [
      ['mtu', get(p, 'tcp.mtu.value')], ['link', get(p, 'tcp.mtu.link')],
      ['uptime (s)', get(p, 'tcp.uptime.seconds')], ['clock (Hz)', get(p, 'tcp.uptime.freq_hz')],
    ]);
    const req = get(p, 'http.request') || {};
    addFields(box, 'HTTP request', [
      ['signature', req.signature], ['app', req.app], ['lang', req.lang], ['user agent', req.user_agent],
      ['dishonest', req.dishonest],
    ]);
    const resp = get(p, 'http.response') || {};
    addFields(box, 'HTTP response', [['signature', resp.signature], ['app', resp.app]]);
    const t = p.tls || {};
    addFields(box, 'TLS', [
      ['JA4', t.ja4], ['JA4_r', t.ja4_r], ['JA4_o', t.ja4_o], ['JA4_ro', t.ja4_ro], ['SNI', t.sni], ['ALPN', t.alpn],
    ]);
    addFields(box, 'HTTP/2', [['akamai', get(p, 'http2.akamai')]]);
    if (Array.isArray(p.history) && p.history.length) {
      addFields(box, 'History', p.history.map((h) => [
        h.time || '', (h.field || '') + ': ' + (h.from ?? '∅') + ' → ' + (h.to ?? '∅') +
          (Array.isArray(h.reasons) && h.reasons.length ? ' (' + h.reasons.join(' ') + ')' : ''),
      ]));
    }
    $('detail-json').textContent = JSON.stringify(p, null, 2);
    $('detail').hidden = false;
  }

  const detailEtags = new Map();
  async function showDetail(ip) {
    state.selected = ip;
    for (const tr of $('profiles').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.ip === ip);
    try {
      const r = await Api.getJson(Api.profileUrl(ip), detailEtags.get(ip));
      if (state.selected !== ip) return;
      if (r.status === 200 && r.body) {
        detailEtags.set(ip, r.etag);
        renderDetail(r.body);
      } else if (r.status === 404) {
        $('detail-title').textContent = ip;
        $('detail-fields').replaceChildren(el('p', 'This profile has expired or was deleted.', 'muted'));
        $('detail-json').textContent = '';
      }
    } catch (e) {
      // The next snapshot retries.
    }
  }

  async function refreshMe() {
    try {
      const r = await Api.getJson('/api/me', state.meEtag);
      if (r.status === 304) return;
      const box = $('me');
      if (r.status === 200 && r.body) {
        state.meEtag = r.etag;
        state.myIp = r.body.ip;
        const p = r.body;
        const parts = [p.ip, p.os || get(p, 'tcp.syn.signature') || 'no SYN seen',
                       p.browser, get(p, 'tls.ja4'), get(p, 'http2.akamai')].filter(Boolean);
        $('me-summary').textContent = parts.join('  ·  ');
        box.hidden = false;
      } else if (r.status === 404 && r.body) {
        state.myIp = r.body.ip || null;
        $('me-summary').textContent = r.body.message || 'No profile for your address yet.';
        box.hidden = false;
      }
      for (const tr of $('profiles').tBodies[0].rows) tr.classList.toggle('me', tr.dataset.ip === state.myIp);
    } catch (e) {
      // Shown through the connection state of the live source.
    }
  }

  async function refreshStats() {
    state.statsAt = Date.now();
    try {
      const r = await Api.getJson('/api/stats');
      if (r.status === 200 && r.body) renderStats(r.body);
    } catch (e) {
      // idem
    }
  }

  // --------------------------------------------------------------- wiring --

  function readFilters() {
    return {
      q: $('f-q').value.trim(),
      os: $('f-os').value.trim(),
      browser: $('f-browser').value.trim(),
      sort: $('f-sort').value,
    };
  }

  function main() {
    const source = new PollingSource({ intervalMs: 2000 });
    source.onState = setConnection;
    source.onSnapshot = (snap) => {
      renderSnapshot(snap);
      refreshMe();
      refreshStats();
    };
    // A quiet store still has moving capture counters.
    setInterval(() => {
      if (Date.now() - state.statsAt > 10000) refreshStats();
    }, 5000);

    let debounce = null;
    const onFilter = () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => source.setQuery(readFilters()), 250);
    };
    $('filters').addEventListener('input', onFilter);
    $('filters').addEventListener('submit', (e) => e.preventDefault());

    $('profiles').tBodies[0].addEventListener('click', (e) => {
      const tr = e.target.closest('tr');
      if (tr && tr.dataset.ip) showDetail(tr.dataset.ip);
    });
    $('detail-close').addEventListener('click', () => {
      state.selected = null;
      $('detail').hidden = true;
      for (const tr of $('profiles').tBodies[0].rows) tr.classList.remove('selected');
    });
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) source.stop();
      else source.start();
    });

    source.setQuery(readFilters());
    source.start();
    refreshMe();
    refreshStats();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
  else main();
})();
