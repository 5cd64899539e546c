/**
 * Scripted situations on the simulation (lib/simulation/scenario.ts): each rebuilds, step by
 * step, a situation a sweep once found (or a rule needs), on the node's real services, and
 * checks the rule it is named for. No seed number: the script is the situation.
 */
import test from 'ava';
import { Scenario } from '../../lib/simulation/scenario.ts';

test('an acknowledged commit is on every replica, also after its master crashes at once', async (t) => {
  const s = await Scenario.start();
  const first = s.submit(['a']);
  t.is(await s.outcome(first.answer), 200);
  s.crash(1);
  const second = s.submit(['a'], 2);
  t.is(await s.outcome(second.answer), 200);
  t.deepEqual(await s.settle(), []);
  t.is(s.record.acknowledged.get(first.id), 1);
  t.is(s.record.acknowledged.get(second.id), 2);
});

// Once found by seed 191 (before aea0d7b): a deposed master's COMMIT applied by one replica
// whose acknowledgement was lost, that replica then unreachable: the new master must not hand
// the same sequence to another transaction (max_decided in health reports).
test('a new master does not reuse the sequence of a deposed master\'s unconfirmed COMMIT that an unreachable replica applied', async (t) => {
  const s = await Scenario.start();
  s.crash(1);
  await s.until(() => s.isAcceptingWrites(2), 'node 2 accepts writes');
  s.drop({ from: s.addr(3), to: s.addr(2), label: /^answer \/decide-batch/ });
  const first = s.submit(['a'], 2);
  await s.until(() => s.node(3).durable.listCommitted().length === 1, 'node 3 applies the commit');
  const sequence = s.node(3).durable.listCommitted()[0]?.sequence;
  s.crash(3);
  s.restart(1);
  await s.advance(3_000);
  s.restart(3);
  await s.until(() => s.isAcceptingWrites(1), 'node 1 takes over');
  const second = s.submit(['b'], 1);
  await s.advance(5_000);
  t.not(s.record.acknowledged.get(second.id), sequence);
  t.deepEqual(await s.settle(), []);
  t.not(await s.outcome(first.answer), 409);
});
