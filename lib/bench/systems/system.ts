/**
 * A system the benchmark loads side by side with twopc (issue 13's table): twopc itself at 1,
 * 3 and 5 nodes, and with `--compare` a 3-member etcd or PostgreSQL cluster, each started on
 * loopback on free ports for its rows, loaded through the same generator, then stopped with
 * its data removed. One runs at a time.
 */
import type { Workload } from '../workloads.ts';

export interface RunningSystem {
  /** host:port the load goes to (twopc's master, etcd's leader, the PostgreSQL front). */
  readonly addr: string;
  /** host:port of each server (twopc's nodes, etcd's client URLs, PostgreSQL's servers). */
  readonly members: readonly string[];
  /** Where its data is (a temp dir, removed by `stop`). */
  readonly data_dir: string;
  /** The pid of each of its server processes now. */
  pids(): readonly number[];
  /** Stops every process of the system and removes its data. */
  stop(): Promise<void>;
}

export interface SystemSpec {
  /** `twopc`, `etcd` or `postgres`. */
  readonly system: string;
  /** How the row is named: `twopc, 3 nodes`. */
  readonly label: string;
  readonly members: number;
  /** The unique-key write in this system's language. */
  readonly workload: Workload;
  /** Also run the hot-key workload on it (twopc at 3 nodes: issue 13's target 4). */
  readonly hot_keys: boolean;
  /** Why it cannot run on this machine (not installed, …), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Its version, for the record (null when unknown). */
  version(): string | null;
  start(note: (text: string) => void): Promise<RunningSystem>;
}
