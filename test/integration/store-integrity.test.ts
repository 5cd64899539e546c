/**
 * A node does not serve from a broken store (issue 14, item 3): a page of `kv` rows
 * overwritten in a stopped node's SQLite file makes its next start refuse, exit 2, naming
 * the file, instead of joining and answering 500 to reads and ABORT to every prepare; the
 * rest of the cluster keeps committing.
 */
import test from 'ava';
import { join } from 'node:path';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { killAllTwopc, runTwopc } from '../helpers/cli-process.ts';
import { overwriteLeafPage } from '../helpers/damage-store.ts';
import { resolveNodeDir, store_file_name } from '../../lib/storage/database.ts';
import { waitUntil } from '../../lib/util/wait-until.ts';

test.after.always(() => killAllTwopc());

/** Fill `kv` over several pages: 40 transactions of 10 keys with 200-character values. */
async function fill(cluster: ProcessCluster): Promise<void> {
  for (let round = 0; round < 40; round += 1) {
    const payload = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key-${round}-${i}`, `${round}-${i}-`.padEnd(200, 'x')]));
    const answer = await cluster.submit(payload);
    if (answer.status !== 200) throw new Error(`fill: ${JSON.stringify(answer.body)}`);
  }
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
  overwriteLeafPage(file, 'kv');

  const peers = cluster.addrs.filter((addr) => addr !== victim).join(',');
  const run = await runTwopc(['start-node', '--addr', victim, '--peers', peers, '--data-dir', cluster.data_dir], { timeout_ms: 30_000, env: { TWOPC_LOG_LEVEL: 'warn' } });
  t.is(run.code, 2, `the node must refuse, not serve: stdout ${run.stdout} stderr ${run.stderr.slice(-2000)}`);
  t.regex(run.stderr, /^twopc: [^\n]+\n$/, 'one line');
  t.true(run.stderr.includes(file), `names the file: ${run.stderr}`);
  t.notRegex(run.stdout, /serving/);

  // The refusal can come before the master's heartbeats have missed the victim (quick_check of
  // a small file runs in the node's own process): a round that names it then aborts, as with any
  // replica that just died. Once the master sees it down, every write commits.
  await waitUntil('the master sees the victim down', async () => {
    const role = await cluster.probe(await cluster.waitForMaster(), '/role');
    const nodes: readonly { addr: string; alive: boolean }[] = Array.isArray(role.body?.nodes) ? role.body.nodes : [];
    return nodes.some((node) => node.addr === victim && !node.alive);
  }, 30_000);
  for (let i = 0; i < 5; i += 1) {
    const answer = await cluster.submit({ [`after-${i}`]: i });
    t.is(answer.status, 200, JSON.stringify(answer.body));
  }
});
