/**
 * The live dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven
 * by playwright-core) loads `GET /` from the master of a 3-node cluster of processes, shows
 * the nodes, master and sequences, charts the commits, lists a transaction still PREPARED on
 * a slow node, and after the master is SIGKILLed follows the new master and shows the dead
 * node as down. Takes a screenshot at the end; with TWOPC_UPDATE_SCREENSHOT=1 it replaces the
 * README's docs/dashboard.png.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ProcessCluster } from '../helpers/process-cluster.ts';

const chromium_path = '/usr/bin/chromium';
const chromium_args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const screenshot_path = fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url));
const update_screenshot = process.env['TWOPC_UPDATE_SCREENSHOT'] === '1';
/** Generous: the page polls every second and the machine may be busy. */
const page_wait_ms = 30_000;

let browser: Browser | undefined;
let cluster: ProcessCluster | undefined;

test.before(async () => {
  if (!existsSync(chromium_path)) {
    throw new Error(`the dashboard test needs Chromium at ${chromium_path}: install it with \`apt-get update && apt-get install -y chromium\``);
  }
  browser = await chromium.launch({ executablePath: chromium_path, args: chromium_args });
  cluster = await ProcessCluster.start({ size: 3, failpoints: true });
});

test.after.always(async (t) => {
  for (const addr of cluster?.addrs ?? []) if (!cluster!.isRunning(addr)) t.log(`${addr} is down:\n${cluster!.output.get(addr)?.slice(-2_000)}`);
  await browser?.close();
  await cluster?.stop();
});

/** The page's row for one node, as data attributes. */
function nodeRow(page: Page, addr: string) {
  return page.locator(`#nodes tbody tr[data-addr="${addr}"]`);
}

test.serial('the dashboard shows the cluster live, charts commits, lists a PREPARED transaction and follows the master across a failover', async (t) => {
  const c = cluster!;
  const page = await browser!.newPage({ viewport: { width: 1_000, height: 900 } });
  const browser_errors: string[] = [];
  page.on('pageerror', (error) => browser_errors.push(String(error)));

  const master = await c.waitForMaster();
  const slaves = c.addrs.filter((addr) => addr !== master);
  await page.goto(`http://${master}/`);
  await page.waitForFunction((expected) => document.getElementById('master')?.textContent === expected, master, { timeout: page_wait_ms });
  t.is(await page.locator('#nodes tbody tr').count(), 3);
  t.is(await nodeRow(page, master).getAttribute('data-role'), 'MASTER');
  for (const slave of slaves) t.is(await nodeRow(page, slave).getAttribute('data-role'), 'SLAVE');

  for (let i = 0; i < 5; i += 1) t.is((await c.submit({ [`page-${i}`]: i })).status, 200);
  // Every node at sequence 5, and the chart has points with commits in them.
  await page.waitForFunction(
    () => Array.from(document.querySelectorAll<HTMLElement>('#nodes tbody tr')).every((row) => row.dataset['lastSequence'] === '5'),
    undefined,
    { timeout: page_wait_ms },
  );
  await page.waitForFunction(() => document.getElementById('chart')?.dataset['committed'] === 'true', undefined, { timeout: page_wait_ms });
  t.true(Number(await page.locator('#chart').getAttribute('data-points')) >= 1);
  t.is(await page.locator('#chart polyline.tput-line').count(), 1);
  t.true((await page.locator('#chart circle.lat-point').count()) >= 1, 'latency points of the rounds the master coordinated');

  // A slave slow to apply its commit: the transaction shows as PREPARED there while the
  // master has not delivered the decision everywhere.
  const slow = slaves[0]!;
  t.is((await c.request(slow, 'POST', '/debug/failpoints', { name: 'before-commit-apply', action: 'delay:5000' })).status, 200);
  const pending = c.submit({ slow: true }, 'dashboard-slow-commit');
  const row = page.locator('#transactions tbody tr[data-transaction-id="dashboard-slow-commit"]');
  await row.waitFor({ timeout: page_wait_ms });
  t.regex((await row.textContent()) ?? '', new RegExp(`${slow.replace(/\./g, '\\.')} PREPARED`));
  t.is((await pending).status, 200);
  await c.request(slow, 'POST', '/debug/failpoints', { name: 'before-commit-apply', action: 'off' });
  await row.waitFor({ state: 'detached', timeout: page_wait_ms });

  // The master dies: the page moves to another node and shows the new master, the old one down.
  await c.kill(master);
  const new_master = [...slaves].sort()[0]!;
  await page.waitForFunction((expected) => document.getElementById('master')?.textContent === expected, new_master, { timeout: page_wait_ms });
  await page.waitForFunction((dead) => document.querySelector(`#nodes tbody tr[data-addr="${dead}"]`)?.getAttribute('data-alive') === 'false', master, {
    timeout: page_wait_ms,
  });
  t.is(await nodeRow(page, new_master).getAttribute('data-role'), 'MASTER');
  t.is(await nodeRow(page, new_master).getAttribute('data-alive'), 'true');
  t.regex((await page.locator('#polling').textContent()) ?? '', new RegExp(`^${new_master.replace(/\./g, '\\.')} \\(MASTER\\)`));

  // Writes go on under the new master; the page keeps up.
  for (let i = 0; i < 3; i += 1) t.is((await c.submit({ [`after-${i}`]: i })).status, 200);
  await page.waitForFunction((addr) => document.querySelector(`#nodes tbody tr[data-addr="${addr}"]`)?.getAttribute('data-last-sequence') === '9', new_master, {
    timeout: page_wait_ms,
  });
  await page.waitForTimeout(2_500);
  const png = await page.screenshot({ fullPage: true, ...(update_screenshot && { path: screenshot_path }) });
  t.true(png.length > 10_000, 'a screenshot of the page');
  t.deepEqual(browser_errors, []);
});
