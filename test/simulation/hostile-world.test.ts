/**
 * Scripted situations of issue 14 ("Survive a hostile world") on the simulation: each
 * rebuilds what an attack or chaos run found, on the node's real services, and checks the
 * rule it is named for.
 */
import test from 'ava';
import { Scenario } from '../../lib/simulation/scenario.ts';

// Issue 14 item 13 (chaos partition-2-3): a master cut off mid-round decides ABORT for an id
// and can tell nobody; the next master commits that id on the client's retry. Neither the
// first master's answer nor, once it leads again, its answer to a retry may say "aborted",
// and its stale abort must not be re-sent for ever to replicas that committed the id.
test('an ABORT nobody remembers is not the client\'s answer, and a later master\'s commit of the retry wins over it', async (t) => {
  const s = await Scenario.start();
  s.drop({ from: s.addr(1), label: /^POST \/prepare-batch/, times: 2 });
  const decide = s.drop({ from: s.addr(1), label: /^POST \/decide-batch/ });
  const first = s.submit(['a']);
  await s.until(() => s.node(1).durable.decisions.get(first.id)?.decision === 'ABORT', 'node 1 decides ABORT, heard by nobody');
  s.isolate(1);
  t.is(await s.outcome(first.answer), 200, 'the client\'s retries reach the next master, which commits the id');
  t.false(s.record.refused.has(first.id), 'nobody answered it ABORTED');
  const sequence = s.record.acknowledged.get(first.id);
  s.release(decide);
  s.heal();
  await s.until(() => s.isAcceptingWrites(1) && s.state(1).phase === 'serving', 'node 1 leads again');
  t.is(await s.outcome(s.resubmit(first.id, 1)), 200, 'a retry on the returning master hears the commit');
  t.is(s.record.acknowledged.get(first.id), sequence);
  t.deepEqual(await s.settle(), []);
  t.is(s.node(1).node?.coordinator.undelivered_count, 0, 'the superseded abort is no longer re-sent');
});

// Issue 14 item 1: a replica that missed more decisions than one batch may carry (1,024) is
// re-sent them in batches within the limit; a refused batch is not ignored. Before, the
// whole backlog went in one /decide-batch, the replica refused it (400), a commit stuck in
// it was never confirmed, and every later transaction aborted waiting for a sequence.
test('a backlog of more decisions than one batch carries reaches the replica, and the cluster keeps committing', async (t) => {
  const s = await Scenario.start();
  const prepares = s.drop({ to: s.addr(3), label: /^POST \/prepare-batch/ });
  const decisions = s.drop({ to: s.addr(3), label: /^POST \/decide-batch/ });
  const aborted = Array.from({ length: 1_100 }, (_, index) => s.submit([`k${index}`]));
  const answers = await s.outcome(Promise.all(aborted.map(({ answer }) => answer)));
  t.true(answers.every((status) => status === 409), 'node 3 never votes: each aborts');
  t.true((s.node(1).node?.coordinator.undelivered_count ?? 0) > 1_024, 'node 3 owes more than one batch of aborts');
  s.release(prepares);
  const stuck = s.submit(['a']);
  t.is(await s.outcome(stuck.answer), 200, 'a commit node 3 misses joins its backlog');
  s.release(decisions);
  await s.until(() => s.node(1).node?.coordinator.undelivered_count === 0, 'node 3 acknowledges the whole backlog');
  const after = s.submit(['b']);
  t.is(await s.outcome(after.answer), 200, 'the next commit gets a sequence: the backlog was delivered');
  t.deepEqual(await s.settle(), []);
  t.is(s.node(1).node?.coordinator.undelivered_count, 0);
});

// Issue 14 item 15 (a linearizability checker found it): the lowest-address node comes back,
// is named master, and answers a read before its take-over has applied what the previous
// master acknowledged. A master serves reads as current only once its take-over is complete;
// until then it waits (bounded) or marks the read stale, as a catching-up node does.
test('a node named master does not serve a read that misses what the previous master acknowledged', async (t) => {
  const s = await Scenario.start();
  t.is(await s.outcome(s.submit(['a']).answer), 200);
  s.crash(1);
  await s.until(() => s.isAcceptingWrites(2), 'node 2 takes over');
  // Node 1 claims the master role only once node 2 has acknowledged a write node 1 missed.
  const claims = s.hold({ from: s.addr(1), label: /^POST \/cluster\/claim/ });
  s.restart(1);
  await s.until(() => s.node(1).node?.context.state.phase === 'serving', 'node 1 caught up');
  const decisions = s.hold({ to: s.addr(1), label: /^POST \/decide-batch/ });
  const log = s.hold({ from: s.addr(1), label: /^GET \/cluster\/log/ });
  const second = s.submit(['a'], 2);
  t.is(await s.outcome(second.answer), 200, 'node 2 acknowledges a write node 1 has not applied');
  s.release(claims);
  await s.until(() => s.state(1).role === 'MASTER', 'node 1 is named master');
  const read = await s.read('a', 1);
  t.true(read?.body.value === second.id || read?.body.stale === true || read === undefined || read.status >= 500, `a read on the master misses the acknowledged write: ${JSON.stringify(read)}`);
  s.release(decisions);
  s.release(log);
  await s.until(() => s.isAcceptingWrites(1), 'node 1 completes its take-over');
  t.like((await s.read('a', 1))?.body, { value: second.id });
  t.deepEqual(await s.settle(), []);
});

// The simulated world's sick disks (lib/simulation/disk-faults.ts): a replica whose writes
// fail for a while (a full disk) leaves the alive set, the majority keeps committing without
// it, and once the disk recovers it catches up and rejoins by itself.
test('a replica whose disk is full for a while does not stop the majority, and rejoins by itself', async (t) => {
  const s = await Scenario.start();
  s.failDisk(3, 'ENOSPC', 3_000);
  // The first write to meet the sick disk aborts there (ABORT 'storage error'); after that
  // the replica is out of the alive set and the majority commits without it.
  await s.outcome(s.submit(['a']).answer);
  await s.until(() => s.state(1).peers.get(s.addr(3))?.alive === false, 'node 3 is out of the alive set');
  const after = s.submit(['b']);
  t.is(await s.outcome(after.answer), 200, 'the majority commits without the sick replica');
  await s.until(() => s.state(3).phase === 'serving' && s.state(1).peers.get(s.addr(3))?.alive === true, 'node 3 rejoins once its disk recovers');
  t.deepEqual(await s.settle(), []);
  t.is(s.node(3).durable.records.get(after.id)?.state, 'COMMITTED', 'it caught up what it missed');
});

// Chaos disk-error / disk-full once ended `stuck`: a replica that prepared a commit and then
// lost its disk owed the acknowledgement that confirmed the run (both others of three were
// needed), so no later run got a sequence until the disk healed. A majority now suffices, the
// master's own decision counted (lib/two-phase-commit/acknowledgement-quorum.ts).
test('a replica whose disk fails after it prepared a commit does not hold later commits back', async (t) => {
  const s = await Scenario.start();
  const held = s.hold({ from: s.addr(1), to: s.addr(3), label: /^POST \/decide-batch/ });
  const first = s.submit(['a']);
  await s.until(() => s.node(2).durable.records.get(first.id)?.state === 'COMMITTED', 'node 2 applies the commit');
  t.is(s.node(3).durable.records.get(first.id)?.state, 'PREPARED', 'node 3 prepared it and still owes its acknowledgement');
  s.failDisk(3, 'EIO', 8_000);
  s.release(held);
  t.is(await s.outcome(first.answer), 200, 'node 2 applied it: the client has its answer');
  await s.until(() => s.state(1).peers.get(s.addr(3))?.alive === false, 'node 3 is out of the alive set');
  const later = s.submit(['b']);
  t.is(await s.outcome(later.answer), 200, 'the next run gets its sequence while node 3 is sick');
  t.is(s.node(3).durable.records.get(first.id)?.state, 'PREPARED', 'node 3 still could not apply the first');
  await s.until(() => s.state(3).phase === 'serving' && s.state(1).peers.get(s.addr(3))?.alive === true, 'node 3 rejoins once its disk recovers');
  t.deepEqual(await s.settle(), []);
  t.deepEqual([first.id, later.id].map((id) => s.node(3).durable.records.get(id)?.state), ['COMMITTED', 'COMMITTED'], 'it caught up both');
});

// Chaos disk-full once ended `stuck` when the master's disk filled: the new master's claim
// reached it before its own heartbeat stepped it down, so every later heartbeat failed on
// persisting the newer epoch, and it went on naming itself master (/role, 421): clients kept
// asking it, and nothing committed until its disk recovered.
test('a master whose disk fails steps down and sends clients to the master that took over', async (t) => {
  const s = await Scenario.start();
  s.failDisk(1, 'ENOSPC', 6_000);
  await s.outcome(s.submit(['a']).answer);
  await s.until(() => s.isAcceptingWrites(2), 'node 2 takes over');
  await s.advance(1_000);
  t.is(s.state(1).phase, 'store-failed', 'node 1 still cannot persist');
  t.is(s.state(1).role, 'SLAVE');
  t.is(s.state(1).master, s.addr(2), 'node 1 names the new master, not itself');
  t.is(await s.outcome(s.submit(['b'], 1).answer), 200, 'a client that asks node 1 is sent on to node 2, which commits');
  t.deepEqual(await s.settle(), []);
});

test('slow fsyncs on the master slow it down but lose nothing', async (t) => {
  const s = await Scenario.start();
  s.failDisk(1, 'slow-fsync', 2_000, 400);
  const answers = [s.submit(['a']), s.submit(['b'])].map(({ answer }) => answer);
  t.deepEqual(await s.outcome(Promise.all(answers)), [200, 200]);
  t.deepEqual(await s.settle(), []);
});
