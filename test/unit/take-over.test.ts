/**
 * What a new master decides before it accepts writes (lib/cluster/take-over.ts), table-driven:
 * the sequence floor, where its term starts, whose unsettled decision it waits for, the split
 * of its own unconfirmed decisions and what becomes of the adopted ones, and which in-doubt
 * rounds it cannot resolve yet.
 */
import test from 'ava';
import { decideAdopted, findUnsettledDecision, type DecisionWitness, isUnknowableRound, knownMaxApplied, listUnknowableRounds, splitForTakeOver, startOfTerm, type AdoptedFate, type InDoubtRound, type Leadership, type TakeOverSplit, type UnconfirmedAtTakeOver } from '../../lib/cluster/take-over.ts';
import type { PeerReport } from '../../lib/cluster/membership.ts';

const report = (fields: Partial<PeerReport>): PeerReport => ({ role: 'SLAVE', epoch: 1, phase: 'serving', last_sequence: 0, max_sequence: 0, master: undefined, ...fields });

const floor_table: readonly { readonly rule: string; readonly own: number; readonly granted: number; readonly reports: (PeerReport | undefined)[]; readonly floor: number }[] = [
  { rule: 'the floor is the highest sequence anyone is known to have applied', own: 3, granted: 0, reports: [report({ last_sequence: 5 }), report({ last_sequence: 4 })], floor: 5 },
  { rule: 'a sequence applied above a gap counts (max_applied), not only the contiguous prefix', own: 3, granted: 0, reports: [report({ last_sequence: 4, max_applied: 7 })], floor: 7 },
  // Once seeds 69 and 223: a deposed master's withdrawn reservation, learnt as used, left a hole.
  { rule: 'a peer\'s reservations (max_sequence) do not raise the floor: an unconfirmed run is withdrawn and its numbers reused', own: 2, granted: 0, reports: [report({ role: 'MASTER', last_sequence: 2, max_sequence: 9 })], floor: 2 },
  // Once seed 4586: the granters had applied 5 and 6, their heartbeats never arrived.
  { rule: 'what the granters of the epoch applied is a floor even without a report from them', own: 4, granted: 6, reports: [undefined, report({ last_sequence: 4 })], floor: 6 },
  { rule: 'an old report of a peer that does not answer now still counts: applied stays applied', own: 1, granted: 0, reports: [report({ last_sequence: 8 })], floor: 8 },
  { rule: 'with no reports the floor is what this node applied', own: 2, granted: 0, reports: [], floor: 2 },
];

for (const row of floor_table) {
  test(row.rule, (t) => {
    t.is(knownMaxApplied(row.own, row.granted, row.reports), row.floor);
  });
}

// Once seeds 49 and 2746: a re-elected master reused the sequence of its own unconfirmed COMMIT,
// or of one still in its first delivery.
test('a new term starts above everything applied, above this node\'s own undelivered or unconfirmed decisions, and above adopted ones', (t) => {
  t.is(startOfTerm(5, 0, []), 5);
  t.is(startOfTerm(5, 7, []), 7, 'its own decision at 7 still being delivered');
  t.is(startOfTerm(5, 0, [6, 8]), 8, 'adopted decisions at 6 and 8');
});

// Once seeds 191 and 2378: a deposed master's COMMIT, applied only by a replica the new master
// cannot reach, had its sequence handed out again.
const witness = (addr: string, fields: Partial<DecisionWitness>): DecisionWitness => ({ addr, reachable: true, fresh_report: report({}), granted_decided: undefined, ...fields });

test('a new master waits for a reachable peer holding an unsettled decision above its sequences, and only for that', (t) => {
  t.deepEqual(findUnsettledDecision(2, [witness('c:1', {}), witness('b:1', { fresh_report: report({ max_decided: 3 }) })]), { addr: 'b:1', max_decided: 3 });
  t.is(findUnsettledDecision(3, [witness('b:1', { fresh_report: report({ max_decided: 3 }) })]), undefined, 'a decision at or below the start of the term is no threat');
  t.is(findUnsettledDecision(2, [witness('c:1', { fresh_report: report({ max_decided: 0 }) })]), undefined);
});

// Once seed 11148: the new master's only report of the deposed master predated its decision
// (heartbeats stalled on a slow disk), the take-over's probe missed, and the stale
// `max_decided` 0 let the term hand out the sequence a crashed replica had applied.
test('a new master counts only reports asked for after it won its term, and its granters\' unsettled decisions until they report again', (t) => {
  t.deepEqual(findUnsettledDecision(4, [witness('b:1', { fresh_report: undefined })]), { addr: 'b:1', max_decided: undefined }, 'reachable, not heard from since: wait');
  t.is(findUnsettledDecision(4, [witness('b:1', { fresh_report: undefined, reachable: false })]), undefined, 'unreachable and its grant held nothing: no wait');
  t.deepEqual(findUnsettledDecision(4, [witness('b:1', { fresh_report: undefined, reachable: false, granted_decided: 5 })]), { addr: 'b:1', max_decided: 5 }, 'its grant held decision 5: wait, even unreachable');
  t.is(findUnsettledDecision(4, [witness('b:1', { fresh_report: report({ max_decided: 0 }), granted_decided: 5 })]), undefined, 'a current report shows it settled since');
  t.is(findUnsettledDecision(5, [witness('b:1', { fresh_report: undefined, reachable: false, granted_decided: 5 })]), undefined, 'at or below the start of the term');
});

const commit_at_4: UnconfirmedAtTakeOver['decision'] = { decision: 'COMMIT', sequence: 4 };
const unconfirmed = (fields: Partial<UnconfirmedAtTakeOver>): UnconfirmedAtTakeOver => ({ decision: commit_at_4, applied_here: false, sequence_taken_here: false, still_unconfirmed: true, ...fields });

const split_table: readonly { readonly rule: string; readonly known: UnconfirmedAtTakeOver; readonly known_max_applied: number; readonly split: TakeOverSplit['kind'] }[] = [
  { rule: 'a decision above everything known applied is adopted: the new term finishes it at its own sequence', known: unconfirmed({}), known_max_applied: 3, split: 'adopt' },
  // Once seed 15663's rule: a copy of the COMMIT may still reach a participant reconciliation could not rule out.
  { rule: 'a decision whose sequence another transaction took here is left to reconciliation, never withdrawn by the take-over', known: unconfirmed({ sequence_taken_here: true }), known_max_applied: 4, split: 'wait' },
  { rule: 'a decision whose sequence is taken here is not adopted even when above the floor', known: unconfirmed({ sequence_taken_here: true }), known_max_applied: 2, split: 'wait' },
  // Once seed 9701: the stale report was of the participant that applied this very decision.
  { rule: 'a decision whose sequence only an unreachable peer\'s stale report shows applied stays unconfirmed', known: unconfirmed({}), known_max_applied: 4, split: 'wait' },
  { rule: 'a decision applied here meanwhile (catch-up brought it) is settled', known: unconfirmed({ applied_here: true }), known_max_applied: 3, split: 'settled' },
  { rule: 'a decision withdrawn meanwhile is settled', known: unconfirmed({ decision: undefined }), known_max_applied: 3, split: 'settled' },
  { rule: 'a decision a concurrent reconcile pass claimed is left to that pass', known: unconfirmed({ still_unconfirmed: false }), known_max_applied: 3, split: 'settled' },
];

for (const row of split_table) {
  test(row.rule, (t) => {
    t.is(splitForTakeOver(row.known, row.known_max_applied).kind, row.split);
  });
}

// Once seed 19190: a take-over that lost its term while reconciling re-sent what it adopted
// under the epoch it had granted another node; refused by every participant, for ever.
const adopted_table: readonly { readonly rule: string; readonly now: Leadership; readonly fate: AdoptedFate['kind'] }[] = [
  { rule: 'adopted decisions are re-sent under the term that adopted them while this node leads it', now: { role: 'MASTER', epoch: 4, term: 4 }, fate: 'redrive' },
  { rule: 'a take-over that stepped down while it awaited gives what it adopted back to reconciliation', now: { role: 'SLAVE', epoch: 5, term: undefined }, fate: 'give-back' },
  { rule: 'a take-over whose epoch was passed (not stepped down yet) gives what it adopted back', now: { role: 'MASTER', epoch: 5, term: 4 }, fate: 'give-back' },
  { rule: 'a take-over superseded by a newer term of this same node gives back: that term settles them itself', now: { role: 'MASTER', epoch: 6, term: 6 }, fate: 'give-back' },
];

for (const row of adopted_table) {
  test(row.rule, (t) => {
    const fate = decideAdopted(4, row.now);
    t.is(fate.kind, row.fate);
    if (fate.kind === 'redrive') t.is(fate.epoch, 4, 'never an epoch this node does not lead');
  });
}

const here = 'a:1';
const round: InDoubtRound = { transaction_id: 't', coordinator: 'b:1', participants: ['a:1', 'b:1', 'c:1', 'd:1'] };
const reachable = (...addrs: string[]) => (addr: string) => addrs.includes(addr);

const unknowable_table: readonly { readonly rule: string; readonly round: InDoubtRound; readonly holder: string; readonly isReachable: (addr: string) => boolean; readonly unknowable: boolean }[] = [
  // Once chaos partition-2-3: the old master cut off with the only replicas that applied its last round.
  { rule: 'a round whose coordinator and another participant are both unreachable may be committed where this node cannot see: unknowable', round, holder: here, isReachable: reachable('d:1'), unknowable: true },
  { rule: 'a round whose coordinator answers can be resolved', round, holder: here, isReachable: reachable('b:1'), unknowable: false },
  { rule: 'a round where only the coordinator is silent can be resolved: it applies its own commit last', round, holder: here, isReachable: reachable('c:1', 'd:1'), unknowable: false },
  { rule: 'a round this node coordinated is its own to settle', round: { ...round, coordinator: here }, holder: here, isReachable: reachable(), unknowable: false },
  { rule: 'a round without a coordinator (prepared by hand) is not waited for', round: { transaction_id: 't', participants: round.participants }, holder: here, isReachable: reachable(), unknowable: false },
  { rule: 'the holder itself does not count as a silent participant', round: { ...round, participants: ['b:1', 'c:1'] }, holder: 'c:1', isReachable: reachable('c:1'), unknowable: false },
];

for (const row of unknowable_table) {
  test(row.rule, (t) => {
    t.is(isUnknowableRound(row.round, row.holder, here, row.isReachable), row.unknowable);
  });
}

// A repair wiped c's log after it applied a round of epoch 3 (then caught up from a peer
// that had not): c answers, but cannot tell whether it applied it (forgot through epoch 3).
test('a participant that a repair may have made forget the round counts as silent, for rounds of the epochs it forgot only', (t) => {
  const forgot = (addr: string) => (addr === 'c:1' ? 3 : undefined);
  t.true(isUnknowableRound({ ...round, epoch: 3 }, here, here, reachable('c:1', 'd:1'), forgot));
  t.false(isUnknowableRound({ ...round, epoch: 4 }, here, here, reachable('c:1', 'd:1'), forgot), 'a round after its repair it answers for');
  t.true(isUnknowableRound(round, here, here, reachable('c:1', 'd:1'), forgot), 'a round of unknown epoch may be one it forgot');
  t.false(isUnknowableRound({ ...round, epoch: 3 }, here, here, reachable('c:1', 'd:1')), 'never repaired: it answers');
});

test('the unknowable rounds of every holder are listed once each', (t) => {
  const held = [
    { holder: here, rounds: [round] },
    { holder: 'd:1', rounds: [round, { ...round, transaction_id: 'u', coordinator: 'd:1' }] },
  ];
  t.deepEqual(listUnknowableRounds(held, here, reachable('d:1')), ['t']);
});
