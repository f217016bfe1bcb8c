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
    <h2 class="sub">Flow interviews</h2>
    <ul id="interviews"></ul>
  </aside>
  <section id="chart-panel">
    <div class="chart-head">
      <label>Flow <select id="flow"></select></label>
      <div id="current">Current step: <strong id="current-state">—</strong></div>
      <div class="zoom"><button id="zoom-out" title="Zoom out">−</button><button id="zoom-fit" title="Fit the flow to the window">Fit</button><button id="zoom-in" title="Zoom in">+</button></div>
    </div>
    <div id="failure" hidden>
      <div><strong>Checkout failed</strong> <span id="failure-step"></span>: <span id="failure-error"></span></div>
      <ul id="failure-outputs"></ul>
    </div>
    <div class="legend" id="legend-flow" hidden><span class="k screen">screen</span><span class="k decision">decision</span><span class="k assignment">assignment</span><span class="k actionCall">action</span><span class="k record">record</span><span class="k subflow">subflow</span><span class="k loop">loop</span><span class="k error">fault</span><span class="k current">current element</span><span class="hint">wheel to zoom · drag to pan</span></div>
    <div class="legend" id="legend-session"><span class="k screen">screen</span><span class="k async">async</span><span class="k sync">sync</span><span class="k final">final</span><span class="k error">error</span><span class="k visited">path taken</span><span class="k current">current</span><span class="hint">wheel to zoom · drag to pan</span></div>
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
#app{display:grid;grid-template-columns:260px minmax(420px,1fr) 360px;gap:12px;padding:12px;height:calc(100vh - 50px)}
#app>*{background:#fff;border-radius:10px;box-shadow:0 1px 4px #0001;padding:12px;overflow:auto}
h2{font-size:14px;margin:0 0 8px;text-transform:uppercase;letter-spacing:.04em;color:#475569}
.filters{display:flex;gap:6px;margin-bottom:8px}.filters input,.filters select{width:100%;padding:5px;border:1px solid #cbd5e1;border-radius:6px;font:inherit;font-size:12px}
#sessions{list-style:none;margin:0;padding:0}#sessions li{padding:7px 8px;border-radius:6px;cursor:pointer;border:1px solid transparent;font-size:12px}
#sessions li:hover{background:#f1f5f9}#sessions li.selected{border-color:#0284c7;background:#f0f9ff}
#sessions .id{font-family:ui-monospace,monospace;font-size:11px;color:#64748b}#sessions .st{font-weight:600}#sessions .err{color:#b91c1c;font-weight:600}
.chart-head{display:flex;justify-content:space-between;align-items:center;gap:10px;margin-bottom:6px}#current-state{color:#0369a1}
#chart-panel{display:flex;flex-direction:column;overflow:hidden}#chart{flex:1;min-height:0;border:1px solid #e2e8f0;border-radius:8px;cursor:grab;touch-action:none}#chart.panning{cursor:grabbing}
#chart svg{display:block;width:100%;height:100%;user-select:none}.zoom{display:flex;gap:4px}.zoom button{padding:2px 9px}.legend .hint{font-size:11px;color:#94a3b8;margin-left:auto}
#failure{border:1px solid #fca5a5;background:#fef2f2;border-radius:8px;padding:8px 10px;margin-bottom:8px;font-size:12.5px;color:#7f1d1d}#failure ul{margin:4px 0 0;padding-left:18px}#failure li .lv{font-weight:600}
.edge text{font-size:10.5px;fill:#475569}.edge rect.lb{fill:#fff;opacity:.85}.edge.error text{fill:#b91c1c}.edge.taken text{fill:#15803d;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:6px;margin-bottom:8px}.legend .k{font-size:11px;padding:1px 7px;border-radius:4px;border:1px solid}
.k.decision{background:#fff7ed;border-color:#ea580c}.k.assignment{background:#f8fafc;border-color:#64748b}.k.actionCall{background:#f5f3ff;border-color:#8b5cf6}.k.record{background:#ecfeff;border-color:#0891b2}.k.subflow{background:#fdf4ff;border-color:#c026d3}.k.loop{background:#fefce8;border-color:#ca8a04}
.node.decision rect{fill:#fff7ed;stroke:#ea580c}.node.assignment rect{fill:#f8fafc;stroke:#64748b}.node.actionCall rect{fill:#f5f3ff;stroke:#8b5cf6}.node.recordLookup rect,.node.recordUpdate rect,.node.recordCreate rect,.node.recordDelete rect{fill:#ecfeff;stroke:#0891b2}
.node.subflow rect{fill:#fdf4ff;stroke:#c026d3}.node.loop rect{fill:#fefce8;stroke:#ca8a04}.node.start rect,.node.end rect{fill:#ecfdf5;stroke:#10b981}
h2.sub{margin-top:16px}#interviews{list-style:none;margin:0;padding:0}#interviews li{padding:7px 8px;border-radius:6px;cursor:pointer;border:1px solid transparent;font-size:12px}
#interviews li:hover{background:#f1f5f9}#interviews li.selected{border-color:#0284c7;background:#f0f9ff}#interviews .id{font-family:ui-monospace,monospace;font-size:11px;color:#64748b}#interviews .st{font-weight:600}#interviews .err{color:#b91c1c;font-weight:600}
.k.screen{background:#eff6ff;border-color:#3b82f6}.k.async{background:#fffbeb;border-color:#f59e0b}.k.sync{background:#f5f3ff;border-color:#8b5cf6}.k.final{background:#ecfdf5;border-color:#10b981}.k.error{background:#fef2f2;border-color:#ef4444}.k.visited{background:#dcfce7;border-color:#16a34a}.k.current{background:#0284c7;border-color:#0284c7;color:#fff}
.node rect{stroke-width:1.5}.node.screen rect{fill:#eff6ff;stroke:#3b82f6}.node.async rect{fill:#fffbeb;stroke:#f59e0b}.node.sync rect{fill:#f5f3ff;stroke:#8b5cf6}.node.final rect{fill:#ecfdf5;stroke:#10b981}.node.error rect{fill:#fef2f2;stroke:#ef4444}
.node text{font-size:12.5px;fill:#0f172a;text-anchor:middle}.node text.action{font-size:10.5px;fill:#64748b;font-family:ui-monospace,monospace}
.node.visited rect{fill:#dcfce7;stroke:#16a34a;stroke-width:2}.node.current rect{fill:#0284c7;stroke:#075985;stroke-width:3}.node.current text{fill:#fff;font-weight:600}.node.current text.action{fill:#e0f2fe}
.edge path{fill:none;stroke:#94a3b8;stroke-width:1.4}.edge.error path{stroke:#fca5a5;stroke-dasharray:4 3}.edge.taken path{stroke:#16a34a;stroke-width:2.6}
#history{list-style:none;margin:0;padding:0;font-size:12px}#history .err-msg{color:#b91c1c}#history li{padding:6px 8px;border-left:3px solid #16a34a;margin-bottom:4px;background:#f8fafc;border-radius:0 6px 6px 0}
#history li.rejected{border-color:#ef4444;background:#fef2f2}#history .t{color:#64748b;font-size:11px}#history .ev{font-weight:600}#history .mv{font-family:ui-monospace,monospace;font-size:11px}
`;

/** The page script: sign-in, drawing (fit, zoom, pan), session list, history, failure details and the live event stream. */
export const PAGE_JS = String.raw`(() => {
'use strict';
const $ = (s) => document.querySelector(s);
const SVG = 'http://www.w3.org/2000/svg';
const V = '/services/data/v64.0';
let token = sessionStorage.getItem('checkoutEngineToken');
let flows = new Map();
let selected = null;
// The chosen flow interview (its summary: id, flowApiName, status, currentElement, stack), or null.
let interview = null;
let history = [];
let sessionRow = null;
let abort = null;
// The chart's view box (in layout coordinates), per flow; null = fit the whole flow to the window.
let view = null;
let viewFlow = null;

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
    await loadInterviews();
    listen();
  } catch (e) { console.error(e); }
}
// Another flow: the chosen session (if any) belongs to the old one, so the selection is cleared.
$('#flow').addEventListener('change', () => { clearSelection(); clearInterview(); draw(); });
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
    li.querySelector('.st').textContent = s.State + (s.IsProcessing ? ' → ' + s.NextState : '') + (s.IsError ? ' · error' : '');
    if (s.IsError) li.querySelector('.st').className = 'err';
    li.querySelector('.id').textContent = s.Id + ' · cart ' + s.WebCartId;
    li.addEventListener('click', () => choose(s.Id));
    ul.appendChild(li);
    if (s.Id === selected && sessionRow) sessionRow.isError = s.IsError === true;
  }
  if (!records.length) { const li = document.createElement('li'); li.textContent = 'No sessions match.'; ul.appendChild(li); }
}

/** The user's flow interviews: choosing one shows its flow with the element it stands on. */
async function loadInterviews() {
  const { records } = await api('/page/api/interviews');
  const ul = $('#interviews'); ul.textContent = '';
  for (const iv of records) {
    const li = document.createElement('li');
    li.dataset.interview = iv.id;
    if (interview && iv.id === interview.id) { li.className = 'selected'; interview = iv; }
    li.innerHTML = '<div class="st"></div><div class="id"></div>';
    li.querySelector('.st').textContent = iv.flowApiName + ' · ' + iv.status + (iv.currentElement ? ' at ' + iv.currentElement : '');
    if (iv.status === 'Error') li.querySelector('.st').className = 'err';
    li.querySelector('.id').textContent = iv.id + (iv.cartId ? ' · cart ' + iv.cartId : '');
    li.addEventListener('click', () => chooseInterview(iv.id));
    ul.appendChild(li);
  }
  if (!records.length) { const li = document.createElement('li'); li.textContent = 'No flow interviews.'; ul.appendChild(li); }
  if (interview) draw();
}
async function chooseInterview(id) {
  clearSelection();
  const iv = await api('/page/api/interviews/' + encodeURIComponent(id));
  interview = iv;
  for (const li of document.querySelectorAll('#interviews li')) li.classList.toggle('selected', li.dataset.interview === id);
  if (flows.has('flow:' + iv.flowApiName)) $('#flow').value = 'flow:' + iv.flowApiName;
  draw();
}
function clearInterview() {
  interview = null;
  for (const li of document.querySelectorAll('#interviews li')) li.classList.remove('selected');
}
/** The node an interview stands on: its element, or the end or the failure once it stopped. */
function interviewNode(iv) { return iv.currentElement || (iv.status === 'Error' ? '__error' : iv.status === 'Finished' ? '__end' : null); }

function clearSelection() {
  selected = null; history = []; sessionRow = null;
  for (const li of document.querySelectorAll('#sessions li')) li.classList.remove('selected');
  renderHistory(); renderFailure();
}

async function choose(id) {
  clearInterview();
  selected = id;
  for (const li of document.querySelectorAll('#sessions li')) li.classList.toggle('selected', li.dataset.session === id);
  const out = await api(V + '/checkout-sessions/' + id + '/history');
  if (selected !== id) return;
  history = out.history; sessionRow = out;
  if (flows.has(out.flowId)) $('#flow').value = out.flowId;
  render();
}

function keyOf(h) { return h.seq + '.' + h.sub + '.' + h.at + '.' + h.event.type; }
function top(path) { return String(path || '').split('.')[0]; }
function nodeLabel(chart, key) { const n = chart && chart.nodes.find((x) => x.id === key); return n ? n.label : key; }
/** A state path as the step it is at, by label: "Checkout Summary · Cart To Order claimed". */
function stepLabel(chart, path) {
  const parts = String(path || '').split('.');
  const base = nodeLabel(chart, parts[0]);
  const sub = parts[1] || '';
  if (!sub || sub === 'idle') return base;
  if (sub.indexOf('claimed_') === 0) return base + ' · ' + nodeLabel(chart, sub.slice(8)) + ' claimed';
  if (sub === 'running') return base + ' · running';
  if (sub.indexOf('running_') === 0) return base + ' · running, then ' + nodeLabel(chart, sub.slice(8));
  return base + ' · ' + sub;
}
function currentPath() {
  const applied = history.filter((h) => h.accepted);
  return applied.length ? applied[applied.length - 1].to : (sessionRow ? sessionRow.state : null);
}

function render() { draw(); renderHistory(); renderFailure(); }

function fitBox(chart) { const pad = 16; return { x: -pad, y: -pad, w: chart.width + pad * 2, h: chart.height + pad * 2 }; }
function setView(svg) { if (svg && view) svg.setAttribute('viewBox', view.x + ' ' + view.y + ' ' + view.w + ' ' + view.h); }

function draw() {
  const chart = flows.get($('#flow').value);
  const box = $('#chart'); box.textContent = '';
  if (!chart) return;
  if (viewFlow !== chart.id) { view = null; viewFlow = chart.id; }
  const applied = history.filter((h) => h.accepted);
  const current = currentPath();
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
  const isFlowChart = chart.id.indexOf('flow:') === 0;
  $('#legend-flow').hidden = !isFlowChart; $('#legend-session').hidden = isFlowChart;
  const ivHere = interview && chart.id === 'flow:' + interview.flowApiName ? interview : null;
  const cur = ivHere ? interviewNode(ivHere) : selected && current ? top(current) : null;
  const label = $('#current-state');
  if (ivHere) {
    label.textContent = (cur ? nodeLabel(chart, cur) : '—') + ' · ' + ivHere.status + (ivHere.stack && ivHere.stack.length > 1 ? ' (in ' + ivHere.stack.slice(1).join(' › ') + ')' : '');
    label.title = ivHere.id;
    label.dataset.state = cur || '';
    label.dataset.path = '';
  } else {
    label.textContent = selected && current ? stepLabel(chart, current) : '—';
    label.title = selected && current ? current : '';
    label.dataset.state = cur || '';
    label.dataset.path = selected && current ? current : '';
  }
  const fit = fitBox(chart);
  const svg = el('svg', { viewBox: fit.x + ' ' + fit.y + ' ' + fit.w + ' ' + fit.h, preserveAspectRatio: 'xMidYMid meet', role: 'img', 'aria-label': 'Statechart of flow ' + chart.id });
  const defs = el('defs');
  for (const [id, color] of [['arrow', '#94a3b8'], ['arrow-err', '#fca5a5'], ['arrow-taken', '#16a34a']]) {
    const m = el('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    m.appendChild(el('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
    defs.appendChild(m);
  }
  svg.appendChild(defs);
  const labels = [];
  for (const e of chart.edges) {
    const isTaken = taken.has(e.id);
    const g = el('g', { class: 'edge ' + e.type + (isTaken ? ' taken' : ''), 'data-edge': e.id });
    const d = e.points.map((p, i) => (i ? 'L' : 'M') + p.x + ',' + p.y).join(' ');
    g.appendChild(el('path', { d, 'marker-end': 'url(#' + (isTaken ? 'arrow-taken' : e.type === 'error' ? 'arrow-err' : 'arrow') + ')' }));
    g.appendChild(el('title', {}, e.label));
    svg.appendChild(g);
    // The transition's label on the chart (drawn above every edge, so no line crosses it).
    const lb = e.labelBox || (e.short && e.points.length ? { x: e.points[Math.floor(e.points.length / 2)].x - 14, y: e.points[Math.floor(e.points.length / 2)].y - 7, width: 28, height: 13 } : null);
    if (lb) {
      const t = el('g', { class: 'edge ' + e.type + (isTaken ? ' taken' : ''), 'data-edge-label': e.id });
      t.appendChild(el('rect', { class: 'lb', x: lb.x - 1, y: lb.y, width: lb.width + 2, height: lb.height, rx: 3 }));
      t.appendChild(el('text', { x: lb.x + lb.width / 2, y: lb.y + lb.height - 3, 'text-anchor': 'middle' }, e.short || e.label));
      t.appendChild(el('title', {}, e.label));
      labels.push(t);
    }
  }
  for (const t of labels) svg.appendChild(t);
  for (const n of chart.nodes) {
    const cls = ['node', n.kind];
    if (visited.has(n.id)) cls.push('visited');
    if (n.id === cur) cls.push('current');
    const g = el('g', { class: cls.join(' '), 'data-state': n.id, transform: 'translate(' + n.x + ',' + n.y + ')' });
    if (n.id === cur) g.setAttribute('data-current', 'true');
    g.appendChild(el('rect', { width: n.width, height: n.height, rx: n.kind === 'final' || n.kind === 'start' || n.kind === 'end' ? 20 : 8 }));
    g.appendChild(el('text', { x: n.width / 2, y: n.action ? 21 : 25 }, n.label));
    if (n.action) g.appendChild(el('text', { class: 'action', x: n.width / 2, y: 39 }, n.action));
    g.appendChild(el('title', {}, n.kind + (n.description ? ': ' + n.description : '')));
    svg.appendChild(g);
  }
  box.appendChild(svg);
  // Zoomed in: keep the current step in view (pan to it when it is outside).
  if (view && cur) {
    const n = chart.nodes.find((x) => x.id === cur);
    if (n && (n.x < view.x || n.y < view.y || n.x + n.width > view.x + view.w || n.y + n.height > view.y + view.h)) {
      view = { x: n.x + n.width / 2 - view.w / 2, y: n.y + n.height / 2 - view.h / 2, w: view.w, h: view.h };
    }
  }
  setView(svg);
}

// Zoom (wheel, buttons) and pan (drag) change the view box; "Fit" shows the whole flow again.
function svgPoint(svg, clientX, clientY) {
  const m = svg.getScreenCTM();
  if (!m) return null;
  const p = svg.createSVGPoint(); p.x = clientX; p.y = clientY;
  return p.matrixTransform(m.inverse());
}
function zoom(factor, clientX, clientY) {
  const chart = flows.get($('#flow').value); const svg = $('#chart svg');
  if (!chart || !svg) return;
  const v = view || fitBox(chart);
  const r = svg.getBoundingClientRect();
  const p = svgPoint(svg, clientX === undefined ? r.left + r.width / 2 : clientX, clientY === undefined ? r.top + r.height / 2 : clientY) || { x: v.x + v.w / 2, y: v.y + v.h / 2 };
  const fit = fitBox(chart);
  const w = Math.min(Math.max(v.w * factor, 80), fit.w * 4);
  const k = w / v.w;
  view = { x: p.x - (p.x - v.x) * k, y: p.y - (p.y - v.y) * k, w, h: v.h * k };
  setView(svg);
}
$('#chart').addEventListener('wheel', (ev) => { ev.preventDefault(); zoom(ev.deltaY > 0 ? 1.15 : 1 / 1.15, ev.clientX, ev.clientY); }, { passive: false });
$('#zoom-in').addEventListener('click', () => zoom(1 / 1.25));
$('#zoom-out').addEventListener('click', () => zoom(1.25));
$('#zoom-fit').addEventListener('click', () => { view = null; draw(); });
let drag = null;
$('#chart').addEventListener('pointerdown', (ev) => {
  const svg = $('#chart svg'); const chart = flows.get($('#flow').value);
  if (!svg || !chart || ev.button !== 0) return;
  const m = svg.getScreenCTM();
  drag = { x: ev.clientX, y: ev.clientY, v: view || fitBox(chart), scale: m ? m.a : 1 };
  $('#chart').classList.add('panning');
});
window.addEventListener('pointermove', (ev) => {
  if (!drag) return;
  const svg = $('#chart svg');
  view = { x: drag.v.x - (ev.clientX - drag.x) / drag.scale, y: drag.v.y - (ev.clientY - drag.y) / drag.scale, w: drag.v.w, h: drag.v.h };
  setView(svg);
});
window.addEventListener('pointerup', () => { drag = null; $('#chart').classList.remove('panning'); });

function renderHistory() {
  $('#history-session').textContent = selected || '';
  const chart = flows.get($('#flow').value);
  const ol = $('#history'); ol.textContent = '';
  for (const h of history) {
    const li = document.createElement('li');
    if (!h.accepted) li.className = 'rejected';
    const arg = h.event.nextState || h.event.state || h.event.step || '';
    li.innerHTML = '<div><span class="ev"></span> <span class="t"></span></div><div class="mv"></div><div class="err-msg"></div><div class="t op"></div>';
    li.querySelector('.ev').textContent = '#' + h.seq + (h.sub ? '.' + h.sub : '') + ' ' + h.event.type + (arg ? ' ' + arg : '');
    li.querySelector('.t').textContent = new Date(h.at).toLocaleTimeString();
    li.querySelector('.mv').textContent = stepLabel(chart, h.from) + ' → ' + (h.accepted ? stepLabel(chart, h.to) : 'rejected: ' + (h.rejection && h.rejection.error));
    li.querySelector('.mv').title = h.from + ' → ' + h.to;
    li.querySelector('.err-msg').textContent = h.event.type === 'xstate.error.actor.step' && h.event.error ? String(h.event.error) : (h.rejection && h.rejection.detail) || '';
    li.querySelector('.op').textContent = (h.operation || '') + ' · ' + (h.callerId ? 'user ' + h.callerId : 'engine');
    ol.appendChild(li);
  }
  // The newest entry is the last: scroll the panel to it.
  const panel = $('#history-panel');
  panel.scrollTop = panel.scrollHeight;
}

/** A failed checkout says why: the failed step's error and the cart's validation outputs. */
let failureFor = null;
async function renderFailure() {
  const box = $('#failure');
  const applied = history.filter((h) => h.accepted);
  const last = applied[applied.length - 1];
  const failed = [...applied].reverse().find((h) => h.event.type === 'xstate.error.actor.step');
  const inError = !!selected && (top(currentPath()) === 'error' || (last && last === failed) || (sessionRow && sessionRow.isError));
  if (!inError) { box.hidden = true; failureFor = null; return; }
  const chart = flows.get($('#flow').value);
  $('#failure-step').textContent = failed ? 'at ' + nodeLabel(chart, top(failed.from)) : '';
  $('#failure-error').textContent = failed ? String(failed.event.error || 'the step failed') : 'the session is in error';
  box.hidden = false;
  const cartId = (failed && failed.cartId) || (history[0] && history[0].cartId);
  const key = selected + '|' + (failed ? keyOf(failed) : '');
  if (!cartId || !/^\w{15,18}$/.test(cartId) || failureFor === key) return;
  failureFor = key;
  const ul = $('#failure-outputs'); ul.textContent = '';
  try {
    const q = "SELECT Level, Type, Message, RelatedEntityId FROM CartValidationOutput WHERE CartId = '" + cartId + "'";
    const out = await api(V + '/query?q=' + encodeURIComponent(q));
    for (const r of out.records) {
      const li = document.createElement('li');
      li.innerHTML = '<span class="lv"></span> <span class="ty"></span>: <span class="msg"></span>';
      li.querySelector('.lv').textContent = r.Level;
      li.querySelector('.ty').textContent = r.Type;
      li.querySelector('.msg').textContent = r.Message;
      ul.appendChild(li);
    }
    if (!out.records.length) { const li = document.createElement('li'); li.textContent = 'No validation outputs on the cart.'; ul.appendChild(li); }
  } catch (e) { failureFor = null; }
}

let refreshTimer = null;
async function listen() {
  if (abort) abort.abort();
  abort = new AbortController();
  let closedBy = null;
  try {
    const r = await fetch('/page/api/events', { headers: { Authorization: 'Bearer ' + token }, signal: abort.signal });
    if (r.status === 401) { signOut(); return; }
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
        const type = (block.split('\n').find((l) => l.startsWith('event: ')) || '').slice(7);
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (!data) continue;
        if (type === 'closed') closedBy = JSON.parse(data).reason;
        else onEntry(JSON.parse(data));
      }
    }
  } catch (e) { if (e.name === 'AbortError') return; }
  setLive(false);
  // The server ends the stream when the token or the user stopped being valid: sign out.
  if (closedBy === 'signed_out') { signOut(); return; }
  if (token) setTimeout(listen, 2000);
}
function onEntry(h) {
  if (h.sessionId === selected && !history.some((x) => keyOf(x) === keyOf(h))) {
    history.push(h);
    history.sort((a, b) => a.seq - b.seq || a.sub - b.sub);
    render();
  }
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => loadSessions().catch(() => {}), 150);
}

// New sessions record no event until their first move: the list also refreshes every few seconds.
setInterval(() => { if (token && !document.hidden) { loadSessions().catch(() => {}); loadInterviews().catch(() => {}); } }, 3000);
window.addEventListener('resize', () => { if (!view) return; draw(); });
if (token) start();
})();`;
