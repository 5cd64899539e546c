/**
 * `twopc cluster`'s supervisor driven in-process (worker threads, crash and restart), and the
 * client commands run as real `twopc` processes against it: exit codes and output.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartupError } from '../../lib/boot/options.ts';
import { startCluster, type Cluster } from '../../lib/supervisor/supervisor.ts';
import { request, waitFor } from '../helpers/http.ts';
import { findFreePorts } from '../helpers/ports.ts';
import { runTwopc } from '../helpers/cli-process.ts';

let cluster: Cluster;
let data_dir: string;
let nodes: string;
const log: string[] = [];

test.before(async () => {
  const ports = await findFreePorts(3);
  data_dir = mkdtempSync(join(tmpdir(), 'twopc-supervisor-'));
  cluster = await startCluster({ size: 3, basePort: ports[0]!, dataDir: data_dir, log: (line) => log.push(line) });
  nodes = cluster.addrs.join(',');
  await waitForMaster();
});

test.after.always(async (t) => {
  if (log.length > 0) t.log(log.join('\n'));
  await cluster?.stop();
  if (data_dir) rmSync(data_dir, { recursive: true, force: true });
});

async function waitForMaster(): Promise<string> {
  return waitFor('a master that accepts writes', async () => {
    const roles = await Promise.all(cluster.addrs.map((addr) => request(addr, 'GET', '/role', undefined, 1_000).catch(() => undefined)));
    const master = roles.find((role) => role?.body.role === 'MASTER' && role.body.accepting_writes !== false);
    return master?.body.addr as string | undefined;
  }, 20_000, 100);
}

test.serial('status lists every node with its role', async (t) => {
  const run = await runTwopc(['status', '--nodes', nodes, '--json']);
  t.is(run.code, 0, run.stderr);
  const status = JSON.parse(run.stdout) as { nodes: { addr: string; role: string; alive: boolean }[] };
  t.deepEqual(status.nodes.map((node) => node.addr), [...cluster.addrs]);
  t.is(status.nodes.filter((node) => node.role === 'MASTER').length, 1);
  t.true(status.nodes.every((node) => node.alive));
});

test.serial('commit, get and tx', async (t) => {
  const commit = await runTwopc(['commit', '--nodes', nodes, '--json', '--payload', '{"color":"blue"}']);
  t.is(commit.code, 0, commit.stderr);
  const answer = JSON.parse(commit.stdout) as { transaction_id: string; status: string; sequence: number };
  t.is(answer.status, 'COMMITTED');

  const get = await runTwopc(['get', 'color', '--nodes', nodes]);
  t.is(get.code, 0, get.stderr);
  t.is(get.stdout.trim(), '"blue"');

  const tx = await runTwopc(['tx', answer.transaction_id, '--nodes', nodes, '--json']);
  t.is(tx.code, 0, tx.stderr);
  const views = JSON.parse(tx.stdout) as { nodes: { state: string; sequence: number }[] };
  t.true(views.nodes.every((view) => view.state === 'COMMITTED' && view.sequence === answer.sequence));
});

test.serial('usage errors and unreachable nodes exit 2 with one line', async (t) => {
  for (const args of [['commit', '--nodes', nodes, '--payload', '[1]'], ['commit', '--nodes', 'nope'], ['frobnicate'], ['status', '--bogus']]) {
    const run = await runTwopc(args);
    t.is(run.code, 2, args.join(' '));
    t.regex(run.stderr, /^twopc: [^\n]+\n$/, args.join(' '));
  }
  const down = await runTwopc(['commit', '--nodes', '127.0.0.1:1', '--payload', '{"a":1}']);
  t.is(down.code, 2);
  const missing = await runTwopc(['get', 'no-such-key', '--nodes', nodes]);
  t.is(missing.code, 1);
  t.is(missing.stderr, 'twopc: key not found: no-such-key\n');
});

test.serial('a crashed node is restarted and writes go on', async (t) => {
  const master = await waitForMaster();
  await cluster.crash(master);
  const commit = await runTwopc(['commit', '--nodes', nodes, '--timeout', '20000', '--payload', '{"after":"crash"}']);
  t.is(commit.code, 0, commit.stderr);
  await waitFor(`${master} back`, async () => (await request(master, 'GET', '/health', undefined, 1_000).catch(() => undefined))?.status === 200, 20_000);
  t.is(cluster.restarts(master), 1);
  t.true(log.some((line) => line.includes(`node ${master} crashed`)));
});

test.serial('a busy port fails the first start with a StartupError', async (t) => {
  const port = Number(cluster.addrs[0]!.split(':')[1]);
  const other_dir = mkdtempSync(join(tmpdir(), 'twopc-busy-'));
  try {
    const error = await t.throwsAsync(startCluster({ size: 1, basePort: port, dataDir: other_dir, log: () => undefined }));
    t.true(error instanceof StartupError);
    t.regex(error?.message ?? '', new RegExp(cluster.addrs[0]!.replace(/\./g, '\\.')));
  } finally {
    rmSync(other_dir, { recursive: true, force: true });
  }
});
