/**
 * The participant's side of two-phase commit as pure functions: given what this node
 * knows (its epoch, whether it is serving, the transaction's record, the lock table) and
 * one message, say what to do. The node performs the I/O the step names; nothing here
 * touches a socket, a clock or a disk.
 */
import type { AbortRequest, CommitRequest, PrepareRequest, PrepareResponse } from '../protocol/messages.ts';
import type { AbortReason, NodePhase, ParticipantState } from '../protocol/states.ts';
import { listPayloadKeys } from '../protocol/payload.ts';
import { epoch_claim_lead_max } from '../protocol/messages.ts';
import { findConflict, type LockHolder } from './key-sharing.ts';

export interface ParticipantView {
  readonly epoch: number;
  readonly phase: NodePhase;
  /** This transaction's state on this node, if it has one. */
  readonly state: ParticipantState | undefined;
  /** The transactions holding a key's lock, with the rounds that prepared them. */
  readonly lockHolders: (key: string) => readonly LockHolder[];
  /** Whether `addr` is in this node's membership. */
  readonly isMember: (addr: string) => boolean;
  /** The sequence this transaction committed at here, if it did. */
  readonly committed_sequence?: number;
  /** False when this node holds the transaction with other writes than the message carries. */
  readonly payload_matches?: boolean;
  /** The round (coordinator and epoch) that prepared the transaction here, if it is PREPARED. */
  readonly prepared_by?: { readonly coordinator?: string; readonly epoch: number };
  /** Why the message's sender may not coordinate here (`checkOrigin`); absent when it may. */
  readonly origin_refused?: OriginRefusal;
}

export type OriginRefusal = 'stale epoch' | 'epoch too far ahead' | 'not a member' | 'not the master';

/** What a node knows of who leads which epoch. */
export interface LeaderView {
  readonly epoch: number;
  readonly isMember: (addr: string) => boolean;
  /** The master of `epoch` as this node knows it (its own term, its grant, a peer's report), if it does. */
  readonly masterOf: (epoch: number) => string | undefined;
}

/**
 * Whether a coordinator message (a prepare, a decision, their batches) may act here: only
 * the master of the epoch it names, a member, and that epoch neither older than this node's
 * nor far above it (`epoch_claim_lead_max`). A newer epoch within the bound whose master this
 * node does not know yet is taken (its master won it from a majority this node missed).
 * A node's own calls to its participant (in-doubt resolution) name no coordinator.
 */
export function checkOrigin(view: LeaderView, origin: { readonly epoch?: number | undefined; readonly coordinator?: string | undefined }): OriginRefusal | undefined {
  const { epoch, coordinator } = origin;
  if (coordinator === undefined) return undefined;
  if (!view.isMember(coordinator)) return 'not a member';
  if (epoch === undefined) return undefined;
  if (epoch < view.epoch) return 'stale epoch';
  if (epoch > view.epoch + epoch_claim_lead_max) return 'epoch too far ahead';
  const master = view.masterOf(epoch);
  return master !== undefined && master !== coordinator ? 'not the master' : undefined;
}

/**
 * A coordinator outside this node's membership (removed by /cluster/leave, or never
 * joined) is not listened to: neither its epoch nor its prepares count here.
 */
export function acceptsCoordinator(view: Pick<ParticipantView, 'isMember'>, coordinator: string | undefined): boolean {
  return coordinator === undefined || view.isMember(coordinator);
}

export type PrepareStep =
  /** Answer at once; nothing to persist. */
  | { readonly kind: 'answer'; readonly response: PrepareResponse }
  /** Take these locks, persist PREPARED with the writes, then answer READY. */
  | { readonly kind: 'prepare'; readonly keys: readonly string[] };

/**
 * A prepare of an id this node already holds is a duplicate or a client's retry. PREPARED
 * answers READY again to the round that prepared it, and 'in doubt' to any other round (the
 * earlier round's fate is not settled; a second round must not give it another). COMMITTED
 * answers with the sequence it committed at, so the coordinator finishes that commit rather
 * than committing the same writes a second time. The same id with other writes is refused:
 * one id, one set of writes. A key held by another transaction is shared when one master's
 * term prepared both, and a conflict otherwise (lib/two-phase-commit/key-sharing.ts).
 */
export function stepPrepare(view: ParticipantView, request: PrepareRequest): PrepareStep {
  if ((view.state === 'PREPARED' || view.state === 'COMMITTED') && view.payload_matches === false) return refuse('transaction id reused with a different payload');
  if (view.state === 'PREPARED') return sameRound(view.prepared_by, request) ? ready() : refuse('in doubt');
  if (view.state === 'COMMITTED') {
    return { kind: 'answer', response: { status: 'ABORT', reason: 'already committed', ...(view.committed_sequence !== undefined && { sequence: view.committed_sequence }) } };
  }
  if (view.state === 'ABORTED') return refuse('aborted earlier');
  if (!acceptsCoordinator(view, request.coordinator)) return refuse('not a member');
  if (request.epoch !== undefined && request.epoch < view.epoch) return refuse('stale epoch');
  if (view.phase !== 'serving') return refuse('not serving');
  const keys = listPayloadKeys(request.payload);
  // A key another round holds: ABORT at once. One held by this master's term is shared (key-sharing.ts).
  const conflict = findConflict(request, request.transaction_id, keys, view.lockHolders);
  if (conflict !== undefined) return { kind: 'answer', response: { status: 'ABORT', reason: 'conflict', key: conflict } };
  return { kind: 'prepare', keys };
}

export type CommitStep =
  | { readonly kind: 'acknowledge' }
  | { readonly kind: 'apply' }
  | { readonly kind: 'reject'; readonly status: 404 | 409; readonly error: string };

export function stepCommit(view: ParticipantView, request: CommitRequest): CommitStep {
  if (view.state === 'COMMITTED') return { kind: 'acknowledge' };
  if (view.state === undefined) return { kind: 'reject', status: 404, error: 'unknown transaction: it was never prepared here' };
  if (view.state === 'ABORTED') return { kind: 'reject', status: 409, error: 'transaction was aborted here' };
  if (request.epoch !== undefined && request.epoch < view.epoch) return { kind: 'reject', status: 409, error: 'stale epoch' };
  if (view.origin_refused !== undefined) return { kind: 'reject', status: 409, error: view.origin_refused };
  return { kind: 'apply' };
}

/** An abort's refusal by a participant that committed the id (a later round of it did): the abort is superseded. */
export const already_committed_error = 'transaction is already committed here';

export type AbortStep =
  | { readonly kind: 'acknowledge' }
  /** Mark ABORTED and release the transaction's locks. */
  | { readonly kind: 'release' }
  /** Unknown id: remember the abort so a late prepare votes ABORT. */
  | { readonly kind: 'remember' }
  | { readonly kind: 'reject'; readonly status: 409; readonly error: string };

export function stepAbort(view: ParticipantView, request: AbortRequest): AbortStep {
  if (view.state === 'ABORTED') return { kind: 'acknowledge' };
  if (view.state === 'COMMITTED') return { kind: 'reject', status: 409, error: already_committed_error };
  if (request.epoch !== undefined && request.epoch < view.epoch) return { kind: 'reject', status: 409, error: 'stale epoch' };
  // Another member's fence (in-doubt resolution: "you never prepared it; never do") may be
  // remembered; releasing a prepared transaction is the master's word only.
  const fence_allowed = view.origin_refused === 'not the master' && view.state === undefined;
  if (view.origin_refused !== undefined && !fence_allowed) return { kind: 'reject', status: 409, error: view.origin_refused };
  // A prepare of another round is that round's to settle (its coordinator, or termination),
  // never this abort's: this round's vote from here was 'in doubt', lost or late, and counting
  // this node among those that remember the abort could tell a client ABORTED while the other
  // round commits (once seed 8186). Refused, it stays owed until the other round is settled.
  if (view.state === 'PREPARED' && request.coordinator !== undefined && !sameRound(view.prepared_by, request)) {
    return { kind: 'reject', status: 409, error: prepared_by_another_round_error };
  }
  return view.state === 'PREPARED' ? { kind: 'release' } : { kind: 'remember' };
}

/** An abort's refusal by a participant that holds the id prepared by another round. */
export const prepared_by_another_round_error = 'in doubt: prepared here by another round';

/** A repeated prepare of the round that prepared it (a duplicate), not a retry under another round. */
function sameRound(prepared_by: ParticipantView['prepared_by'], request: Pick<PrepareRequest, 'coordinator' | 'epoch'>): boolean {
  if (prepared_by === undefined) return true;
  return prepared_by.coordinator === request.coordinator && (request.epoch === undefined || prepared_by.epoch === request.epoch);
}

function ready(): PrepareStep {
  return { kind: 'answer', response: { status: 'READY' } };
}

function refuse(reason: AbortReason): PrepareStep {
  return { kind: 'answer', response: { status: 'ABORT', reason } };
}

export type LearnStep =
  | { readonly kind: 'skip' }
  /** Apply the logged commit; `superseding_abort` when this node holds the id ABORTED. */
  | { readonly kind: 'apply'; readonly superseding_abort: boolean };

/**
 * A committed transaction learnt from a peer's log (catch-up, anti-entropy). One already
 * applied here (its sequence or its id) is skipped. The log is the cluster's word: a
 * transaction held PREPARED here takes the logged commit, and an abort here was an earlier
 * round of a retried id (its client never heard it committed), which the retry's commit
 * supersedes (once seed 141: the coordinator that aborted the only prepare never caught up).
 */
export function stepLearn(state: ParticipantState | undefined, sequence_applied_here: boolean, id_seen_in_batch: boolean): LearnStep {
  if (sequence_applied_here || id_seen_in_batch || state === 'COMMITTED') return { kind: 'skip' };
  return { kind: 'apply', superseding_abort: state === 'ABORTED' };
}
