/**
 * The sequence gate (lib/node/sequencer.ts) on its own: one unconfirmed run at a time, the
 * run's size asked as the gate opens, and a run a new term holds ahead of every wait begun
 * before it.
 */
import test from 'ava';
import { Sequencer } from '../../lib/node/sequencer.ts';
import type { NodeState } from '../../lib/node/context.ts';

function createSequencer(max_sequence = 0): { readonly sequencer: Sequencer; readonly state: { max_sequence: number } } {
  const state = { max_sequence };
  return { sequencer: new Sequencer(state as NodeState), state };
}

/** Whether `promise` has settled once every pending microtask ran. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
  return settled;
}

test('the next run is reserved only once the previous is confirmed, sized by what waits as the gate opens', async (t) => {
  const { sequencer } = createSequencer();
  const first = await sequencer.reserveWhenOpen(() => 2);
  t.deepEqual([first?.first, first?.count], [1, 2]);
  let waiting = 1;
  const next = sequencer.reserveWhenOpen(() => waiting);
  t.false(await isSettled(next), 'the first run is not confirmed yet');
  waiting = 3; // more rounds joined meanwhile
  first!.confirm();
  const second = await next;
  t.deepEqual([second?.first, second?.count], [3, 3]);
});

test('a gate that opens on nothing reserves nothing and passes the turn', async (t) => {
  const { sequencer, state } = createSequencer(4);
  t.is(await sequencer.reserveWhenOpen(() => 0), undefined);
  t.is(state.max_sequence, 4);
  const next = await sequencer.reserveWhenOpen(() => 1);
  t.is(next?.first, 5);
});

test('a cancelled run gives its numbers back', async (t) => {
  const { sequencer, state } = createSequencer();
  const run = await sequencer.reserveWhenOpen(() => 3);
  run!.cancel();
  t.is(state.max_sequence, 0);
  t.is((await sequencer.reserveWhenOpen(() => 1))?.first, 1);
});

test('a wait begun before a new term held a run reserves nothing: the next reservation comes after the held run is confirmed', async (t) => {
  const { sequencer, state } = createSequencer();
  const old_run = await sequencer.reserveWhenOpen(() => 1);
  let asked = false;
  const old_wait = sequencer.reserveWhenOpen(() => {
    asked = true;
    return 2;
  });
  // A new term takes over sequences 2..3, decided in an earlier one and never confirmed.
  state.max_sequence = 3;
  const held = sequencer.hold(2, 2);
  old_run!.confirm();
  t.is(await old_wait, undefined, 'the wait begun before the hold reserves nothing');
  t.false(asked, 'and never asks how many wait');
  const next = sequencer.reserveWhenOpen(() => 1);
  t.false(await isSettled(next), 'the held run is not confirmed yet');
  held.confirm();
  t.is((await next)?.first, 4);
});
