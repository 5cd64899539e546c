/**
 * The simulated world: the clock, the event queue, the network, the trace, and remote calls
 * between endpoints (nodes and clients). A call is a request and an answer, each a message
 * the network may lose, delay or duplicate; the caller sees the first answer, or a timeout,
 * or `refused` when the target was down when the request arrived.
 */
import { EventQueue } from './event-queue.ts';
import { Network } from './network.ts';
import type { SimOptions } from './options.ts';
import { Random } from './random.ts';
import type { Handlers, Reply, RpcAnswer, RpcKind, RpcRequest } from './rpc.ts';

/** Something that calls: it may crash and come back as a new incarnation. */
export interface Endpoint {
  readonly addr: string;
  readonly incarnation: number;
}

/** Something that answers calls while up. */
export interface Server extends Endpoint {
  readonly up: boolean;
  readonly handlers: Handlers;
}

export interface Violation {
  readonly at_ms: number;
  readonly rule: string;
  readonly detail: string;
}

/** FNV-1a offset basis and prime: a cheap running hash of the trace, kept even when the trace is not. */
const fnv_offset = 0x811c9dc5;
const fnv_prime = 0x01000193;

export class World {
  now_ms = 0;
  events_run = 0;
  readonly random: Random;
  readonly network: Network;
  readonly servers = new Map<string, Server>();
  readonly violations: Violation[] = [];
  readonly trace: string[] | undefined;
  private trace_hash = fnv_offset;
  private readonly queue = new EventQueue();
  /** Checked as the run goes: which transaction each sequence went to, and each transaction's sequence. */
  private readonly transaction_of_sequence = new Map<number, string>();
  private readonly sequence_of_transaction = new Map<string, number>();
  /** Every node that accepted writes or ran a round in each epoch. */
  readonly masters_by_epoch = new Map<number, Set<string>>();

  constructor(readonly options: SimOptions) {
    this.random = new Random(options.seed);
    this.network = new Network(this.random, options.network, (delay_ms, label, run) => this.schedule(delay_ms, label, run));
    this.trace = options.trace ? [] : undefined;
  }

  get hash(): string {
    return (this.trace_hash >>> 0).toString(16).padStart(8, '0');
  }

  schedule(delay_ms: number, label: string, run: () => void): void {
    this.queue.push(this.now_ms + Math.max(0, delay_ms), label, run);
  }

  /** Run events until simulated time passes `until_ms` or nothing is left. */
  runUntil(until_ms: number): void {
    for (;;) {
      const next = this.queue.peekTime();
      if (next === undefined || next > until_ms) break;
      const event = this.queue.pop();
      if (!event) break;
      this.now_ms = event.at_ms;
      this.events_run += 1;
      event.run();
    }
    this.now_ms = Math.max(this.now_ms, until_ms);
  }

  /** Note something that happened; it feeds the trace hash and, if kept, the trace. */
  note(text: string): void {
    const line = `${this.now_ms} ${text}`;
    let hash = this.trace_hash;
    for (let i = 0; i < line.length; i += 1) hash = Math.imul(hash ^ line.charCodeAt(i), fnv_prime);
    this.trace_hash = hash >>> 0;
    this.trace?.push(line);
  }

  violate(rule: string, detail: string): void {
    this.violations.push({ at_ms: this.now_ms, rule, detail });
    this.note(`VIOLATION ${rule}: ${detail}`);
  }

  /** A replica applied `id` at `sequence`: one transaction a sequence, one sequence a transaction. */
  recordApplied(addr: string, id: string, sequence: number): void {
    const holder = this.transaction_of_sequence.get(sequence);
    if (holder !== undefined && holder !== id) this.violate('sequence-unique', `${addr} applied ${id} at sequence ${sequence}, already used by ${holder}`);
    else this.transaction_of_sequence.set(sequence, id);
    const known = this.sequence_of_transaction.get(id);
    if (known !== undefined && known !== sequence) this.violate('one-sequence-per-transaction', `${addr} applied ${id} at ${sequence}, elsewhere at ${known}`);
    else this.sequence_of_transaction.set(id, sequence);
  }

  /** `addr` took over as master in `epoch`. */
  recordMaster(epoch: number, addr: string): void {
    this.recordLeader(epoch, addr, 'accepted writes');
  }

  /** `addr` coordinated a round in `epoch`. */
  recordRound(epoch: number, addr: string): void {
    this.recordLeader(epoch, addr, 'coordinated a round');
  }

  private recordLeader(epoch: number, addr: string, what: string): void {
    const leaders = this.masters_by_epoch.get(epoch) ?? new Set<string>();
    this.masters_by_epoch.set(epoch, leaders);
    if (!leaders.has(addr) && leaders.size > 0) this.violate('one-master-per-epoch', `${addr} ${what} in epoch ${epoch}, led by ${[...leaders].join(', ')}`);
    leaders.add(addr);
  }

  call<K extends RpcKind>(from: Endpoint, to: string, kind: K, request: RpcRequest<K>, timeout_ms: number, onReply: (reply: Reply<RpcAnswer<K>>) => void): void {
    const incarnation = from.incarnation;
    let settled = false;
    const settle = (reply: Reply<RpcAnswer<K>>): void => {
      if (settled) return;
      settled = true;
      if (from.incarnation === incarnation) onReply(reply);
    };
    this.schedule(timeout_ms, 'timeout', () => settle({ ok: false, error: 'timeout' }));
    this.network.transmit(from.addr, to, kind, () => {
      const target = this.servers.get(to);
      if (!target || !target.up) {
        this.network.transmit(to, from.addr, 'refused', () => settle({ ok: false, error: 'refused' }));
        return;
      }
      const target_incarnation = target.incarnation;
      const handler = target.handlers[kind] as (request: RpcRequest<K>, reply: (answer: RpcAnswer<K>) => void) => void;
      handler(request, (answer) => {
        if (target.incarnation !== target_incarnation || !target.up) return;
        this.network.transmit(to, from.addr, `${kind}-answer`, () => settle({ ok: true, body: answer }));
      });
    });
  }
}
