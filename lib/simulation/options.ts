/**
 * What one simulated run looks like: cluster size, protocol limits, fault rates, client
 * load, and the planted bugs a run may switch on to prove the checker catches them.
 * Every limit is named with its unit last.
 */
import { default_limits, type NodeLimits } from '../node/options.ts';
import { no_planted_bugs, type PlantedBugs } from '../node/planted-bugs.ts';

export interface NetworkFaults {
  /** Chance a message is lost. */
  readonly drop_probability: number;
  /** Chance a message is delivered twice. */
  readonly duplicate_probability: number;
  /** Chance a message is held back `long_delay_ms`-ish, so later ones overtake it. */
  readonly long_delay_probability: number;
  readonly delay_min_ms: number;
  readonly delay_max_ms: number;
  readonly long_delay_max_ms: number;
}

export interface SimOptions {
  readonly seed: number;
  readonly node_count: number;
  readonly client_count: number;
  /** The keys clients write; few, so transactions conflict. */
  readonly keys: readonly string[];
  readonly max_keys_per_transaction: number;
  /** How long clients submit and faults happen. */
  readonly fault_duration_ms: number;
  /** After the faults: healed network, every node up, no new transactions. */
  readonly quiesce_duration_ms: number;
  /** The node's limits (lib/node/options.ts), shortened for simulated runs. */
  readonly limits: NodeLimits;
  /** Longest an asynchronous store write takes; a crash before it lands loses it. */
  readonly disk_write_max_ms: number;
  /** Whether the random faults include sick disks (writes failing with ENOSPC or EIO for a while, slow fsyncs). */
  readonly disk_faults: boolean;
  /** Longest a node's disk fails its writes (ENOSPC, EIO) or fsyncs slowly, in one disk fault. */
  readonly disk_fault_duration_max_ms: number;
  /** Most extra time one write takes while fsyncs are slow. */
  readonly slow_fsync_max_ms: number;
  /** Longest a node is frozen by a pause fault (SIGSTOP). */
  readonly pause_max_ms: number;
  readonly network: NetworkFaults;
  /** Mean pause between two fault injections. */
  readonly fault_interval_mean_ms: number;
  readonly restart_delay_min_ms: number;
  readonly restart_delay_max_ms: number;
  readonly partition_duration_max_ms: number;
  readonly client_timeout_ms: number;
  readonly client_attempts: number;
  readonly client_think_max_ms: number;
  readonly client_retry_backoff_ms: number;
  /** The planted bugs switched on (lib/node/planted-bugs.ts); none in a real sweep. */
  readonly bugs: PlantedBugs;
  /** Keep every event as a line of text (slow; for replaying one seed). */
  readonly trace: boolean;
}

export const default_network: NetworkFaults = Object.freeze({
  drop_probability: 0.05,
  duplicate_probability: 0.03,
  long_delay_probability: 0.02,
  delay_min_ms: 1,
  delay_max_ms: 20,
  long_delay_max_ms: 1_500,
});

export const quiet_network: NetworkFaults = Object.freeze({
  drop_probability: 0,
  duplicate_probability: 0,
  long_delay_probability: 0,
  delay_min_ms: 1,
  delay_max_ms: 5,
  long_delay_max_ms: 5,
});

export const default_sim_limits: NodeLimits = Object.freeze({
  ...default_limits,
  prepare_timeout_ms: 1_000,
  decision_timeout_ms: 1_000,
  in_doubt_after_ms: 1_500,
  peer_query_timeout_ms: 1_000,
});

export const default_sim_options: Omit<SimOptions, 'seed'> = Object.freeze({
  node_count: 3,
  client_count: 3,
  keys: Object.freeze(['a', 'b', 'c', 'd']),
  max_keys_per_transaction: 2,
  fault_duration_ms: 10_000,
  quiesce_duration_ms: 15_000,
  limits: default_sim_limits,
  network: default_network,
  fault_interval_mean_ms: 1_200,
  restart_delay_min_ms: 100,
  restart_delay_max_ms: 3_000,
  partition_duration_max_ms: 3_000,
  client_timeout_ms: 2_500,
  client_attempts: 6,
  client_think_max_ms: 300,
  client_retry_backoff_ms: 200,
  disk_write_max_ms: 3,
  disk_faults: true,
  disk_fault_duration_max_ms: 3_000,
  slow_fsync_max_ms: 500,
  pause_max_ms: 2_000,
  bugs: no_planted_bugs,
  trace: false,
});

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
