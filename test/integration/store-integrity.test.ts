/**
 * A node does not serve from a broken store (issue 14, item 3): a page of `kv` rows
 * overwritten in a stopped node's SQLite file makes its next start refuse, exit 2, naming
 * the file, instead of joining and answering 500 to reads and ABORT to every prepare; the
 * rest of the cluster keeps committing.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { closeSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { killAllTwopc, runTwopc } from '../helpers/cli-process.ts';
import { resolveNodeDir, store_file_name } from '../../lib/storage/database.ts';

test.after.always(() => killAllTwopc());

/** Fill `kv` over several pages: 40 transactions of 10 keys with 200-character values. */
async function fill(cluster: ProcessCluster): Promise<void> {
  for (let round = 0; round < 40; round += 1) {
    const payload = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key-${round}-${i}`, `${round}-${i}-`.padEnd(200, 'x')]));
    const answer = await cluster.submit(payload);
    if (answer.status !== 200) throw new Error(`fill: ${JSON.stringify(answer.body)}`);
  }
}

/** Overwrite one leaf page of table `kv` with random bytes, in a file nobody has open. */
function overwriteKvPage(file: string): number {
  const db = new Database(file);
  let page: number;
  let page_size: number;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    page_size = db.pragma('page_size', { simple: true }) as number;
    const leaves = db.prepare(`select pageno from dbstat where name = 'kv' and pagetype = 'leaf' order by pageno`).all() as { pageno: number }[];
    if (leaves.length < 2) throw new Error(`kv spans ${leaves.length} leaf pages; the test needs more`);
    page = leaves[Math.floor(leaves.length / 2)]!.pageno;
  } finally {
    db.close();
  }
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, randomBytes(page_size), 0, page_size, (page - 1) * page_size);
  } finally {
    closeSync(fd);
  }
  return page;
}

test('a node whose kv pages were overwritten refuses to start, naming its file; the others keep committing', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  await fill(cluster);
  const master = await cluster.waitForMaster();
  const victim = cluster.addrs.find((addr) => addr !== master)!;
  await cluster.checkConsistent();
  await cluster.kill(victim, 'SIGKILL');
  const file = join(resolveNodeDir(cluster.data_dir, victim), store_file_name);
  overwriteKvPage(file);

  const peers = cluster.addrs.filter((addr) => addr !== victim).join(',');
  const run = await runTwopc(['start-node', '--addr', victim, '--peers', peers, '--data-dir', cluster.data_dir], { timeout_ms: 30_000, env: { TWOPC_LOG_LEVEL: 'warn' } });
  t.is(run.code, 2, `the node must refuse, not serve: stdout ${run.stdout} stderr ${run.stderr.slice(-2000)}`);
  t.regex(run.stderr, /^twopc: [^\n]+\n$/, 'one line');
  t.true(run.stderr.includes(file), `names the file: ${run.stderr}`);
  t.notRegex(run.stdout, /serving/);

  for (let i = 0; i < 5; i += 1) {
    const answer = await cluster.submit({ [`after-${i}`]: i });
    t.is(answer.status, 200, JSON.stringify(answer.body));
  }
});
