/**
 * This node's view of a transaction (lib/two-phase-commit/transaction-view.ts), table-driven:
 * what termination and reconciliation elsewhere read, with a COMMIT decision that may still
 * be withdrawn masked as a round in flight.
 */
import test from 'ava';
import { viewTransaction, type TransactionFacts } from '../../lib/two-phase-commit/transaction-view.ts';
import type { TransactionView } from '../../lib/protocol/messages.ts';

const here = 'a:1';
const participants = ['a:1', 'b:1'];
const facts = (fields: Partial<TransactionFacts>): TransactionFacts => ({ id: 't', here, now_ms: 1000, decision_unconfirmed: false, round_in_flight: false, enforced_epoch: 5, log_reset: false, ...fields });
const commit_decision = { decision: 'COMMIT' as const, sequence: 4, epoch: 2, participants, created_at: 500 };
const prepared = { state: 'PREPARED' as const, coordinator: here, epoch: 2, participants, updated_at: 400 };

const table: readonly { readonly rule: string; readonly facts: TransactionFacts; readonly view: Partial<TransactionView>; readonly absent?: readonly (keyof TransactionView)[] }[] = [
  { rule: 'an id this node never saw is UNKNOWN, not in flight', facts: facts({}), view: { state: 'UNKNOWN', in_flight: false, since: 1000 }, absent: ['coordinator', 'decision', 'sequence', 'log_reset'] },
  // A repair wiped the committed log: UNKNOWN may be a commit applied here before the wipe.
  { rule: 'a replica whose log a repair wiped says so until it has pulled it again', facts: facts({ log_reset: true }), view: { state: 'UNKNOWN', log_reset: true } },
  { rule: 'a repaired replica names the newest epoch it may have forgotten a round of', facts: facts({ forgot_through_epoch: 3 }), view: { state: 'UNKNOWN', forgot_through_epoch: 3 }, absent: ['log_reset'] },
  // What a reconciling coordinator checks its late COMMIT copies against (termination.ts, reconcileDecision).
  { rule: 'every view carries the epoch this node enforces on coordinator messages', facts: facts({ record: prepared, decision: commit_decision, decision_unconfirmed: true }), view: { enforced_epoch: 5, epoch: 2 } },
  { rule: 'a round collecting votes here shows INIT in flight, coordinated here', facts: facts({ round_in_flight: true }), view: { state: 'INIT', in_flight: true, coordinator: here } },
  { rule: 'a confirmed COMMIT decision shows with its sequence next to the participant state', facts: facts({ record: prepared, decision: commit_decision }), view: { state: 'PREPARED', decision: 'COMMIT', sequence: 4, in_flight: false } },
  // Once seed 6428: a participant acted on a COMMIT learnt from a view, then it was withdrawn.
  {
    rule: 'an unconfirmed COMMIT decision is masked as a round in flight: no decision, no sequence',
    facts: facts({ record: prepared, decision: commit_decision, decision_unconfirmed: true }),
    view: { state: 'PREPARED', in_flight: true, coordinator: here },
    absent: ['decision', 'sequence'],
  },
  {
    rule: 'a COMMIT decision known only here, without a participant record, shows as INIT in flight',
    facts: facts({ decision: commit_decision, decision_unconfirmed: true }),
    view: { state: 'INIT', in_flight: true, coordinator: here, since: 1000 },
    absent: ['decision', 'sequence', 'epoch', 'participants'],
  },
  { rule: 'an ABORT decision with no participant record here shows ABORTED', facts: facts({ decision: { decision: 'ABORT', epoch: 2, participants, created_at: 500 } }), view: { state: 'ABORTED', decision: 'ABORT', coordinator: here, since: 500 } },
  {
    rule: 'a transaction committed here shows COMMITTED at its sequence, coordinated by whoever prepared it',
    facts: facts({ record: { state: 'COMMITTED', sequence: 9, coordinator: 'b:1', epoch: 3, participants, updated_at: 700 } }),
    view: { state: 'COMMITTED', sequence: 9, coordinator: 'b:1', epoch: 3, since: 700, in_flight: false },
  },
];

for (const row of table) {
  test(row.rule, (t) => {
    const view = viewTransaction(row.facts);
    t.like(view, row.view);
    for (const key of row.absent ?? []) t.false(key in view, `${key} is not shown`);
  });
}
