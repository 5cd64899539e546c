/**
 * Many clients at once, some writing the same keys: none aborts on a conflict (blind writes
 * of one master are ordered by sequence); afterwards every replica holds identical data and
 * every acknowledged commit is there.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request } from '../helpers/http.ts';

test('240 concurrent commits from many clients, some on the same hot keys, never abort on a conflict and leave identical replicas holding the highest sequence\'s write', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const master = await cluster.waitForMaster();
  const clients = 24;
  const per_client = 10;
  const acknowledged = new Map<string, { value: number; sequence: number }[]>();
  let aborted = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; i < per_client; i += 1) {
        const value = client * 1000 + i;
        // Every client writes its own key; every third write also fights for a shared hot key.
        const payload: Record<string, number> = { [`client-${client}`]: value };
        if (i % 3 === 0) payload[`hot-${i % 2}`] = value;
        const answer = await request(master, 'POST', '/transactions', { payload }, 15_000);
        if (answer.status === 200) {
          for (const key of Object.keys(payload)) acknowledged.set(key, [...(acknowledged.get(key) ?? []), { value, sequence: answer.body.sequence }]);
        } else {
          // Blind writes of one master's term share their keys (lib/two-phase-commit/key-sharing.ts):
          // only a fault (a prepare timing out on a loaded machine) may abort one here.
          t.is(answer.status, 409, JSON.stringify(answer.body));
          t.not(answer.body.reason, 'conflict', JSON.stringify(answer.body));
          aborted += 1;
        }
      }
    }),
  );
  const committed = clients * per_client - aborted;
  t.log(`${committed} committed, ${aborted} aborted`);
  t.true(committed >= clients * per_client / 2);
  const data = await cluster.checkConsistent();
  const byKey = new Map(data.map((item) => [item.key, item]));
  for (const [key, writes] of acknowledged) {
    // The replica holds the acknowledged write with the highest sequence for each key.
    const last = writes.reduce((a, b) => (b.sequence > a.sequence ? b : a));
    t.like(byKey.get(key), { value: last.value, sequence: last.sequence }, key);
  }
  const health = await request(master, 'GET', '/health');
  t.is(health.body.last_sequence, committed, 'sequences are 1..N with no gaps');
});
