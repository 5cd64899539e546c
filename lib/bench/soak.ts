/**
 * The soak (`twopc bench --soak N`): N transactions or more from `soak_clients` concurrent
 * clients against the master, run as consecutive load runs of `--duration` seconds each, with the
 * RSS of every node sampled throughout: does memory stay flat over a million transactions?
 */
import type { ProcessCluster } from '../process-cluster/process-cluster.ts';
import type { LoadGenerator } from './generator.ts';
import { unique_keys } from './workloads.ts';
import { RssSampler, type RssSummary } from './rss.ts';
import { round } from './stats.ts';

/** Concurrent clients of the soak: the load the "64 connections writing" names. */
export const soak_clients = 64;
/** A soak that commits nothing for this many runs in a row stops: the cluster is not writing. */
const soak_idle_runs_max = 3;

export interface SoakResult {
  readonly clients: number;
  readonly transactions_asked: number;
  readonly committed: number;
  readonly aborted: number;
  readonly errors: number;
  readonly elapsed_s: number;
  readonly tx_per_s: number;
  /** RSS of every node over the whole soak: first, highest and last reading. */
  readonly rss: readonly RssSummary[];
}

export async function runSoak(generator: LoadGenerator, cluster: ProcessCluster, master: string, transactions: number, run_ms: number, note: (text: string) => void): Promise<SoakResult> {
  const sampler = new RssSampler();
  for (const addr of cluster.addrs) sampler.track(addr, () => cluster.pidOf(addr));
  sampler.start();
  const started = performance.now();
  let committed = 0;
  let aborted = 0;
  let errors = 0;
  let idle_runs = 0;
  try {
    while (committed < transactions && idle_runs < soak_idle_runs_max) {
      const run = await generator.run(master, unique_keys, soak_clients, run_ms);
      committed += run.committed;
      aborted += run.aborted;
      errors += run.errors;
      idle_runs = run.committed === 0 ? idle_runs + 1 : 0;
      const rss = sampler.summaries().map((summary) => Math.round(summary.end_mb)).join('/');
      note(`${committed}/${transactions} committed, ${run.tx_per_s} tx/s, RSS ${rss} MB`);
    }
  } finally {
    sampler.stop();
  }
  const elapsed_s = (performance.now() - started) / 1000;
  return {
    clients: soak_clients,
    transactions_asked: transactions,
    committed,
    aborted,
    errors,
    elapsed_s: round(elapsed_s, 1),
    tx_per_s: round(committed / elapsed_s, 1),
    rss: sampler.summaries(),
  };
}
