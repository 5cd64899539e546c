/**
 * A node that was down while others committed catches all of it up before it votes
 * again or answers healthy.
 */
import test from 'ava';
import { ProcessCluster } from '../helpers/process-cluster.ts';
import { request, waitFor } from '../helpers/http.ts';

test('a node down while others commit rejoins with every missed transaction before it votes', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const [, , late] = cluster.addrs as [string, string, string];
  const first = await cluster.submit({ seed: 0 });
  t.is(first.status, 200, JSON.stringify(first.body));
  await cluster.kill(late);
  // Until the heartbeats mark it dead it is still a participant, and a commit aborts.
  const master_addr = await cluster.waitForMaster();
  await waitFor('late node marked dead', async () => (await request(master_addr, 'GET', '/role')).body.nodes.find((n: { addr: string }) => n.addr === late).alive === false);
  const missed = 40;
  for (let i = 1; i <= missed; i += 1) {
    const answer = await cluster.submit({ [`k${i % 7}`]: i, counter: i });
    t.is(answer.status, 200, JSON.stringify(answer.body));
    t.false(answer.body.participants.includes(late));
  }
  const master = await cluster.waitForMaster();
  const master_sequence = (await request(master, 'GET', '/health')).body.last_sequence;
  t.is(master_sequence, missed + 1);

  await cluster.restart(late);
  // Healthy means caught up: every missed commit is already applied.
  const health = await request(late, 'GET', '/health');
  t.is(health.body.last_sequence, master_sequence);
  t.like((await request(late, 'GET', '/kv/counter')).body, { value: missed, sequence: missed + 1 });
  // The master counts it alive at its next heartbeat, and from then on it is a participant.
  await waitFor('late node marked alive', async () => (await request(master, 'GET', '/role')).body.nodes.find((n: { addr: string }) => n.addr === late).alive === true);
  const next = await cluster.submit({ counter: 'after' });
  t.is(next.status, 200);
  t.true(next.body.participants.includes(late), 'once caught up it votes again');
  await cluster.checkConsistent();
});

test('a node paused (SIGSTOP) while others commit stops serving when resumed and catches up before it votes again', async (t) => {
  const cluster = await ProcessCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const master = await cluster.waitForMaster();
  const paused = cluster.addrs[2]!;
  const aliveInMaster = async () => (await request(master, 'GET', '/role')).body.nodes.find((n: { addr: string }) => n.addr === paused).alive;
  cluster.pause(paused);
  await waitFor('paused node marked dead', async () => (await aliveInMaster()) === false);
  for (let i = 1; i <= 10; i += 1) {
    // Straight to the master: the harness's own master lookup would wait on the paused node.
    const answer = await request(master, 'POST', '/transactions', { payload: { [`while-paused-${i}`]: i } });
    t.is(answer.status, 200, JSON.stringify(answer.body));
  }
  cluster.resume(paused);
  await waitFor('resumed node counted alive again', async () => (await aliveInMaster()) === true);
  await waitFor('it noticed the pause and stopped serving', async () => /"event":"detached"/.test(cluster.outputOf(paused)), 5_000);
  t.is((await request(paused, 'GET', '/health')).body.last_sequence, (await request(master, 'GET', '/health')).body.last_sequence);
  const after = await cluster.submit({ resumed: true });
  t.true(after.body.participants.includes(paused));
  await cluster.checkConsistent();
});
