/**
 * The simulated world: simulated time, the event queue, the network, the trace, and calls
 * between endpoints (nodes and clients). A call is a request and an answer, each a message
 * the network may lose, delay, duplicate or hold back; the caller sees the first answer, or
 * PeerUnreachable (a timeout, or `refused` when nothing listened at the target).
 *
 * The nodes run the real services (lib/node), which are async: the loop pops the next event
 * by simulated time, fires it (resolving a promise a service awaits: an answer, a timer, a
 * disk write), then lets every microtask run before the next event. Nothing real (sockets,
 * timers, the system clock, Math.random) takes part, so the same seed gives the same run.
 */
import { EventQueue } from './event-queue.ts';
import { Network } from './network.ts';
import type { SimOptions } from './options.ts';
import { Random } from './random.ts';
import { PeerUnreachable, type PeerResponse } from '../node/peer-calls.ts';
import type { Timer } from '../time/timers.ts';

/** Something that calls: it may crash and come back as a new incarnation, or be paused. */
export interface Endpoint {
  readonly addr: string;
  readonly incarnation: number;
  /** Run `run` here now, unless this endpoint crashed since `incarnation` (false then); a paused one runs it when it resumes. */
  arrive(incarnation: number, run: () => void): boolean;
}

/** Something that answers calls while it listens: a node's HTTP routes. */
export interface Server extends Endpoint {
  readonly listening: boolean;
  answer(method: 'GET' | 'POST', path: string, body: unknown): Promise<PeerResponse>;
}

export interface Violation {
  readonly at_ms: number;
  readonly rule: string;
  readonly detail: string;
}

/** FNV-1a offset basis and prime: a cheap running hash of the trace, kept even when the trace is not. */
const fnv_offset = 0x811c9dc5;
const fnv_prime = 0x01000193;

/** Lets every pending microtask run: setImmediate fires only once the microtask queue is empty. */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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
  /** The replicas that ever applied each transaction. */
  private readonly appliers = new Map<string, Set<string>>();
  /** Every node that accepted writes or ran a round in each epoch. */
  readonly masters_by_epoch = new Map<number, Set<string>>();

  constructor(readonly options: SimOptions) {
    this.random = new Random(options.seed);
    this.network = new Network(this.random, options.network, (delay_ms, run) => void this.schedule(delay_ms, run));
    this.trace = options.trace ? [] : undefined;
  }

  get hash(): string {
    return (this.trace_hash >>> 0).toString(16).padStart(8, '0');
  }

  /** Run `run` `delay_ms` from now (simulated), unless cancelled first. */
  schedule(delay_ms: number, run: () => boolean | void): Timer {
    let cancelled = false;
    this.queue.push(this.now_ms + Math.max(0, delay_ms), () => !cancelled && run() !== false);
    return { cancel: () => void (cancelled = true) };
  }

  /** Run events until simulated time passes `until_ms` or nothing is left. */
  async runUntil(until_ms: number): Promise<void> {
    for (let event = this.queue.popDue(until_ms); event !== undefined; event = this.queue.popDue(until_ms)) {
      this.now_ms = event.at_ms;
      this.events_run += 1;
      if (event.run() !== false) await drainMicrotasks();
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
    const appliers = this.appliers.get(id) ?? new Set<string>();
    this.appliers.set(id, appliers.add(addr));
  }

  /** Some replica other than `addr` applied `id`. */
  isAppliedElsewhere(id: string, addr: string): boolean {
    return [...(this.appliers.get(id) ?? [])].some((applier) => applier !== addr);
  }

  /** `addr` led `epoch`: it accepted writes, or coordinated a round, in it. */
  recordLeader(epoch: number, addr: string, what: string): void {
    const leaders = this.masters_by_epoch.get(epoch) ?? new Set<string>();
    this.masters_by_epoch.set(epoch, leaders);
    if (!leaders.has(addr) && leaders.size > 0) this.violate('one-master-per-epoch', `${addr} ${what} in epoch ${epoch}, led by ${[...leaders].join(', ')}`);
    leaders.add(addr);
  }

  /** One HTTP exchange over the simulated network. A request's body travels as JSON text does: copied when sent. */
  call<T>(from: Endpoint, to: string, method: 'GET' | 'POST', path: string, body: unknown, timeout_ms: number): Promise<PeerResponse<T>> {
    const incarnation = from.incarnation;
    const request: unknown = body === undefined ? undefined : JSON.parse(JSON.stringify(body));
    return new Promise<PeerResponse<T>>((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void): boolean =>
        from.arrive(incarnation, () => {
          if (settled) return;
          settled = true;
          timeout.cancel();
          finish();
        });
      const timeout = this.schedule(timeout_ms, () => settle(() => reject(new PeerUnreachable(to, 'timeout'))));
      this.network.transmit(from.addr, to, `${method} ${path}`, () => {
        const target = this.servers.get(to);
        if (!target?.listening) {
          this.network.transmit(to, from.addr, 'refused', () => settle(() => reject(new PeerUnreachable(to, 'connect ECONNREFUSED'))));
          return;
        }
        const target_incarnation = target.incarnation;
        target.arrive(target_incarnation, () => {
          void target.answer(method, path, request).then((response) => {
            if (target.incarnation !== target_incarnation) return;
            // Answers are built fresh for each request, so they travel uncopied.
            this.network.transmit(to, from.addr, `answer ${path}`, () => settle(() => resolve(response as PeerResponse<T>)));
          });
        });
      });
    });
  }
}
