/**
 * Replicas that silently differ are found and repaired (issue 14, item 4): a value edited in
 * place in one node's SQLite file (the file stays well-formed) is caught by `twopc verify`,
 * which names that node and exits non-zero; the node stops serving, pulls a clean copy from
 * the others, and serves the committed value again; `twopc verify` then agrees everywhere.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { killAllTwopc, runTwopc } from '../helpers/cli-process.ts';
import { request, waitFor } from '../helpers/http.ts';
import { resolveNodeDir, store_file_name } from '../../lib/storage/database.ts';

test.after.always(() => killAllTwopc());

/** Edit one kv value in place through SQLite, as a stray tool or a bit flip that keeps the file well-formed would. */
function editValue(file: string, key: string, value: unknown): void {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    const changed = db.prepare('update kv set value = ? where key = ?').run(JSON.stringify(value), key).changes;
    if (changed !== 1) throw new Error(`no kv row ${key} to edit`);
  } finally {
    db.close();
  }
}

test('a value edited in place on one replica: verify names it, it stops serving, repairs from the others, and verify then agrees', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  for (let i = 0; i < 20; i += 1) t.is((await cluster.submit({ [`k${i}`]: { n: i }, shared: i })).status, 200);
  await cluster.checkConsistent();
  const master = await cluster.waitForMaster();
  const victim = cluster.addrs.find((addr) => addr !== master)!;
  const nodes = cluster.addrs.join(',');
  const agreed = await runTwopc(['verify', '--nodes', nodes, '--json']);
  t.is(agreed.code, 0, agreed.stdout + agreed.stderr);

  editValue(join(resolveNodeDir(cluster.data_dir, victim), store_file_name), 'k7', { n: 'forged' });
  t.deepEqual((await request(victim, 'GET', '/kv/k7')).body.value, { n: 'forged' }, 'the edit took: the replica serves it');

  const found = await runTwopc(['verify', '--nodes', nodes]);
  t.is(found.code, 1, found.stdout + found.stderr);
  const row = found.stdout.split('\n').find((line) => line.startsWith(`${victim} `)) ?? '';
  t.regex(row, /damaged|differs/, found.stdout);
  for (const addr of cluster.addrs.filter((addr) => addr !== victim)) t.regex(found.stdout.split('\n').find((line) => line.startsWith(`${addr} `)) ?? '', /\bok\b/, found.stdout);

  // The victim repairs itself: a clean copy, the committed value, serving again.
  await waitFor('the victim serves the committed value again', async () => {
    const [health, read] = await Promise.all([request(victim, 'GET', '/health'), request(victim, 'GET', '/kv/k7')]);
    return health.status === 200 && JSON.stringify(read.body.value) === JSON.stringify({ n: 7 });
  }, 30_000, 100);
  t.is((await cluster.submit({ after: 'repair' })).status, 200);
  await cluster.checkConsistent();
  const repaired = await runTwopc(['verify', '--nodes', nodes, '--json']);
  t.is(repaired.code, 0, repaired.stdout + repaired.stderr);
  const report = JSON.parse(repaired.stdout) as { nodes: { addr: string; verdict: string; digest: string }[] };
  t.true(report.nodes.every((node) => node.verdict === 'ok'));
  t.is(new Set(report.nodes.map((node) => node.digest)).size, 1);
});

test('an edited log entry on one replica: its digest differs from the majority, and it repairs by itself', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  for (let i = 0; i < 10; i += 1) t.is((await cluster.submit({ [`k${i}`]: i })).status, 200);
  await cluster.checkConsistent();
  const master = await cluster.waitForMaster();
  const victim = cluster.addrs.find((addr) => addr !== master)!;
  await cluster.kill(victim, 'SIGKILL');
  // Both the log entry and the kv row say the same forged thing: only the other replicas can tell.
  const db = new Database(join(resolveNodeDir(cluster.data_dir, victim), store_file_name));
  try {
    db.prepare(`update transactions set payload = ? where sequence = 3`).run(JSON.stringify({ k2: 'forged' }));
    db.prepare(`update kv set value = ? where key = 'k2'`).run(JSON.stringify('forged'));
  } finally {
    db.close();
  }
  await cluster.restart(victim);
  await waitFor('the victim serves the committed value again', async () => {
    const [health, read] = await Promise.all([request(victim, 'GET', '/health'), request(victim, 'GET', '/kv/k2')]);
    return health.status === 200 && read.body.value === 2;
  }, 30_000, 100);
  await cluster.checkConsistent();
  t.true(cluster.outputOf(victim).includes('replica-repair'), 'the victim says why it repaired');
});
