/**
 * One sick disk does not stop everyone (issue 14, item 2): a slave whose store writes fail
 * (the `disk-write` failpoint: every write fails as an fsync EIO would) leaves the alive set
 * and says why on `/health`, the majority commits without it, and once its disk recovers it
 * catches up and serves again by itself, without a restart. A master whose disk fails steps
 * down and the others elect a new one.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request, waitFor } from '../helpers/http.ts';

async function setDisk(addr: string, action: 'abort' | 'off'): Promise<void> {
  const answer = await request(addr, 'POST', '/debug/failpoints', { name: 'disk-write', action });
  if (answer.status !== 200) throw new Error(`failpoint: ${answer.status} ${JSON.stringify(answer.body)}`);
}

test('a slave that cannot persist leaves the alive set, the majority commits, and it rejoins by itself once the disk recovers', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const master = await cluster.waitForMaster();
  const victim = cluster.addrs.find((addr) => addr !== master)!;
  const before = await cluster.submit({ before: 1 });
  t.is(before.status, 200, JSON.stringify(before.body));

  await setDisk(victim, 'abort');
  // The first round that reaches the sick disk may abort on its vote; then it is out.
  await cluster.submit({ probe: 1 });
  const health = await waitFor('the victim says it cannot persist', async () => {
    const answer = await request(victim, 'GET', '/health');
    return answer.status === 503 && answer.body.status === 'store-failed' ? answer : undefined;
  }, 20_000, 100);
  t.regex(String(health.body.store_fault), /cannot persist/);
  await waitFor('the master counts the victim dead', async () => {
    const role = await request(master, 'GET', '/role');
    return role.body.nodes.some((node: { addr: string; alive: boolean }) => node.addr === victim && !node.alive);
  }, 20_000, 100);
  for (let i = 0; i < 10; i += 1) {
    const answer = await cluster.submit({ [`while-sick-${i}`]: i });
    t.is(answer.status, 200, JSON.stringify(answer.body));
    t.false(answer.body.participants.includes(victim));
  }

  await setDisk(victim, 'off');
  await waitFor('the victim serves again', async () => (await request(victim, 'GET', '/health')).status === 200, 20_000, 100);
  t.is((await request(victim, 'GET', '/kv/while-sick-9')).body.value, 9, 'it caught up what it missed');
  const after = await cluster.submit({ after: 'recovery' });
  t.is(after.status, 200);
  await cluster.checkConsistent();
});

test('a master whose disk fails steps down; the others elect a new master and commit', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3, failpoints: true });
  t.teardown(() => cluster.stop());
  const master = await cluster.waitForMaster();
  await setDisk(master, 'abort');
  await cluster.submit({ probe: 1 }).catch(() => undefined);
  await waitFor('another master', async () => {
    const roles = await Promise.all(cluster.addrs.filter((addr) => addr !== master).map((addr) => request(addr, 'GET', '/role')));
    return roles.some((role) => role.body.role === 'MASTER' && role.body.accepting_writes === true);
  }, 30_000, 100);
  t.not((await request(master, 'GET', '/role')).body.role, 'MASTER');
  const others = cluster.addrs.filter((addr) => addr !== master);
  const new_master = (await request(others[0]!, 'GET', '/role')).body.master as string;
  // Clients ask the lowest address first: the sick node must send them on, never to itself.
  await waitFor('the sick node names the new master', async () => (await request(master, 'GET', '/role')).body.master === new_master, 10_000, 100);
  const sent_on = await request(master, 'POST', '/transactions', { payload: { asked_the_sick_node: true } });
  t.is(sent_on.status, 421);
  t.is(sent_on.body.master, new_master);
  const answer = await request(new_master, 'POST', '/transactions', { payload: { new_master: true } }, 15_000);
  t.is(answer.status, 200, JSON.stringify(answer.body));
  await setDisk(master, 'off');
  await waitFor('the old master serves again', async () => (await request(master, 'GET', '/health')).status === 200, 30_000, 100);
  await cluster.checkConsistent();
});
