/**
 * Group commit: a master sends many transactions in one /prepare-batch and one
 * /decide-batch; each transaction is still voted and decided on its own.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request, waitFor } from '../helpers/http.ts';

test('inside one batch transactions touching one key share it (one round, ordered by sequence), and each is decided on its own', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const master = await cluster.waitForMaster();
  const slave = cluster.addrs.find((addr) => addr !== master)!;
  const role = (await request(master, 'GET', '/role')).body;
  const round = { epoch: role.epoch, coordinator: master, participants: cluster.addrs };
  const before = await cluster.dump(slave);

  const prepared = await request(slave, 'POST', '/prepare-batch', {
    ...round,
    transactions: [
      { transaction_id: 'batch-a', payload: { x: 1 } },
      { transaction_id: 'batch-b', payload: { x: 2, y: 2 } },
      { transaction_id: 'batch-c', payload: { y: 3 } },
      { transaction_id: 'batch-a', payload: { x: 1 } },
    ],
  });
  t.is(prepared.status, 200);
  t.deepEqual(prepared.body.votes, [{ status: 'READY' }, { status: 'READY' }, { status: 'READY' }, { status: 'ABORT', reason: 'duplicate in batch' }]);

  const decided = await request(slave, 'POST', '/decide-batch', { ...round, commits: [{ transaction_id: 'batch-z', sequence: 999 }], aborts: ['batch-a', 'batch-c'] });
  t.is(decided.status, 200);
  t.deepEqual(decided.body, {
    commits: [{ ok: false, http_status: 404, error: 'unknown transaction: it was never prepared here' }],
    aborts: [
      { ok: true, status: 'ABORTED' },
      { ok: true, status: 'ABORTED' },
    ],
  });
  for (const id of ['batch-a', 'batch-c']) t.is((await request(slave, 'GET', `/transactions/${id}`)).body.state, 'ABORTED');
  t.is((await request(slave, 'GET', '/transactions/batch-b')).body.state, 'PREPARED');
  // batch-b still holds x and y there, shared with the master's next round.
  const again = await cluster.submit({ x: 'after', y: 'after' });
  t.is(again.status, 200, JSON.stringify(again.body));
  t.like((await request(slave, 'POST', '/abort', { transaction_id: 'batch-b', epoch: role.epoch, coordinator: master })).body, { status: 'ABORTED' });
  const data = await cluster.checkConsistent();
  t.deepEqual(
    data.filter((item) => item.key === 'x' || item.key === 'y').map((item) => item.value),
    ['after', 'after'],
  );
  t.is(data.length, before.length + 2);
});

test('a participant killed in the middle of a batch loses nothing: every acknowledged commit is on every replica, sequences stay contiguous', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const master = await cluster.waitForMaster();
  const victim = cluster.addrs.find((addr) => addr !== master)!;
  const acknowledged = new Map<string, string>();
  let stop = false;
  const clients = Array.from({ length: 24 }, async (_, client) => {
    for (let i = 0; !stop; i += 1) {
      const value = `c${client}-${i}`;
      const answer = await cluster.request(master, 'POST', '/transactions', { payload: { [`k${client}`]: value } }, 15_000).catch(() => undefined);
      if (answer?.status === 200) acknowledged.set(`k${client}`, value);
    }
  });
  await waitFor('a few commits', async () => acknowledged.size >= 10, 20_000);
  // The victim persists its next batch of prepares, then dies before it can vote.
  t.is((await request(victim, 'POST', '/debug/failpoints', { name: 'after-prepare-persist', action: 'crash' })).status, 200);
  await waitFor('the victim to crash', async () => !cluster.isRunning(victim), 20_000);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await cluster.restart(victim);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  stop = true;
  await Promise.all(clients);

  const data = await cluster.checkConsistent(30_000);
  const byKey = new Map(data.map((item) => [item.key, item.value]));
  // Each client's key holds its last acknowledged value or a later attempt (one whose answer was lost).
  for (const [key, value] of acknowledged) {
    const held = String(byKey.get(key));
    const [, client, attempt] = /^c(\d+)-(\d+)$/.exec(held) ?? [];
    const [, , acked_attempt] = /^c(\d+)-(\d+)$/.exec(value) ?? [];
    t.is(`k${client}`, key);
    t.true(Number(attempt) >= Number(acked_attempt), `${key}: holds ${held}, acknowledged ${value}`);
  }
  for (const addr of cluster.addrs) {
    const log = (await request(addr, 'GET', '/cluster/log?after=0&limit=1000')).body.entries as { sequence: number }[];
    t.deepEqual(
      log.map((entry) => entry.sequence),
      log.map((_, index) => index + 1),
      `${addr}: sequences 1..n without a gap`,
    );
  }
});
