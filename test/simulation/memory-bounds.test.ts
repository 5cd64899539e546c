/**
 * Memory bounded by design: a master holds at most `submissions_queued_max` submissions, and
 * `submissions_queued_max_bytes` of their payloads, waiting for a round; one more is answered 503 at once (nothing of it was prepared, so a client may
 * send it again), and the ones already queued are unaffected. Scripted on the simulation.
 */
import test from 'ava';
import { Scenario } from '../../lib/simulation/scenario.ts';

/**
 * A master running one round at a time (`rounds_in_flight_max` 1) under `limits`, its first
 * round held waiting for node 3's vote and a second submission queued behind it.
 */
async function startWithOneQueued(limits: { readonly submissions_queued_max?: number; readonly submissions_queued_max_bytes?: number }) {
  const s = await Scenario.start({ limits: { rounds_in_flight_max: 1, ...limits } });
  const coordinator = s.node(1).node!.coordinator;
  const hold = s.hold({ from: s.addr(1), to: s.addr(3), label: /^POST \/prepare-batch/ });
  const first = s.submit(['a']);
  await s.until(() => coordinator.isInFlight(first.id), 'the first round is under way');
  const second = s.submit(['b']);
  await s.until(() => coordinator.isInFlight(second.id), 'the second submission is queued');
  return { s, coordinator, hold, first, second };
}

test('a master whose round queue is full answers 503 at once and keeps the queued submissions', async (t) => {
  const { s, coordinator, hold, first, second } = await startWithOneQueued({ submissions_queued_max: 1 });

  const third = await coordinator.submit({ transaction_id: 'over-the-limit', payload: { c: 1 } });
  t.is(third.http_status, 503);
  t.regex('error' in third.body ? third.body.error : '', /master busy: 1 submissions \(\d+ bytes\) already wait/);
  t.false(coordinator.isInFlight('over-the-limit'));

  s.release(hold);
  t.is(await s.outcome(first.answer), 200);
  t.is(await s.outcome(second.answer), 200);
  t.deepEqual(await s.settle(), []);
});

test('a master refuses a submission whose payload would take the queue past its byte limit, and takes smaller ones', async (t) => {
  const { s, coordinator, hold, first, second } = await startWithOneQueued({ submissions_queued_max_bytes: 1_000 });

  const big = await coordinator.submit({ transaction_id: 'too-big', payload: { c: 'x'.repeat(2_000) } });
  t.is(big.http_status, 503);
  t.false(coordinator.isInFlight('too-big'));
  const small = s.submit(['d']);
  await s.until(() => coordinator.isInFlight(small.id), 'a small one still queues');

  s.release(hold);
  t.is(await s.outcome(first.answer), 200);
  t.is(await s.outcome(second.answer), 200);
  t.is(await s.outcome(small.answer), 200);
  t.deepEqual(await s.settle(), []);
});
