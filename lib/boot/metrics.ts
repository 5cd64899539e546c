/**
 * A node's Prometheus metrics (prom-client), every one named `twopc_…`, in a Registry of the
 * node's own: `twopc cluster` runs several nodes in one process. Latencies are in seconds.
 * Counters move where things happen (the services measure through the NodeMetrics interface
 * of lib/node/metrics.ts, and every logged event is counted through `countingLogger`); gauges
 * read the node's state at scrape time from the `MetricsSource` the node is watched through.
 * `GET /metrics` and the dashboard read them as a `MetricsExposition` (lib/transport/metrics.ts).
 */
import { Counter, Gauge, Histogram, Registry } from './prom-client.ts';
import type { Clock } from '../time/clock.ts';
import type { NodeMetrics } from '../node/metrics.ts';
import type { TwopcNode } from '../node/node.ts';
import { timeline_interval_ms, type MetricsExposition, type TimelineSample } from '../transport/metrics.ts';

/** Histogram buckets for one phase of a transaction, in seconds (1 ms … 10 s). */
export const latency_buckets_seconds: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How many timeline samples are kept (10 minutes at `timeline_interval_ms`). */
export const timeline_length = 600;

/** What the gauges read at scrape time. */
export interface MetricsSource {
  readonly epoch: () => number;
  readonly is_master: () => boolean;
  readonly last_sequence: () => number;
  readonly locked_keys: () => number;
  readonly undelivered_decisions: () => number;
  readonly in_flight: () => number;
  readonly alive_peers: () => number;
  /** Highest sequence a reachable peer reported minus this node's applied one (never below 0). */
  readonly catch_up_lag: () => number;
  /** PREPARED transactions here, and those of them older than `in_doubt_after_ms`. */
  readonly prepared: () => Promise<{ readonly total: number; readonly in_doubt: number }>;
}

/** Events whose log line also moves a counter (see `countingLogger`). */
const participant_states: Readonly<Record<string, string>> = { prepared: 'PREPARED', committed: 'COMMITTED', aborted: 'ABORTED', 'abort-remembered': 'ABORTED' };

export class PrometheusMetrics implements NodeMetrics, MetricsExposition {
  readonly registry = new Registry();
  private source: MetricsSource | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private readonly timeline: TimelineSample[] = [];
  /** Running totals of the rounds this node coordinated, for the timeline. */
  private readonly totals = { committed: 0, aborted: 0, in_doubt: 0, conflicts: 0, round_seconds_sum: 0 };

  readonly decisions = new TallyCounter(this.registry, 'twopc_transactions_total', 'Transactions this node coordinated, by decision (COMMIT or ABORT).', 'outcome');
  readonly answers = new TallyCounter(
    this.registry,
    'twopc_transaction_answers_total',
    'Answers to POST /transactions rounds run here: committed, aborted, or in_doubt (503, the commit not yet acknowledged).',
    'outcome',
  );
  readonly prepare_seconds = new Histogram({
    name: 'twopc_prepare_duration_seconds',
    help: 'Phase one as coordinator: from sending PREPARE to having every vote (or its timeout), in seconds.',
    buckets: [...latency_buckets_seconds],
    registers: [this.registry],
  });
  readonly commit_seconds = new Histogram({
    name: 'twopc_commit_duration_seconds',
    help: 'Phase two of a round with COMMITs as coordinator: from its durable decisions to its answers (delivered, and applied here), in seconds; one sample a round, rounds sharing a decision stage each taking its time.',
    buckets: [...latency_buckets_seconds],
    registers: [this.registry],
  });
  readonly transaction_seconds = new Histogram({
    name: 'twopc_transaction_duration_seconds',
    help: 'A whole round as coordinator, from the request to the answer, in seconds.',
    labelNames: ['outcome'] as const,
    buckets: [...latency_buckets_seconds],
    registers: [this.registry],
  });
  readonly participant_transitions = new TallyCounter(
    this.registry,
    'twopc_participant_transitions_total',
    'State changes of transactions on this node as a participant (PREPARED, COMMITTED, ABORTED).',
    'state',
  );
  readonly in_doubt_resolutions = new Counter({
    name: 'twopc_in_doubt_resolutions_total',
    help: 'Passes of cooperative termination over an in-doubt transaction here, by resolution.',
    labelNames: ['resolution'] as const,
    registers: [this.registry],
  });
  readonly elections = new Counter({ name: 'twopc_elections_total', help: 'Times this node was elected master.', registers: [this.registry] });
  readonly step_downs = new Counter({ name: 'twopc_step_downs_total', help: 'Times this node stopped acting as master.', registers: [this.registry] });
  readonly heartbeat_misses = new Counter({
    name: 'twopc_heartbeat_misses_total',
    help: 'Heartbeat probes a peer failed to answer, by peer.',
    labelNames: ['peer'] as const,
    registers: [this.registry],
  });
  readonly events = new TallyCounter(this.registry, 'twopc_log_events_total', 'Events this node logged (whatever the log level), by event and level.', 'event', 'level');
  /** What `countEvent` moves for each event, looked up once per event name and level. */
  private readonly event_tallies = new Map<string, { readonly event: Tally; readonly transition: Tally | undefined }>();
  private readonly answer_seconds = {
    committed: this.transaction_seconds.labels({ outcome: 'committed' }),
    aborted: this.transaction_seconds.labels({ outcome: 'aborted' }),
    in_doubt: this.transaction_seconds.labels({ outcome: 'in_doubt' }),
  };

  /** Phases are timed, and the timeline stamped, on `clock`. */
  constructor(private readonly clock: Clock) {
    // Known label values start at 0, so they are listed (and rate() works) before they first move.
    for (const outcome of ['COMMIT', 'ABORT']) this.decisions.tally(outcome);
    for (const outcome of ['committed', 'aborted', 'in_doubt']) this.answers.tally(outcome);
    for (const state of ['PREPARED', 'COMMITTED', 'ABORTED']) this.participant_transitions.tally(state);
    this.gauge('twopc_epoch', 'Highest epoch this node has seen.', (s) => s.epoch());
    this.gauge('twopc_is_master', '1 while this node acts as master.', (s) => (s.is_master() ? 1 : 0));
    this.gauge('twopc_last_sequence', 'Every committed sequence up to this one is applied here.', (s) => s.last_sequence());
    this.gauge('twopc_locked_keys', 'Keys locked by prepared transactions.', (s) => s.locked_keys());
    this.gauge('twopc_undelivered_decisions', 'Decisions some participant has not acknowledged yet.', (s) => s.undelivered_decisions());
    this.gauge('twopc_in_flight_transactions', 'Rounds this node is coordinating right now.', (s) => s.in_flight());
    this.gauge('twopc_alive_peers', 'Peers this node currently counts alive.', (s) => s.alive_peers());
    this.gauge('twopc_catch_up_lag', 'Highest sequence a reachable peer reported minus the one applied here (0 when current).', (s) => s.catch_up_lag());
    let prepared: Promise<{ readonly total: number; readonly in_doubt: number }> | undefined;
    // One read of the participant log serves both gauges of a scrape.
    const readPrepared = (s: MetricsSource) => (prepared ??= s.prepared().finally(() => setImmediate(() => (prepared = undefined))));
    this.gauge('twopc_prepared_transactions', 'Transactions PREPARED here, waiting for their decision.', async (s) => (await readPrepared(s)).total);
    this.gauge('twopc_in_doubt_transactions', 'PREPARED here for longer than in_doubt_after_ms: their holder asks the cluster for the outcome.', async (s) => (await readPrepared(s)).in_doubt);
  }

  /**
   * Start reading gauges from `source` (the node, once it exists), and sample the timeline
   * every `timeline_interval_ms` until `close()`.
   */
  watch(source: MetricsSource): void {
    this.source = source;
    clearInterval(this.sampler);
    this.sampler = setInterval(() => this.sample(), timeline_interval_ms);
    this.sampler.unref();
    this.sample();
  }

  close(): void {
    clearInterval(this.sampler);
  }

  /** The last `timeline_length` samples, oldest first. */
  listSamples(): readonly TimelineSample[] {
    return this.timeline;
  }

  private sample(): void {
    if (this.source === undefined) return;
    this.timeline.push({ t_ms: this.clock.now_ms(), last_sequence: this.source.last_sequence(), ...this.totals });
    if (this.timeline.length > timeline_length) this.timeline.splice(0, this.timeline.length - timeline_length);
  }

  /** The Prometheus text exposition of this node's registry. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get content_type(): string {
    return this.registry.contentType;
  }

  /** Seconds since an arbitrary origin, for timing phases. */
  now_s(): number {
    return this.clock.monotonic_ms() / 1_000;
  }

  /** Time one coordinator round and count its answer by outcome (and the aborts that were conflicts). */
  async timeRound<T extends { readonly http_status: number; readonly body?: unknown }>(run: () => Promise<T>): Promise<T> {
    const started_s = this.now_s();
    const answer = await run();
    const outcome = answer.http_status === 200 ? 'committed' : answer.http_status === 409 ? 'aborted' : 'in_doubt';
    const seconds = this.now_s() - started_s;
    this.answers.tally(outcome).value += 1;
    this.answer_seconds[outcome].observe(seconds);
    this.totals[outcome] += 1;
    if (outcome === 'aborted' && isConflict(answer.body)) this.totals.conflicts += 1;
    this.totals.round_seconds_sum += seconds;
    return answer;
  }

  /**
   * Count what a logged event says happened (called for every event, whatever the level:
   * several times a transaction). Plain numbers, each found once (`TallyCounter`).
   */
  countEvent(level: 'info' | 'warn', event: string, fields: Readonly<Record<string, unknown>> | undefined): void {
    const key = `${level} ${event}`;
    let tallies = this.event_tallies.get(key);
    if (tallies === undefined) {
      const state = participant_states[event];
      tallies = { event: this.events.tally(event, level), transition: state === undefined ? undefined : this.participant_transitions.tally(state) };
      this.event_tallies.set(key, tallies);
    }
    tallies.event.value += 1;
    if (tallies.transition !== undefined) tallies.transition.value += 1;
    if (event === 'decided' && typeof fields?.['decision'] === 'string') this.decisions.tally(fields['decision']).value += 1;
    if (event === 'elected') this.elections.inc();
    if (event === 'stepped-down') this.step_downs.inc();
    if (event === 'in-doubt' && typeof fields?.['resolution'] === 'string') this.in_doubt_resolutions.inc({ resolution: fields['resolution'] });
  }

  private gauge(name: string, help: string, read: (source: MetricsSource) => number | Promise<number>): void {
    const metrics = this;
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        if (metrics.source !== undefined) this.set(await read(metrics.source));
      },
    });
  }
}

/** One series of a TallyCounter: its count. */
interface Tally {
  value: number;
}

/**
 * A Prometheus counter whose series are plain numbers, handed to prom-client at scrape time:
 * prom-client's own `inc({labels})` hashes and checks the labels on every call, and the hot
 * path counts several events a transaction.
 */
class TallyCounter {
  private readonly tallies = new Map<string, Tally & { readonly labels: Readonly<Record<string, string>> }>();

  constructor(registry: Registry, name: string, help: string, ...label_names: readonly string[]) {
    const tallies = this.tallies;
    new Counter({
      name,
      help,
      labelNames: label_names,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of tallies.values()) this.inc(labels, value);
      },
    });
    this.label_names = label_names;
  }

  private readonly label_names: readonly string[];

  /** The series of these label values (in the order of the label names), created at 0. */
  tally(...values: readonly string[]): Tally {
    const key = values.join('\u0000');
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = { labels: Object.fromEntries(this.label_names.map((name, index) => [name, values[index] ?? ''])), value: 0 };
      this.tallies.set(key, tally);
    }
    return tally;
  }
}

/** The node as its gauges read it. */
export function metricsSourceOf(node: TwopcNode): MetricsSource {
  const { context } = node;
  const { state, sequences, locks } = context;
  return {
    epoch: () => state.epoch,
    is_master: () => state.role === 'MASTER',
    last_sequence: () => sequences.applied_through,
    locked_keys: () => locks.size,
    undelivered_decisions: () => node.coordinator.undelivered_count,
    in_flight: () => node.coordinator.listInFlight().length,
    alive_peers: () => [...state.peers.values()].filter((peer) => peer.alive).length,
    catch_up_lag: () => {
      const seen = [...state.peers.values()].map((peer) => (peer.reachable ? (peer.last_report?.last_sequence ?? 0) : 0));
      return Math.max(0, ...seen.map((sequence) => sequence - sequences.applied_through));
    },
    prepared: async () => {
      const prepared = await context.participant_log.listPrepared();
      const cutoff_ms = context.clock.now_ms() - context.limits.in_doubt_after_ms;
      return { total: prepared.length, in_doubt: prepared.filter((record) => record.updated_at <= cutoff_ms).length };
    },
  };
}

/** An ABORTED answer whose reason is a participant's `conflict` vote. */
function isConflict(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { readonly reason?: unknown }).reason === 'conflict';
}
