/**
 * `GET /`: the live dashboard, one HTML page with inline CSS and JS (no build step). It polls
 * `GET /dashboard/data` (lib/transport/dashboard-data.ts) every second from the node it was
 * loaded from, then from the master; when the node it polls stops answering it moves on to
 * another member it knew of (members answer a page served by a member with CORS headers).
 * It shows the members (role, alive, epoch, last sequence), a chart of throughput and latency
 * over the last minutes, and the transactions in flight or in doubt with each member's state.
 */

/** How often the page polls, and how long it waits for one answer. */
export const dashboard_poll_interval_ms = 1_000;
export const dashboard_poll_timeout_ms = 1_500;

export function renderDashboardPage(addr: string): string {
  const config = JSON.stringify({ addr, poll_interval_ms: dashboard_poll_interval_ms, poll_timeout_ms: dashboard_poll_timeout_ms }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>twopc dashboard</title>
<style>${style}</style></head>
<body>
<header><h1>twopc</h1><span id="status">loading…</span></header>
<main>
<section><h2>Nodes</h2>
<p class="summary">master <b id="master">?</b> · epoch <b id="epoch">?</b> · polling <b id="polling">?</b></p>
<table id="nodes"><thead><tr><th>node</th><th>role</th><th>alive</th><th>epoch</th><th>last sequence</th><th>state</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Throughput and latency <small id="window"></small></h2>
<svg id="chart" viewBox="0 0 720 220" preserveAspectRatio="none" role="img" aria-label="throughput and latency chart" data-points="0"></svg>
<p class="legend"><span class="tput">■</span> committed per second (left axis) · <span class="lat">■</span> mean round latency, ms (right axis, rounds this node coordinated)</p>
</section>
<section><h2>Transactions in flight or in doubt</h2>
<table id="transactions"><thead><tr><th>transaction</th><th>since</th><th>states</th></tr></thead><tbody></tbody></table>
<p id="no-transactions" class="muted">none</p>
</section>
</main>
<script>const twopc_config = ${config};
${script}</script>
</body></html>`;
}

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{display:flex;gap:1rem;align-items:baseline;padding:.6rem 1.2rem;background:#1d2330;color:#fff}
header h1{font-size:1.2rem;margin:0}
#status.down{color:#ff8a80}
main{padding:0 1.2rem 1.2rem;max-width:980px}
section{background:#fff;border-radius:6px;padding:.6rem 1rem;margin-top:1rem;box-shadow:0 1px 2px #0002}
h2{font-size:1rem;margin:.2rem 0 .5rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #e3e6eb;font-variant-numeric:tabular-nums}
tr.master td.role{font-weight:bold;color:#0b6bcb}
td.alive.yes{color:#137333} td.alive.no{color:#c5221f;font-weight:bold}
tr.polled td.addr::after{content:" ◀ polled";color:#888;font-size:.85em}
#chart{width:100%;height:220px;background:#fbfcfd;border:1px solid #e3e6eb}
.legend{font-size:.85em;color:#555} .tput{color:#0b6bcb} .lat{color:#e37400}
.muted{color:#888} .state-PREPARED{color:#e37400} .state-COMMITTED{color:#137333} .state-ABORTED{color:#c5221f}
.doubt{color:#c5221f;font-weight:bold}
`;

/** Plain browser JS, run as is: keep it free of TypeScript syntax. */
const script = `
const config = twopc_config;
let target = location.host;            // the node polled now (host:port)
let members = [config.addr];           // last known membership
let last = undefined;                  // last answer
const unreachable = new Set();         // members this page could not reach lately

const $ = (id) => document.getElementById(id);
const text = (value) => document.createTextNode(String(value));
function cell(row, value, cls) { const td = row.insertCell(); td.append(text(value)); if (cls) td.className = cls; return td; }

async function poll() {
  try {
    const response = await fetch('http://' + target + '/dashboard/data', { signal: AbortSignal.timeout(config.poll_timeout_ms), cache: 'no-store' });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    const data = await response.json();
    unreachable.delete(target);
    last = data;
    members = data.members;
    render(data);
    // Follow the master: it coordinates, so its latency figures are the cluster's.
    if (data.master && data.master !== target && members.includes(data.master) && !unreachable.has(data.master)) target = data.master;
  } catch (error) {
    unreachable.add(target);
    $('status').textContent = target + ' unreachable (' + (error && error.message || error) + '); trying another node';
    $('status').className = 'down';
    if (last) renderNodes(last);
    target = nextTarget();
  } finally {
    setTimeout(poll, config.poll_interval_ms);
  }
}

/** Another member to poll: first one the last answer counted alive, then any not failed lately. */
function nextTarget() {
  const alive = last ? last.nodes.filter((n) => n.alive).map((n) => n.addr) : [];
  const order = [...alive, ...members].filter((addr) => addr !== target);
  const pick = order.find((addr) => !unreachable.has(addr)) || order[0] || target;
  if (order.every((addr) => unreachable.has(addr))) unreachable.clear();
  return pick;
}

function render(data) {
  $('status').textContent = 'live · ' + new Date(data.time_ms).toLocaleTimeString();
  $('status').className = '';
  $('master').textContent = data.master || 'none';
  $('epoch').textContent = data.epoch;
  $('polling').textContent = data.addr + ' (' + data.role + ')';
  renderNodes(data);
  renderChart(data);
  renderTransactions(data);
}

function renderNodes(data) {
  const body = $('nodes').tBodies[0];
  body.replaceChildren();
  for (const node of data.nodes) {
    const alive = node.alive && !unreachable.has(node.addr);
    const row = body.insertRow();
    row.dataset.addr = node.addr;
    row.dataset.role = node.role;
    row.dataset.alive = String(alive);
    row.dataset.lastSequence = String(node.last_sequence ?? '');
    if (node.role === 'MASTER') row.classList.add('master');
    if (node.addr === data.addr) row.classList.add('polled');
    cell(row, node.addr, 'addr');
    cell(row, node.role, 'role');
    cell(row, alive ? 'alive' : 'down', 'alive ' + (alive ? 'yes' : 'no'));
    cell(row, node.epoch ?? '–', 'epoch');
    cell(row, node.last_sequence ?? '–', 'sequence');
    cell(row, node.phase ?? '–', 'phase');
  }
}

/** Per sample interval: committed transactions per second (from the applied sequence) and mean round latency. */
function seriesOf(samples) {
  const points = [];
  for (let i = 1; i < samples.length; i += 1) {
    const a = samples[i - 1], b = samples[i];
    const seconds = Math.max(0.001, (b.t_ms - a.t_ms) / 1000);
    const rounds = (b.committed + b.aborted + b.in_doubt) - (a.committed + a.aborted + a.in_doubt);
    const latency_ms = rounds > 0 ? ((b.round_seconds_sum - a.round_seconds_sum) / rounds) * 1000 : null;
    points.push({ t_ms: b.t_ms, tput: Math.max(0, b.last_sequence - a.last_sequence) / seconds, latency_ms });
  }
  return points;
}

const svg_ns = 'http://www.w3.org/2000/svg';
function svgEl(name, attrs, content) {
  const el = document.createElementNS(svg_ns, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (content !== undefined) el.textContent = content;
  return el;
}
function niceMax(value) {
  if (!(value > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(value)));
  return [1, 2, 4, 6, 8, 10].map((m) => m * p).find((m) => m >= value);
}

function renderChart(data) {
  const svg = $('chart');
  const points = seriesOf(data.samples);
  const W = 720, H = 220, L = 44, R = 48, T = 10, B = 24;
  const span_s = (data.samples.length - 1) * data.sample_interval_ms / 1000;
  $('window').textContent = span_s > 0 ? '(last ' + Math.round(span_s / 6) / 10 + ' min, from ' + data.addr + ')' : '';
  svg.replaceChildren();
  svg.dataset.points = String(points.length);
  svg.dataset.committed = String(points.reduce((sum, p) => sum + p.tput, 0) > 0);
  if (points.length === 0) { svg.append(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#888' }, 'collecting…')); return; }
  const t0 = points[0].t_ms, t1 = points[points.length - 1].t_ms;
  const x = (t) => L + (t1 === t0 ? 0 : (t - t0) / (t1 - t0)) * (W - L - R);
  const tmax = niceMax(Math.max(...points.map((p) => p.tput)));
  const lats = points.map((p) => p.latency_ms).filter((v) => v !== null);
  const lmax = niceMax(lats.length ? Math.max(...lats) : 0);
  const yT = (v) => H - B - (v / tmax) * (H - T - B);
  const yL = (v) => H - B - (v / lmax) * (H - T - B);
  for (let i = 0; i <= 4; i += 1) {
    const y = T + (i * (H - T - B)) / 4;
    svg.append(svgEl('line', { x1: L, x2: W - R, y1: y, y2: y, stroke: '#e3e6eb' }));
    svg.append(svgEl('text', { x: L - 4, y: y + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#0b6bcb' }, String(Math.round(tmax * (1 - i / 4) * 10) / 10)));
    svg.append(svgEl('text', { x: W - R + 4, y: y + 4, 'font-size': 10, fill: '#e37400' }, String(Math.round(lmax * (1 - i / 4) * 10) / 10)));
  }
  svg.append(svgEl('text', { x: L, y: H - 6, 'font-size': 10, fill: '#555' }, new Date(t0).toLocaleTimeString()));
  svg.append(svgEl('text', { x: W - R, y: H - 6, 'font-size': 10, fill: '#555', 'text-anchor': 'end' }, new Date(t1).toLocaleTimeString()));
  svg.append(svgEl('polyline', { class: 'tput-line', fill: 'none', stroke: '#0b6bcb', 'stroke-width': 2, points: points.map((p) => x(p.t_ms) + ',' + yT(p.tput)).join(' ') }));
  const lat_points = points.filter((p) => p.latency_ms !== null);
  if (lat_points.length > 1) svg.append(svgEl('polyline', { class: 'lat-line', fill: 'none', stroke: '#e37400', 'stroke-width': 1.5, 'stroke-dasharray': '4 3', points: lat_points.map((p) => x(p.t_ms) + ',' + yL(p.latency_ms)).join(' ') }));
  for (const p of lat_points) svg.append(svgEl('circle', { class: 'lat-point', cx: x(p.t_ms), cy: yL(p.latency_ms), r: 2.5, fill: '#e37400' }));
}

function renderTransactions(data) {
  const body = $('transactions').tBodies[0];
  body.replaceChildren();
  $('no-transactions').hidden = data.transactions.length > 0;
  for (const tx of data.transactions) {
    const row = body.insertRow();
    row.dataset.transactionId = tx.transaction_id;
    cell(row, tx.transaction_id, 'id');
    const since = cell(row, Math.round((data.time_ms - tx.since) / 100) / 10 + ' s ago' + (tx.in_doubt ? ' · in doubt' : ''), tx.in_doubt ? 'doubt' : '');
    since.title = new Date(tx.since).toISOString();
    const states = row.insertCell();
    for (const [addr, state] of Object.entries(tx.states)) {
      const span = document.createElement('span');
      span.className = 'state-' + state;
      span.append(text(addr + ' ' + state + '  '));
      states.append(span);
    }
  }
}

poll();
`;
