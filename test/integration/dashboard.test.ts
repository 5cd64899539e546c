/**
 * The live dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven
 * by playwright-core).
 *
 * Main test: a 3-node cluster of processes with a cluster secret, and `twopc dashboard` as a
 * process of its own signing the page's calls; the browser loads the page from that loopback
 * server and never sees the secret. The page shows the nodes, master and sequences, charts
 * commits, aborts and conflicts, lists a transaction still PREPARED on a slow node with its
 * writes as text (a key such as `<img src=x onerror=alert(1)>` stays text), shows the slow
 * node's lag, and after the master is SIGKILLed follows the new master, reads the dead node as
 * down (never "serving"), lists both epochs, and counts the old master's restart when it comes
 * back. Takes a screenshot at the end; with TWOPC_UPDATE_SCREENSHOT=1 it replaces the README's
 * docs/dashboard.png.
 *
 * Second test: without a secret, a node serves the same page itself (`GET /`).
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { TwopcProcess, killAllTwopc } from '../helpers/cli-process.ts';
import { findFreePorts } from '../helpers/ports.ts';
import { prepareOldMastersRound } from '../helpers/http.ts';

const chromium_path = '/usr/bin/chromium';
const chromium_args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const screenshot_path = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));
const update_screenshot = process.env['TWOPC_UPDATE_SCREENSHOT'] === '1';
/** Generous: the page polls every second and the machine may be busy. */
const page_wait_ms = 30_000;
const secret = 'dashboard-test-secret-0123456789abcdef';
const hostile_key = '<img src=x onerror=alert(1)>';
const hostile_value = '</td><script>alert(2)</script>';

let browser: Browser | undefined;
let cluster: ProcessCluster | undefined;
let dashboard: TwopcProcess | undefined;
let dashboard_url = '';

test.before(async () => {
  if (!existsSync(chromium_path)) {
    throw new Error(`the dashboard test needs Chromium at ${chromium_path}: install it with \`apt-get update && apt-get install -y chromium\``);
  }
  browser = await chromium.launch({ executablePath: chromium_path, args: chromium_args });
  cluster = await ProcessCluster.start({ size: 3, failpoints: true, env: { TWOPC_SECRET: secret }, secret });
  const [port] = await findFreePorts(1);
  dashboard = new TwopcProcess(['dashboard', '--nodes', cluster.addrs.join(','), '--port', String(port)], { TWOPC_SECRET: secret });
  const line = await dashboard.waitForLine(/^twopc dashboard on http:\/\/127\.0\.0\.1:\d+\//);
  dashboard_url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)![1]!;
});

test.after.always(async (t) => {
  for (const addr of cluster?.addrs ?? []) if (!cluster!.isRunning(addr)) t.log(`${addr} is down:\n${cluster!.outputOf(addr).slice(-2_000)}`);
  if (dashboard && !dashboard.running) t.log(`dashboard exited: ${dashboard.stderr}`);
  await browser?.close();
  await killAllTwopc();
  await cluster?.stop();
});

/** The page's row for one node, as data attributes. */
function nodeRow(page: Page, addr: string) {
  return page.locator(`#nodes tbody tr[data-addr="${addr}"]`);
}

function waitForRow(page: Page, addr: string, attribute: string, value: string) {
  return page.waitForFunction(
    ([a, name, expected]) => document.querySelector(`#nodes tbody tr[data-addr="${a}"]`)?.getAttribute(name!) === expected,
    [addr, attribute, value] as const,
    { timeout: page_wait_ms },
  );
}

/** A GET to the dashboard server with a chosen Host header (fetch cannot set one). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test.serial('twopc dashboard serves the page under a cluster secret, signs for it, and the page shows the cluster live through a failover', async (t) => {
  const c = cluster!;
  const master = await c.waitForMaster();
  const slaves = c.addrs.filter((addr) => addr !== master);

  // The nodes themselves refuse an unsigned browser; the dashboard server signs for it, and
  // nothing it hands out carries the secret.
  t.is((await fetch(`http://${master}/dashboard/data`)).status, 401);
  const page_html = await (await fetch(dashboard_url)).text();
  const relayed = await (await fetch(`${dashboard_url}dashboard/data?node=${encodeURIComponent(master)}`)).text();
  t.false(page_html.includes(secret));
  t.false(relayed.includes(secret));
  t.is(JSON.parse(relayed).addr, master);
  // Only members are relayed to, only GET, only for this loopback origin.
  t.is((await fetch(`${dashboard_url}dashboard/data?node=${encodeURIComponent('127.0.0.1:1')}`)).status, 400);
  t.is((await fetch(`${dashboard_url}dashboard/data?node=${encodeURIComponent(master)}`, { method: 'POST' })).status, 405);
  t.is(await getWithHost(dashboard_url, 'attacker.example'), 403);

  const page = await browser!.newPage({ viewport: { width: 1_100, height: 1_100 } });
  const browser_errors: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (error) => browser_errors.push(String(error)));
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(dashboard_url);
  await page.waitForFunction((expected) => document.getElementById('master')?.textContent === expected, master, { timeout: page_wait_ms });
  t.is(await page.locator('#nodes tbody tr').count(), 3);
  t.is(await nodeRow(page, master).getAttribute('data-role'), 'MASTER');
  for (const slave of slaves) t.is(await nodeRow(page, slave).getAttribute('data-role'), 'SLAVE');
  for (const addr of c.addrs) t.is(await nodeRow(page, addr).getAttribute('data-restarts'), '0');
  t.false((await page.content()).includes(secret));

  for (let i = 0; i < 5; i += 1) t.is((await c.submit({ [`page-${i}`]: i })).status, 200);
  // Every node at sequence 5, none behind, and the chart has points with commits in them.
  await page.waitForFunction(
    () => Array.from(document.querySelectorAll<HTMLElement>('#nodes tbody tr')).every((row) => row.dataset['lastSequence'] === '5' && row.dataset['lag'] === '0'),
    undefined,
    { timeout: page_wait_ms },
  );
  await page.waitForFunction(() => document.getElementById('chart')?.dataset['committed'] === 'true', undefined, { timeout: page_wait_ms });
  t.true(Number(await page.locator('#chart').getAttribute('data-points')) >= 1);
  t.is(await page.locator('#chart polyline.tput-line').count(), 1);
  t.is(await page.locator('#chart polyline.abort-line').count(), 1);
  t.true((await page.locator('#chart circle.lat-point').count()) >= 1, 'latency points of the rounds the master coordinated');
  // The title names the real sampled window, in seconds this early (never "0.2 min").
  t.regex((await page.locator('#window').textContent()) ?? '', /^\(last \d+ s, from /);

  // A slave slow to apply its commit: the transaction shows as PREPARED there, with its
  // writes as plain text, and the slave falls behind the others.
  const slow = slaves[0]!;
  t.is((await c.request(slow, 'POST', '/debug/failpoints', { name: 'before-commit-apply', action: 'delay:5000' })).status, 200);
  const pending = c.submit({ [hostile_key]: hostile_value }, 'dashboard-slow-commit');
  const row = page.locator('#transactions tbody tr[data-transaction-id="dashboard-slow-commit"]');
  await row.waitFor({ timeout: page_wait_ms });
  t.regex((await row.textContent()) ?? '', new RegExp(`${slow.replace(/\./g, '\\.')} PREPARED`));
  t.is(await row.locator('td.writes').textContent(), `${hostile_key} = ${JSON.stringify(hostile_value)}`);
  t.is(await page.locator('img').count(), 0, 'the key stayed text: no element was made of it');
  t.is(await page.locator('script').count(), 1, 'the value stayed text: no script element was made of it');
  await waitForRow(page, slow, 'data-lag', '1');
  t.is((await pending).status, 200);
  await c.request(slow, 'POST', '/debug/failpoints', { name: 'before-commit-apply', action: 'off' });
  await row.waitFor({ state: 'detached', timeout: page_wait_ms });
  await waitForRow(page, slow, 'data-lag', '0');

  // The master dies: the page moves to another node and shows the new master, the old one
  // down (not "serving"), and both epochs in the failover table. Its last round reached one
  // slave only, which holds it in doubt while the master is down.
  const first_epoch = Number(await page.locator('#epoch').textContent());
  const new_master = [...slaves].sort()[0]!;
  const in_doubt_holder = [...slaves].sort()[1]!;
  t.is((await prepareOldMastersRound(in_doubt_holder, master, 'dashboard-in-doubt', { contended: 1 }, secret)).status, 200);
  await c.kill(master);
  await page.waitForFunction((expected) => document.getElementById('master')?.textContent === expected, new_master, { timeout: page_wait_ms });
  await waitForRow(page, master, 'data-alive', 'false');
  t.is(await nodeRow(page, new_master).getAttribute('data-role'), 'MASTER');
  t.is(await nodeRow(page, new_master).getAttribute('data-alive'), 'true');
  const dead_state = (await nodeRow(page, master).locator('td.phase').textContent()) ?? '';
  t.regex(dead_state, /^down/);
  t.notRegex(dead_state, /serving/);
  t.regex((await page.locator('#polling').textContent()) ?? '', new RegExp(`^${new_master.replace(/\./g, '\\.')} \\(MASTER\\)`));
  await page.waitForFunction((addr) => document.querySelector(`#terms tbody tr[data-master="${addr}"]`) !== null, new_master, { timeout: page_wait_ms });
  t.is(await page.locator(`#terms tbody tr[data-epoch="${first_epoch}"]`).getAttribute('data-master'), master, 'the dead master\'s epoch stays listed');

  // Writes go on under the new master; the page keeps up.
  for (let i = 0; i < 3; i += 1) t.is((await c.submit({ [`after-${i}`]: i })).status, 200);
  await waitForRow(page, new_master, 'data-last-sequence', '9');

  // A conflict: the old master's in-doubt round holds a key on a slave, and the new master's
  // write of it is refused at once. The chart plots the abort.
  const conflicting = await c.submit({ contended: 2 }, 'dashboard-conflicting');
  t.is(conflicting.status, 409);
  t.is(conflicting.body.reason, 'conflict');
  await page.waitForFunction(() => document.getElementById('chart')?.dataset['conflicts'] === 'true', undefined, { timeout: page_wait_ms });
  t.is(await page.locator('#chart').getAttribute('data-aborted'), 'true');
  t.true((await page.locator('#chart polygon.conflict-point').count()) >= 1);

  await page.waitForTimeout(2_500);
  const png = await page.screenshot({ fullPage: true, ...(update_screenshot && { path: screenshot_path }) });
  t.true(png.length > 10_000, 'a screenshot of the page');

  // The old master comes back: one restart counted, and it leads again under a newer epoch.
  await c.restart(master);
  await waitForRow(page, master, 'data-restarts', '1');
  await page.waitForFunction((expected) => document.getElementById('master')?.textContent === expected, master, { timeout: page_wait_ms });
  await waitForRow(page, master, 'data-alive', 'true');
  // Its new term is listed once it recorded it, under an epoch above the one it lost.
  await page.waitForFunction(
    ([addr, above]) => Array.from(document.querySelectorAll<HTMLElement>('#terms tbody tr')).some((row) => row.dataset['master'] === addr && Number(row.dataset['epoch']) > above!),
    [master, first_epoch + 1] as const,
    { timeout: page_wait_ms },
  );
  t.true((await page.locator('#terms tbody tr').count()) >= 3);

  t.deepEqual(dialogs, []);
  t.deepEqual(browser_errors, []);
});

test.serial('without a secret a node serves the same page itself', async (t) => {
  const solo = await ProcessCluster.start({ size: 1 });
  try {
    const [addr] = solo.addrs;
    const page = await browser!.newPage();
    const browser_errors: string[] = [];
    page.on('pageerror', (error) => browser_errors.push(String(error)));
    await page.goto(`http://${addr}/`);
    await page.waitForFunction((expected) => document.getElementById('master')?.textContent === expected, addr!, { timeout: page_wait_ms });
    t.is((await solo.submit({ solo: true })).status, 200);
    await waitForRow(page, addr!, 'data-last-sequence', '1');
    t.is(await nodeRow(page, addr!).getAttribute('data-restarts'), '0');
    t.deepEqual(browser_errors, []);
  } finally {
    await solo.stop();
  }
});
