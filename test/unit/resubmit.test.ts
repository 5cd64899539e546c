/**
 * The resubmit answer table (lib/two-phase-commit/resubmit.ts): what a submit of an id this
 * master already knows gets, in every state the id can be in, with the same writes and with
 * other writes.
 */
import test from 'ava';
import { answerKnown, answerWhileInFlight, type KnownTransaction, type ResubmitAnswer } from '../../lib/two-phase-commit/resubmit.ts';

const writes = { k: 'v', n: 1 };
const same_writes_reordered = { n: 1, k: 'v' };
const other_writes = { k: 'other' };
const participants = ['a:1', 'b:1'];

const table: readonly { readonly state: string; readonly known: KnownTransaction; readonly same: ResubmitAnswer; readonly other: ResubmitAnswer }[] = [
  { state: 'unknown here', known: {}, same: { kind: 'new-round' }, other: { kind: 'new-round' } },
  {
    state: 'committed by this coordinator',
    known: { decision: { decision: 'COMMIT', sequence: 4, participants }, record: { state: 'COMMITTED', payload: writes, sequence: 4, participants } },
    same: { kind: 'committed', sequence: 4, participants },
    other: { kind: 'refuse-reused-id' },
  },
  {
    state: 'committed here as a participant (another master decided it)',
    known: { record: { state: 'COMMITTED', payload: writes, sequence: 9, participants } },
    same: { kind: 'committed', sequence: 9, participants },
    other: { kind: 'refuse-reused-id' },
  },
  {
    // Final only once a majority remembers it, and a later master may have committed a retry.
    state: 'aborted by this coordinator after preparing it here',
    known: { decision: { decision: 'ABORT', participants }, record: { state: 'ABORTED', payload: writes, participants } },
    same: { kind: 'ask-cluster' },
    other: { kind: 'refuse-reused-id' },
  },
  {
    state: 'aborted here as a participant',
    known: { record: { state: 'ABORTED', payload: writes } },
    same: { kind: 'ask-cluster' },
    other: { kind: 'refuse-reused-id' },
  },
  {
    // A remembered abort holds no writes to compare: the id's outcome is ABORTED either way.
    state: 'an abort remembered before any prepare arrived',
    known: { record: { state: 'ABORTED' } },
    same: { kind: 'ask-cluster' },
    other: { kind: 'ask-cluster' },
  },
  {
    // Issue 14 item 13: its own ABORT of an earlier round, superseded by a later master's commit of the retry.
    state: 'aborted by this coordinator, then committed here by a later round of the id',
    known: { decision: { decision: 'ABORT', participants }, record: { state: 'COMMITTED', payload: writes, sequence: 16, participants } },
    same: { kind: 'committed', sequence: 16, participants },
    other: { kind: 'refuse-reused-id' },
  },
  {
    state: 'in doubt here (prepared, no decision)',
    known: { record: { state: 'PREPARED', payload: writes, participants } },
    same: { kind: 'in-doubt' },
    other: { kind: 'refuse-reused-id' },
  },
  {
    // Its own COMMIT decision not applied here yet: reconciliation may still withdraw it.
    state: 'in doubt here although this coordinator decided COMMIT',
    known: { decision: { decision: 'COMMIT', sequence: 5, participants }, record: { state: 'PREPARED', payload: writes, participants } },
    same: { kind: 'in-doubt' },
    other: { kind: 'refuse-reused-id' },
  },
];

for (const row of table) {
  test(`a resubmit of an id ${row.state}: the same writes get ${row.same.kind}, other writes get ${row.other.kind}`, (t) => {
    t.deepEqual(answerKnown(row.known, writes), row.same);
    t.deepEqual(answerKnown(row.known, same_writes_reordered), row.same, 'key order does not make writes other');
    t.deepEqual(answerKnown(row.known, other_writes), row.other);
  });
}

test('a resubmit while the id\'s round is in flight joins it with the same writes and is refused with other writes', (t) => {
  t.deepEqual(answerWhileInFlight(writes, same_writes_reordered), { kind: 'join' });
  t.deepEqual(answerWhileInFlight(writes, other_writes), { kind: 'refuse-reused-id' });
  t.deepEqual(answerWhileInFlight(writes, { ...writes, extra: null }), { kind: 'refuse-reused-id' }, 'a delete is a write too');
});
