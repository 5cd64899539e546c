/**
 * One id, one set of writes, over real node processes: a resubmit with the same writes
 * learns the outcome (or joins the round still running), one with other writes is refused
 * with 422 `{"error"}` whatever state the first is in, and nothing of it is applied anywhere.
 * The rules: lib/two-phase-commit/resubmit.ts and round-verdict.ts.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request, waitFor } from '../helpers/http.ts';

async function readEverywhere(cluster: ProcessCluster, key: string): Promise<readonly unknown[]> {
  return Promise.all(cluster.addrs.map(async (addr) => {
    const read = await request(addr, 'GET', `/kv/${encodeURIComponent(key)}`);
    return read.status === 404 ? undefined : read.body.value;
  }));
}

test('an id reused with other writes is refused whether the first is committed, in flight or aborted, and nothing of it is applied', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const master = await cluster.waitForMaster();
  const slave = cluster.addrs.find((addr) => addr !== master)!;
  const refused = (answer: { status: number; body: any }, id: string, what: string) => {
    t.is(answer.status, 422, what);
    t.is(typeof answer.body.error, 'string', what);
    t.is(answer.body.transaction_id, id, what);
    t.is(answer.body.status, undefined, `${what}: a refusal is no outcome of the id`);
  };

  // Committed first.
  const first = await cluster.submit({ committed: 'first' }, 'id-committed');
  t.like(first, { status: 200, body: { status: 'COMMITTED' } });
  t.like(await cluster.submit({ committed: 'first' }, 'id-committed'), { status: 200, body: { status: 'COMMITTED', sequence: first.body.sequence } }, 'the same writes learn the outcome');
  refused(await cluster.submit({ committed: 'second' }, 'id-committed'), 'id-committed', 'committed, other value');
  refused(await cluster.submit({ committed: 'first', more: 1 }, 'id-committed'), 'id-committed', 'committed, other keys');

  // In flight: a slave holds its vote (below prepare_timeout_ms), so the round is still running when the others arrive.
  t.is((await request(slave, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'delay:800' })).status, 200);
  const running = cluster.submit({ flight: 'first' }, 'id-in-flight');
  await waitFor('the round to be in flight', async () => (await request(master, 'GET', '/transactions/id-in-flight')).body.in_flight === true);
  const [joined, other] = await Promise.all([cluster.submit({ flight: 'first' }, 'id-in-flight'), cluster.submit({ flight: 'second' }, 'id-in-flight')]);
  refused(other, 'id-in-flight', 'in flight, other writes');
  t.like(await running, { status: 200, body: { status: 'COMMITTED' } });
  t.like(joined, { status: 200, body: { status: 'COMMITTED', sequence: (await running).body.sequence } }, 'the same writes join the round');
  t.is((await request(slave, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'off' })).status, 200);

  // Aborted first.
  t.is((await request(slave, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'abort' })).status, 200);
  t.like(await cluster.submit({ aborted: 'first' }, 'id-aborted'), { status: 409, body: { status: 'ABORTED' } });
  t.is((await request(slave, 'POST', '/debug/failpoints', { name: 'before-prepare-vote', action: 'off' })).status, 200);
  refused(await cluster.submit({ aborted: 'second' }, 'id-aborted'), 'id-aborted', 'aborted, other writes');
  t.like(await cluster.submit({ aborted: 'first' }, 'id-aborted'), { status: 409, body: { status: 'ABORTED', reason: 'aborted earlier' } }, 'the same writes learn the abort');

  // Held only by a participant, which the master does not know of: the round's vote refuses it.
  // (A prepare as the master would send it, straight to one slave: an attempt whose round the master lost.)
  const { epoch } = (await request(master, 'GET', '/role')).body;
  t.is((await request(slave, 'POST', '/prepare', { transaction_id: 'id-held-elsewhere', payload: { held: 'first' }, epoch, coordinator: master })).status, 200);
  refused(await cluster.submit({ held: 'second' }, 'id-held-elsewhere'), 'id-held-elsewhere', 'prepared on a participant only, other writes');

  t.deepEqual(await readEverywhere(cluster, 'committed'), ['first', 'first', 'first']);
  t.deepEqual(await readEverywhere(cluster, 'more'), [undefined, undefined, undefined]);
  t.deepEqual(await readEverywhere(cluster, 'flight'), ['first', 'first', 'first']);
  t.deepEqual(await readEverywhere(cluster, 'aborted'), [undefined, undefined, undefined]);
  t.deepEqual(await readEverywhere(cluster, 'held'), [undefined, undefined, undefined]);
  for (const addr of cluster.addrs) {
    t.not((await request(addr, 'GET', '/transactions/id-held-elsewhere')).body.state, 'COMMITTED', addr);
  }
  await cluster.checkConsistent();
});
