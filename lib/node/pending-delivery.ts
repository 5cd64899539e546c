/**
 * A decision a coordinator still owes someone, and the questions both the node
 * (CoordinatorService) and the simulation ask of it. One definition, so the two cannot drift.
 */
import type { AbortRequest, CommitRequest } from '../protocol/messages.ts';
import type { RunConfirmation } from './sequencer.ts';

export interface PendingDelivery {
  readonly kind: 'commit' | 'abort';
  readonly message: CommitRequest | AbortRequest;
  /** Participants that have not acknowledged yet. */
  readonly addrs: Set<string>;
  /** How many other participants were sent this decision, and how many applied it. */
  readonly remote_recipients: number;
  remote_acks: number;
  /** This node has yet to apply it itself. */
  local_pending: boolean;
  /** A COMMIT's run of sequences, told when this commit reached its `acks_needed`-th other replica. */
  readonly run?: RunConfirmation;
}

/** The sequence of a pending COMMIT, if it is one. */
export function sequenceOf(pending: PendingDelivery): number | undefined {
  return pending.kind === 'commit' ? (pending.message as CommitRequest).sequence : undefined;
}

/**
 * A COMMIT no other replica has applied yet, and this one not either: a coordinator that
 * stops leading hands it to reconciliation.
 */
export function isKnownOnlyHere(pending: PendingDelivery): boolean {
  return pending.kind === 'commit' && pending.local_pending && pending.remote_acks === 0;
}

/**
 * A COMMIT sent to others of which none is known to have applied it: the coordinator's view
 * must not show it as decided, since reconciliation may still withdraw it.
 */
export function isUnappliedElsewhere(pending: PendingDelivery): boolean {
  return pending.kind === 'commit' && pending.remote_acks === 0 && pending.remote_recipients > 0;
}

/** The highest sequence of a COMMIT decided here and not yet applied here, or 0. */
export function highestUnappliedSequence(first_delivery: ReadonlyMap<string, number>, undelivered: ReadonlyMap<string, PendingDelivery>): number {
  let max = 0;
  for (const sequence of first_delivery.values()) if (sequence > max) max = sequence;
  for (const pending of undelivered.values()) {
    const sequence = pending.local_pending ? sequenceOf(pending) : undefined;
    if (sequence !== undefined && sequence > max) max = sequence;
  }
  return max;
}
