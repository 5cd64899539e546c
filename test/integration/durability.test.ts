/**
 * Prepared means durable: a participant killed with SIGKILL after voting READY still
 * holds the prepared transaction and its locks when it restarts, and ends in the
 * cluster's decision.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { prepareOldMastersRound, request, waitFor } from '../helpers/http.ts';
import { resolveNodeDir } from '../../lib/storage/database.ts';

function readTransaction(cluster: ProcessCluster, addr: string, id: string): { state: string; payload: string | null } | undefined {
  const db = new Database(join(resolveNodeDir(cluster.data_dir, addr), 'twopc.sqlite'), { readonly: true });
  try {
    return db.prepare('select state, payload from transactions where id = ?').get(id) as { state: string; payload: string | null } | undefined;
  } finally {
    db.close();
  }
}

test('a participant killed after voting READY restarts holding the prepared transaction and ends committed like the others', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const victim = cluster.addrs[2]!;
  // The victim votes READY, then dies the moment the commit reaches it.
  await request(victim, 'POST', '/debug/failpoints', { name: 'before-commit-apply', action: 'crash' });
  const answer = await cluster.submit({ account: 'credited' }, 'durable-1');
  t.is(answer.status, 200, 'the decision is durable and the answering participants applied it');
  await waitFor('victim process gone', async () => !cluster.isRunning(victim));
  const held = readTransaction(cluster, victim, 'durable-1');
  t.is(held?.state, 'PREPARED', 'the prepared transaction survived kill -9');
  t.is(held?.payload, JSON.stringify({ account: 'credited' }));

  await cluster.restart(victim);
  await waitFor('victim committed', async () => (await request(victim, 'GET', '/transactions/durable-1')).body.state === 'COMMITTED');
  t.like((await request(victim, 'GET', '/kv/account')).body, { value: 'credited', sequence: answer.body.sequence });
  await cluster.checkConsistent();
});

test('a prepared transaction keeps its locks across kill -9: an old master\'s in-doubt round refuses the new master its key at once, until it is aborted', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const [master, next, victim] = cluster.addrs as [string, string, string];
  // A round of the master that reached only the victim (the test stands in for the master),
  // then the master dies: the victim holds it in doubt, unable to learn its outcome.
  t.is((await prepareOldMastersRound(victim, master, 'orphan-1', { seat: 'taken' })).status, 200);
  await cluster.kill(master);
  t.is(await cluster.waitForMaster(), next);
  // kill -9 the holder as well: it restarts holding the orphan PREPARED, with its lock.
  await cluster.kill(victim);
  t.is(readTransaction(cluster, victim, 'orphan-1')?.state, 'PREPARED');
  await cluster.restart(victim);
  t.is(await cluster.waitForAllAlive(), next);
  // The new master's write of that key is another round's: the victim votes ABORT conflict
  // at once (contract semantics 4), nothing waits, and the orphan stays in doubt.
  const rival = await cluster.submit({ seat: 'mine' });
  t.is(rival.status, 409, JSON.stringify(rival.body));
  t.like(rival.body, { status: 'ABORTED', reason: 'conflict' });
  t.is(rival.body.votes[victim], 'ABORT: conflict');
  t.is((await request(victim, 'GET', '/transactions/orphan-1')).body.state, 'PREPARED');
  // The old master comes back and never prepared the orphan: the victim fences it there and
  // aborts the orphan (termination), which releases the lock.
  await cluster.restart(master);
  await waitFor('orphan aborted', async () => (await request(victim, 'GET', '/transactions/orphan-1')).body.state === 'ABORTED', 20_000);
  await cluster.waitForAllAlive();
  t.is((await cluster.submit({ seat: 'sold' })).status, 200);
  const data = await cluster.checkConsistent();
  t.deepEqual(data.map((item) => [item.key, item.value]), [['seat', 'sold']]);
});
