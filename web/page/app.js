// sparkmon status page. Reads /status.json and /api/history from the
// server that served it; nothing is fetched from anywhere else. Every piece
// of data is inserted as text (textContent, createTextNode), never as HTML.
'use strict';

const REFRESH_MS = 5000;
const STATUSES = ['ok', 'warning', 'critical', 'unknown'];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.appendChild(typeof c === 'string' || typeof c === 'number'
      ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function statusClass(s) {
  return STATUSES.includes(s) ? s : 'unknown';
}

// Sizes as free -h prints them: binary units, one decimal below 10.
function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let i = 0;
  let v = Number(n);
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : (v < 10 ? v.toFixed(1) : v.toFixed(0))) + units[i];
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return 'never';
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return s + ' s ago';
  if (s < 7200) return Math.round(s / 60) + ' min ago';
  if (s < 172800) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}

function num(v, digits, unit) {
  if (v === null || v === undefined) return '–';
  return Number(v).toFixed(digits) + (unit || '');
}

function table(headers, rows) {
  const head = el('tr', {}, ...headers.map(h => el('th', h.num ? { class: 'num' } : {}, h.label)));
  const body = rows.map(r => el('tr', {}, ...r.map((c, i) =>
    el('td', headers[i].cls ? { class: headers[i].cls } : {}, c))));
  return el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head),
    el('tbody', {}, ...body)));
}

function renderChecks(doc) {
  const list = document.getElementById('checks');
  list.replaceChildren(...(doc.checks || []).map(c => {
    const st = statusClass(c.status);
    return el('li', { class: 'check ' + st, 'data-check': c.id, 'data-status': st },
      el('span', { class: 'light ' + st, title: st }),
      el('span', { class: 'id' }, c.id + ' ', el('span', { class: 'badge ' + st }, st)),
      el('span', { class: 'summary' }, c.summary || ''),
      c.hint ? el('span', { class: 'hint' }, c.hint) : null,
      // The commands that fix it now, each to copy as it is (text, never HTML).
      ...(Array.isArray(c.fix) ? c.fix.map(f => el('code', { class: 'fix' }, String(f))) : []));
  }));
}

function renderWireguard(doc) {
  const box = document.getElementById('wireguard');
  const wg = doc.wireguard;
  if (!wg || !Array.isArray(wg.interfaces) || wg.interfaces.length === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No WireGuard interface.'));
    return;
  }
  box.replaceChildren(...wg.interfaces.map(dev => {
    const peers = Array.isArray(dev.peers) ? dev.peers : [];
    const up = dev.up === true;
    const rows = peers.map(p => [
      p.name || '–',
      el('span', { class: 'badge ' + (p.state === 'up' ? 'ok' : p.state === 'stale' ? 'warning'
        : p.required ? 'critical' : 'unknown') }, p.state || '?'),
      p.endpoint || '–',
      age(p.latest_handshake_age_seconds),
      bytes(p.rx_bytes),
      bytes(p.tx_bytes),
      (p.public_key || '').slice(0, 12) + '…',
    ]);
    const addrs = Array.isArray(dev.addresses) ? dev.addresses.join(', ') : '';
    return el('div', { class: 'iface', 'data-interface': dev.name || '' },
      el('h3', {}, el('span', { class: 'light ' + (up ? 'ok' : 'critical') }),
        (dev.name || '?') + (dev.listen_port ? ' · port ' + dev.listen_port : '') +
        (addrs ? ' · ' + addrs : '')),
      peers.length ? table([
        { label: 'peer' }, { label: 'state' }, { label: 'endpoint' }, { label: 'handshake' },
        { label: 'received', num: true, cls: 'num' }, { label: 'sent', num: true, cls: 'num' },
        { label: 'key', cls: 'key' }], rows) : el('p', { class: 'empty' }, 'No peers.'));
  }));
}

function renderGpu(doc) {
  const box = document.getElementById('gpu');
  const g = doc.gpu;
  if (!g || !Array.isArray(g.gpus) || g.gpus.length === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No GPU data.'));
    return;
  }
  const rows = g.gpus.map(d => [
    String(d.index), d.name || '–', num(d.temperature_celsius, 0, ' °C'),
    num(d.utilization_gpu_percent, 0, ' %'), num(d.power_draw_watts, 1, ' W'),
    d.unified_memory ? 'unified' :
      bytes(d.memory_used_bytes) + ' / ' + bytes(d.memory_total_bytes),
  ]);
  const parts = [table([{ label: '#' }, { label: 'name' },
    { label: 'temp', num: true, cls: 'num' }, { label: 'util', num: true, cls: 'num' },
    { label: 'power', num: true, cls: 'num' }, { label: 'memory', num: true, cls: 'num' }],
  rows)];
  if (g.stale) parts.push(el('p', { class: 'empty' }, 'Last good reading ' + age(g.age_seconds)));
  box.replaceChildren(...parts);
}

function renderMemory(doc) {
  const box = document.getElementById('memory');
  const m = doc.memory;
  if (!m) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No memory data.'));
    return;
  }
  const swapUsed = m.swap_total_bytes - m.swap_free_bytes;
  box.replaceChildren(table([{ label: '' }, { label: 'total', num: true, cls: 'num' },
    { label: 'used', num: true, cls: 'num' }, { label: 'free', num: true, cls: 'num' },
    { label: 'buff/cache', num: true, cls: 'num' }, { label: 'available', num: true, cls: 'num' }], [
    ['Mem:', bytes(m.total_bytes), bytes(m.used_bytes), bytes(m.free_bytes),
      bytes(m.buff_cache_bytes), bytes(m.available_bytes)],
    ['Swap:', bytes(m.swap_total_bytes), bytes(swapUsed), bytes(m.swap_free_bytes), '', ''],
  ]));
}

function renderSsh(doc) {
  const box = document.getElementById('ssh');
  const s = doc.ssh;
  if (!s) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No SSH data.'));
    return;
  }
  const listeners = Array.isArray(s.listeners) ? s.listeners : [];
  const rows = listeners.map(l => [l.address || '?', l.reach || '?', l.interface || '–',
    l.usable ? 'yes' : 'no']);
  const b = s.banner || {};
  box.replaceChildren(
    el('h3', { 'data-ssh-up': s.up ? 'yes' : 'no' },
      el('span', { class: 'light ' + (s.up ? 'ok' : 'critical') }),
      'port ' + (s.port || '?') + ' · ' + (b.state === 'ok' ? (b.line || '') :
        (b.error || b.state || 'not tried'))),
    rows.length ? table([{ label: 'listening on' }, { label: 'reach' },
      { label: 'interface' }, { label: 'a VPN client can use it' }], rows)
      : el('p', { class: 'empty' }, 'Nothing listens on the SSH port.'));
}

function renderStatus(doc) {
  const st = statusClass(doc.status);
  document.getElementById('host').textContent = doc.host || 'sparkmon';
  const badge = document.getElementById('overall');
  badge.textContent = st;
  badge.className = 'badge ' + st;
  document.getElementById('overall-light').className = 'light ' + st;
  document.getElementById('generated').textContent = doc.generated_at || '?';
  document.getElementById('version').textContent = 'sparkmon ' + (doc.version || '');
  document.title = st.toUpperCase() + ' · ' + (doc.host || 'sparkmon');
  renderChecks(doc);
  renderWireguard(doc);
  renderGpu(doc);
  renderMemory(doc);
  renderSsh(doc);
}

// ---- history plots (SVG, no library) ----------------------------------------

const SVGNS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function formatValue(name, v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (name.endsWith('_bytes')) return bytes(v);
  if (name.endsWith('_bytes_per_second')) return bytes(v) + '/s';
  if (name.endsWith('_ratio')) return (v * 100).toFixed(0) + ' %';
  if (name.endsWith('_celsius')) return v.toFixed(0) + ' °C';
  if (name.endsWith('_seconds')) return v.toFixed(0) + ' s';
  return Number(v).toFixed(v < 10 ? 1 : 0);
}

// One small plot of one or more series that share a unit (a peer's
// received and sent rates). Series are aligned on their own start and step.
function plot(title, key, list) {
  const W = 300;
  const H = 60;
  const finite = list.flatMap(s => (s.values || []).filter(v => v !== null));
  let lo = Math.min(0, ...finite);
  let hi = Math.max(...finite, lo + 1e-9);
  if (key === 'status') { lo = 0; hi = 3; }
  const t0 = Math.min(...list.map(s => s.start));
  const t1 = Math.max(...list.map(s => s.start + s.step * Math.max((s.values || []).length - 1, 0)));
  const span = Math.max(t1 - t0, 1e-9);
  const graph = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none',
    role: 'img', 'aria-label': title });
  graph.appendChild(svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }));
  const legend = [];
  list.forEach((series, k) => {
    let points = [];
    const flush = () => {
      if (points.length === 1) points.push(points[0].replace(/^[^,]*/, x => String(Number(x) + 1)));
      if (points.length) graph.appendChild(svg('polyline', { points: points.join(' '), class: 'line' + k }));
      points = [];
    };
    (series.values || []).forEach((v, i) => {
      if (v === null) { flush(); return; }
      const x = ((series.start + i * series.step - t0) / span) * W;
      const y = H - 2 - ((v - lo) / (hi - lo)) * (H - 4);
      points.push(x.toFixed(1) + ',' + y.toFixed(1));
    });
    flush();
    const own = (series.values || []).filter(v => v !== null);
    const last = own.length ? own[own.length - 1] : null;
    const what = list.length > 1 ? (series.name.match(/\.(rx|tx)_/) || [, ''])[1] : '';
    legend.push(el('span', { class: 'line' + k }, (what === 'rx' ? '↓ ' : what === 'tx' ? '↑ ' : '') +
      formatValue(series.name, last)));
  });
  return el('div', { class: 'plot', 'data-series': key },
    el('div', { class: 'title' }, el('span', {}, title), el('span', {}, ...legend)), graph);
}

// What is plotted, in this order: overall status, memory used, each GPU's
// temperature and utilization, each recorded peer's traffic (received and
// sent in one plot). Handshake ages stay in /api/history.
const MAX_PLOTS = 24;

function plotGroups(names) {
  const groups = [];
  const add = (key, title, members) => groups.push({ key, title, members });
  if (names.includes('status')) add('status', 'overall status', ['status']);
  if (names.includes('memory.used_bytes')) add('memory.used_bytes', 'memory used', ['memory.used_bytes']);
  names.filter(n => n.startsWith('gpu.')).sort().forEach(n => add(n, null, [n]));
  names.filter(n => n.startsWith('wg.') && n.endsWith('.rx_bytes_per_second')).forEach(n => {
    const base = n.slice(0, -'.rx_bytes_per_second'.length);
    add(base, null, [n, base + '.tx_bytes_per_second'].filter(m => names.includes(m)));
  });
  return groups.slice(0, MAX_PLOTS);
}

async function refreshHistory() {
  const list = await (await fetch('/api/history', { cache: 'no-store' })).json();
  const labels = new Map((list.series || []).map(s => [s.name, s.label || s.name]));
  const groups = plotGroups([...labels.keys()]);
  const names = groups.flatMap(g => g.members);
  if (!names.length) return;
  const url = '/api/history?series=' + names.map(encodeURIComponent).join(',');
  const doc = await (await fetch(url, { cache: 'no-store' })).json();
  const byName = new Map((doc.series || []).map(s => [s.name, s]));
  document.getElementById('plots').replaceChildren(...groups
    .filter(g => g.members.every(m => byName.has(m)))
    .map(g => {
      // A peer's label is "NAME received": the plot is titled by the peer.
      const title = g.title || (g.members.length > 1
        ? labels.get(g.members[0]).replace(/ received$/, '') + ' traffic'
        : labels.get(g.members[0]));
      return plot(title, g.key, g.members.map(m => byName.get(m)));
    }));
}

async function refresh() {
  const state = document.getElementById('refresh-state');
  try {
    const res = await fetch('/status.json', { cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    renderStatus(await res.json());
    await refreshHistory();
    state.textContent = 'auto-refresh every ' + REFRESH_MS / 1000 + ' s';
    document.body.dataset.loaded = 'yes';
  } catch (e) {
    state.textContent = 'cannot reach the server: ' + e.message;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
