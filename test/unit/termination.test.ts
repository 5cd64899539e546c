import test from 'ava';
import { reconcileDecision, resolveInDoubt, type PeerAnswer, type UnconfirmedFacts } from '../../lib/two-phase-commit/termination.ts';
import type { TransactionView } from '../../lib/protocol/messages.ts';

const view = (state: TransactionView['state'], extra: Partial<TransactionView> = {}): TransactionView => ({ transaction_id: 't', state, since: 0, ...extra });
const answer = (addr: string, v: TransactionView | undefined): PeerAnswer => ({ addr, view: v });
/** Decision t at sequence 5 of term 2, its COMMIT sent under epoch `sent_epoch`, alone among this node's unconfirmed decisions. */
const facts = (sent_epoch: number, extra: Partial<UnconfirmedFacts> = {}): UnconfirmedFacts => ({
  still_unconfirmed: true,
  sent_epoch,
  sequence: 5,
  sequence_taken_here: false,
  highest_unsettled_other: 0,
  term: 2,
  kept_above: [],
  caught_up: true,
  ...extra,
});

test('anyone committed: commit at their sequence', (t) => {
  t.deepEqual(resolveInDoubt('a', [answer('a', undefined), answer('b', view('COMMITTED', { sequence: 9 }))]), { kind: 'commit', sequence: 9 });
});

test('a coordinator decision of COMMIT not yet applied anywhere still commits', (t) => {
  t.deepEqual(resolveInDoubt('a', [answer('a', view('PREPARED', { decision: 'COMMIT', sequence: 4 }))]), { kind: 'commit', sequence: 4 });
});

test('anyone aborted: abort', (t) => {
  t.deepEqual(resolveInDoubt('a', [answer('a', undefined), answer('b', view('ABORTED'))]), { kind: 'abort' });
});

test('coordinator still collecting votes: wait', (t) => {
  t.like(resolveInDoubt('a', [answer('a', view('INIT', { in_flight: true }))]), { kind: 'wait' });
});

test('a reachable participant that never prepared is fenced with an abort', (t) => {
  t.deepEqual(resolveInDoubt('a', [answer('a', undefined), answer('c', view('UNKNOWN'))]), { kind: 'fence', addrs: ['c'] });
});

test('a coordinator that answers without a decision or a round lost it: presumed abort', (t) => {
  t.deepEqual(resolveInDoubt('a', [answer('a', view('PREPARED', { in_flight: false })), answer('b', view('PREPARED'))]), { kind: 'abort' });
});

// Found by the simulation (seed 137 of its first sweep): a restarted coordinator presumed
// abort for its lost round while a later master, unreachable from it, committed a retry of
// the same id.
test('a coordinator without a decision does not presume abort while some member is silent', (t) => {
  t.like(resolveInDoubt('a', [answer('a', view('PREPARED', { in_flight: false })), answer('b', view('PREPARED')), answer('c', undefined)]), { kind: 'wait' });
});

test('coordinator unreachable and everyone else prepared: the blocking window, wait', (t) => {
  t.like(resolveInDoubt('a', [answer('a', undefined), answer('b', view('PREPARED')), answer('c', view('PREPARED'))]), { kind: 'wait' });
});

test('a restarted coordinator commits an unapplied decision someone else applied', (t) => {
  t.deepEqual(reconcileDecision([answer('b', view('PREPARED')), answer('c', view('COMMITTED', { sequence: 7 }))], facts(2)), { kind: 'commit', sequence: 7 });
});

const prepared_at = (enforced_epoch: number) => view('PREPARED', { enforced_epoch });

test('a restarted coordinator withdraws a decision nobody applied once everyone answered, each refusing the epoch it was sent under', (t) => {
  t.deepEqual(reconcileDecision([answer('b', prepared_at(3)), answer('c', prepared_at(4))], facts(2)), { kind: 'withdraw' });
  t.deepEqual(reconcileDecision([answer('b', view('ABORTED')), answer('c', undefined)], facts(2)), { kind: 'withdraw' });
});

// Once seed 15663: every participant answered PREPARED while a COMMIT sent before the crash
// was held in the network; withdrawn, then applied on arrival.
test('a restarted coordinator does not withdraw while a participant still takes messages of the epoch its COMMIT went out under', (t) => {
  t.like(reconcileDecision([answer('b', prepared_at(2)), answer('c', prepared_at(3))], facts(2)), { kind: 'wait' });
  t.like(reconcileDecision([answer('b', prepared_at(3)), answer('c', prepared_at(3))], facts(3)), { kind: 'wait' }, 're-sent under a later term: that term counts');
  t.like(reconcileDecision([answer('b', prepared_at(3)), answer('c', view('PREPARED'))], facts(2)), { kind: 'wait' }, 'an answer without an epoch rules nothing out');
});

// Once seed 27331: of one run at sequences 2 and 3, a pass withdrew 2 (its answers in) while 3
// waited for a silent participant; the take-over adopted 3, and sequence 2 stayed a hole.
test('a restarted coordinator withdraws its decisions from the highest sequence down', (t) => {
  const fenced = [answer('b', prepared_at(3)), answer('c', prepared_at(3))];
  t.like(reconcileDecision(fenced, facts(2, { highest_unsettled_other: 6 })), { kind: 'wait' }, 'one above it is unsettled');
  t.deepEqual(reconcileDecision(fenced, facts(2, { highest_unsettled_other: 4 })), { kind: 'withdraw' }, 'only ones below it are');
  t.deepEqual(reconcileDecision(fenced, facts(2, { highest_unsettled_other: 6, sequence_taken_here: true })), { kind: 'withdraw' }, 'its sequence is taken here: no hole');
});

test('a restarted coordinator commits, never withdraws, a decision below one it kept', (t) => {
  t.deepEqual(reconcileDecision([answer('b', prepared_at(3)), answer('c', prepared_at(3))], facts(2, { kept_above: [{ sequence: 6, term: 2 }] })), { kind: 'commit', sequence: 5 });
  t.deepEqual(reconcileDecision([answer('b', prepared_at(2)), answer('c', prepared_at(2))], facts(2, { kept_above: [{ sequence: 6, term: 2 }] })), { kind: 'commit', sequence: 5 }, 'a late copy commits it too');
  t.like(reconcileDecision([answer('b', prepared_at(3)), answer('c', undefined)], facts(2, { kept_above: [{ sequence: 6, term: 2 }] })), { kind: 'wait' }, 'a silent participant may have applied it at that sequence: ask again');
  t.deepEqual(reconcileDecision([answer('b', view('ABORTED')), answer('c', prepared_at(3))], facts(2, { kept_above: [{ sequence: 6, term: 2 }] })), { kind: 'withdraw' }, 'aborted elsewhere: the cluster settled it');
});

test('a sequence above it of another term (another master\'s, or learnt) does not make it commit: that term may have given its number away', (t) => {
  const fenced = [answer('b', prepared_at(3)), answer('c', prepared_at(3))];
  t.deepEqual(reconcileDecision(fenced, facts(2, { kept_above: [{ sequence: 6, term: 3 }] })), { kind: 'withdraw' }, 'a later term of this node');
  t.deepEqual(reconcileDecision(fenced, facts(2, { kept_above: [{ sequence: 6, term: undefined }] })), { kind: 'withdraw' }, 'not decided here');
  t.deepEqual(reconcileDecision(fenced, facts(2, { kept_above: [{ sequence: 4, term: 2 }] })), { kind: 'withdraw' }, 'below it');
  t.deepEqual(reconcileDecision(fenced, facts(2, { kept_above: [{ sequence: 6, term: undefined }, { sequence: 7, term: 2 }] })), { kind: 'commit', sequence: 5 }, 'one of its own term counts');
});

test('a restarted coordinator waits while a participant that may have applied it is silent', (t) => {
  t.like(reconcileDecision([answer('b', prepared_at(3)), answer('c', undefined)], facts(2)), { kind: 'wait' });
});

test('a reconcile pass whose decision was settled or adopted while it asked acts on nothing, whatever the answers', (t) => {
  for (const answers of [[answer('b', prepared_at(3)), answer('c', prepared_at(3))], [answer('b', view('COMMITTED', { sequence: 7 }))], [answer('b', view('ABORTED'))]]) {
    t.like(reconcileDecision(answers, facts(2, { still_unconfirmed: false })), { kind: 'skip' });
  }
});

// Found by the simulation (seed 207 of its third sweep): termination asks every member, and a
// member outside the round that never saw the transaction was fenced, aborting a COMMIT.
// A repair wiped the replica's committed log (TwopcNode.repair): its UNKNOWN may be a commit it
// applied. Until its catch-up ends it is heard as silent (heardAnswer), never fenced.
test('a replica whose log a repair wiped is not fenced as never having prepared: it is heard as silent', (t) => {
  const wiped = answer('c', view('UNKNOWN', { log_reset: true }));
  t.like(resolveInDoubt('a', [answer('a', undefined), answer('b', view('PREPARED')), wiped]), { kind: 'wait' });
  t.like(resolveInDoubt('a', [answer('a', view('PREPARED', { in_flight: false })), answer('b', view('PREPARED')), wiped]), { kind: 'wait' }, 'no presumed abort either: not everyone answered');
  t.deepEqual(resolveInDoubt('a', [answer('a', undefined), answer('c', view('UNKNOWN'))]), { kind: 'fence', addrs: ['c'] }, 'once caught up, its UNKNOWN is a fact again');
});

// Its catch-up done, a repaired replica answers again, but its UNKNOWN for a round of an epoch
// it may have forgotten (`forgot_through_epoch`) is no "never prepared": once a commit
// acknowledged by a master that then crashed, whose only other copy the repair wiped.
test('a repaired replica is not fenced for a round of an epoch it may have forgotten, and is for a later one', (t) => {
  const repaired = answer('c', view('UNKNOWN', { forgot_through_epoch: 3 }));
  const coordinator_down = answer('a', undefined);
  t.like(resolveInDoubt('a', [coordinator_down, answer('b', view('PREPARED')), repaired], undefined, 3), { kind: 'wait' });
  t.deepEqual(resolveInDoubt('a', [coordinator_down, answer('b', view('PREPARED')), repaired], undefined, 4), { kind: 'fence', addrs: ['c'] }, 'a round after its repair: its UNKNOWN is a fact');
  t.deepEqual(resolveInDoubt('a', [coordinator_down, answer('c', view('COMMITTED', { sequence: 7, forgot_through_epoch: 3 }))], undefined, 3), { kind: 'commit', sequence: 7 }, 'what it learnt again it tells');
  t.deepEqual(resolveInDoubt('a', [answer('a', view('PREPARED', { in_flight: false })), answer('b', view('PREPARED')), repaired], undefined, 3), { kind: 'abort' }, 'a coordinator that answers without a decision never decided COMMIT: presumed abort, the repaired replica counted as an answer');
});

test('a member outside the round that never saw the transaction is not fenced', (t) => {
  const answers = [answer('a', undefined), answer('b', view('PREPARED')), answer('d', view('UNKNOWN'))];
  t.like(resolveInDoubt('a', answers, ['a', 'b']), { kind: 'wait' });
  t.deepEqual(resolveInDoubt('a', answers, ['a', 'b', 'd']), { kind: 'fence', addrs: ['d'] });
});
