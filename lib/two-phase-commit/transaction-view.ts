/**
 * This node's view of one transaction (`GET /transactions/:id`), which peers' termination and
 * reconciliation act on: built from its participant record and its coordinator decision, with
 * a COMMIT decision that may still be withdrawn masked as a round still in flight.
 */
import type { TransactionView } from '../protocol/messages.ts';
import type { Decision, ParticipantState, TransactionState } from '../protocol/states.ts';

export interface TransactionFacts {
  readonly id: string;
  /** This node's address: the coordinator of its own decisions and rounds. */
  readonly here: string;
  readonly now_ms: number;
  /** Its participant record here, if any. */
  readonly record?: {
    readonly state: ParticipantState;
    readonly sequence?: number;
    readonly coordinator?: string;
    readonly epoch: number;
    readonly participants?: readonly string[];
    readonly updated_at: number;
  };
  /** Its coordinator decision here, if this node decided it. */
  readonly decision?: { readonly decision: Decision; readonly sequence?: number; readonly epoch: number; readonly participants: readonly string[]; readonly created_at: number };
  /**
   * This node's COMMIT decision may still be withdrawn: unconfirmed since a restart or a
   * step-down, or sent out with no other replica known to have applied it yet.
   */
  readonly decision_unconfirmed: boolean;
  /** A round of this id is collecting votes here. */
  readonly round_in_flight: boolean;
  /** This node's epoch, durable: coordinator messages of an older one are refused here (participant.ts, `checkOrigin`). */
  readonly enforced_epoch: number;
  /** This replica's committed log was wiped by a repair and not pulled again since (NodeState `log_reset`). */
  readonly log_reset: boolean;
  /** The newest epoch of a round a repair may have made this replica forget (NodeState `forgot_through_epoch`). */
  readonly forgot_through_epoch?: number | undefined;
}

/**
 * A decision that may still be withdrawn is reported as a round in flight: askers wait
 * rather than act on it. (Once seed 6428: a participant that learnt "COMMIT at s" from such a
 * view committed s after the decision was withdrawn and s given to another transaction.)
 * Once a replica applied it, that replica's own view tells. Every view carries the epoch this
 * node enforces, which a coordinator reconciling its decision reads (termination.ts,
 * `reconcileDecision`). A replica whose log a repair wiped says so until it has pulled it again:
 * what it shows as UNKNOWN it may have applied (termination.ts, `heardAnswer`).
 */
export function viewTransaction(facts: TransactionFacts): TransactionView {
  const { id, here, record } = facts;
  const decision = facts.decision_unconfirmed ? undefined : facts.decision;
  const in_flight = facts.decision_unconfirmed || facts.round_in_flight;
  const state: TransactionState = record?.state ?? (in_flight ? 'INIT' : decision?.decision === 'ABORT' ? 'ABORTED' : 'UNKNOWN');
  const sequence = record?.sequence ?? decision?.sequence;
  const coordinator = record?.coordinator ?? (decision || in_flight ? here : undefined);
  const epoch = record?.epoch ?? decision?.epoch;
  const participants = record?.participants ?? decision?.participants;
  return {
    transaction_id: id,
    state,
    since: record?.updated_at ?? decision?.created_at ?? facts.now_ms,
    in_flight,
    enforced_epoch: facts.enforced_epoch,
    ...(facts.log_reset && { log_reset: true }),
    ...(facts.forgot_through_epoch !== undefined && { forgot_through_epoch: facts.forgot_through_epoch }),
    ...(sequence !== undefined && { sequence }),
    ...(coordinator !== undefined && { coordinator }),
    ...(epoch !== undefined && { epoch }),
    ...(decision !== undefined && { decision: decision.decision }),
    ...(participants !== undefined && { participants }),
  };
}
