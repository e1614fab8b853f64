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
    profileUrl(ip) {
      return '/api/profiles/' + encodeURIComponent(ip);
    },
  };

  // The live table comes from RealtimeManager (realtime.js): WebSocket,
  // Server-Sent Events or polling, whichever works here. The view keeps no
  // state of its own about the channel; it renders the manager's table.

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
    rendered: false,     // the first table is not marked fresh
    statsAt: 0,
    meAt: 0,
  };

  // The header's connection indicator: strategy and state (connecting,
  // live, reconnecting in N s, offline, paused).
  function setConnection(status) {
    const s = status.state;
    let text = s;
    if ((s === 'reconnecting' || s === 'offline') && status.retryInMs > 0) {
      text += ' · retry in ' + Math.ceil(status.retryInMs / 1000) + ' s';
    }
    $('conn-dot').dataset.state = s;
    if ($('conn-state').textContent !== text) $('conn-state').textContent = text;
    const label = status.strategy ? window.HuginnRealtimeManager.labels[status.strategy] : '';
    const strategy = label ? '(' + label + ')' : '';
    if ($('conn-strategy').textContent !== strategy) $('conn-strategy').textContent = strategy;
    $('conn-state').title = status.detail || '';
  }

  function cell(tr, text, className, title) {
    const td = el('td', text === undefined || text === null ? '' : text, className);
    if (title) td.title = title;
    tr.appendChild(td);
  }

  // Filters and sort of the form, applied here: every channel delivers the
  // whole (server-filtered by OS) table, and polling cannot filter at all.
  const kMaxRows = 500;
  const searchText = new WeakMap();  // profile -> its JSON, lower case, for `q`

  function matches(p, f) {
    const has = (v, needle) => typeof v === 'string' && v.toLowerCase().includes(needle);
    if (f.os && !has(p.os || get(p, 'tcp.syn.os'), f.os)) return false;
    if (f.browser && !has(p.browser || get(p, 'http.request.app'), f.browser)) return false;
    if (f.q) {
      let text = searchText.get(p);
      if (text === undefined) {
        text = JSON.stringify(p).toLowerCase();
        searchText.set(p, text);
      }
      if (!text.includes(f.q)) return false;
    }
    return true;
  }

  const kSorts = {
    last_seen: (a, b) => String(b.last_seen).localeCompare(String(a.last_seen)),
    first_seen: (a, b) => String(b.first_seen).localeCompare(String(a.first_seen)),
    connections: (a, b) => (b.connections || 0) - (a.connections || 0),
    ip: (a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }),
    os: (a, b) => String(a.os || '~').localeCompare(String(b.os || '~')),
  };

  function renderTable(profiles) {
    const f = readFilters();
    const needle = { q: f.q.toLowerCase(), os: f.os.toLowerCase(), browser: f.browser.toLowerCase() };
    const list = [];
    for (const p of profiles.values()) if (matches(p, needle)) list.push(p);
    list.sort(kSorts[f.sort] || kSorts.last_seen);
    const shown = list.slice(0, kMaxRows);
    const tbody = $('profiles').tBodies[0];
    const rows = document.createDocumentFragment();
    const seen = new Map();
    for (const p of shown) {
      const tr = document.createElement('tr');
      tr.dataset.ip = p.ip;
      if (p.ip === state.myIp) tr.classList.add('me');
      if (p.ip === state.selected) tr.classList.add('selected');
      const before = state.lastSeq.get(p.ip);
      if (state.rendered && before !== p.seq) tr.classList.add('fresh');
      seen.set(p.ip, p.seq);
      cell(tr, p.ip, 'mono');
      cell(tr, p.os || get(p, 'tcp.syn.app') || '', null);
      cell(tr, p.browser || get(p, 'http.request.app') || '', null, get(p, 'http.request.user_agent'));
      cell(tr, get(p, 'tls.ja4'), 'mono', get(p, 'tls.sni'));
      cell(tr, get(p, 'http2.akamai'), 'mono clip', get(p, 'http2.akamai'));
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
    const selectedChanged = state.selected && seen.get(state.selected) !== state.lastSeq.get(state.selected);
    state.lastSeq = seen;
    state.rendered = true;
    tbody.replaceChildren(rows);
    $('empty').hidden = profiles.size !== 0;
    $('shown').textContent = shown.length + ' of ' + list.length + ' shown' +
        (list.length !== profiles.size ? ' (' + profiles.size + ' in total)' : '');
    if (selectedChanged) showDetail(state.selected);
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
    state.meAt = Date.now();
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
    // ?transport=ws|sse|poll forces one strategy (tests, or a user behind a
    // proxy that breaks the better ones); without it the manager picks.
    const forced = new URLSearchParams(location.search).get('transport');
    const manager = new window.HuginnRealtimeManager({ forced });
    window.huginnRealtime = manager.status;  // read by tests/browser/

    // One render per animation frame however many events arrive.
    let frame = 0;
    const scheduleRender = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        renderTable(manager.profiles);
      });
    };
    manager.onUpdate = (profiles, change) => {
      scheduleRender();
      // Our own row changed, or we do not know our address yet: ask again,
      // at most every 2 s.
      if ((change.reset || state.myIp === null || change.ip === state.myIp) &&
          Date.now() - state.meAt > 2000) {
        refreshMe();
      }
    };
    manager.onStats = () => refreshStats();
    manager.onStatus = setConnection;
    // Polling has no stats events, and capture counters move in a quiet store.
    setInterval(() => {
      if (Date.now() - state.statsAt > 10000) refreshStats();
    }, 5000);

    let debounce = null;
    const onFilter = () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        manager.setFilter({ os: $('f-os').value });
        scheduleRender();
      }, 250);
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
    // A tab left in the background for a minute stops taking events (a
    // WebSocket is paused on the server, other channels close) and catches
    // up from the journal when it is shown again; a short switch keeps it live.
    let hiddenTimer = null;
    document.addEventListener('visibilitychange', () => {
      clearTimeout(hiddenTimer);
      if (document.hidden) hiddenTimer = setTimeout(() => manager.setPaused(true), 60000);
      else manager.setPaused(false);
    });

    manager.setFilter({ os: $('f-os').value });
    manager.start();
    refreshMe();
    refreshStats();
    // Relative times ("12 s ago") age without events.
    setInterval(scheduleRender, 15000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
  else main();
})();
