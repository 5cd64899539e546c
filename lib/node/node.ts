/**
 * The Node: one replica. It owns the state (lib/node/context.ts), wires the participant,
 * coordinator, recovery and cluster services together, runs the timers, and answers the
 * read-only views the HTTP routes serve.
 */
import type { TransactionView } from '../protocol/messages.ts';
import { viewTransaction } from '../two-phase-commit/transaction-view.ts';
import { listAlive, type NodeContext, type NodeState } from './context.ts';
import { ParticipantService } from './participant-service.ts';
import { CoordinatorService } from './coordinator-service.ts';
import { RecoveryService } from './recovery-service.ts';
import { ClusterService } from './cluster-service.ts';
import type { Timer } from '../time/timers.ts';
import { judgeRead, type ReadStanding } from '../cluster/read-standing.ts';

/** How often a read waiting for the master's take-over looks again. */
const read_take_over_poll_interval_ms = 5;
import { ReplicaIntegrity } from './replica-integrity.ts';
import { noteStoreFault } from './store-faults.ts';

export interface RoleView {
  readonly addr: string;
  readonly role: NodeState['role'];
  readonly master: string | null;
  readonly epoch: number;
  readonly state: NodeState['phase'];
  readonly last_sequence: number;
  readonly accepting_writes: boolean;
  readonly nodes: readonly { readonly addr: string; readonly alive: boolean; readonly role: NodeState['role'] }[];
}

export class TwopcNode {
  readonly participant: ParticipantService;
  readonly coordinator: CoordinatorService;
  readonly recovery: RecoveryService;
  readonly cluster: ClusterService;
  readonly integrity: ReplicaIntegrity;
  private readonly timers = new Set<Timer>();
  private stopped = false;

  constructor(readonly context: NodeContext) {
    this.participant = new ParticipantService(context);
    this.coordinator = new CoordinatorService(
      context,
      this.participant,
      (id, sequence, sent_epoch) => this.recovery.adoptUnconfirmed(id, sequence, sent_epoch),
      { askMembers: (id) => this.recovery.askMembers(id), rememberAbortAt: (id, addrs) => this.recovery.rememberAbortAt(id, addrs) },
    );
    this.recovery = new RecoveryService(context, this.participant, (id) => this.viewTransaction(id));
    this.integrity = new ReplicaIntegrity(context, (reason) => this.repair(reason));
    this.cluster = new ClusterService(
      context,
      this.recovery,
      () => this.coordinator.handOffUnconfirmed(),
      (decisions, epoch) => this.coordinator.redrive(decisions, epoch),
      () => Math.max(this.recovery.maxUnconfirmedSequence(), this.coordinator.maxUndeliveredSequence()),
      () => this.integrity.current(),
    );
  }

  get addr(): string {
    return this.context.addr;
  }

  /** Catch up, start serving, and start the heartbeat, re-delivery and in-doubt timers. */
  async start(): Promise<void> {
    await this.cluster.catchUp();
    await this.recovery.reconcile();
    // The start-up audit (the digest recomputed over every committed row) runs beside the
    // node, a step at a time, not before it serves: on a store of a million transactions it
    // takes tens of seconds, and a restart must serve within 2 s. It starts once the first
    // catch-up is done, so a repair it may start never races that catch-up. A file SQLite or
    // twopc finds inconsistent was refused before this (checkStoreAtStart, lib/boot/check-store.ts).
    // Until the audit ends heartbeats carry no digest; a replica it finds contradicting itself
    // is repaired then, as one a periodic audit finds.
    void this.integrity.start().catch((error: unknown) => this.context.log.warn('audit-failed', { error: String(error) }));
    const { limits } = this.context;
    this.every(limits.heartbeat_interval_ms, () => this.cluster.tick());
    this.every(Math.max(10, Math.floor(limits.heartbeat_interval_ms / 2)), async () => this.cluster.pulse());
    this.every(limits.decision_retry_interval_ms, () => this.coordinator.redeliver());
    // The first in-doubt pass runs at once: what a restarted node holds PREPARED is due (resolveStale).
    this.every(Math.max(100, Math.floor(limits.in_doubt_after_ms / 2)), () => this.recovery.resolveStale(), 0);
    this.every(limits.heartbeat_interval_ms, () => this.integrity.compareWithPeers());
    this.every(limits.integrity_audit_interval_ms, () => this.integrity.audit());
    await this.cluster.tick();
  }

  /**
   * This replica contradicts itself or the majority: stop serving, forget the replica and
   * pull a clean copy of the whole log (lib/node/replica-integrity.ts).
   */
  async repair(reason: string): Promise<void> {
    this.context.log.warn('replica-repair', { reason });
    await this.cluster.repair(reason, async () => {
      // On disk before the wipe: from now until a pull of the log completes, an UNKNOWN here
      // may be a commit this replica applied and forgot, also after a crash in between.
      await this.context.meta.writeLogReset(true);
      this.context.state.log_reset = true;
      await this.participant.resetReplica();
      this.integrity.forget();
    });
  }

  stop(): void {
    this.stopped = true;
    this.context.state.phase = 'stopping';
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }

  /** Run `task` every `interval_ms` (the first time after `first_ms`), never two at once, logging (not throwing) failures. */
  private every(interval_ms: number, task: () => Promise<void>, first_ms = interval_ms): void {
    let delay_ms = first_ms;
    const schedule = () => {
      const timer = this.context.timers.after(delay_ms, () => {
        delay_ms = interval_ms;
        this.timers.delete(timer);
        void run();
      });
      this.timers.add(timer);
    };
    const run = async () => {
      if (this.stopped) return;
      try {
        await task();
      } catch (error) {
        this.context.log.warn('background-task-failed', { error: String(error) });
        noteStoreFault(this.context, error);
      }
      if (!this.stopped) schedule();
    };
    schedule();
  }

  /**
   * How this node may answer a read now (lib/cluster/read-standing.ts): a master still taking
   * over is waited for, at most `read_take_over_wait_ms`, so that a read on the master sees
   * every write the previous one acknowledged.
   */
  async awaitReadStanding(): Promise<Exclude<ReadStanding, 'taking-over'> | 'stale'> {
    const { clock, limits, state, timers } = this.context;
    const deadline_ms = clock.monotonic_ms() + limits.read_take_over_wait_ms;
    let standing = judgeRead(state);
    if (standing !== 'taking-over') return standing;
    while (standing === 'taking-over' && clock.monotonic_ms() < deadline_ms) {
      await timers.sleep(read_take_over_poll_interval_ms);
      standing = judgeRead(state);
    }
    // Asked as the master: current only if this node completed its take-over meanwhile
    // (a node that stepped down instead answers what it holds, marked stale).
    if (standing === 'stopping') return standing;
    return state.role === 'MASTER' && standing === 'current' ? 'current' : 'stale';
  }

  roleView(): RoleView {
    const { state, addr, sequences } = this.context;
    const alive = new Set(listAlive(this.context));
    return {
      addr,
      role: state.role,
      master: state.master ?? null,
      epoch: state.epoch,
      state: state.phase,
      last_sequence: sequences.applied_through,
      accepting_writes: state.accepting_writes,
      nodes: state.members.map((member) => ({ addr: member, alive: alive.has(member), role: member === state.master ? 'MASTER' : 'SLAVE' })),
    };
  }

  /** This node's view of one transaction: as participant, as coordinator, or neither. */
  async viewTransaction(id: string): Promise<TransactionView> {
    const { context } = this;
    const [record, decision] = await Promise.all([context.participant_log.find(id), context.decision_log.find(id)]);
    return viewTransaction({
      id,
      here: context.addr,
      now_ms: context.clock.now_ms(),
      ...(record && { record }),
      ...(decision && { decision }),
      decision_unconfirmed: this.recovery.isUnconfirmed(id) || this.coordinator.isUnappliedElsewhere(id),
      round_in_flight: this.coordinator.isInFlight(id),
      enforced_epoch: context.state.epoch,
      log_reset: context.state.log_reset,
      forgot_through_epoch: context.state.forgot_through_epoch,
    });
  }
}
