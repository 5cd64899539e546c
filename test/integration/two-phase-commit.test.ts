/**
 * The seed's four scenarios, over real node processes on loopback with real SQLite files.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { masterRound, request, waitFor } from '../helpers/http.ts';

test('a successful two-phase commit lands on every replica', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const answer = await cluster.submit({ color: 'green', shape: { sides: 3 } });
  t.is(answer.status, 200);
  t.like(answer.body, { status: 'COMMITTED', sequence: 1 });
  t.deepEqual([...answer.body.participants].sort(), [...cluster.addrs]);
  for (const addr of cluster.addrs) {
    const read = await request(addr, 'GET', '/kv/shape');
    t.deepEqual(read.body, { key: 'shape', value: { sides: 3 }, sequence: 1 }, addr);
    const view = await request(addr, 'GET', `/transactions/${answer.body.transaction_id}`);
    t.like(view.body, { state: 'COMMITTED', sequence: 1 }, addr);
  }
  // Keys are any 1-256 characters: a slash, a space or non-ASCII read back through /kv/:key.
  const odd = { 'a/b': 1, 'two words': 2, 'ünïcode': 3, '%41': 4 };
  const first = await cluster.submit(odd);
  t.is(first.status, 200, JSON.stringify(first.body));
  for (const [key, value] of Object.entries(odd)) {
    t.like((await request(cluster.addrs[1]!, 'GET', `/kv/${encodeURIComponent(key)}`)).body, { key, value, sequence: 2 }, key);
  }
  const deleted = await cluster.submit({ color: null });
  t.is(deleted.status, 200);
  for (const addr of cluster.addrs) t.is((await request(addr, 'GET', '/kv/color')).status, 404, addr);
  await cluster.checkConsistent();
});

test('one node failing prepare aborts the whole transaction and changes no replica', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  t.is((await cluster.submit({ balance: 100 })).status, 200);
  const failing = cluster.addrs[2]!;
  t.is((await request(failing, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'abort' })).status, 200);
  const answer = await cluster.submit({ balance: 0, audit: 'drained' });
  t.is(answer.status, 409);
  t.like(answer.body, { status: 'ABORTED', reason: 'failpoint' });
  t.is(answer.body.votes[failing], 'ABORT: failpoint');
  for (const addr of cluster.addrs) {
    t.like((await request(addr, 'GET', '/kv/balance')).body, { value: 100, sequence: 1 }, addr);
    t.is((await request(addr, 'GET', '/kv/audit')).status, 404, addr);
    t.not((await request(addr, 'GET', `/transactions/${answer.body.transaction_id}`)).body.state, 'COMMITTED', addr);
  }
  // A key another transaction of this master's term holds PREPARED is no conflict: blind
  // writes of one master are ordered by the sequences it gives them (an old master's round
  // is a conflict: durability.test.ts). That one's abort leaves this one's write.
  t.is((await request(failing, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'off' })).status, 200);
  t.is((await request(failing, 'POST', '/prepare', { transaction_id: 'holds-balance', payload: { balance: -1 }, ...(await masterRound(failing, await cluster.waitForMaster())) })).status, 200);
  t.is((await cluster.submit({ balance: 5 })).status, 200);
  t.is((await request(failing, 'GET', '/transactions/holds-balance')).body.state, 'PREPARED');
  t.is((await request(failing, 'POST', '/abort', { transaction_id: 'holds-balance', ...(await masterRound(failing, await cluster.waitForMaster())) })).status, 200);
  const data = await cluster.checkConsistent();
  t.deepEqual(data.map((item) => [item.key, item.value]), [['balance', 5]]);
});

test('when the master dies the next-lowest alive node becomes master and commits succeed again', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const [first, second] = cluster.addrs as [string, string, string];
  t.is(await cluster.waitForMaster(), first);
  t.is((await cluster.submit({ before: 1 })).status, 200);
  await cluster.kill(first);
  t.is(await cluster.waitForMaster(), second);
  const roles = await request(second, 'GET', '/role');
  t.true(roles.body.epoch >= 2, 'the new master claimed a newer epoch');
  const answer = await cluster.submit({ after: 2 });
  t.is(answer.status, 200);
  t.like(answer.body, { sequence: 2 });
  t.false(answer.body.participants.includes(first), 'the dead node is not a participant');
  await cluster.checkConsistent();
  // The old master comes back, catches up, and as the lowest address leads again.
  await cluster.restart(first);
  t.is(await cluster.waitForMaster(), first);
  t.like((await request(first, 'GET', '/kv/after')).body, { value: 2, sequence: 2 });
  t.is((await cluster.submit({ again: 3 })).status, 200);
  await cluster.checkConsistent();
});

test('health checks mark a dead node dead and a recovered one alive again', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const [master, , last] = cluster.addrs as [string, string, string];
  const aliveOf = async (addr: string) => (await request(master, 'GET', '/role')).body.nodes.find((n: { addr: string }) => n.addr === addr).alive;
  await waitFor('every node marked alive', async () => (await aliveOf(last)) === true, 10_000);
  await cluster.kill(last);
  await waitFor('dead node marked dead', async () => (await aliveOf(last)) === false, 10_000);
  const during = await cluster.submit({ while_down: true });
  t.is(during.status, 200);
  t.deepEqual([...during.body.participants].sort(), cluster.addrs.filter((a) => a !== last));
  await cluster.restart(last);
  await waitFor('recovered node marked alive', async () => (await aliveOf(last)) === true, 10_000);
  const after = await cluster.submit({ after_recovery: true });
  t.true(after.body.participants.includes(last));
  await cluster.checkConsistent();
});
