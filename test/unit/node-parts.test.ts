import test from 'ava';
import { SequenceTracker } from '../../lib/node/sequence-tracker.ts';
import { LockTable } from '../../lib/node/lock-table.ts';
import { parseFailpointAction } from '../../lib/node/failpoints.ts';
import { KeyedMutex } from '../../lib/util/keyed-mutex.ts';
import { parseMessage, PrepareRequestSchema, SubmitRequestSchema, TransactionIdParamSchema } from '../../lib/protocol/messages.ts';
import { newTimeOrderedId, random_ids } from '../../lib/boot/random-ids.ts';

test('the applied prefix only advances over contiguous sequences', (t) => {
  const tracker = new SequenceTracker([1, 2, 4]);
  t.is(tracker.applied_through, 2);
  t.is(tracker.max_applied, 4);
  t.true(tracker.has(4));
  t.false(tracker.has(3));
  tracker.add(3);
  t.is(tracker.applied_through, 4);
  t.throws(() => tracker.add(0));
});

test('a key shared by several holders stays locked until the last one lets go', (t) => {
  const locks = new LockTable();
  const round = { coordinator: 'n1', epoch: 3 };
  locks.acquire({ transaction_id: 't1', ...round }, ['a', 'b']);
  locks.acquire({ transaction_id: 't2', ...round }, ['b']);
  t.deepEqual(locks.holdersOf('b'), [{ transaction_id: 't1', ...round }, { transaction_id: 't2', ...round }]);
  locks.release('t3');
  t.is(locks.size, 2);
  locks.release('t1');
  t.deepEqual(locks.holdersOf('a'), []);
  t.deepEqual(locks.holdersOf('b'), [{ transaction_id: 't2', ...round }]);
  locks.release('t2');
  t.is(locks.size, 0);
});

test('failpoint actions parse strictly', (t) => {
  t.deepEqual(parseFailpointAction('delay:250'), { kind: 'delay', duration_ms: 250 });
  t.deepEqual(parseFailpointAction('crash'), { kind: 'crash' });
  t.is(parseFailpointAction('delay:-1'), undefined);
  t.is(parseFailpointAction('explode'), undefined);
});

test('tasks on one key run in order, even when one fails', async (t) => {
  const mutex = new KeyedMutex();
  const order: string[] = [];
  const slow = mutex.run('k', async () => {
    await new Promise((r) => setTimeout(r, 20));
    order.push('first');
    throw new Error('boom');
  });
  const fast = mutex.run('k', async () => order.push('second'));
  await t.throwsAsync(slow);
  await fast;
  t.deepEqual(order, ['first', 'second']);
});

test('messages reject bad shapes with a readable reason', (t) => {
  t.true(parseMessage(PrepareRequestSchema, { transaction_id: 'x', payload: { a: 1 } }).ok);
  t.like(parseMessage(PrepareRequestSchema, { transaction_id: 'x' }), { ok: false });
  t.like(parseMessage(SubmitRequestSchema, { payload: [] }), { ok: false, error: 'payload: payload must be a JSON object' });
  t.like(parseMessage(SubmitRequestSchema, { payload: {} }), { ok: false });
  t.like(parseMessage(SubmitRequestSchema, { payload: { ['k'.repeat(257)]: 1 } }), { ok: false });
  t.like(parseMessage(SubmitRequestSchema, JSON.parse('{"payload":{"__proto__":{"x":1}}}')), { ok: false });
  t.like(parseMessage(SubmitRequestSchema, { payload: { a: 1 }, transaction_id: 'bad id/with slash' }), { ok: false });
});

test('a tracker started from a contiguous store knows the prefix without listing it, and grows from there', (t) => {
  const tracker = SequenceTracker.contiguous(1_000_000);
  t.is(tracker.applied_through, 1_000_000);
  t.true(tracker.has(1) && tracker.has(1_000_000));
  t.false(tracker.has(1_000_001));
  tracker.add(1_000_002);
  t.is(tracker.applied_through, 1_000_000);
  tracker.add(1_000_001);
  t.is(tracker.applied_through, 1_000_002);
  t.is(tracker.max_applied, 1_000_002);
});

test("the master's own transaction ids are version 7 UUIDs: valid ids, all distinct, ordered by their millisecond", (t) => {
  const later = newTimeOrderedId(1_764_640_000_001);
  const ids = Array.from({ length: 10_000 }, () => newTimeOrderedId(1_764_640_000_000));
  t.is(new Set(ids).size, ids.length, 'no two alike within one millisecond');
  for (const id of ids.slice(0, 100)) {
    t.regex(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    t.true(parseMessage(TransactionIdParamSchema, { id }).ok);
    t.true(id < later, 'an id of a later millisecond sorts after');
  }
  t.is(ids[0]!.slice(0, 13), '019adcbd-8800', 'the millisecond in the first 48 bits');
  t.regex(random_ids.newTransactionId(), /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
});
