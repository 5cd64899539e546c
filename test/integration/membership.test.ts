/**
 * Membership changes through /cluster/leave and /cluster/join: gossiped to every member,
 * followed by an election, and a removed node is no longer listened to.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request, waitFor } from '../helpers/http.ts';

test('a node removed with /cluster/leave stops being a participant and is not listened to; /cluster/join brings it back', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const [first, second, third] = cluster.addrs as [string, string, string];
  const membersOf = async (addr: string) => ((await request(addr, 'GET', '/role')).body.nodes as { addr: string }[]).map((node) => node.addr);

  const left = await request(first, 'POST', '/cluster/leave', { addr: third });
  t.is(left.status, 200);
  t.deepEqual(left.body.members, [first, second]);
  await waitFor('the leave gossiped to every remaining member', async () => (await membersOf(second)).length === 2);
  const without = await cluster.submit({ phase: 'two members' });
  t.is(without.status, 200);
  t.deepEqual(without.body.participants, [first, second]);

  // The removed node's claims count for nothing: not its prepares, not its epoch.
  const epoch = (await request(second, 'GET', '/role')).body.epoch;
  const forged = await request(second, 'POST', '/prepare', { transaction_id: 'from-outside', payload: { phase: 'hijacked' }, coordinator: third, epoch: epoch + 50 });
  t.is(forged.status, 500);
  t.like(forged.body, { status: 'ABORT', reason: 'not a member' });
  t.is((await request(second, 'GET', '/role')).body.epoch, epoch);
  t.is((await request(first, 'POST', '/cluster/leave', { addr: first })).status, 400, 'a node cannot remove itself');

  const joined = await request(second, 'POST', '/cluster/join', { addr: third });
  t.is(joined.status, 200);
  await waitFor('the join gossiped to every member', async () => (await Promise.all([first, second].map(membersOf))).every((members) => members.length === 3));
  await cluster.waitForAllAlive();
  const with_all = await cluster.submit({ phase: 'three members' });
  t.is(with_all.status, 200);
  t.deepEqual(with_all.body.participants, [first, second, third]);
  const data = await cluster.checkConsistent();
  t.deepEqual(data.map((item) => [item.key, item.value]), [['phase', 'three members']]);
});
