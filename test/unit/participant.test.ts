import test from 'ava';
import { checkOrigin, prepared_by_another_round_error, stepAbort, stepCommit, stepLearn, stepPrepare, type LearnStep, type ParticipantView } from '../../lib/two-phase-commit/participant.ts';
import { epoch_claim_lead_max } from '../../lib/protocol/messages.ts';
import type { ParticipantState } from '../../lib/protocol/states.ts';

const free: ParticipantView = { epoch: 3, phase: 'serving', state: undefined, lockHolders: () => [], isMember: (addr) => addr !== 'outsider:1' };
const prepare = { transaction_id: 't1', payload: { a: 1, b: null }, epoch: 3 };

test('a fresh prepare on free keys takes the locks in key order, then votes READY', (t) => {
  t.deepEqual(stepPrepare(free, prepare), { kind: 'prepare', keys: ['a', 'b'] });
});

test('a prepare touching a key another round\'s prepared transaction holds votes ABORT conflict at once', (t) => {
  const view = { ...free, lockHolders: (key: string) => (key === 'b' ? [{ transaction_id: 'other', coordinator: 'old-master:1', epoch: 2 }] : []) };
  t.deepEqual(stepPrepare(view, { ...prepare, coordinator: 'master:1' }), { kind: 'answer', response: { status: 'ABORT', reason: 'conflict', key: 'b' } });
});

test('a prepare touching a key a transaction of the same master and epoch holds shares it (blind writes, ordered by sequence)', (t) => {
  const view = { ...free, lockHolders: (key: string) => (key === 'b' ? [{ transaction_id: 'earlier', coordinator: 'master:1', epoch: 3 }] : []) };
  t.deepEqual(stepPrepare(view, { ...prepare, coordinator: 'master:1' }), { kind: 'prepare', keys: ['a', 'b'] });
});

test('a repeated prepare of a prepared transaction answers READY without new work', (t) => {
  t.deepEqual(stepPrepare({ ...free, state: 'PREPARED', payload_matches: true }, prepare), { kind: 'answer', response: { status: 'READY' } });
});

// Found by the simulation (seed 45 of its first sweep): a retried id already committed here
// answered READY, and a new master committed the same writes again at a new sequence.
test('a retried id that is already committed answers with its sequence instead of READY', (t) => {
  t.deepEqual(stepPrepare({ ...free, state: 'COMMITTED', committed_sequence: 7, payload_matches: true }, prepare), {
    kind: 'answer',
    response: { status: 'ABORT', reason: 'already committed', sequence: 7 },
  });
});

test('an id reused with other writes is refused', (t) => {
  for (const state of ['PREPARED', 'COMMITTED'] as const) {
    t.deepEqual(stepPrepare({ ...free, state, payload_matches: false }, prepare), {
      kind: 'answer',
      response: { status: 'ABORT', reason: 'transaction id reused with a different payload' },
    });
  }
});

test('a late prepare of an id whose abort was remembered votes ABORT', (t) => {
  t.deepEqual(stepPrepare({ ...free, state: 'ABORTED' }, prepare), { kind: 'answer', response: { status: 'ABORT', reason: 'aborted earlier' } });
});

test('a prepare from an older epoch is refused', (t) => {
  t.deepEqual(stepPrepare(free, { ...prepare, epoch: 2 }), { kind: 'answer', response: { status: 'ABORT', reason: 'stale epoch' } });
});

test('a prepare from a coordinator outside the membership is refused', (t) => {
  t.deepEqual(stepPrepare(free, { ...prepare, coordinator: 'outsider:1', epoch: 9 }), { kind: 'answer', response: { status: 'ABORT', reason: 'not a member' } });
  t.deepEqual(stepPrepare(free, { ...prepare, coordinator: 'member:1' }), { kind: 'prepare', keys: ['a', 'b'] });
});

test('a node that is not serving (catching up) does not vote READY', (t) => {
  t.deepEqual(stepPrepare({ ...free, phase: 'catching-up' }, prepare), { kind: 'answer', response: { status: 'ABORT', reason: 'not serving' } });
});

test('commit applies a prepared transaction, acknowledges a committed one and refuses the rest', (t) => {
  const commit = { transaction_id: 't1', sequence: 4, epoch: 3 };
  t.deepEqual(stepCommit({ ...free, state: 'PREPARED' }, commit), { kind: 'apply' });
  t.deepEqual(stepCommit({ ...free, state: 'COMMITTED' }, commit), { kind: 'acknowledge' });
  t.like(stepCommit(free, commit), { kind: 'reject', status: 404 });
  t.like(stepCommit({ ...free, state: 'ABORTED' }, commit), { kind: 'reject', status: 409 });
  t.like(stepCommit({ ...free, state: 'PREPARED' }, { ...commit, epoch: 1 }), { kind: 'reject', status: 409, error: 'stale epoch' });
});

test('abort releases a prepared transaction, remembers an unknown one and never undoes a commit', (t) => {
  const abort = { transaction_id: 't1', epoch: 3 };
  t.deepEqual(stepAbort({ ...free, state: 'PREPARED' }, abort), { kind: 'release' });
  t.deepEqual(stepAbort(free, abort), { kind: 'remember' });
  t.deepEqual(stepAbort({ ...free, state: 'ABORTED' }, abort), { kind: 'acknowledge' });
  t.like(stepAbort({ ...free, state: 'COMMITTED' }, abort), { kind: 'reject', status: 409 });
});

// Once seed 8186: a new master's round for a client's retry timed out waiting for a vote and
// decided ABORT; its abort reached a node holding the id PREPARED by the old master's round,
// which had committed elsewhere. Releasing it let the client hear ABORTED for a commit.
test("abort releases only its own round's prepare: another round's is that round's to settle", (t) => {
  const prepared_by_old_round = { ...free, state: 'PREPARED' as const, prepared_by: { coordinator: 'old-master:1', epoch: 3 } };
  t.deepEqual(stepAbort(prepared_by_old_round, { transaction_id: 't1', epoch: 4, coordinator: 'master:1' }), { kind: 'reject', status: 409, error: prepared_by_another_round_error }, "a new master's round");
  t.deepEqual(stepAbort(prepared_by_old_round, { transaction_id: 't1', epoch: 4, coordinator: 'old-master:1' }), { kind: 'reject', status: 409, error: prepared_by_another_round_error }, 'the same node in a later term');
  t.deepEqual(stepAbort(prepared_by_old_round, { transaction_id: 't1', epoch: 3, coordinator: 'old-master:1' }), { kind: 'release' }, 'the round that prepared it');
  t.deepEqual(stepAbort(prepared_by_old_round, { transaction_id: 't1', epoch: 4 }), { kind: 'release' }, "the node's own resolution names no coordinator");
});

// A prepare then a commit without a sequence, sent straight to a slave, once applied a write
// nobody coordinated (issue 14, item 7): only the master of the epoch may coordinate.
const leaders = {
  epoch: 5,
  isMember: (addr: string) => ['a:1', 'b:1', 'c:1'].includes(addr),
  masterOf: (epoch: number) => (epoch === 5 ? 'a:1' : undefined),
};
const origins: readonly (readonly [string, { epoch?: number; coordinator?: string }, string | undefined])[] = [
  ['the master of the current epoch', { epoch: 5, coordinator: 'a:1' }, undefined],
  ['another member in the current epoch', { epoch: 5, coordinator: 'b:1' }, 'not the master'],
  ['a stranger', { epoch: 5, coordinator: 'x:1' }, 'not a member'],
  ['an older epoch', { epoch: 4, coordinator: 'a:1' }, 'stale epoch'],
  ['a newer epoch whose master is not known here yet', { epoch: 6, coordinator: 'b:1' }, undefined],
  ['an epoch just within the bound', { epoch: 5 + epoch_claim_lead_max, coordinator: 'b:1' }, undefined],
  ['an epoch beyond the bound', { epoch: 6 + epoch_claim_lead_max, coordinator: 'b:1' }, 'epoch too far ahead'],
  ['the node itself (in-doubt resolution names no coordinator)', {}, undefined],
];
for (const [name, origin, refusal] of origins) {
  test(`checkOrigin: ${name} → ${refusal ?? 'taken'}`, (t) => {
    t.is(checkOrigin(leaders, origin) as string | undefined, refusal);
  });
}

test('a decision from a sender that may not coordinate is refused, except a fence of an id never prepared here', (t) => {
  const refused = { ...free, origin_refused: 'not the master' as const };
  t.like(stepCommit({ ...refused, state: 'PREPARED' }, { transaction_id: 't1', sequence: 4, epoch: 5 }), { kind: 'reject', status: 409, error: 'not the master' });
  t.deepEqual(stepCommit({ ...refused, state: 'COMMITTED' }, { transaction_id: 't1', sequence: 4, epoch: 5 }), { kind: 'acknowledge' });
  t.like(stepAbort({ ...refused, state: 'PREPARED' }, { transaction_id: 't1', epoch: 5 }), { kind: 'reject', status: 409 });
  t.deepEqual(stepAbort(refused, { transaction_id: 't1', epoch: 5 }), { kind: 'remember' });
  t.like(stepAbort({ ...free, origin_refused: 'epoch too far ahead' }, { transaction_id: 't1', epoch: 5 }), { kind: 'reject', status: 409 });
});

const learn_table: readonly { readonly rule: string; readonly state: ParticipantState | undefined; readonly sequence_applied: boolean; readonly id_seen: boolean; readonly step: LearnStep }[] = [
  { rule: 'a logged commit unknown here is applied', state: undefined, sequence_applied: false, id_seen: false, step: { kind: 'apply', superseding_abort: false } },
  { rule: 'a logged commit of a transaction held PREPARED here is applied: the log is the cluster\'s word', state: 'PREPARED', sequence_applied: false, id_seen: false, step: { kind: 'apply', superseding_abort: false } },
  // Once seed 141: a coordinator that aborted an id only it had prepared never caught up after a retry committed it elsewhere.
  { rule: 'a logged commit supersedes an abort here (an earlier round of a retried id)', state: 'ABORTED', sequence_applied: false, id_seen: false, step: { kind: 'apply', superseding_abort: true } },
  { rule: 'a logged commit already committed here is skipped', state: 'COMMITTED', sequence_applied: false, id_seen: false, step: { kind: 'skip' } },
  { rule: 'a logged commit at a sequence applied here is skipped', state: undefined, sequence_applied: true, id_seen: false, step: { kind: 'skip' } },
  { rule: 'a logged commit of an id already applied earlier in the same page is skipped', state: undefined, sequence_applied: false, id_seen: true, step: { kind: 'skip' } },
];

for (const row of learn_table) {
  test(row.rule, (t) => {
    t.deepEqual(stepLearn(row.state, row.sequence_applied, row.id_seen), row.step);
  });
}
