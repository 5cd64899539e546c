/**
 * Decisions a coordinator still owes (lib/two-phase-commit/pending-delivery.ts),
 * table-driven: when one is known only here, when it must be masked, what becomes of it
 * after its first delivery, and the sequence floor the master's undelivered commits set.
 */
import test from 'ava';
import { decideAfterFirstDelivery, highestUnappliedSequence, isDelivered, isKnownOnlyHere, isUnappliedElsewhere, type PendingDelivery } from '../../lib/two-phase-commit/pending-delivery.ts';

const commit = (fields: Partial<PendingDelivery> & { epoch?: number; sequence?: number } = {}): PendingDelivery => {
  const { epoch = 2, sequence = 5, ...rest } = fields;
  return { kind: 'commit', message: { transaction_id: 't', sequence, epoch }, addrs: new Set(['b:1']), remote_recipients: 2, remote_acks: 0, local_pending: true, ...rest };
};
const abort = (fields: Partial<PendingDelivery> = {}): PendingDelivery => ({ kind: 'abort', message: { transaction_id: 't', epoch: 2 }, addrs: new Set(['b:1']), remote_recipients: 0, remote_acks: 0, local_pending: true, ...fields });

const table: readonly { readonly rule: string; readonly pending: PendingDelivery; readonly known_only_here: boolean; readonly unapplied_elsewhere: boolean; readonly delivered: boolean }[] = [
  { rule: 'a COMMIT nobody acknowledged and not applied here is known only here, and masked', pending: commit(), known_only_here: true, unapplied_elsewhere: true, delivered: false },
  { rule: 'a COMMIT one other replica applied is no longer known only here, nor masked', pending: commit({ remote_acks: 1, addrs: new Set(['c:1']) }), known_only_here: false, unapplied_elsewhere: false, delivered: false },
  { rule: 'a COMMIT of a cluster of one (no remote recipient) is not masked', pending: commit({ remote_recipients: 0, addrs: new Set() }), known_only_here: true, unapplied_elsewhere: false, delivered: false },
  { rule: 'a COMMIT applied everywhere is delivered', pending: commit({ remote_acks: 2, addrs: new Set(), local_pending: false }), known_only_here: false, unapplied_elsewhere: false, delivered: true },
  { rule: 'an ABORT is never known only here nor masked', pending: abort(), known_only_here: false, unapplied_elsewhere: false, delivered: false },
];

for (const row of table) {
  test(row.rule, (t) => {
    t.is(isKnownOnlyHere(row.pending), row.known_only_here, 'known only here');
    t.is(isUnappliedElsewhere(row.pending), row.unapplied_elsewhere, 'unapplied elsewhere');
    t.is(isDelivered(row.pending), row.delivered, 'delivered');
  });
}

test('after its first delivery a decision applied everywhere is forgotten', (t) => {
  t.deepEqual(decideAfterFirstDelivery(commit({ remote_acks: 2, addrs: new Set(), local_pending: false }), 2), { kind: 'delivered' });
});

test('a coordinator that stopped leading hands a COMMIT known only to it to reconciliation, with the epoch it went out under', (t) => {
  t.deepEqual(decideAfterFirstDelivery(commit(), undefined), { kind: 'hand-off', sequence: 5, sent_epoch: 2 });
});

test('a coordinator that stopped leading keeps re-sending a COMMIT another replica applied', (t) => {
  t.is(decideAfterFirstDelivery(commit({ remote_acks: 1 }), undefined).kind, 'redeliver');
});

// Once seed 382: the participants, now in a newer epoch, refused the round's as stale for ever.
test('a master re-elected during a COMMIT\'s first delivery re-sends it under its current term', (t) => {
  const next = decideAfterFirstDelivery(commit({ epoch: 2 }), 4);
  t.is(next.kind, 'redeliver');
  if (next.kind === 'redeliver') t.is(next.pending.message.epoch, 4);
  const same = decideAfterFirstDelivery(commit({ epoch: 4 }), 4);
  if (same.kind === 'redeliver') t.is(same.pending.message.epoch, 4);
});

// A master that adopted another's newer epoch leads no term: re-sent under that epoch, its
// COMMIT would go out past the epoch its reconciliation counts on participants to refuse.
test('a master that adopted a newer epoch never re-sends a COMMIT under it', (t) => {
  t.deepEqual(decideAfterFirstDelivery(commit({ epoch: 2 }), undefined), { kind: 'hand-off', sequence: 5, sent_epoch: 2 });
  const applied_elsewhere = decideAfterFirstDelivery(commit({ epoch: 2, remote_acks: 1 }), undefined);
  t.is(applied_elsewhere.kind === 'redeliver' ? applied_elsewhere.pending.message.epoch : undefined, 2);
});

test('an undelivered ABORT keeps the epoch it was decided in', (t) => {
  const next = decideAfterFirstDelivery(abort(), 4);
  t.is(next.kind === 'redeliver' ? next.pending.message.epoch : undefined, 2);
});

// Once seeds 2378 and 2746: a COMMIT in its first delivery counted nowhere in max_decided.
test('the highest sequence decided and not applied here counts first deliveries and undelivered commits pending here', (t) => {
  t.is(highestUnappliedSequence(new Map([['x', 7]]), new Map()), 7);
  t.is(highestUnappliedSequence(new Map(), new Map([['t', commit({ sequence: 9 })]])), 9);
  t.is(highestUnappliedSequence(new Map(), new Map([['t', commit({ sequence: 9, local_pending: false })]])), 0, 'applied here: it counts as applied');
  t.is(highestUnappliedSequence(new Map(), new Map([['t', abort()]])), 0);
});
