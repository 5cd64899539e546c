/**
 * Rounds waiting at the sequence gate share one decision stage (lib/node/coordinator-service.ts,
 * rule lib/two-phase-commit/run-formation.ts): when the previous run is confirmed, every
 * round whose votes are in takes its part of one run, in the order the rounds started, and
 * its decisions go out with the others' in one `/decide-batch` per peer. Scripted on the
 * simulation's real services.
 */
import test from 'ava';
import { Scenario } from '../../lib/simulation/scenario.ts';

const decide_batch = /^POST \/decide-batch/;

test('rounds waiting for the sequence gate share one run, numbered in the order the rounds started, and one /decide-batch per peer', async (t) => {
  const s = await Scenario.start({ limits: { prepare_timeout_ms: 5_000, decision_timeout_ms: 5_000 } });
  const prepared = (n: number, id: string) => s.node(n).durable.records.get(id)?.state === 'PREPARED';
  // The first run stays unconfirmed: neither slave hears its decision yet.
  const first_to_2 = s.hold({ from: s.addr(1), to: s.addr(2), label: decide_batch });
  const first_to_3 = s.hold({ from: s.addr(1), to: s.addr(3), label: decide_batch });
  const first = s.submit(['k']);
  await s.until(() => first_to_2.held.length === 1 && first_to_3.held.length === 1, 'the first run is decided and its delivery held');

  // Round 2's votes come in last: node 3's vote on it is held until round 3's votes are in.
  const late_vote = s.hold({ from: s.addr(1), to: s.addr(3), label: /^POST \/prepare-batch/, times: 1 });
  const second = s.submit(['k']);
  await s.until(() => prepared(2, second.id), 'round 2 is prepared on node 2');
  const third = s.submit(['k']);
  await s.until(() => prepared(2, third.id) && prepared(3, third.id), 'round 3 is prepared everywhere');
  await s.advance(20);
  s.release(late_vote);
  await s.until(() => prepared(3, second.id), 'round 2 is prepared on node 3');
  await s.advance(20);
  t.is(s.node(1).durable.decisions.get(second.id), undefined, 'round 2 waits at the gate');
  t.is(s.node(1).durable.decisions.get(third.id), undefined, 'round 3 waits at the gate');

  // The first run is confirmed: rounds 2 and 3 share the next one.
  const shared_to_2 = s.hold({ from: s.addr(1), to: s.addr(2), label: decide_batch });
  s.release(first_to_2);
  s.release(first_to_3);
  await s.until(() => s.node(1).durable.decisions.has(second.id) && s.node(1).durable.decisions.has(third.id), 'rounds 2 and 3 are decided');
  await s.advance(20);
  t.is(shared_to_2.held.length, 1, 'one /decide-batch to node 2 carries both rounds');
  s.release(shared_to_2);
  t.is(await s.outcome(first.answer), 200);
  t.is(await s.outcome(second.answer), 200);
  t.is(await s.outcome(third.answer), 200);
  t.is(s.record.acknowledged.get(first.id), 1);
  t.is(s.record.acknowledged.get(second.id), 2, 'the earlier round takes the lower sequence though its votes came in last');
  t.is(s.record.acknowledged.get(third.id), 3);
  t.deepEqual(await s.settle(), []);
  for (const n of [1, 2, 3]) t.is(s.node(n).durable.kv.get('k')?.value, third.id, `node ${n} keeps the write of the round submitted last`);
});

test('a round that waits at the gate longer than a prepare may gets no sequence, and the next run has no gap', async (t) => {
  const s = await Scenario.start();
  const { prepare_timeout_ms } = s.node(1).node!.context.limits;
  const held = s.hold({ from: s.addr(1), label: decide_batch });
  const first = s.submit(['a']);
  await s.until(() => held.held.length === 2, 'the first run is decided and its delivery held');
  const second = s.submit(['b']);
  await s.until(() => s.node(3).durable.records.get(second.id)?.state === 'PREPARED', 'the second round is prepared');
  await s.advance(prepare_timeout_ms + 50);
  const decision = s.node(1).durable.decisions.get(second.id);
  t.is(decision?.decision, 'ABORT', 'its wait timed out: ABORT');
  t.is(decision?.sequence, undefined, 'nothing was reserved for it');
  s.release(held);
  t.is(await s.outcome(first.answer), 200);
  const third = s.submit(['b']);
  t.is(await s.outcome(third.answer), 200);
  t.is(s.record.acknowledged.get(third.id), 2, 'the next run starts right after the first');
  t.deepEqual(await s.settle(), []);
});
