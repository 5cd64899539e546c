import type { Clock } from '../time/clock.ts';
import type { NodeLimits } from './options.ts';
import type { Timers } from '../time/timers.ts';
import type { Ids, PeerCalls } from './peer-calls.ts';
import type { DecisionStore, KvReader, NodeMetaStore, ParticipantStore } from '../storage/stores.ts';
import type { PlantedBugs } from './planted-bugs.ts';
import type { LockTable } from './lock-table.ts';
import type { SequenceTracker } from './sequence-tracker.ts';
import type { Failpoints } from './failpoints.ts';
import type { PeerStatus } from '../cluster/membership.ts';
import type { NodePhase, Role } from '../protocol/states.ts';
import type { Logger } from './logger.ts';
import type { NodeMetrics } from './metrics.ts';
import { hasMajority, type EpochGrant } from '../cluster/election.ts';
import type { StoreFault } from './store-faults.ts';

/**
 * The one mutable record of what this node currently believes. Only the services in
 * lib/node change it; routes read it.
 */
export interface NodeState {
  phase: NodePhase;
  role: Role;
  /** Highest epoch seen; persisted before it is acted on. */
  epoch: number;
  /** Who this node believes is master, if anyone. */
  master: string | undefined;
  /** As master: true once take-over (catch-up, in-doubt resolution) is done. */
  accepting_writes: boolean;
  /** Every member, this node included, sorted. */
  members: readonly string[];
  /** What this node believes about every other member. */
  peers: Map<string, PeerStatus>;
  /** The highest sequence applied here or, as master, reserved for a decision. */
  max_sequence: number;
  /** The last epoch grant this node gave (persisted first): it grants each epoch once. */
  granted: EpochGrant | undefined;
  /** As master: the epoch it won. A master whose epoch moves past it must step down. */
  term: number | undefined;
  /** Why the store failed (phase `store-failed`, lib/node/store-faults.ts); undefined while it works. */
  store_fault: StoreFault | undefined;
  /**
   * A repair wiped this replica's committed log (TwopcNode.repair), and no pull of the log
   * from a serving peer has completed since: its views say so (`log_reset`). On disk too
   * (NodeMetaStore `readLogReset`), so a crash in between does not forget it.
   */
  log_reset: boolean;
  /**
   * The newest epoch of a round this replica may have applied and then lost in a repair (its
   * epoch when the pull after the wipe ended: it adopts a batch's epoch before preparing it);
   * undefined if it was never repaired. On disk (NodeMetaStore `readForgotThroughEpoch`).
   */
  forgot_through_epoch: number | undefined;
}

/**
 * What every node service is handed: its identity, its limits, its storage and its tools.
 * The services reach the world only through these seams: `clock` and `timers` (time),
 * `client` (the other nodes), the four stores (the disk), `ids` (randomness). Production
 * wires HTTP, SQLite and real time; lib/simulation wires a simulated world.
 */
export interface NodeContext {
  readonly addr: string;
  readonly limits: NodeLimits;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly ids: Ids;
  readonly client: PeerCalls;
  readonly participant_log: ParticipantStore;
  readonly decision_log: DecisionStore;
  readonly kv: KvReader;
  readonly meta: NodeMetaStore;
  readonly locks: LockTable;
  readonly sequences: SequenceTracker;
  readonly failpoints: Failpoints;
  readonly log: Logger;
  readonly metrics: NodeMetrics;
  readonly state: NodeState;
  /** Always `no_planted_bugs` outside the simulation (lib/node/planted-bugs.ts). */
  readonly bugs: PlantedBugs;
}

/** The alive members as this node sees them, itself included while it is serving. */
/** This node and the peers that answer probes (serving or catching up) make a strict majority of the membership. */
export function reachesMajority(context: NodeContext): boolean {
  const reachable = [...context.state.peers.values()].filter((peer) => peer.reachable).length;
  return hasMajority(reachable + 1, context.state.members.length);
}

export function listAlive(context: NodeContext): readonly string[] {
  const alive = [...context.state.peers.values()].filter((peer) => peer.alive).map((peer) => peer.addr);
  if (context.state.phase === 'serving') alive.push(context.addr);
  return alive.sort();
}

/**
 * Raise the epoch to `epoch` if it is newer, persisting it first. A master that sees a newer
 * epoch stops accepting writes at once; its next heartbeat steps it down (ClusterService).
 */
export async function adoptEpoch(context: NodeContext, epoch: number): Promise<boolean> {
  if (epoch <= context.state.epoch) return false;
  await context.meta.writeEpoch(epoch);
  if (epoch <= context.state.epoch) return false;
  const previous = context.state.epoch;
  context.state.epoch = epoch;
  context.log.info('epoch-adopted', { epoch, previous });
  if (context.state.role === 'MASTER') context.state.accepting_writes = false;
  return true;
}
