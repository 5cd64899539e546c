/**
 * The live dashboard, one HTML page with inline CSS and JS (no build step). It polls
 * `/dashboard/data` (lib/transport/dashboard-data.ts) every second, from one node, then from
 * the master; when the node it polls stops answering it moves on to another member it knew of.
 *
 * Two ways to serve it:
 * - `node`: a node's own `GET /` (no cluster secret): the page fetches
 *   `http://<member>/dashboard/data` directly (members answer a page served by a member with
 *   CORS headers).
 * - `proxy`: `twopc dashboard` (lib/dashboard/dashboard-server.ts) on loopback: the page
 *   fetches `/dashboard/data?node=<member>` from its own origin, and that server signs the
 *   call to the member with the cluster secret, which never reaches the browser.
 *
 * It shows the members (role, alive, epoch, last sequence, lag, restarts, state; a member
 * that is down reads "down" with when it was last heard, never its last state), a chart of
 * commits, aborts and conflicts per second and the mean round latency over the sampled
 * window, the epochs led so far (failovers), and the transactions in flight or in doubt with
 * their writes and each member's state. Everything that comes from users or nodes is put in
 * the page as text (textContent), never parsed as HTML.
 */

/** How often the page polls, and how long it waits for one answer. */
export const dashboard_poll_interval_ms = 1_000;
export const dashboard_poll_timeout_ms = 1_500;
/** How long the page treats a member it could not reach as down before it trusts reports of it again. */
export const dashboard_retry_after_ms = 5_000;
/** Most terms the page's failover table lists, the latest first. */
export const dashboard_terms_shown = 12;

export type DashboardSource =
  /** Served by the node `addr` itself; the page fetches from members directly. */
  | { readonly via: 'node'; readonly addr: string }
  /**
   * Served by `twopc dashboard`; the page fetches through it, starting with `nodes[0]`. Its
   * script carries `nonce`, the one its Content-Security-Policy allows.
   */
  | { readonly via: 'proxy'; readonly nodes: readonly string[]; readonly nonce: string };

export function renderDashboardPage(source: DashboardSource): string {
  const nodes = source.via === 'node' ? [source.addr] : source.nodes;
  const config = JSON.stringify({
    via: source.via,
    nodes,
    poll_interval_ms: dashboard_poll_interval_ms,
    poll_timeout_ms: dashboard_poll_timeout_ms,
    terms_shown: dashboard_terms_shown,
    retry_after_ms: dashboard_retry_after_ms,
  }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>twopc dashboard</title>
<style>${style}</style></head>
<body>
<header><h1>twopc</h1><span id="status">loading…</span><span id="via" class="via"></span></header>
<main>
<section><h2>Nodes</h2>
<p class="summary">master <b id="master">?</b> · epoch <b id="epoch">?</b> · polling <b id="polling">?</b></p>
<table id="nodes"><thead><tr><th>node</th><th>role</th><th>alive</th><th>epoch</th><th>last sequence</th><th title="sequences behind the most advanced node">lag</th><th title="times the node restarted on its data directory">restarts</th><th>state</th></tr></thead><tbody></tbody></table>
</section>
<section><h2>Transactions per second and latency <small id="window"></small></h2>
<svg id="chart" viewBox="0 0 720 220" preserveAspectRatio="none" role="img" aria-label="commits, aborts, conflicts and latency chart" data-points="0"></svg>
<p class="legend"><span class="tput">■</span> committed/s · <span class="abrt">■</span> aborted/s · <span class="conf">▲</span> of them conflicts/s (left axis) · <span class="lat">■</span> mean round latency, ms (right axis; rounds the polled node coordinated)</p>
</section>
<section><h2>Failovers: epochs and their masters</h2>
<table id="terms"><thead><tr><th>epoch</th><th>master</th><th>since</th><th>for</th></tr></thead><tbody></tbody></table>
<p id="no-terms" class="muted">none recorded yet</p>
</section>
<section><h2>Transactions in flight or in doubt</h2>
<table id="transactions"><thead><tr><th>transaction</th><th>since</th><th>writes</th><th>states</th></tr></thead><tbody></tbody></table>
<p id="no-transactions" class="muted">none</p>
</section>
</main>
<script${source.via === 'proxy' ? ` nonce="${source.nonce}"` : ''}>const twopc_config = ${config};
${script}</script>
</body></html>`;
}

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{display:flex;gap:1rem;align-items:baseline;padding:.6rem 1.2rem;background:#1d2330;color:#fff}
header h1{font-size:1.2rem;margin:0}
#status.down{color:#ff8a80}
.via{margin-left:auto;color:#aab;font-size:.85em}
main{padding:0 1.2rem 1.2rem;max-width:1040px}
section{background:#fff;border-radius:6px;padding:.6rem 1rem;margin-top:1rem;box-shadow:0 1px 2px #0002}
h2{font-size:1rem;margin:.2rem 0 .5rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #e3e6eb;font-variant-numeric:tabular-nums}
tr.master td.role{font-weight:bold;color:#0b6bcb}
td.alive.yes{color:#137333} td.alive.no{color:#c5221f;font-weight:bold}
td.phase.down{color:#c5221f} td.stale{color:#999}
td.lag.behind{color:#e37400;font-weight:bold} td.restarts.some{color:#e37400}
tr.polled td.addr::after{content:" ◀ polled";color:#888;font-size:.85em}
#chart{width:100%;height:220px;background:#fbfcfd;border:1px solid #e3e6eb}
.legend{font-size:.85em;color:#555} .tput{color:#0b6bcb} .abrt{color:#c5221f} .conf{color:#8e24aa} .lat{color:#e37400}
.muted{color:#888} .state-PREPARED{color:#e37400} .state-COMMITTED{color:#137333} .state-ABORTED{color:#c5221f}
.doubt{color:#c5221f;font-weight:bold}
td.writes{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all;white-space:pre-line}
`;

/** Plain browser JS, run as is: keep it free of TypeScript syntax. */
const script = `
const config = twopc_config;
let target = config.via === 'node' ? location.host : config.nodes[0]; // the node polled now (host:port)
let members = [...config.nodes];       // last known membership
let last = undefined;                  // last answer
const unreachable = new Map();         // members this page could not reach lately -> when (page clock)
const terms = new Map();               // epoch -> term, kept across answers (a dead master's term stays)

const $ = (id) => document.getElementById(id);
const text = (value) => document.createTextNode(String(value));
function cell(row, value, cls) { const td = row.insertCell(); td.append(text(value)); if (cls) td.className = cls; return td; }
function dataUrl(addr) {
  return config.via === 'proxy' ? '/dashboard/data?node=' + encodeURIComponent(addr) : 'http://' + addr + '/dashboard/data';
}
/** A duration as people read it: "42 s", "3 min", "2 h 5 min". */
function formatSpan(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return s + ' s';
  const min = Math.round(s / 60);
  return min < 120 ? min + ' min' : Math.floor(min / 60) + ' h ' + (min % 60) + ' min';
}

async function poll() {
  try {
    const response = await fetch(dataUrl(target), { signal: AbortSignal.timeout(config.poll_timeout_ms), cache: 'no-store' });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error('HTTP ' + response.status + (body && body.error ? ': ' + body.error : ''));
    }
    const data = await response.json();
    unreachable.delete(target);
    forgetOldFailures();
    last = data;
    members = data.members;
    for (const term of data.terms || []) terms.set(term.epoch, term);
    render(data);
    // Follow the master: it coordinates, so its latency figures are the cluster's.
    if (data.master && data.master !== target && members.includes(data.master) && !unreachable.has(data.master)) target = data.master;
  } catch (error) {
    unreachable.set(target, Date.now());
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
  forgetOldFailures();
  const alive = last ? last.nodes.filter((n) => n.alive).map((n) => n.addr) : [];
  const order = [...alive, ...members].filter((addr) => addr !== target);
  const pick = order.find((addr) => !unreachable.has(addr)) || order[0] || target;
  if (order.every((addr) => unreachable.has(addr))) unreachable.clear();
  return pick;
}

/** A member the page failed to reach is retried (and trusted as the polled node reports it) after a while. */
function forgetOldFailures() {
  for (const [addr, at] of unreachable) if (Date.now() - at > config.retry_after_ms) unreachable.delete(addr);
}

function render(data) {
  $('status').textContent = 'live · ' + new Date(data.time_ms).toLocaleTimeString();
  $('status').className = '';
  $('via').textContent = config.via === 'proxy' ? 'through twopc dashboard (requests signed by it)' : '';
  $('master').textContent = data.master || 'none';
  $('epoch').textContent = data.epoch;
  $('polling').textContent = data.addr + ' (' + data.role + ')';
  renderNodes(data);
  renderChart(data);
  renderTerms(data);
  renderTransactions(data);
}

function renderNodes(data) {
  const body = $('nodes').tBodies[0];
  body.replaceChildren();
  const up = (node) => node.reachable && !unreachable.has(node.addr);
  const top = Math.max(0, ...data.nodes.filter(up).map((node) => node.last_sequence ?? 0));
  for (const node of data.nodes) {
    const reachable = up(node);
    const alive = node.alive && reachable;
    const lag = reachable && node.last_sequence !== undefined ? Math.max(0, top - node.last_sequence) : undefined;
    const restarts = node.starts !== undefined ? Math.max(0, node.starts - 1) : undefined;
    const row = body.insertRow();
    row.dataset.addr = node.addr;
    row.dataset.role = node.role;
    row.dataset.alive = String(alive);
    row.dataset.lastSequence = String(node.last_sequence ?? '');
    row.dataset.lag = String(lag ?? '');
    row.dataset.restarts = String(restarts ?? '');
    if (node.role === 'MASTER') row.classList.add('master');
    if (node.addr === data.addr) row.classList.add('polled');
    cell(row, node.addr, 'addr');
    cell(row, node.role, 'role');
    cell(row, alive ? 'alive' : 'down', 'alive ' + (alive ? 'yes' : 'no'));
    // A member that does not answer keeps its last known epoch and sequence, greyed.
    const stale = reachable ? '' : ' stale';
    const known = node.last_seen_ms !== undefined ? 'last known ' + formatSpan(data.time_ms - node.last_seen_ms) + ' ago' : 'never heard from';
    cell(row, node.epoch ?? '–', 'epoch' + stale).title = reachable ? '' : known;
    cell(row, node.last_sequence ?? '–', 'sequence' + stale).title = reachable ? '' : known;
    cell(row, lag ?? '–', 'lag' + (lag ? ' behind' : ''));
    cell(row, restarts ?? '–', 'restarts' + (restarts ? ' some' : ''));
    if (reachable) cell(row, node.phase ?? '–', 'phase');
    else cell(row, node.last_seen_ms !== undefined ? 'down · last heard ' + formatSpan(data.time_ms - node.last_seen_ms) + ' ago' : 'down · never heard from', 'phase down');
  }
}

/** Per sample interval: committed, aborted and conflicting transactions per second, and mean round latency. */
function seriesOf(samples) {
  const points = [];
  for (let i = 1; i < samples.length; i += 1) {
    const a = samples[i - 1], b = samples[i];
    const seconds = Math.max(0.001, (b.t_ms - a.t_ms) / 1000);
    const rounds = (b.committed + b.aborted + b.in_doubt) - (a.committed + a.aborted + a.in_doubt);
    const latency_ms = rounds > 0 ? ((b.round_seconds_sum - a.round_seconds_sum) / rounds) * 1000 : null;
    points.push({
      t_ms: b.t_ms,
      tput: Math.max(0, b.last_sequence - a.last_sequence) / seconds,
      aborts: Math.max(0, b.aborted - a.aborted) / seconds,
      conflicts: Math.max(0, (b.conflicts ?? 0) - (a.conflicts ?? 0)) / seconds,
      latency_ms,
    });
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
  const first = data.samples[0], end = data.samples[data.samples.length - 1];
  const span_ms = first && end ? end.t_ms - first.t_ms : 0;
  $('window').textContent = span_ms > 0 ? '(last ' + formatSpan(span_ms) + ', from ' + data.addr + ')' : '';
  svg.replaceChildren();
  svg.dataset.points = String(points.length);
  svg.dataset.committed = String(points.some((p) => p.tput > 0));
  svg.dataset.aborted = String(points.some((p) => p.aborts > 0));
  svg.dataset.conflicts = String(points.some((p) => p.conflicts > 0));
  if (points.length === 0) { svg.append(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#888' }, 'collecting…')); return; }
  const t0 = points[0].t_ms, t1 = points[points.length - 1].t_ms;
  const x = (t) => L + (t1 === t0 ? 0 : (t - t0) / (t1 - t0)) * (W - L - R);
  const tmax = niceMax(Math.max(...points.map((p) => Math.max(p.tput, p.aborts))));
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
  const line = (cls, color, width, key) => svgEl('polyline', { class: cls, fill: 'none', stroke: color, 'stroke-width': width, points: points.map((p) => x(p.t_ms) + ',' + yT(p[key])).join(' ') });
  svg.append(line('tput-line', '#0b6bcb', 2, 'tput'));
  svg.append(line('abort-line', '#c5221f', 1.5, 'aborts'));
  for (const p of points.filter((q) => q.conflicts > 0)) {
    const cx = x(p.t_ms), cy = yT(p.conflicts);
    svg.append(svgEl('polygon', { class: 'conflict-point', points: cx + ',' + (cy - 4) + ' ' + (cx - 4) + ',' + (cy + 3) + ' ' + (cx + 4) + ',' + (cy + 3), fill: '#8e24aa' }));
  }
  const lat_points = points.filter((p) => p.latency_ms !== null);
  if (lat_points.length > 1) svg.append(svgEl('polyline', { class: 'lat-line', fill: 'none', stroke: '#e37400', 'stroke-width': 1.5, 'stroke-dasharray': '4 3', points: lat_points.map((p) => x(p.t_ms) + ',' + yL(p.latency_ms)).join(' ') }));
  for (const p of lat_points) svg.append(svgEl('circle', { class: 'lat-point', cx: x(p.t_ms), cy: yL(p.latency_ms), r: 2.5, fill: '#e37400' }));
}

/** Every epoch seen so far, the latest first, with how long its master led until the next one. */
function renderTerms(data) {
  const body = $('terms').tBodies[0];
  body.replaceChildren();
  const all = [...terms.values()].sort((a, b) => b.epoch - a.epoch);
  $('no-terms').hidden = all.length > 0;
  all.slice(0, config.terms_shown).forEach((term, i) => {
    const row = body.insertRow();
    row.dataset.epoch = String(term.epoch);
    row.dataset.master = term.master;
    const until = i === 0 ? data.time_ms : all[i - 1].since;
    cell(row, term.epoch, 'epoch');
    cell(row, term.master, 'master');
    cell(row, new Date(term.since).toLocaleTimeString(), 'since').title = new Date(term.since).toISOString();
    cell(row, formatSpan(until - term.since) + (i === 0 ? ' (current)' : ''), 'held');
  });
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
    cell(row, (tx.writes || []).map((w) => w.key + ' = ' + w.value).join('\\n') || '–', 'writes');
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
