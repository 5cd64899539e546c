/**
 * Prepared means durable: a participant killed with SIGKILL after voting READY still
 * holds the prepared transaction and its locks when it restarts, and ends in the
 * cluster's decision.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { masterRound, request, waitFor } from '../helpers/http.ts';
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

test('a prepared transaction keeps its locks across kill -9 and resolves to the cluster decision, abort included', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const [master, , victim] = cluster.addrs as [string, string, string];
  // A prepare that reaches only the victim: the coordinator is this test, which then
  // disappears. The victim must keep the lock through a crash, then resolve by asking.
  t.is((await request(victim, 'POST', '/prepare', { transaction_id: 'orphan-1', payload: { seat: 'taken' }, ...(await masterRound(victim, master)), participants: cluster.addrs })).status, 200);
  await cluster.kill(victim);
  t.is(readTransaction(cluster, victim, 'orphan-1')?.state, 'PREPARED');
  await cluster.restart(victim);
  // After restart its lock still holds until the orphan is resolved: a conflicting prepare
  // votes ABORT conflict. A restarted node's first in-doubt pass runs at once, so the orphan
  // may already be resolved (aborted) when the rival arrives; then the rival may take the
  // key, but never before the orphan let go of it.
  const conflicting = await request(victim, 'POST', '/prepare', { transaction_id: 'rival-1', payload: { seat: 'mine' }, ...(await masterRound(victim, master)) });
  if (conflicting.status === 200) {
    const [orphan, rival] = [(await request(victim, 'GET', '/transactions/orphan-1')).body, (await request(victim, 'GET', '/transactions/rival-1')).body];
    t.is(orphan.state, 'ABORTED', 'the rival took the key while the orphan still held it');
    t.true(orphan.since <= rival.since, `the orphan was aborted (${orphan.since}) before the rival prepared (${rival.since})`);
    t.log('the orphan was resolved before the rival arrived');
  } else {
    t.is(conflicting.status, 500);
    t.like(conflicting.body, { status: 'ABORT', reason: 'conflict' });
  }
  await request(victim, 'POST', '/abort', { transaction_id: 'rival-1', ...(await masterRound(victim, master)) });
  // Nobody else ever prepared orphan-1, so termination aborts it and releases the lock.
  await waitFor('orphan aborted', async () => (await request(victim, 'GET', '/transactions/orphan-1')).body.state === 'ABORTED', 20_000);
  t.is((await cluster.submit({ seat: 'sold' })).status, 200);
  const data = await cluster.checkConsistent();
  t.deepEqual(data.map((item) => [item.key, item.value]), [['seat', 'sold']]);
});
