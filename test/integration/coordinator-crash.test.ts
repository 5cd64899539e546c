/**
 * The master crashes in the middle of a transaction, at the two places that matter: after
 * it durably decided COMMIT but told nobody, and after another replica applied the commit
 * but before it applied its own. Either way, once it is back every replica agrees, nothing
 * stays prepared, and the sequence numbering has no gap and no reuse.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request, waitFor } from '../helpers/http.ts';

async function settle(cluster: ProcessCluster, id: string): Promise<readonly string[]> {
  const locked = async (addr: string) => Number((await request(addr, 'GET', '/metrics')).body.match(/twopc_locked_keys (\d+)/)?.[1]);
  await waitFor('nothing prepared anywhere', async () => (await Promise.all(cluster.addrs.map(locked))).every((n) => n === 0), 30_000);
  return Promise.all(cluster.addrs.map(async (addr) => (await request(addr, 'GET', `/transactions/${id}`)).body.state as string));
}

test('a master that crashes after deciding COMMIT but before telling anyone withdraws the decision when it returns', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const [old_master, next_master] = cluster.addrs as [string, string, string];
  t.is((await cluster.submit({ before: 1 })).status, 200);
  await request(old_master, 'POST', '/debug/failpoints', { name: 'after-decision-persist', action: 'crash' });
  const lost = await request(old_master, 'POST', '/transactions', { payload: { doomed: true }, transaction_id: 'told-nobody' }).catch(() => undefined);
  t.is(lost, undefined, 'the master died before answering');
  await waitFor('old master gone', async () => !cluster.isRunning(old_master));

  // The survivors hold the transaction prepared and cannot know its fate: they wait.
  t.is(await cluster.waitForMaster(), next_master);
  t.is((await request(next_master, 'GET', '/transactions/told-nobody')).body.state, 'PREPARED');
  const during = await cluster.submit({ during: 2 });
  t.is(during.status, 200);
  t.is(during.body.sequence, 2, 'the new master numbers on from what live nodes applied');

  await cluster.restart(old_master);
  t.regex(cluster.outputOf(old_master), /"event":"unconfirmed-decisions".*told-nobody/, 'it found its unapplied decision');
  const states = await settle(cluster, 'told-nobody');
  t.deepEqual(states, ['ABORTED', 'ABORTED', 'ABORTED']);
  t.is(await cluster.waitForMaster(), old_master);
  const after = await cluster.submit({ after: 3 });
  t.is(after.body.sequence, 3, 'no gap and no reuse');
  const data = await cluster.checkConsistent();
  t.deepEqual(data.map((item) => [item.key, item.sequence]), [['after', 3], ['before', 1], ['during', 2]]);
});

test('a master that crashes after another replica applied the commit, before applying its own, commits it when it returns', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const [old_master, next_master] = cluster.addrs as [string, string, string];
  await request(old_master, 'POST', '/debug/failpoints', { name: 'before-commit-apply', action: 'crash' });
  const lost = await request(old_master, 'POST', '/transactions', { payload: { kept: true }, transaction_id: 'told-some' }).catch(() => undefined);
  t.is(lost, undefined, 'the master died before answering');
  await waitFor('old master gone', async () => !cluster.isRunning(old_master));

  t.is(await cluster.waitForMaster(), next_master);
  await waitFor('the survivors settle on commit among themselves', async () => (await request(next_master, 'GET', '/transactions/told-some')).body.state === 'COMMITTED');
  t.is((await cluster.submit({ during: 2 })).body.sequence, 2);

  await cluster.restart(old_master);
  t.regex(cluster.outputOf(old_master), /"event":"unconfirmed-decisions".*told-some/, 'it found its unapplied decision');
  const states = await settle(cluster, 'told-some');
  t.deepEqual(states, ['COMMITTED', 'COMMITTED', 'COMMITTED']);
  const data = await cluster.checkConsistent();
  t.deepEqual(data.map((item) => [item.key, item.sequence]), [['during', 2], ['kept', 1]]);
});
