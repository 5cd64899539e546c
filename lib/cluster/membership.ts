/**
 * What one node believes about each peer, updated by heartbeats. Pure: probes come in as
 * data, the new belief goes out.
 */
import type { NodePhase, Role } from '../protocol/states.ts';

/** What a peer's `/health` said about itself. */
export interface PeerReport {
  readonly role: Role;
  readonly epoch: number;
  readonly phase: NodePhase;
  readonly last_sequence: number;
  /** Highest sequence applied (possibly above a gap); a fact that never becomes false. */
  readonly max_applied?: number;
  /** Highest sequence of a COMMIT this node decided and nobody is known to have settled yet. */
  readonly max_decided?: number;
  /** Highest sequence applied or, as master, reserved. */
  readonly max_sequence: number;
  readonly master: string | undefined;
  /** Times the peer started on its data directory (its `/health` says; absent from older nodes). */
  readonly starts?: number;
  /** The peer's running digest of its committed log (lib/node/replica-integrity.ts) and the sequence it covers. */
  readonly digest?: string;
  readonly digest_sequence?: number;
  /** Why the peer's store failed, while it has (it is then not alive). */
  readonly store_fault?: string;
  /** The newest epoch of a round a repair may have made the peer forget (NodeState `forgot_through_epoch`). */
  readonly forgot_through_epoch?: number;
}

export interface PeerStatus {
  readonly addr: string;
  /** Answered its last probe as serving, and has not since missed `heartbeat_miss_limit` probes. */
  readonly alive: boolean;
  /** Answered its last probe at all (serving or catching up). */
  readonly reachable: boolean;
  readonly misses: number;
  readonly last_report: PeerReport | undefined;
  readonly last_seen_ms: number | undefined;
  /** When the probe that brought `last_report` was sent (the node's monotonic clock): the report is no older. */
  readonly asked_ms: number | undefined;
}

export function initialStatus(addr: string): PeerStatus {
  return { addr, alive: false, reachable: false, misses: 0, last_report: undefined, last_seen_ms: undefined, asked_ms: undefined };
}

/** A probe answered. Only a serving peer counts as alive: one catching up does not vote yet. */
export function recordAnswer(status: PeerStatus, report: PeerReport, now_ms: number, asked_ms?: number): PeerStatus {
  return { ...status, alive: report.phase === 'serving', reachable: true, misses: 0, last_report: report, last_seen_ms: now_ms, asked_ms };
}

/** A probe failed or timed out; after `miss_limit` consecutive misses the peer is dead. */
export function recordMiss(status: PeerStatus, miss_limit: number): PeerStatus {
  const misses = status.misses + 1;
  const dead = misses >= miss_limit;
  return { ...status, misses, alive: dead ? false : status.alive, reachable: dead ? false : status.reachable };
}
