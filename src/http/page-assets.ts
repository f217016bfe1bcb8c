/** The statechart page's HTML, CSS and script, served by the engine itself (no CDN, no build step). */

/** The page: a sign-in form, then flows, sessions and the chosen session's history. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>checkout-engine · statecharts</title>
<link rel="stylesheet" href="/page/app.css">
<link rel="icon" href="/page/favicon.svg" type="image/svg+xml">
</head>
<body>
<header>
  <h1>checkout-engine <span>statecharts</span></h1>
  <div id="who"></div>
  <span id="live" class="off">offline</span>
  <button id="logout" hidden>Sign out</button>
</header>
<section id="login">
  <form id="login-form">
    <h2>Sign in</h2>
    <p>Use a user of this engine's database (the same login as the API).</p>
    <label>Username <input id="username" name="username" autocomplete="username" required></label>
    <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
    <button type="submit">Sign in</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
</section>
<main id="app" hidden>
  <aside id="sessions-panel">
    <h2>Sessions</h2>
    <div class="filters">
      <input id="f-state" placeholder="State">
      <input id="f-cart" placeholder="Cart id">
      <select id="f-error"><option value="">any</option><option value="true">in error</option><option value="false">not in error</option></select>
    </div>
    <ul id="sessions"></ul>
  </aside>
  <section id="chart-panel">
    <div class="chart-head">
      <label>Flow <select id="flow"></select></label>
      <div id="current">Current state: <strong id="current-state">—</strong></div>
    </div>
    <div class="legend"><span class="k screen">screen</span><span class="k async">async</span><span class="k sync">sync</span><span class="k final">final</span><span class="k error">error</span><span class="k visited">path taken</span><span class="k current">current</span></div>
    <div id="chart"></div>
  </section>
  <aside id="history-panel">
    <h2>History <small id="history-session"></small></h2>
    <ol id="history"></ol>
  </aside>
</main>
<script src="/page/app.js"></script>
</body>
</html>`;

/** The page's icon (also answered for /favicon.ico): a small statechart, as SVG. */
export const PAGE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0f172a"/><rect x="5" y="5" width="12" height="8" rx="2" fill="#7dd3fc"/><rect x="15" y="19" width="12" height="8" rx="2" fill="#16a34a"/><path d="M11 13v10h4" fill="none" stroke="#e2e8f0" stroke-width="2"/></svg>`;

/** Styles. */
export const PAGE_CSS = `
*{box-sizing:border-box}[hidden]{display:none!important}body{margin:0;font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2937;background:#f8fafc}
header{display:flex;align-items:center;gap:16px;padding:10px 18px;background:#0f172a;color:#e2e8f0}
header h1{font-size:17px;margin:0;font-weight:600}header h1 span{color:#7dd3fc;font-weight:400}
#who{margin-left:auto;font-size:13px;color:#94a3b8}#live{font-size:12px;padding:2px 8px;border-radius:10px;background:#334155}#live.on{background:#15803d;color:#fff}
button{font:inherit;padding:5px 12px;border-radius:6px;border:1px solid #cbd5e1;background:#fff;cursor:pointer}
#login{display:flex;justify-content:center;padding:60px}#login form{background:#fff;padding:24px 28px;border-radius:10px;box-shadow:0 2px 10px #0001;width:340px;display:flex;flex-direction:column;gap:10px}
#login label{display:flex;flex-direction:column;gap:4px;font-size:13px}#login input{padding:7px;border:1px solid #cbd5e1;border-radius:6px;font:inherit}
.error{color:#b91c1c}
#app{display:grid;grid-template-columns:300px minmax(420px,1fr) 420px;gap:14px;padding:14px;height:calc(100vh - 50px)}
#app>*{background:#fff;border-radius:10px;box-shadow:0 1px 4px #0001;padding:12px;overflow:auto}
h2{font-size:14px;margin:0 0 8px;text-transform:uppercase;letter-spacing:.04em;color:#475569}
.filters{display:flex;gap:6px;margin-bottom:8px}.filters input,.filters select{width:100%;padding:5px;border:1px solid #cbd5e1;border-radius:6px;font:inherit;font-size:12px}
#sessions{list-style:none;margin:0;padding:0}#sessions li{padding:7px 8px;border-radius:6px;cursor:pointer;border:1px solid transparent;font-size:12px}
#sessions li:hover{background:#f1f5f9}#sessions li.selected{border-color:#0284c7;background:#f0f9ff}
#sessions .id{font-family:ui-monospace,monospace;font-size:11px;color:#64748b}#sessions .st{font-weight:600}#sessions .err{color:#b91c1c;font-weight:600}
.chart-head{display:flex;justify-content:space-between;align-items:center;margin-bottom:6px}#current-state{color:#0369a1}
.legend{display:flex;flex-wrap:wrap;gap:6px;margin-bottom:8px}.legend .k{font-size:11px;padding:1px 7px;border-radius:4px;border:1px solid}
.k.screen{background:#eff6ff;border-color:#3b82f6}.k.async{background:#fffbeb;border-color:#f59e0b}.k.sync{background:#f5f3ff;border-color:#8b5cf6}.k.final{background:#ecfdf5;border-color:#10b981}.k.error{background:#fef2f2;border-color:#ef4444}.k.visited{background:#dcfce7;border-color:#16a34a}.k.current{background:#0284c7;border-color:#0284c7;color:#fff}
#chart svg{display:block;margin:0 auto}
.node rect{stroke-width:1.5}.node.screen rect{fill:#eff6ff;stroke:#3b82f6}.node.async rect{fill:#fffbeb;stroke:#f59e0b}.node.sync rect{fill:#f5f3ff;stroke:#8b5cf6}.node.final rect{fill:#ecfdf5;stroke:#10b981}.node.error rect{fill:#fef2f2;stroke:#ef4444}
.node text{font-size:12.5px;fill:#0f172a;text-anchor:middle}.node text.action{font-size:10.5px;fill:#64748b;font-family:ui-monospace,monospace}
.node.visited rect{fill:#dcfce7;stroke:#16a34a;stroke-width:2}.node.current rect{fill:#0284c7;stroke:#075985;stroke-width:3}.node.current text{fill:#fff;font-weight:600}.node.current text.action{fill:#e0f2fe}
.edge path{fill:none;stroke:#94a3b8;stroke-width:1.4}.edge.error path{stroke:#fca5a5;stroke-dasharray:4 3}.edge.taken path{stroke:#16a34a;stroke-width:2.6}
#history{list-style:none;margin:0;padding:0;font-size:12px}#history li{padding:6px 8px;border-left:3px solid #16a34a;margin-bottom:4px;background:#f8fafc;border-radius:0 6px 6px 0}
#history li.rejected{border-color:#ef4444;background:#fef2f2}#history .t{color:#64748b;font-size:11px}#history .ev{font-weight:600}#history .mv{font-family:ui-monospace,monospace;font-size:11px}
`;

/** The page script: sign-in, drawing, session list, history and the live event stream. */
export const PAGE_JS = String.raw`(() => {
'use strict';
const $ = (s) => document.querySelector(s);
const SVG = 'http://www.w3.org/2000/svg';
let token = sessionStorage.getItem('checkoutEngineToken');
let flows = new Map();
let selected = null;
let history = [];
let sessionRow = null;
let abort = null;

function el(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
async function api(path) {
  const r = await fetch(path, { headers: { Authorization: 'Bearer ' + token } });
  if (r.status === 401) { signOut(); throw new Error('signed out'); }
  const body = await r.json();
  if (!r.ok) throw new Error((body[0] && body[0].message) || ('HTTP ' + r.status));
  return body;
}
function signOut() {
  token = null; sessionStorage.removeItem('checkoutEngineToken');
  if (abort) abort.abort();
  $('#app').hidden = true; $('#login').hidden = false; $('#logout').hidden = true; $('#who').textContent = '';
  setLive(false);
}
function setLive(on) { const l = $('#live'); l.className = on ? 'on' : 'off'; l.textContent = on ? 'live' : 'offline'; }

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('#login-error').textContent = '';
  const body = new URLSearchParams({ grant_type: 'password', username: $('#username').value, password: $('#password').value });
  const r = await fetch('/services/oauth2/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const out = await r.json().catch(() => ({}));
  if (!r.ok || !out.access_token) { $('#login-error').textContent = out.error_description || 'Sign-in failed.'; return; }
  token = out.access_token; sessionStorage.setItem('checkoutEngineToken', token);
  $('#password').value = '';
  start();
});
$('#logout').addEventListener('click', signOut);

async function start() {
  $('#login').hidden = true; $('#app').hidden = false; $('#logout').hidden = false;
  try {
    const charts = await api('/page/api/flows');
    flows = new Map(charts.map((c) => [c.id, c]));
    const sel = $('#flow'); sel.textContent = '';
    for (const c of charts) { const o = document.createElement('option'); o.value = c.id; o.textContent = c.id; sel.appendChild(o); }
    draw();
    await loadSessions();
    listen();
  } catch (e) { console.error(e); }
}
$('#flow').addEventListener('change', () => draw());
for (const id of ['#f-state', '#f-cart', '#f-error']) $(id).addEventListener('input', () => loadSessions());

async function loadSessions() {
  const q = new URLSearchParams();
  if ($('#f-state').value.trim()) q.set('state', $('#f-state').value.trim());
  if ($('#f-cart').value.trim()) q.set('cart', $('#f-cart').value.trim());
  if ($('#f-error').value) q.set('error', $('#f-error').value);
  const { records } = await api('/page/api/sessions?' + q);
  const ul = $('#sessions'); ul.textContent = '';
  for (const s of records) {
    const li = document.createElement('li');
    li.dataset.session = s.Id;
    if (s.Id === selected) li.className = 'selected';
    li.innerHTML = '<div class="st"></div><div class="id"></div>';
    li.querySelector('.st').textContent = s.State + (s.IsProcessing ? ' → ' + s.NextState : '');
    if (s.IsError) li.querySelector('.st').className = 'err';
    li.querySelector('.id').textContent = s.Id + ' · cart ' + s.WebCartId;
    li.addEventListener('click', () => choose(s.Id));
    ul.appendChild(li);
  }
  if (!records.length) { const li = document.createElement('li'); li.textContent = 'No sessions match.'; ul.appendChild(li); }
}

async function choose(id) {
  selected = id;
  for (const li of document.querySelectorAll('#sessions li')) li.classList.toggle('selected', li.dataset.session === id);
  const out = await api('/services/data/v64.0/checkout-sessions/' + id + '/history');
  history = out.history; sessionRow = out;
  if (flows.has(out.flowId)) $('#flow').value = out.flowId;
  render();
}

function keyOf(h) { return h.seq + '.' + h.sub + '.' + h.at + '.' + h.event.type; }
function top(path) { return String(path || '').split('.')[0]; }

function render() { draw(); renderHistory(); }

function draw() {
  const chart = flows.get($('#flow').value);
  const box = $('#chart'); box.textContent = '';
  if (!chart) return;
  const applied = history.filter((h) => h.accepted);
  const current = applied.length ? applied[applied.length - 1].to : (sessionRow ? sessionRow.state : null);
  const visited = new Set();
  const taken = new Set();
  if (applied.length) {
    visited.add(top(applied[0].from));
    for (const h of applied) {
      const a = top(h.from); const b = top(h.to);
      visited.add(b);
      if (a !== b) { taken.add(a + '->' + b); taken.add(a + '-x>' + b); }
    }
  }
  const cur = current ? top(current) : null;
  $('#current-state').textContent = selected ? (current || '—') : '—';
  $('#current-state').dataset.state = selected && cur ? cur : '';
  const pad = 16;
  const svg = el('svg', { width: chart.width + pad * 2, height: chart.height + pad * 2, viewBox: (-pad) + ' ' + (-pad) + ' ' + (chart.width + pad * 2) + ' ' + (chart.height + pad * 2), role: 'img', 'aria-label': 'Statechart of flow ' + chart.id });
  const defs = el('defs');
  for (const [id, color] of [['arrow', '#94a3b8'], ['arrow-err', '#fca5a5'], ['arrow-taken', '#16a34a']]) {
    const m = el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    m.appendChild(el('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
    defs.appendChild(m);
  }
  svg.appendChild(defs);
  for (const e of chart.edges) {
    const isTaken = taken.has(e.id);
    const g = el('g', { class: 'edge ' + e.type + (isTaken ? ' taken' : ''), 'data-edge': e.id });
    const d = e.points.map((p, i) => (i ? 'L' : 'M') + p.x + ',' + p.y).join(' ');
    g.appendChild(el('path', { d, 'marker-end': 'url(#' + (isTaken ? 'arrow-taken' : e.type === 'error' ? 'arrow-err' : 'arrow') + ')' }));
    g.appendChild(el('title', {}, e.label));
    svg.appendChild(g);
  }
  for (const n of chart.nodes) {
    const cls = ['node', n.kind];
    if (visited.has(n.id)) cls.push('visited');
    if (n.id === cur) cls.push('current');
    const g = el('g', { class: cls.join(' '), 'data-state': n.id, transform: 'translate(' + n.x + ',' + n.y + ')' });
    if (n.id === cur) g.setAttribute('data-current', 'true');
    g.appendChild(el('rect', { width: n.width, height: n.height, rx: n.kind === 'final' ? 20 : 8 }));
    g.appendChild(el('text', { x: n.width / 2, y: n.action ? 21 : 25 }, n.label));
    if (n.action) g.appendChild(el('text', { class: 'action', x: n.width / 2, y: 39 }, n.action));
    g.appendChild(el('title', {}, n.kind + (n.description ? ': ' + n.description : '')));
    svg.appendChild(g);
  }
  box.appendChild(svg);
}

function renderHistory() {
  $('#history-session').textContent = selected || '';
  const ol = $('#history'); ol.textContent = '';
  for (const h of history) {
    const li = document.createElement('li');
    if (!h.accepted) li.className = 'rejected';
    const arg = h.event.nextState || h.event.state || h.event.step || '';
    li.innerHTML = '<div><span class="ev"></span> <span class="t"></span></div><div class="mv"></div><div class="t op"></div>';
    li.querySelector('.ev').textContent = '#' + h.seq + (h.sub ? '.' + h.sub : '') + ' ' + h.event.type + (arg ? ' ' + arg : '');
    li.querySelector('.t').textContent = new Date(h.at).toLocaleTimeString();
    li.querySelector('.mv').textContent = h.from + ' → ' + (h.accepted ? h.to : 'rejected: ' + (h.rejection && h.rejection.error));
    li.querySelector('.op').textContent = (h.operation || '') + ' · ' + (h.callerId ? 'user ' + h.callerId : 'engine');
    ol.appendChild(li);
  }
  ol.scrollTop = ol.scrollHeight;
}

let refreshTimer = null;
async function listen() {
  if (abort) abort.abort();
  abort = new AbortController();
  try {
    const r = await fetch('/page/api/events', { headers: { Authorization: 'Bearer ' + token }, signal: abort.signal });
    if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
    setLive(true);
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i); buf = buf.slice(i + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (data) onEntry(JSON.parse(data));
      }
    }
  } catch (e) { if (e.name === 'AbortError') return; }
  setLive(false);
  if (token) setTimeout(listen, 2000);
}
function onEntry(h) {
  if (h.sessionId === selected && !history.some((x) => keyOf(x) === keyOf(h))) { history.push(h); render(); }
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => loadSessions().catch(() => {}), 150);
}

// New sessions record no event until their first move: the list also refreshes every few seconds.
setInterval(() => { if (token && !document.hidden) loadSessions().catch(() => {}); }, 3000);
if (token) start();
})();`;
