/**
 * The simulated machine one replica runs on: the real TwopcNode (lib/node), built by openNode
 * over seams into the simulated world: simulated time and timers, the simulated network for
 * peer calls, memory stores over what its disk holds (DurableState, which survives a crash),
 * and a log that feeds the trace and the online checks. A crash bumps the incarnation: no
 * promise the old one awaits ever resolves, and a restart builds a new TwopcNode over the
 * same disk. A pause holds every event of the node until it resumes.
 */
import type { PeerResponse } from '../node/peer-calls.ts';
import { openNode } from '../node/open-node.ts';
import type { TwopcNode } from '../node/node.ts';
import { Failpoints } from '../node/failpoints.ts';
import type { NodeMetrics } from '../node/metrics.ts';
import type { Logger } from '../node/logger.ts';
import type { Clock } from '../time/clock.ts';
import type { Timer, Timers } from '../time/timers.ts';
import { answerInProcess } from '../transport/in-process-routes.ts';
import { findConflict } from '../two-phase-commit/key-sharing.ts';
import { listPayloadKeys } from '../protocol/payload.ts';
import { DurableState, openMemoryStores } from './memory-stores.ts';
import { DiskFaults, type DiskFault } from './disk-faults.ts';
import type { Server, World } from './world.ts';

/** The wall clock reads simulated time after this instant (2026-01-01). */
const wall_clock_origin_ms = 1_767_225_600_000;

/** The address of node `n` (1-based); node 1's is the lowest, so it is the first master. */
export function simAddr(n: number): string {
  return `10.0.0.${n}:${7000 + n}`;
}

export class SimNode implements Server {
  incarnation = 0;
  /** Up: started and not crashed since (it may still be opening its stores). */
  up = false;
  /** Its routes answer: the node is built (a crashed or opening node refuses connections). */
  listening = false;
  /** Every event of this node waits until then. */
  paused_until_ms = 0;
  readonly durable = new DurableState();
  /** The machine's disk: it may fail writes or fsync slowly for a while, across restarts. */
  readonly disk_faults: DiskFaults;
  node: TwopcNode | undefined;
  private disk_free_at_ms = 0;

  constructor(
    readonly world: World,
    readonly addr: string,
    readonly peers: readonly string[],
  ) {
    this.disk_faults = new DiskFaults(() => world.now_ms);
    world.servers.set(addr, this);
  }

  /** Start (or restart): build a TwopcNode over what is on disk, listen, catch up, serve. */
  start(): void {
    this.up = true;
    this.disk_free_at_ms = this.world.now_ms;
    const incarnation = this.incarnation;
    const { world } = this;
    this.note(`start epoch=${this.durable.epoch}`);
    const clock: Clock = { now_ms: () => wall_clock_origin_ms + world.now_ms, monotonic_ms: () => world.now_ms };
    const timers: Timers = {
      after: (duration_ms, run) => this.schedule(duration_ms, run),
      sleep: (duration_ms) => new Promise((resolve) => this.schedule(duration_ms, resolve)),
    };
    let ids = 0;
    void openNode({
      addr: this.addr,
      peers: this.peers,
      limits: world.options.limits,
      clock,
      timers,
      ids: { newTransactionId: () => `${this.addr}/${incarnation}/${(ids += 1)}` },
      client: { call: (addr, method, path, body, timeout_ms) => world.call(this, addr, method, path, body, timeout_ms) },
      stores: openMemoryStores(this.durable, (write) => this.writeToDisk(write), this.disk_faults),
      metrics: this.createMetrics(),
      failpoints: new Failpoints(() => {
        throw new Error('the simulation arms no failpoints');
      }, timers),
      createLog: () => this.createLog(),
      bugs: world.options.bugs,
    })
      .then((node) => {
        if (incarnation !== this.incarnation) return;
        this.node = node;
        this.listening = true;
        return node.start();
      })
      .catch((error: unknown) => {
        // A node that cannot open its stores or start exits (start-node.ts): here it
        // crashes, and is restarted later.
        if (incarnation !== this.incarnation) return;
        this.note(`start-failed ${String(error)}`);
        this.crash();
      });
  }

  /** Lose everything in memory and every write not yet on disk, unsynced ones too (as a power loss would). */
  crash(): void {
    this.note('crash');
    this.durable.loseUnsynced();
    this.up = false;
    this.listening = false;
    this.node = undefined;
    this.incarnation += 1;
  }

  /** Freeze the node (SIGSTOP) for `duration_ms`: timers, messages and disk writes wait. */
  pause(duration_ms: number): void {
    this.note(`pause ${duration_ms} ms`);
    this.paused_until_ms = Math.max(this.paused_until_ms, this.world.now_ms + duration_ms);
  }

  /** The disk fails every write (ENOSPC, EIO) or fsyncs slowly (`extra_ms` a write) for `duration_ms`. */
  failDisk(fault: DiskFault, duration_ms: number, extra_ms = 0): void {
    this.note(`disk-fault ${fault} for ${duration_ms} ms${extra_ms > 0 ? ` (+${extra_ms} ms a write)` : ''}`);
    this.disk_faults.inject(fault, duration_ms, extra_ms);
  }

  /** A serving master that accepts writes. */
  isAcceptingWrites(): boolean {
    const state = this.node?.context.state;
    return state?.role === 'MASTER' && state.accepting_writes && state.phase === 'serving';
  }

  note(text: string): void {
    this.world.note(`${this.addr} ${text}`);
  }

  arrive(incarnation: number, run: () => void): boolean {
    if (incarnation !== this.incarnation || !this.up) return false;
    const wait_ms = this.paused_until_ms - this.world.now_ms;
    if (wait_ms > 0) this.world.schedule(wait_ms, () => this.arrive(incarnation, run));
    else run();
    return true;
  }

  /** An event of this incarnation: it never runs after a crash, and waits out a pause. */
  private schedule(delay_ms: number, run: () => void): Timer {
    const incarnation = this.incarnation;
    return this.world.schedule(delay_ms, () => this.arrive(incarnation, run));
  }

  /** An asynchronous store write: it lands synced after simulated disk time, in order, unless the node crashes first. */
  private writeToDisk(write: () => void): Promise<void> {
    const { world } = this;
    const done_at_ms = Math.max(world.now_ms, this.disk_free_at_ms) + world.random.int(0, world.options.disk_write_max_ms) + this.disk_faults.extraFsyncMs();
    this.disk_free_at_ms = done_at_ms;
    return new Promise<void>((resolve) => this.schedule(done_at_ms - world.now_ms, resolve)).then(() => {
      this.disk_faults.checkWrite();
      write();
      this.durable.markSynced();
    });
  }

  /** The simulation measures nothing: phases are timed on simulated time and dropped. */
  private createMetrics(): NodeMetrics {
    const ignore = { observe: () => undefined, inc: () => undefined };
    return { now_s: () => this.world.now_ms / 1_000, timeRound: (run) => run(), prepare_seconds: ignore, commit_seconds: ignore, heartbeat_misses: ignore, countEvent: () => undefined };
  }

  /** The node's log: every event goes to the trace, and the ones the online checks watch are checked. */
  private createLog(): Logger {
    const observe = (event: string, fields: Readonly<Record<string, unknown>> | undefined): void => {
      const { world } = this;
      world.note(`${this.addr} ${event}${formatFields(fields)}`);
      const epoch = fields?.['epoch'];
      if (event === 'committed') world.recordApplied(this.addr, String(fields?.['transaction_id']), Number(fields?.['sequence']));
      else if (event === 'prepared') this.checkKeysShared(String(fields?.['transaction_id']));
      else if (event === 'accepting-writes' && typeof epoch === 'number') world.recordLeader(epoch, this.addr, 'accepted writes');
      else if (event === 'decided' && typeof epoch === 'number') world.recordLeader(epoch, this.addr, 'coordinated a round');
      else if (event === 'run-reserved') this.checkEarlierRunsConfirmed(Number(fields?.['first']));
    };
    return { info: observe, warn: observe };
  }

  /** Contract semantics 4: a transaction prepared here shares keys only with ones of its own round (key-sharing.ts). */
  private checkKeysShared(id: string): void {
    const record = this.durable.records.get(id);
    const locks = this.node?.context.locks;
    if (record?.payload === undefined || !locks) return;
    const key = findConflict(record, id, listPayloadKeys(record.payload), (held) => locks.holdersOf(held));
    if (key !== undefined) this.world.violate('conflicts-vote-abort', `${this.addr} prepared ${id} on ${key}, held by ${locks.holdersOf(key).map((holder) => `${holder.transaction_id} of ${holder.coordinator}@${holder.epoch}`).join(', ')}`);
  }

  /**
   * Run confirmation (acknowledgement-quorum.ts, lib/node/sequencer.ts): a master reserves a
   * run of sequences only once every COMMIT it decided earlier in its term is applied on
   * another replica, so no later sequence can be applied while an earlier one may still be
   * withdrawn. Checked online: reconciliation commits such an earlier decision when its
   * master returns (termination.ts), which hides the hole from the end-of-run checks.
   */
  private checkEarlierRunsConfirmed(first: number): void {
    const term = this.node?.context.state.term;
    if (term === undefined || !Number.isInteger(first)) return;
    for (const decision of this.durable.decisions.values()) {
      const { id, sequence } = decision;
      if (decision.decision !== 'COMMIT' || sequence === undefined || sequence >= first || decision.epoch !== term) continue;
      if (!decision.participants.some((addr) => addr !== this.addr) || this.world.isAppliedElsewhere(id, this.addr)) continue;
      this.world.violate('runs-confirmed-in-order', `${this.addr} reserved sequences from ${first} while ${id} (sequence ${sequence}, epoch ${term}) is on no other replica`);
    }
  }

  /** This node's routes (lib/transport/in-process-routes.ts), those peers and clients call. */
  answer(method: 'GET' | 'POST', path: string, body: unknown): Promise<PeerResponse> {
    return this.node ? answerInProcess(this.node, method, path, body) : Promise.resolve({ status: 503, body: { error: 'starting' } });
  }
}

function formatFields(fields: Readonly<Record<string, unknown>> | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` ${key}=${typeof value === 'string' || typeof value === 'number' ? value : JSON.stringify(value)}`)
    .join('');
}
