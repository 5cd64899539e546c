/**
 * Build a node over its seams: rebuild what it held from its stores (locks of prepared
 * transactions, applied sequences, epoch, grant, membership, unconfirmed decisions) and
 * wire the services. Production (start-node) hands it SQLite, HTTP and real time; the
 * simulation hands it its simulated world. Nothing here listens or starts timers: the
 * caller calls `node.start()`.
 */
import type { Clock } from '../time/clock.ts';
import type { Timers } from '../time/timers.ts';
import type { Ids, PeerCalls } from './peer-calls.ts';
import type { CommittedSummary, NodeStores, ParticipantStore } from '../storage/stores.ts';
import { initialStatus, type PeerStatus } from '../cluster/membership.ts';
import { listPayloadKeys } from '../protocol/payload.ts';
import { LockTable } from './lock-table.ts';
import { SequenceTracker } from './sequence-tracker.ts';
import type { Failpoints } from './failpoints.ts';
import type { Logger } from './logger.ts';
import { countingLogger, type NodeMetrics } from './metrics.ts';
import type { NodeLimits } from './options.ts';
import type { NodeContext, NodeState } from './context.ts';
import type { PlantedBugs } from './planted-bugs.ts';
import { TwopcNode } from './node.ts';

export interface NodeSeams {
  readonly addr: string;
  /** The rest of the membership as configured; the stored membership is added to it. */
  readonly peers: readonly string[];
  readonly limits: NodeLimits;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly ids: Ids;
  readonly client: PeerCalls;
  readonly stores: NodeStores;
  readonly metrics: NodeMetrics;
  readonly failpoints: Failpoints;
  /** The node's log, given a way to read its current epoch (every line carries it). */
  readonly createLog: (epoch: () => number) => Logger;
  readonly bugs: PlantedBugs;
  /** What the start-up check counted of the committed log just before (lib/boot/check-store.ts), if it did: not counted again. */
  readonly committed?: CommittedSummary;
}

export async function openNode(seams: NodeSeams): Promise<TwopcNode> {
  const { addr, stores } = seams;
  const { participant_log, meta } = stores;
  const locks = new LockTable();
  for (const record of await participant_log.listPrepared()) {
    if (record.payload) locks.acquire({ transaction_id: record.id, coordinator: record.coordinator, epoch: record.epoch }, listPayloadKeys(record.payload));
  }
  const sequences = await loadSequences(participant_log, seams.committed ?? participant_log.summarizeCommitted());
  const members = [...new Set([addr, ...seams.peers, ...((await meta.readMembers()) ?? [])])].sort();
  await meta.writeMembers(members);
  const state: NodeState = {
    phase: 'starting',
    role: 'SLAVE',
    epoch: await meta.readEpoch(),
    master: undefined,
    accepting_writes: false,
    members,
    peers: new Map<string, PeerStatus>(members.filter((member) => member !== addr).map((member) => [member, initialStatus(member)])),
    // Only what is applied here: a decision from an earlier life that was never applied may
    // be withdrawn (RecoveryService.reconcile), and its sequence used again.
    max_sequence: sequences.max_applied,
    granted: await meta.readGrant(),
    term: undefined,
    store_fault: undefined,
    log_reset: await meta.readLogReset(),
    forgot_through_epoch: await meta.readForgotThroughEpoch(),
  };
  const context: NodeContext = {
    addr,
    limits: seams.limits,
    clock: seams.clock,
    timers: seams.timers,
    ids: seams.ids,
    client: seams.client,
    participant_log,
    decision_log: stores.decision_log,
    kv: stores.kv,
    meta,
    locks,
    sequences,
    failpoints: seams.failpoints,
    log: countingLogger(seams.createLog(() => state.epoch), seams.metrics),
    metrics: seams.metrics,
    state,
    bugs: seams.bugs,
  };
  const node = new TwopcNode(context);
  await node.recovery.loadUnconfirmed();
  return node;
}

/**
 * Which sequences are applied here. The usual case, every sequence 1..N present, is read
 * from two aggregates over the index (`committed`) instead of a million rows; only a store
 * with gaps lists its sequences.
 */
async function loadSequences(participant_log: ParticipantStore, committed: CommittedSummary): Promise<SequenceTracker> {
  const { count, max } = committed;
  if (count === max) return SequenceTracker.contiguous(max);
  return new SequenceTracker(await participant_log.listCommittedSequences(0));
}
