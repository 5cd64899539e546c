/**
 * The protocol's vocabulary. The seed's names stay: INIT, PREPARE, READY, COMMIT, ABORT.
 *
 * - `ProtocolState` names the steps of one two-phase commit as the coordinator walks them.
 * - `Vote` is what a participant answers to PREPARE.
 * - `Decision` is what the coordinator durably records after the votes.
 * - `TransactionState` is a transaction as one node sees it (the `GET /transactions/:id` answer).
 */
export const ProtocolState = Object.freeze({
  INIT: 'INIT',
  PREPARE: 'PREPARE',
  READY: 'READY',
  COMMIT: 'COMMIT',
  ABORT: 'ABORT',
} as const);
export type ProtocolState = (typeof ProtocolState)[keyof typeof ProtocolState];

export type Vote = 'READY' | 'ABORT';
export type Decision = 'COMMIT' | 'ABORT';

/** What a participant keeps on disk for a transaction. */
export type ParticipantState = 'PREPARED' | 'COMMITTED' | 'ABORTED';

/** A node's whole view of a transaction; INIT while its coordinator is still collecting votes. */
export type TransactionState = 'INIT' | ParticipantState | 'UNKNOWN';

export type Role = 'MASTER' | 'SLAVE';

/** Life of a node process: it votes, serves reads as current and may lead only while `serving`. */
export type NodePhase = 'starting' | 'catching-up' | 'serving' | 'store-failed' | 'stopping';

/** Why a participant or coordinator refused. Stable strings: clients and tests match on them. */
export type AbortReason =
  | 'conflict'
  | 'not a member'
  | 'not the master'
  | 'epoch too far ahead'
  | 'stale epoch'
  | 'not serving'
  | 'aborted earlier'
  | 'already committed'
  | 'in doubt'
  | 'transaction id reused with a different payload'
  | 'prepare timeout'
  | 'unreachable'
  | 'failpoint'
  | 'storage error'
  | 'invalid payload';
