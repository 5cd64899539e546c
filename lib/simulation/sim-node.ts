/**
 * One simulated replica: what it persisted (DurableStore), what it holds in memory (lost on
 * a crash), and the four services the real node wires together (lib/node/node.ts), here
 * driven by simulated events instead of promises and timers. Every callback a node schedules
 * is tied to its incarnation: after a crash nothing of the old life runs on.
 */
import type { TransactionView } from '../protocol/messages.ts';
import type { NodePhase, ParticipantState, Role, TransactionState } from '../protocol/states.ts';
import type { PeerReport, PeerStatus } from '../cluster/membership.ts';
import { initialStatus } from '../cluster/membership.ts';
import type { ParticipantView } from '../two-phase-commit/participant.ts';
import { listPayloadKeys } from '../protocol/payload.ts';
import { LockTable } from '../node/lock-table.ts';
import { SequenceTracker } from '../node/sequence-tracker.ts';
import { DurableStore } from './durable-store.ts';
import type { Handlers, Reply, RpcAnswer, RpcKind, RpcRequest } from './rpc.ts';
import type { Server, World } from './world.ts';
import { SimParticipant } from './sim-participant.ts';
import { SimCoordinator } from './sim-coordinator.ts';
import { SimRecovery } from './sim-recovery.ts';
import { SimCluster } from './sim-cluster.ts';

/** What a node holds only in memory. */
export interface VolatileState {
  phase: NodePhase;
  role: Role;
  master: string | undefined;
  accepting_writes: boolean;
  /** As master: the epoch it won. A master whose epoch moves past it steps down. */
  term: number | undefined;
  readonly peers: Map<string, PeerStatus>;
  max_sequence: number;
  readonly locks: LockTable;
  readonly sequences: SequenceTracker;
  /** Tail of each transaction's queue of participant messages (KeyedMutex in the real node). */
  readonly per_transaction: Map<string, (() => void)[]>;
  /** When the disk is next free: writes complete in the order they were issued. */
  disk_free_at_ms: number;
}

export class SimNode implements Server {
  incarnation = 0;
  up = true;
  readonly store = new DurableStore();
  state: VolatileState;
  participant!: SimParticipant;
  coordinator!: SimCoordinator;
  recovery!: SimRecovery;
  cluster!: SimCluster;
  readonly handlers: Handlers;

  constructor(
    readonly world: World,
    readonly addr: string,
    readonly members: readonly string[],
  ) {
    this.state = this.freshState();
    this.wireServices();
    this.handlers = {
      prepare: (request, reply) => this.participant.prepare(request, reply),
      commit: (request, reply) => this.participant.commit(request, reply),
      abort: (request, reply) => this.participant.abort(request, reply),
      view: (request, reply) => reply(this.viewTransaction(request.transaction_id)),
      health: (_request, reply) => reply(this.report()),
      log: (request, reply) => reply({ entries: this.store.readLog(request.after) }),
      claim: (request, reply) => this.cluster.answerClaim(request, reply),
      submit: (request, reply) => this.coordinator.submit(request, reply),
    };
  }

  get limits() {
    return this.world.options.limits;
  }

  get bugs() {
    return this.world.options.bugs;
  }

  /** Start (or restart): rebuild memory from disk, then catch up before serving. */
  start(): void {
    this.up = true;
    this.state = this.freshState();
    this.wireServices();
    for (const record of this.store.listPrepared()) if (record.payload) this.state.locks.acquire(record.id, listPayloadKeys(record.payload));
    for (const record of this.store.listCommitted()) if (record.sequence !== undefined) this.state.sequences.add(record.sequence);
    this.state.max_sequence = this.state.sequences.max_applied;
    this.recovery.loadUnconfirmed();
    this.note(`start epoch=${this.store.epoch} applied_through=${this.state.sequences.applied_through}`);
    this.cluster.start();
  }

  /** Lose everything in memory and every write not yet on disk. */
  crash(): void {
    this.note('crash');
    this.up = false;
    this.incarnation += 1;
    if (this.bugs.forget_prepared_on_crash) this.store.forgetPrepared();
  }

  note(text: string): void {
    this.world.note(`${this.addr} ${text}`);
  }

  /** Run `run` after `delay_ms`, unless this node crashed meanwhile. */
  after(delay_ms: number, label: string, run: () => void): void {
    const incarnation = this.incarnation;
    this.world.schedule(delay_ms, label, () => {
      if (this.up && this.incarnation === incarnation) run();
    });
  }

  /** A durable write: `write` takes effect after simulated disk time, then `then` runs; a crash first loses both. */
  persist(label: string, write: () => void, then: () => void): void {
    const delay_ms = this.world.random.int(0, this.limits.disk_write_max_ms);
    const done_at_ms = Math.max(this.world.now_ms, this.state.disk_free_at_ms) + delay_ms;
    this.state.disk_free_at_ms = done_at_ms;
    this.after(done_at_ms - this.world.now_ms, `persist ${label}`, () => {
      write();
      then();
    });
  }

  call<K extends RpcKind>(to: string, kind: K, request: RpcRequest<K>, timeout_ms: number, onReply: (reply: Reply<RpcAnswer<K>>) => void): void {
    this.world.call(this, to, kind, request, timeout_ms, onReply);
  }

  /** Run `task` after every earlier task of the same transaction finished (KeyedMutex). */
  serial(id: string, task: (done: () => void) => void): void {
    const queue = this.state.per_transaction.get(id);
    const start = (): void => {
      let finished = false;
      task(() => {
        if (finished) return;
        finished = true;
        const waiting = this.state.per_transaction.get(id);
        const next = waiting?.shift();
        if (next) next();
        else this.state.per_transaction.delete(id);
      });
    };
    if (queue) queue.push(start);
    else {
      this.state.per_transaction.set(id, []);
      start();
    }
  }

  /**
   * Raise the epoch if `epoch` is newer, persisting it first; a master that sees a newer
   * epoch stops accepting writes at once (context.ts, adoptEpoch).
   */
  adoptEpoch(epoch: number, then: () => void): void {
    if (epoch <= this.store.epoch) return then();
    this.persist(`epoch ${epoch}`, () => {
      if (epoch <= this.store.epoch) return;
      this.store.epoch = epoch;
      if (this.state.role === 'MASTER') this.state.accepting_writes = false;
    }, then);
  }

  get epoch(): number {
    return this.store.epoch;
  }

  /** The alive members as this node sees them, itself included while serving (context.ts, listAlive). */
  listAlive(): readonly string[] {
    const alive = [...this.state.peers.values()].filter((peer) => peer.alive).map((peer) => peer.addr);
    if (this.state.phase === 'serving') alive.push(this.addr);
    return alive.sort();
  }

  participantView(state: ParticipantState | undefined): ParticipantView {
    return {
      epoch: this.epoch,
      phase: this.state.phase,
      state,
      lockHolder: (key) => this.state.locks.holderOf(key),
      isMember: (addr) => this.members.includes(addr),
    };
  }

  report(): PeerReport {
    return {
      role: this.state.role,
      epoch: this.epoch,
      phase: this.state.phase,
      last_sequence: this.state.sequences.applied_through,
      max_applied: this.state.sequences.max_applied,
      max_decided: this.maxDecided(),
      max_sequence: this.state.max_sequence,
      master: this.state.master,
    };
  }

  /** The highest sequence of a COMMIT this node decided that is not settled yet, 0 for none (node.ts, the ClusterService wiring). */
  maxDecided(): number {
    return Math.max(this.recovery.maxUnconfirmedSequence(), this.coordinator.maxUndeliveredSequence());
  }

  /** This node's view of one transaction (node.ts, viewTransaction). */
  viewTransaction(id: string): TransactionView {
    const record = this.store.records.get(id);
    const recorded_decision = this.store.decisions.get(id);
    // A COMMIT no other replica is known to have applied yet is masked too: it may still be
    // withdrawn (d8d46e2, seed 6428).
    const unconfirmed = this.recovery.isUnconfirmed(id) || this.coordinator.isUnappliedElsewhere(id);
    const decision = unconfirmed ? undefined : recorded_decision;
    const in_flight = unconfirmed || this.coordinator.isInFlight(id);
    const state: TransactionState = record?.state ?? (in_flight ? 'INIT' : decision?.decision === 'ABORT' ? 'ABORTED' : 'UNKNOWN');
    const sequence = record?.sequence ?? decision?.sequence;
    const coordinator = record?.coordinator ?? (decision || in_flight ? this.addr : undefined);
    const epoch = record?.epoch ?? decision?.epoch;
    const participants = record?.participants ?? decision?.participants;
    return {
      transaction_id: id,
      state,
      since: record?.updated_at ?? decision?.created_at ?? this.world.now_ms,
      in_flight,
      ...(sequence !== undefined && { sequence }),
      ...(coordinator !== undefined && { coordinator }),
      ...(epoch !== undefined && { epoch }),
      ...(decision !== undefined && { decision: decision.decision }),
      ...(participants !== undefined && { participants }),
    };
  }

  private freshState(): VolatileState {
    const peers = new Map<string, PeerStatus>();
    for (const member of this.members) if (member !== this.addr) peers.set(member, initialStatus(member));
    return {
      phase: 'starting',
      role: 'SLAVE',
      master: undefined,
      accepting_writes: false,
      term: undefined,
      peers,
      max_sequence: 0,
      locks: new LockTable(),
      sequences: new SequenceTracker(),
      per_transaction: new Map(),
      disk_free_at_ms: 0,
    };
  }

  private wireServices(): void {
    this.participant = new SimParticipant(this);
    this.coordinator = new SimCoordinator(this);
    this.recovery = new SimRecovery(this);
    this.cluster = new SimCluster(this);
  }
}

/** Run `step` on each item one after another, then `done` (an `for … await` loop). */
export function forEachInSeries<T>(items: readonly T[], step: (item: T, next: () => void) => void, done: () => void): void {
  const run = (index: number): void => {
    const item = items[index];
    if (index >= items.length || item === undefined) return done();
    step(item, () => run(index + 1));
  };
  run(0);
}

/** Run `step` on every item at once and `done` with the results in item order (Promise.all). */
export function forAllInParallel<T, R>(items: readonly T[], step: (item: T, finish: (result: R) => void) => void, done: (results: readonly R[]) => void): void {
  if (items.length === 0) return done([]);
  const results: (R | undefined)[] = items.map(() => undefined);
  let remaining = items.length;
  items.forEach((item, index) => {
    let finished = false;
    step(item, (result) => {
      if (finished) return;
      finished = true;
      results[index] = result;
      remaining -= 1;
      if (remaining === 0) done(results as R[]);
    });
  });
}
