/**
 * A decision a coordinator still owes someone, and what becomes of it: when it counts as
 * applied elsewhere, when it must be masked or handed to reconciliation, and under which
 * epoch it is re-sent. CoordinatorService keeps the pending deliveries and acts on these rules.
 */
import type { AbortRequest, CommitRequest } from '../protocol/messages.ts';

/** The run of sequences a COMMIT belongs to (lib/node/sequencer.ts, RunConfirmation). */
export interface RunOfSequences {
  /** Remote acknowledgements each commit of the run needs. */
  readonly acks_needed: number;
  /** One commit of the run reached its `acks_needed`-th other replica. */
  acknowledgeOne(): void;
  /** Give the run up: the next master settles what is left. */
  release(): void;
}

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
  readonly run?: RunOfSequences;
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

/** Every participant acknowledged it and this node applied its share: nothing is owed. */
export function isDelivered(pending: PendingDelivery): boolean {
  return pending.addrs.size === 0 && !pending.local_pending;
}

export type AfterFirstDelivery =
  | { readonly kind: 'delivered' }
  /** No longer master and nobody else applied it: reconciliation's, exactly as after a restart; `sent_epoch` is the newest epoch it went out under. */
  | { readonly kind: 'hand-off'; readonly sequence: number | undefined; readonly sent_epoch: number }
  /** Keep re-sending it, under `pending`'s epoch. */
  | { readonly kind: 'redeliver'; readonly pending: PendingDelivery };

/**
 * What becomes of a decision once its first delivery is over; `term` is the epoch this node
 * leads as master, if it does (undefined once it adopted a newer epoch, even before it steps
 * down). A master re-elected while it was under way (once seed 382) re-sends a COMMIT under
 * its current term: participants that took the new epoch refuse the round's as stale, for
 * ever. Never under an epoch it does not lead: another master's epoch would carry its COMMIT
 * past the epoch its reconciliation waits for participants to refuse (termination.ts,
 * `reconcileDecision`). An ABORT keeps its epoch.
 */
export function decideAfterFirstDelivery(pending: PendingDelivery, term: number | undefined): AfterFirstDelivery {
  if (isDelivered(pending)) return { kind: 'delivered' };
  const sent_epoch = pending.message.epoch ?? 0;
  if (term === undefined && isKnownOnlyHere(pending)) return { kind: 'hand-off', sequence: sequenceOf(pending), sent_epoch };
  const stale = pending.kind === 'commit' && term !== undefined && sent_epoch < term;
  return { kind: 'redeliver', pending: stale ? { ...pending, message: { ...pending.message, epoch: term } } : pending };
}
