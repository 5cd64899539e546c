/**
 * Summaries of measured samples for the benchmark: nearest-rank percentiles, rounding, and
 * the ratio of a twopc figure to its baseline.
 */
import { assert } from '../util/assert.ts';

/** p50/p99/max/mean of a set of durations in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  readonly mean_ms: number;
}

/** The nearest-rank `p`th percentile (0 < p ≤ 100) of `sorted`, which is ascending and not empty. */
export function percentile(sorted: readonly number[], p: number): number {
  assert(sorted.length > 0, 'a percentile needs at least one sample');
  assert(p > 0 && p <= 100, `percentile ${p} is in (0, 100]`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

/** Summarises `samples_ms`; every figure is 0 when there are none. */
export function summarizeLatency(samples_ms: readonly number[]): LatencySummary {
  if (samples_ms.length === 0) return { count: 0, p50_ms: 0, p99_ms: 0, max_ms: 0, mean_ms: 0 };
  const sorted = [...samples_ms].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.at(-1) ?? 0),
    mean_ms: round(total / sorted.length),
  };
}

/** `value` rounded to `digits` decimals (default 2): figures in reports, not in arithmetic. */
export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** twopc / baseline, or null when the baseline is 0 (no meaningful ratio). */
export function ratioOf(twopc: number, baseline: number): number | null {
  return baseline > 0 ? round(twopc / baseline, 3) : null;
}
