// sparkmon status page. Reads /status.json, /api/history and /api/events
// from the server that served it; nothing is fetched from anywhere else.
// Every piece of data is inserted as text (textContent, createTextNode),
// never as HTML. The content security policy allows no inline script or
// style: handlers are added here, looks live in style.css.
'use strict';

const REFRESH_MS = 5000;
const STATUSES = ['ok', 'warning', 'critical', 'unknown'];
// How bad a status is: OK < WARNING < UNKNOWN < CRITICAL (as the daemon
// orders them; the history's status series holds these numbers).
const SEVERITY = { ok: 0, warning: 1, unknown: 2, critical: 3 };
const BY_SEVERITY = ['ok', 'warning', 'unknown', 'critical'];

// What the page last received, for redrawing on a resize or a range change.
const state = { doc: null, history: null, range: 3600, openHop: null, chosenHop: false, cursor: null };

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

function worst(list) {
  return list.reduce((w, s) => (SEVERITY[statusClass(s)] > SEVERITY[w] ? statusClass(s) : w), 'ok');
}

// Sizes as free -h prints them: binary units, one decimal below 10.
function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let i = 0;
  let v = Number(n);
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(Math.round(v)) : (v < 10 ? v.toFixed(1) : v.toFixed(0))) + units[i];
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

const pad = n => String(n).padStart(2, '0');
// Local time: "14:05", with seconds "14:05:09"; another day gets its date.
function clock(t, seconds) {
  const d = new Date(t * 1000);
  const hm = pad(d.getHours()) + ':' + pad(d.getMinutes()) + (seconds ? ':' + pad(d.getSeconds()) : '');
  return d.toDateString() === new Date().toDateString() ? hm
    : d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + hm;
}

function table(headers, rows) {
  const head = el('tr', {}, ...headers.map(h => el('th', h.num ? { class: 'num' } : {}, h.label)));
  const body = rows.map(r => el('tr', {}, ...r.map((c, i) =>
    el('td', headers[i].cls ? { class: headers[i].cls } : {}, c))));
  return el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, head),
    el('tbody', {}, ...body)));
}

// ---- copying a fix ------------------------------------------------------------

// The clipboard API needs a secure context (HTTPS or localhost); over plain
// HTTP on the VPN a selected text area and the copy command do it.
function fallbackCopy(text) {
  const area = el('textarea', { class: 'offscreen', readonly: '' }, text);
  document.body.appendChild(area);
  area.select();
  let done = false;
  try { done = document.execCommand('copy'); } catch (e) { done = false; }
  area.remove();
  return done;
}

function copyText(text) {
  if (navigator.clipboard && window.isSecureContext)
    return navigator.clipboard.writeText(text).then(() => true, () => fallbackCopy(text));
  return Promise.resolve(fallbackCopy(text));
}

document.addEventListener('click', e => {
  const button = e.target.closest && e.target.closest('button.copy');
  if (!button) return;
  const code = button.parentElement.querySelector('code');
  copyText(code ? code.textContent : '').then(done => {
    button.textContent = done ? 'copied' : 'select and copy';
    button.dataset.copied = done ? 'yes' : 'no';
    if (!done && code) window.getSelection().selectAllChildren(code);
    setTimeout(() => { button.textContent = 'copy'; }, 2000);
  });
});

// ---- checks: what is not OK first ------------------------------------------

function fixLines(c) {
  // The commands that fix it now, each to copy as it is (text, never HTML).
  return (Array.isArray(c.fix) ? c.fix : []).map(f => el('div', { class: 'fixline' },
    el('code', { class: 'fix' }, String(f)), el('button', { class: 'copy', type: 'button' }, 'copy')));
}

function checkCard(c) {
  const st = statusClass(c.status);
  return el('li', { class: 'check ' + st, 'data-check': c.id, 'data-status': st },
    el('span', { class: 'light ' + st, title: st }),
    el('span', { class: 'id' }, c.id + ' ', el('span', { class: 'badge ' + st }, st)),
    el('span', { class: 'summary' }, c.summary || ''),
    st !== 'ok' && c.hint ? el('span', { class: 'hint' }, c.hint) : null,
    ...(st !== 'ok' ? fixLines(c) : []));
}

function areaOf(id) {
  return String(id).split('.')[0];
}

function renderChecks(doc) {
  const checks = doc.checks || [];
  const bad = checks.filter(c => statusClass(c.status) !== 'ok')
    .sort((a, b) => SEVERITY[statusClass(b.status)] - SEVERITY[statusClass(a.status)]);
  document.getElementById('problems').replaceChildren(...bad.map(checkCard));
  document.getElementById('problems-none').hidden = bad.length > 0;
  // OK checks: one line per area, the cards folded under it.
  const areas = new Map();
  checks.filter(c => statusClass(c.status) === 'ok').forEach(c => {
    if (!areas.has(areaOf(c.id))) areas.set(areaOf(c.id), []);
    areas.get(areaOf(c.id)).push(c);
  });
  const open = new Set([...document.querySelectorAll('#ok-areas details[open]')]
    .map(d => d.dataset.area));
  document.getElementById('ok-areas').replaceChildren(...[...areas].map(([area, list]) => {
    const d = el('details', { class: 'area', 'data-area': area },
      el('summary', {}, el('span', { class: 'light ok' }), area + ': ' +
        list.map(c => c.id.slice(area.length + 1) || c.id).join(', ') + ' OK'),
      el('ul', { class: 'checks' }, ...list.map(checkCard)));
    d.open = open.has(area);
    return d;
  }));
}

// ---- the way in, drawn -------------------------------------------------------

const SVGNS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function firstInterface(doc) {
  const list = doc.wireguard && Array.isArray(doc.wireguard.interfaces) ? doc.wireguard.interfaces : [];
  return list[0] || {};
}

// The uplink NIC's name: the LAN side the SSH probe found, else the "-o"
// of the MASQUERADE rule the setup expects.
function uplinkName(doc) {
  if (doc.ssh && doc.ssh.lan_interface) return doc.ssh.lan_interface;
  const rules = (doc.firewall && doc.firewall.expected_rules) || [];
  const m = rules.map(r => String(r.command || '').match(/MASQUERADE/) &&
    String(r.command).match(/ -o (\S+)/)).find(Boolean);
  return m ? m[1] : '';
}

// The hops from the client to the peers, left to right. `checks` are ids,
// or areas ending in "." (every check of the area). A hop with `when` is
// drawn only when the status document has its part.
const HOPS = [
  { key: 'client', label: 'you', checks: [], sub: () => 'this browser' },
  { key: 'internet', label: 'internet', checks: ['endpoint.probes'], sub: () => '' },
  {
    key: 'public', label: 'public IP', checks: ['endpoint.public_ip', 'endpoint.'],
    sub: doc => {
      const ip = (doc.endpoint && doc.endpoint.public_ip) || (doc.router && doc.router.external_ip);
      const port = firstInterface(doc).listen_port;
      return ip ? ip + (port ? ':' + port : '') : (port ? 'UDP ' + port : '');
    },
  },
  {
    // Drawn when the router probe found the router (its "router" area), or
    // when one of its checks has something to say without it.
    key: 'router', label: 'router', checks: ['router.'],
    when: doc => !!doc.router || (doc.checks || []).some(c => c.id.startsWith('router.') &&
      statusClass(c.status) !== 'ok'),
    sub: doc => (doc.router && doc.router.gateway) || '',
  },
  { key: 'uplink', label: 'uplink NIC', checks: ['firewall.uplink'], sub: uplinkName },
  {
    key: 'firewall', label: 'forwarding + firewall',
    checks: ['forwarding.', 'firewall.forward', 'firewall.forward6', 'firewall.masquerade'],
    sub: doc => (doc.firewall && doc.firewall.backend) || '',
  },
  {
    key: 'wireguard', label: 'WireGuard', checks: ['wireguard.interface', 'wireguard.listen_port'],
    sub: doc => firstInterface(doc).name || '',
  },
  {
    key: 'peers', label: 'peers', checks: ['wireguard.peers'],
    sub: doc => {
      const i = firstInterface(doc);
      return i.peer_count !== undefined ? (i.peers_up || 0) + ' of ' + i.peer_count + ' up' : '';
    },
  },
];
// The machine beside the path; checks no hop claims land here too.
const MACHINE = {
  key: 'machine', label: 'this machine', checks: ['gpu.', 'memory.', 'ssh.'],
  sub: doc => {
    const parts = [];
    const g = doc.gpu && Array.isArray(doc.gpu.gpus) ? doc.gpu.gpus[0] : null;
    if (g) parts.push('GPU ' + num(g.temperature_celsius, 0, ' °C'));
    const m = doc.memory;
    if (m && m.total_bytes) parts.push('memory ' + Math.round(100 * m.used_bytes / m.total_bytes) + ' % used');
    return parts.join(' · ');
  },
};

// The hop a check belongs to: the one naming its id, else the one naming
// its area ("endpoint." takes endpoint checks no hop names), else the
// machine.
function ownerOf(id) {
  const all = [...HOPS, MACHINE];
  const hop = all.find(h => h.checks.includes(id)) ||
    all.find(h => h.checks.some(p => p.endsWith('.') && id.startsWith(p)));
  return (hop || MACHINE).key;
}

function hopState(hop, doc, checks) {
  const mine = checks.filter(c => ownerOf(c.id) === hop.key);
  const bad = mine.filter(c => statusClass(c.status) !== 'ok')
    .sort((a, b) => SEVERITY[statusClass(b.status)] - SEVERITY[statusClass(a.status)]);
  let sub = '';
  try { sub = hop.sub(doc) || ''; } catch (e) { sub = ''; }
  return {
    key: hop.key, label: hop.label, sub: String(sub), checks: mine, bad,
    status: mine.length ? worst(mine.map(c => c.status)) : 'none',
  };
}

// Cuts a text into at most `lines` lines of `width` characters, "…" at a cut.
function wrap(text, width, lines) {
  const words = String(text).split(/\s+/);
  const out = [];
  let line = '';
  for (const w of words) {
    if (line && (line + ' ' + w).length > width) {
      out.push(line);
      line = '';
      if (out.length === lines) break;
    }
    line = line ? line + ' ' + w : w;
  }
  if (out.length < lines && line) out.push(line);
  const whole = out.join(' ').length >= String(text).trim().length;
  if (!whole) out[out.length - 1] = out[out.length - 1].slice(0, width - 1) + '…';
  return out.map(l => (l.length > width ? l.slice(0, width - 1) + '…' : l));
}

// One hop: its node, label, and what is wrong (when something is); a
// button that opens its checks and fixes.
function hopGroup(h, x, y, textWidth, vertical) {
  const g = svg('g', {
    class: 'hop ' + h.status, 'data-hop': h.key, 'data-status': h.status, tabindex: 0, role: 'button',
    'aria-label': h.label + ' ' + (h.status === 'none' ? '' : h.status) + (h.bad.length ? ': ' + h.bad[0].summary : ''),
  });
  g.appendChild(svg('title', {}, h.label + (h.bad.length ? ': ' + h.bad.map(c => c.summary).join('; ') : '')));
  const chars = Math.max(8, Math.floor(textWidth / 7.4));
  if (vertical) {
    // The whole row takes a tap, not only its painted parts.
    g.appendChild(svg('rect', { x: 0, y: y - 15, width: x + textWidth + 18, height: 30 + (h.bad.length ? 34 : 0), class: 'hit' }));
    g.appendChild(svg('circle', { cx: x, cy: y, r: 9, class: 'node' }));
    g.appendChild(svg('text', { x: x + 18, y: y + 5, class: 'label' }, h.label));
    if (h.sub) g.appendChild(svg('text', { x: x + textWidth + 14, y: y + 5, class: 'sub', 'text-anchor': 'end' },
      wrap(h.sub, Math.max(8, Math.floor((textWidth - h.label.length * 9 - 8) / 6.5)), 1)[0] || ''));
    if (h.bad.length) {
      wrap(h.bad[0].summary, chars, 2).forEach((l, i) =>
        g.appendChild(svg('text', { x: x + 18, y: y + 24 + 15 * i, class: 'why' }, l)));
    }
  } else {
    const w = textWidth;
    const label = wrap(h.label, Math.floor(w / 8), 2);
    const top = y - 8 * label.length - 2;
    g.appendChild(svg('rect', { x: x - w / 2, y: y - 26, width: w, height: 52, rx: 8, class: 'node' }));
    label.forEach((l, i) => g.appendChild(svg('text', { x, y: top + 15 * i + 4, class: 'label', 'text-anchor': 'middle' }, l)));
    g.appendChild(svg('text', { x, y: top + 15 * label.length + 4, class: 'sub', 'text-anchor': 'middle' },
      wrap(h.sub, Math.floor(w / 6.5), 1)[0] || ''));
  }
  return g;
}

function pathSvg(hops, machine, width) {
  const vertical = width < 640;
  const parts = [];
  let height;
  if (vertical) {
    const rows = [...hops, machine];
    let y = 16;
    const ys = rows.map(h => {
      if (h === machine) y += 12;
      const at = y;
      y += 36 + (h.bad.length ? 34 : 0);
      return at;
    });
    rows.forEach((h, i) => {
      if (h === machine) parts.push(svg('line', { x1: 4, y1: ys[i] - 22, x2: width - 4, y2: ys[i] - 22, class: 'sep' }));
      else if (i > 0) parts.push(svg('line', { x1: 14, y1: ys[i - 1] + 10, x2: 14, y2: ys[i] - 10, class: 'edge' }));
      parts.push(hopGroup(h, 14, ys[i], width - 50, true));
    });
    height = y - 10;
  } else {
    const n = hops.length;
    const slot = (width - 8) / n;
    const w = Math.min(150, slot - 18);
    const cx = i => 4 + slot * (i + 0.5);
    hops.forEach((h, i) => {
      if (i > 0) parts.push(svg('line', { x1: cx(i - 1) + w / 2, y1: 30, x2: cx(i) - w / 2 - 4, y2: 30, class: 'edge arrow' }));
      parts.push(hopGroup(h, cx(i), 30, w, false));
    });
    // The machine sits below the WireGuard interface, joined to it.
    const wi = Math.max(0, hops.findIndex(h => h.key === 'wireguard'));
    const mw = Math.min(220, slot * 2 - 18);
    const mx = Math.min(Math.max(cx(wi), mw / 2 + 4), width - mw / 2 - 4);
    parts.push(svg('line', { x1: cx(wi), y1: 56, x2: cx(wi), y2: 84, class: 'edge dashed' }));
    parts.push(hopGroup(machine, mx, 110, mw, false));
    // What is wrong, one line per broken hop, under the drawing.
    let y = 160;
    [...hops, machine].filter(h => h.bad.length).forEach(h => {
      const line = svg('text', { x: 8, y, class: 'why ' + h.status, 'data-hop': h.key });
      line.appendChild(svg('tspan', { class: 'whyhop' }, h.label + ': '));
      line.appendChild(document.createTextNode(wrap(h.bad[0].summary, Math.floor((width - 16) / 7) - h.label.length - 2, 1)[0]));
      parts.push(line);
      y += 20;
    });
    height = y - 6;
  }
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-label': 'the way in, hop by hop',
    class: vertical ? 'vertical' : 'horizontal',
  });
  root.appendChild(svg('defs', {})).appendChild(svg('marker', {
    id: 'arrowhead', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto',
  })).appendChild(svg('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrowhead' }));
  parts.forEach(p => root.appendChild(p));
  return root;
}

// The checks of the hop that is open, with their fixes.
function hopDetail(h) {
  if (!h) return el('div', { id: 'hop-detail', class: 'hop-detail empty' }, 'Every hop is OK. Tap a hop to see its checks.');
  return el('div', { id: 'hop-detail', class: 'hop-detail', 'data-hop': h.key },
    el('h3', {}, el('span', { class: 'light ' + (h.status === 'none' ? 'unknown' : h.status) }),
      h.label + (h.sub ? ' · ' + h.sub : '')),
    h.checks.length ? el('ul', { class: 'checks' }, ...h.checks.map(checkCard))
      : el('p', { class: 'empty' }, 'No check looks at this hop.'));
}

function renderPath(doc) {
  const box = document.getElementById('path');
  const checks = doc.checks || [];
  const hops = HOPS.filter(h => !h.when || h.when(doc)).map(h => hopState(h, doc, checks));
  const machine = hopState(MACHINE, doc, checks);
  const all = [...hops, machine];
  // Open the first broken hop until the reader picks one.
  if (!state.chosenHop || !all.some(h => h.key === state.openHop)) {
    const most = Math.max(0, ...all.filter(h => h.bad.length).map(h => SEVERITY[h.status]));
    const broken = all.find(h => h.bad.length && SEVERITY[h.status] === most);
    state.openHop = broken ? broken.key : null;
  }
  const width = Math.max(300, Math.floor(box.clientWidth || 360));
  box.replaceChildren(pathSvg(hops, machine, width), hopDetail(all.find(h => h.key === state.openHop)));
  box.dataset.broken = all.filter(h => h.bad.length).map(h => h.key).join(' ');
}

function openHop(g) {
  state.openHop = g.dataset.hop;
  state.chosenHop = true;
  if (state.doc) renderPath(state.doc);
  const d = document.getElementById('hop-detail');
  if (d) d.scrollIntoView({ block: 'nearest' });
}

document.addEventListener('click', e => {
  const g = e.target.closest && e.target.closest('#path svg [data-hop]');
  if (g) openHop(g);
});
document.addEventListener('keydown', e => {
  const g = e.target.closest && e.target.closest('#path g.hop');
  if (g && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); openHop(g); }
});

// ---- tables --------------------------------------------------------------------

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
  renderPath(doc);
  renderChecks(doc);
  renderWireguard(doc);
  renderGpu(doc);
  renderMemory(doc);
  renderSsh(doc);
}

// ---- what changed ------------------------------------------------------------------

const EVENTS_SHOWN = 20;

function eventItem(e) {
  const to = statusClass(e.to);
  return el('li', { class: 'event ' + to, 'data-check': e.check || '', 'data-to': to },
    el('time', {}, clock(e.time, true)),
    el('span', { class: 'id' }, e.check || '?'),
    el('span', { class: 'change' },
      e.from ? el('span', { class: 'badge ' + statusClass(e.from) }, statusClass(e.from)) : 'first seen',
      ' → ', el('span', { class: 'badge ' + to }, to)),
    el('span', { class: 'summary' }, e.summary || ''));
}

// Checks first seen OK at the same moment (a start) make one entry, where
// the first of them was.
function groupStarts(events) {
  const out = [];
  const starts = new Map();
  for (const e of events) {
    if (e.from || statusClass(e.to) !== 'ok') out.push(e);
    else if (starts.has(e.time)) starts.get(e.time).starts.push(e.check);
    else {
      starts.set(e.time, { time: e.time, starts: [e.check] });
      out.push(starts.get(e.time));
    }
  }
  return out;
}

function startItem(g) {
  return el('li', { class: 'event ok first', 'data-checks': g.starts.join(' ') },
    el('time', {}, clock(g.time, true)),
    el('span', { class: 'id' }, g.starts.length === 1 ? g.starts[0] : g.starts.length + ' checks'),
    el('span', { class: 'change' }, 'first seen ', el('span', { class: 'badge ok' }, 'ok')),
    g.starts.length > 1 ? el('span', { class: 'summary' }, g.starts.join(', ')) : null);
}

function renderEvents(doc) {
  const list = groupStarts(Array.isArray(doc.events) ? doc.events : [])
    .map(e => (e.starts ? startItem(e) : eventItem(e)));
  const box = document.getElementById('events');
  if (!list.length) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No change since the daemon started.'));
    return;
  }
  const more = list.slice(EVENTS_SHOWN);
  const parts = [el('ol', { class: 'events' }, ...list.slice(0, EVENTS_SHOWN))];
  if (more.length) parts.push(el('details', {}, el('summary', {}, more.length + ' earlier'),
    el('ol', { class: 'events' }, ...more)));
  box.replaceChildren(...parts);
}

// ---- history plots (SVG, no library) --------------------------------------------

// A series' unit, from its name: how its values and axis read.
function unitOf(name) {
  const iec = v => (Math.abs(v) < 1024 ? Number(v.toFixed(v % 1 && Math.abs(v) < 10 ? 1 : 0)) + ' B'
    : bytes(v).replace(/^(-?[\d.]+)(\w+)$/, '$1 $2B'));
  if (name.endsWith('_bytes_per_second')) return v => iec(v) + '/s';
  if (name.endsWith('_bytes')) return iec;
  if (name.endsWith('_ratio')) return v => (v * 100).toFixed(0) + ' %';
  if (name.endsWith('_celsius')) return v => v.toFixed(0) + ' °C';
  if (name.endsWith('_seconds')) return v => v.toFixed(0) + ' s';
  return v => Number(v).toFixed(Math.abs(v) < 10 ? 1 : 0);
}

function formatValue(name, v) {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : unitOf(name)(v);
}

// Round axis bounds: 1, 2 or 5 times a power of ten; in binary units a
// power of two times a power of 1024 (1 GiB, not 1000 MiB).
function niceCeil(v, base) {
  if (!(v > 0)) return 1;
  const p = Math.pow(base, Math.floor(Math.log(v) / Math.log(base)));
  const steps = base === 1024 ? [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    : [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
  for (const m of steps) if (m * p >= v) return m * p;
  return v;
}

const TIME_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200];

// The frame every plot shares: the time window and the x scale.
function frame(width, left) {
  const t1 = Date.now() / 1000;
  const t0 = t1 - state.range;
  const right = 8;
  const x = t => left + ((t - t0) / (t1 - t0)) * (width - left - right);
  return { t0, t1, left, right, width, x, tAt: px => t0 + ((px - left) / (width - left - right)) * (t1 - t0) };
}

function timeAxis(g, f, y) {
  g.appendChild(svg('line', { x1: f.left, y1: y, x2: f.width - f.right, y2: y, class: 'axis' }));
  const most = Math.max(2, Math.floor((f.width - f.left) / 64));
  const step = TIME_STEPS.find(s => state.range / s <= most) || 86400;
  const off = new Date().getTimezoneOffset() * 60;
  for (let t = Math.ceil((f.t0 - off) / step) * step + off; t <= f.t1; t += step) {
    g.appendChild(svg('line', { x1: f.x(t), y1: y, x2: f.x(t), y2: y + 4, class: 'axis' }));
    g.appendChild(svg('text', { x: f.x(t), y: y + 15, class: 'tick', 'text-anchor': 'middle' }, clock(t, false).slice(-5)));
  }
}

// The points of a series inside the window: [t, v] with v null in gaps.
function points(s, f) {
  return (s.values || []).map((v, i) => [s.start + i * s.step, v])
    .filter(([t]) => t + s.step >= f.t0 && t <= f.t1);
}

// The value of a series at time t, for the readout; within `tol` seconds
// (a few pixels) past either end the nearest point counts.
function valueAt(s, t, tol) {
  const n = (s.values || []).length;
  let i = Math.floor((t - s.start) / s.step);
  if (i >= n && t - (s.start + (n - 1) * s.step) <= s.step + tol) i = n - 1;
  if (i < 0 && s.start - t <= tol) i = 0;
  return i >= 0 && i < n ? s.values[i] : null;
}

// The readout of a plot: where the pointer is, or was last tapped; a tap
// stays shown across the refreshes (state.cursor) until the pointer leaves.
function readoutOn(key, svgEl, f, cursorTop, cursorBottom, describe, out) {
  const cursor = svg('line', { x1: -10, y1: cursorTop, x2: -10, y2: cursorBottom, class: 'cursor' });
  svgEl.appendChild(cursor);
  const at = t => {
    const px = f.x(t);
    cursor.setAttribute('x1', px);
    cursor.setAttribute('x2', px);
    out.textContent = clock(t, true) + ' · ' + describe(t, 4 * (f.t1 - f.t0) / (f.width - f.left - f.right));
  };
  const show = e => {
    const r = svgEl.getBoundingClientRect();
    const px = (e.clientX - r.left) * (f.width / r.width);
    if (px < f.left || px > f.width - f.right) return;
    state.cursor = { key, t: f.tAt(px) };
    at(state.cursor.t);
  };
  svgEl.addEventListener('pointermove', show);
  svgEl.addEventListener('click', show);
  svgEl.addEventListener('pointerleave', e => {
    if (e.pointerType === 'mouse' && state.cursor && state.cursor.key === key) state.cursor = null;
  });
  if (state.cursor && state.cursor.key === key && state.cursor.t >= f.t0) at(state.cursor.t);
}

function rangeLabel() {
  return state.range === 3600 ? 'last hour' : 'last day';
}

// A line plot of one or more series that share a unit (a peer's received
// and sent rates); nulls are gaps.
function linePlot(title, key, list, width) {
  const H = 130;
  const top = 8;
  const bottom = H - 22;
  const f = frame(width, 62);
  const unit = unitOf(list[0].name);
  const finite = list.flatMap(s => points(s, f).map(p => p[1]).filter(v => v !== null));
  let lo = Math.min(0, ...finite);
  let hi = Math.max(...finite, 0);
  const base = list[0].name.includes('bytes') ? 1024 : 10;
  if (list[0].name.endsWith('_ratio')) hi = 1;
  else hi = niceCeil(hi - lo, base) + lo;
  if (hi <= lo) hi = lo + 1;
  const y = v => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
  const g = svg('svg', { viewBox: `0 0 ${width} ${H}`, role: 'img', 'aria-label': title });
  for (const v of [lo, (lo + hi) / 2, hi]) {
    g.appendChild(svg('line', { x1: f.left, y1: y(v), x2: width - f.right, y2: y(v), class: 'grid' }));
    g.appendChild(svg('text', { x: f.left - 4, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, unit(v)));
  }
  timeAxis(g, f, bottom);
  const legend = [];
  list.forEach((s, k) => {
    let run = [];
    const flush = () => {
      if (run.length === 1) run.push([run[0][0] + 1.5, run[0][1]]);
      if (run.length) g.appendChild(svg('polyline', { points: run.map(p => p.map(n => n.toFixed(1)).join(',')).join(' '), class: 'line' + k }));
      run = [];
    };
    points(s, f).forEach(([t, v]) => {
      if (v === null) { flush(); return; }
      run.push([f.x(Math.max(t, f.t0)), y(v)]);
    });
    flush();
    const own = (s.values || []).filter(v => v !== null);
    const what = list.length > 1 ? (s.name.match(/\.(rx|tx)_/) || [, ''])[1] : '';
    s.arrow = what === 'rx' ? '↓ ' : what === 'tx' ? '↑ ' : '';
    legend.push(el('span', { class: 'line' + k }, s.arrow + formatValue(s.name, own.length ? own[own.length - 1] : null)));
  });
  const out = el('span', { class: 'readout' }, ...legend);
  readoutOn(key, g, f, top, bottom, (t, tol) => list.map(s => s.arrow + formatValue(s.name, valueAt(s, t, tol))).join('  '), out);
  return el('div', { class: 'plot', 'data-series': key },
    el('div', { class: 'title' }, el('span', {}, title + ' · ' + rangeLabel()), out), g);
}

// Bands: one row per series, each step coloured by a class from `classOf`
// (null: a gap, nothing drawn).
function bandPlot(title, key, rows, classOf, nameOf, width) {
  const rowH = 18;
  const top = 4;
  const bottom = top + rows.length * (rowH + 4);
  const H = bottom + 20;
  const f = frame(width, rows.length > 1 ? 96 : 62);
  const g = svg('svg', { viewBox: `0 0 ${width} ${H}`, role: 'img', 'aria-label': title });
  let last = null;
  rows.forEach((r, k) => {
    const y0 = top + k * (rowH + 4);
    g.appendChild(svg('text', { x: f.left - 4, y: y0 + 13, class: 'tick', 'text-anchor': 'end' },
      wrap(r.label, Math.floor((f.left - 6) / 6.5), 1)[0]));
    points(r.series, f).forEach(([t, v]) => {
      const c = v === null ? null : classOf(v);
      if (k === 0 && v !== null) last = c;
      if (!c) return;
      const x0 = f.x(Math.max(t, f.t0));
      const x1 = f.x(Math.min(t + r.series.step, f.t1));
      g.appendChild(svg('rect', { x: x0.toFixed(1), y: y0, width: Math.max(1, x1 - x0).toFixed(1), height: rowH, class: 'band ' + c }));
    });
  });
  timeAxis(g, f, bottom);
  const out = el('span', { class: 'readout' }, last ? nameOf(last) : '–');
  readoutOn(key, g, f, top, bottom, (t, tol) => rows.map(r => {
    const v = valueAt(r.series, t, tol);
    return (rows.length > 1 ? r.label + ' ' : '') + (v === null ? 'no data' : nameOf(classOf(v)));
  }).join('  '), out);
  const classes = [...new Set(rows.flatMap(r => [0, 1, 2, 3, PEER_UP_SECONDS + 1].map(classOf)))];
  const legend = el('div', { class: 'legend' }, ...classes.map(c =>
    el('span', {}, el('span', { class: 'swatch ' + c }), nameOf(c))));
  return el('div', { class: 'plot band-plot', 'data-series': key, 'data-now': last || '' },
    el('div', { class: 'title' }, el('span', {}, title + ' · ' + rangeLabel()), out), g, legend);
}

const statusOfValue = v => BY_SEVERITY[Math.max(0, Math.min(3, Math.round(v)))];
// Up while the handshake is younger than WireGuard's session lifetime
// (180 s) plus a poll; the daemon's own "up" allows the same.
const PEER_UP_SECONDS = 190;
const peerOfAge = v => (v <= PEER_UP_SECONDS ? 'ok' : 'critical');

// What is plotted, in this order: overall status (a band), memory used,
// each GPU's temperature and utilization, each recorded peer's traffic
// (received and sent in one plot), the peers' up/down (bands).
const MAX_PLOTS = 24;

function plotGroups(names) {
  const groups = [];
  const add = (key, title, members, kind) => groups.push({ key, title, members, kind: kind || 'line' });
  if (names.includes('status')) add('status', 'overall status', ['status'], 'status');
  if (names.includes('memory.used_bytes')) add('memory.used_bytes', 'memory used', ['memory.used_bytes']);
  names.filter(n => n.startsWith('gpu.')).sort().forEach(n => add(n, null, [n]));
  names.filter(n => n.startsWith('wg.') && n.endsWith('.rx_bytes_per_second')).forEach(n => {
    const base = n.slice(0, -'.rx_bytes_per_second'.length);
    add(base, null, [n, base + '.tx_bytes_per_second'].filter(m => names.includes(m)));
  });
  const ages = names.filter(n => n.startsWith('wg.') && n.endsWith('.handshake_age_seconds'));
  if (ages.length) add('peers', 'peers up/down', ages, 'peers');
  return groups.slice(0, MAX_PLOTS);
}

function drawPlots() {
  const h = state.history;
  if (!h) return;
  const box = document.getElementById('plots');
  const width = Math.max(280, Math.floor(box.clientWidth || 320));
  const each = width >= 760 ? Math.floor((width - 12) / 2) : width;
  box.replaceChildren(...h.groups.filter(g => g.members.every(m => h.byName.has(m))).map(g => {
    const list = g.members.map(m => h.byName.get(m));
    if (g.kind === 'status')
      return bandPlot('overall status', g.key, [{ label: 'status', series: list[0] }], statusOfValue, c => c, width);
    if (g.kind === 'peers')
      return bandPlot(g.title, g.key, list.map(s => ({ label: (h.labels.get(s.name) || s.name).replace(/ handshake age$/, ''), series: s })),
        peerOfAge, c => (c === 'ok' ? 'up' : 'down'), width);
    // A peer's label is "NAME received": the plot is titled by the peer.
    const title = g.title || (g.members.length > 1
      ? h.labels.get(g.members[0]).replace(/ received$/, '') + ' traffic'
      : h.labels.get(g.members[0]));
    return linePlot(title, g.key, list, each - 18);
  }));
}

async function refreshHistory() {
  const list = await (await fetch('/api/history', { cache: 'no-store' })).json();
  const labels = new Map((list.series || []).map(s => [s.name, s.label || s.name]));
  const groups = plotGroups([...labels.keys()]);
  const names = groups.flatMap(g => g.members);
  if (!names.length) return;
  const url = '/api/history?series=' + names.map(encodeURIComponent).join(',');
  const doc = await (await fetch(url, { cache: 'no-store' })).json();
  state.history = { labels, groups, byName: new Map((doc.series || []).map(s => [s.name, s])) };
  drawPlots();
}

async function refreshEvents() {
  const res = await fetch('/api/events', { cache: 'no-store' });
  if (res.ok) renderEvents(await res.json());
}

document.addEventListener('click', e => {
  const b = e.target.closest && e.target.closest('button[data-range]');
  if (!b) return;
  state.range = Number(b.dataset.range);
  document.querySelectorAll('button[data-range]').forEach(x =>
    x.setAttribute('aria-pressed', x === b ? 'true' : 'false'));
  drawPlots();
});

let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (state.doc) renderPath(state.doc);
    drawPlots();
  }, 150);
});

async function refresh() {
  const note = document.getElementById('refresh-state');
  try {
    const res = await fetch('/status.json', { cache: 'no-store' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    state.doc = await res.json();
    renderStatus(state.doc);
    await Promise.all([refreshHistory(), refreshEvents()]);
    note.textContent = 'auto-refresh every ' + REFRESH_MS / 1000 + ' s';
    document.body.dataset.loaded = 'yes';
  } catch (e) {
    note.textContent = 'cannot reach the server: ' + e.message;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
