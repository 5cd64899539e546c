/**
 * What a submit of a transaction id this master already knows gets. One id, one set of
 * writes: a resubmit with the same writes learns the id's outcome (or joins its round), one
 * with other writes is refused whatever state the id is in, and nothing of it is applied.
 * The coordinator service looks up what it knows and carries out the answer.
 *
 * An abort is not answered from this node's disk alone: it is final only once a majority
 * remembers it (lib/two-phase-commit/abort-finality.ts), and a later master may have
 * committed a retry of the id meanwhile, so the master asks the cluster first.
 */
import { isSamePayload, type Payload } from '../protocol/payload.ts';
import type { Decision, ParticipantState } from '../protocol/states.ts';

export type ResubmitAnswer =
  /** Nothing known about this id here: run a round. */
  | { readonly kind: 'new-round' }
  /** A round of this very submit is still running here: wait for its answer. */
  | { readonly kind: 'join' }
  /** The id is known with other writes: refuse (the client must use a new id). */
  | { readonly kind: 'refuse-reused-id' }
  | { readonly kind: 'committed'; readonly sequence: number; readonly participants: readonly string[] }
  | { readonly kind: 'aborted' }
  /** Aborted here (its own decision, or as a participant): ask every member what became of it (`judgeAbortedEarlier`). */
  | { readonly kind: 'ask-cluster' }
  /** An earlier attempt is held PREPARED here, its fate not known yet: neither a new round nor an answer is honest. */
  | { readonly kind: 'in-doubt' };

/** A submit of an id while a round for it runs on this node. */
export function answerWhileInFlight(running_payload: Payload, payload: Payload): Extract<ResubmitAnswer, { kind: 'join' | 'refuse-reused-id' }> {
  return isSamePayload(running_payload, payload) ? { kind: 'join' } : { kind: 'refuse-reused-id' };
}

/** What this node has on disk about one id: its coordinator decision and its participant record. */
export interface KnownTransaction {
  readonly decision?: { readonly decision: Decision; readonly sequence?: number; readonly participants: readonly string[] };
  readonly record?: { readonly state: ParticipantState; readonly payload?: Payload; readonly sequence?: number; readonly participants?: readonly string[] };
}

/**
 * A submit of an id no round here is running for. The writes are compared wherever this
 * node holds them (its participant record; a remembered abort holds none). A COMMIT
 * decision still PREPARED here is not an outcome yet (reconciliation may withdraw it). A
 * commit applied here wins over this node's own abort of an earlier round of the id.
 */
export function answerKnown(known: KnownTransaction, payload: Payload): Exclude<ResubmitAnswer, { kind: 'join' }> {
  const { decision, record } = known;
  if (record?.payload !== undefined && !isSamePayload(record.payload, payload)) return { kind: 'refuse-reused-id' };
  if (decision?.decision === 'COMMIT' && decision.sequence !== undefined && record?.state !== 'PREPARED') {
    return { kind: 'committed', sequence: decision.sequence, participants: decision.participants };
  }
  if (record?.state === 'COMMITTED' && record.sequence !== undefined) return { kind: 'committed', sequence: record.sequence, participants: record.participants ?? [] };
  if (decision?.decision === 'ABORT' || record?.state === 'ABORTED') return { kind: 'ask-cluster' };
  if (record?.state === 'PREPARED') return { kind: 'in-doubt' };
  return { kind: 'new-round' };
}
