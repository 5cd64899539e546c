import type { SimResult } from '../../lib/simulation/runner.ts';

/** Seeds in each half of CI's sweep (4,000 in all). */
export const sweep_half_seed_count = 2000;

/** What a sweep's assertions read: totals, the first violation of each failed seed, and the seeds left without a master. */
export function describeSweep(results: readonly SimResult[]): {
  readonly acknowledged: number;
  readonly crashes: number;
  readonly violations: readonly string[];
  readonly without_master: readonly number[];
} {
  return {
    acknowledged: results.reduce((sum, result) => sum + result.stats.acknowledged, 0),
    crashes: results.reduce((sum, result) => sum + result.stats.crashes, 0),
    violations: results.flatMap((result) => result.violations.slice(0, 1).map((v) => `seed ${result.seed}: ${v.rule}: ${v.detail}`)),
    without_master: results.filter((result) => !result.stats.accepting_writes_at_end).map((result) => result.seed),
  };
}
