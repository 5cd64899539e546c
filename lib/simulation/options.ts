/**
 * What one simulated run looks like: cluster size, protocol limits, fault rates, client
 * load, and the planted bugs a run may switch on to prove the checker catches them. Each
 * option is described once, at its default; the types follow from the defaults. Every limit
 * is named with its unit last.
 */
import { default_limits, type NodeLimits } from '../node/options.ts';
import { no_planted_bugs, type PlantedBugs } from '../node/planted-bugs.ts';

export const default_network = frozen({
  /** Chance a message is lost. */
  drop_probability: 0.05,
  /** Chance a message is delivered twice. */
  duplicate_probability: 0.03,
  /** Chance a message is held back `long_delay_ms`-ish, so later ones overtake it. */
  long_delay_probability: 0.02,
  delay_min_ms: 1,
  delay_max_ms: 20,
  long_delay_max_ms: 1_500,
});

export type NetworkFaults = typeof default_network;

export const quiet_network: NetworkFaults = Object.freeze({ drop_probability: 0, duplicate_probability: 0, long_delay_probability: 0, delay_min_ms: 1, delay_max_ms: 5, long_delay_max_ms: 5 });

/** The node's limits (lib/node/options.ts), shortened for simulated runs. */
const default_sim_limits: NodeLimits = Object.freeze({ ...default_limits, prepare_timeout_ms: 1_000, decision_timeout_ms: 1_000, in_doubt_after_ms: 1_500, peer_query_timeout_ms: 1_000 });

const default_sim_options = frozen({
  node_count: 3,
  client_count: 3,
  /** The keys clients write; few, so transactions conflict. */
  keys: Object.freeze(['a', 'b', 'c', 'd']) as readonly string[],
  max_keys_per_transaction: 2,
  /** How long clients submit and faults happen. */
  fault_duration_ms: 10_000,
  /** After the faults: healed network, every node up, no new transactions. */
  quiesce_duration_ms: 15_000,
  limits: default_sim_limits,
  network: default_network,
  /** Mean pause between two fault injections. */
  fault_interval_mean_ms: 1_200,
  restart_delay_min_ms: 100,
  restart_delay_max_ms: 3_000,
  partition_duration_max_ms: 3_000,
  client_timeout_ms: 2_500,
  client_attempts: 6,
  client_think_max_ms: 300,
  client_retry_backoff_ms: 200,
  /** Longest an asynchronous store write takes; a crash before it lands loses it. */
  disk_write_max_ms: 3,
  /** Longest a node's disk fails its writes (ENOSPC, EIO) or fsyncs slowly, in one disk fault. */
  disk_fault_duration_max_ms: 3_000,
  /** Most extra time one write takes while fsyncs are slow. */
  slow_fsync_max_ms: 500,
  /** Longest a node is frozen by a pause fault (SIGSTOP). */
  pause_max_ms: 2_000,
  /** The planted bugs switched on (lib/node/planted-bugs.ts); none in a real sweep. */
  bugs: no_planted_bugs,
  /** Keep every event as a line of text (slow; for replaying one seed). */
  trace: false,
});

export type SimOptions = typeof default_sim_options & { readonly seed: number };

export type SimOverrides = { readonly seed: number } & Partial<Omit<SimOptions, 'seed' | 'bugs' | 'limits' | 'network'>> & {
    readonly bugs?: Partial<PlantedBugs>;
    readonly limits?: Partial<NodeLimits>;
    readonly network?: Partial<NetworkFaults>;
  };

export function resolveOptions(overrides: SimOverrides): SimOptions {
  return {
    ...default_sim_options,
    ...overrides,
    bugs: { ...no_planted_bugs, ...overrides.bugs },
    limits: { ...default_sim_limits, ...overrides.limits },
    network: { ...default_network, ...overrides.network },
  };
}

/** `Object.freeze` without its literal types: a default's type is the option's type. */
function frozen<T extends object>(value: T): Readonly<T> {
  return Object.freeze(value);
}
