/**
 * The goals of issues 12 and 13, each judged against one run's figures: met, missed (by how
 * much, and by what factor), or not measured (and why). A pure function of the figures, so
 * the report and the record say the same thing and a test can check the rule by table.
 */
import { ratioOf, round } from './stats.ts';
import type { SystemRow } from './systems-table.ts';

export type Verdict = 'met' | 'missed' | 'not measured';

export interface Target {
  readonly issue: 12 | 13;
  readonly what: string;
  readonly unit: '×' | 'ms' | 'MB' | '%';
  /** `>=`: the figure must reach the goal; `<=`: it must stay within it. */
  readonly comparison: '>=' | '<=';
  readonly goal: number;
  readonly measured: number | null;
  readonly verdict: Verdict;
  /** How far the figure is from the goal, in its unit; null unless missed. */
  readonly missed_by: number | null;
  /** How many times better the figure must get (goal ÷ figure, or figure ÷ goal); null unless missed. */
  readonly factor: number | null;
  /** Where the figure comes from, or why there is none. */
  readonly note: string;
}

/** The figures the targets read: the systems table and the runtime rows of one run. */
export interface TargetFigures {
  readonly systems: readonly SystemRow[];
  readonly failover: { readonly runs: number; readonly failed: number; readonly p99_ms: number };
  readonly restart: { readonly committed: number; readonly health_ms: number | null; readonly in_doubt: number; readonly resolved_after_serving_ms: number | null };
  readonly node_idle_rss_mb: readonly number[];
  readonly node_after_load_rss_mb: readonly number[];
  readonly soak_peak_mb: number | null;
  readonly soak_committed: number | null;
  readonly cluster_idle_rss_mb: number | null;
  readonly commit_p50_ms: number | null;
  readonly help_p50_ms: number | null;
}

/** The store issue 13's restart promise names. */
export const restart_store_named = 1_000_000;

/** One target judged: `measured` null means not measured (`note` says why). */
export function judge(issue: 12 | 13, what: string, unit: Target['unit'], comparison: Target['comparison'], goal: number, measured: number | null, note: string): Target {
  if (measured === null || !Number.isFinite(measured)) return { issue, what, unit, comparison, goal, measured: null, verdict: 'not measured', missed_by: null, factor: null, note };
  const met = comparison === '>=' ? measured >= goal : measured <= goal;
  if (met) return { issue, what, unit, comparison, goal, measured, verdict: 'met', missed_by: null, factor: null, note };
  const missed_by = round(Math.abs(goal - measured), 3);
  const factor = comparison === '>=' ? (measured > 0 ? round(goal / measured, 2) : null) : goal > 0 ? round(measured / goal, 2) : null;
  return { issue, what, unit, comparison, goal, measured, verdict: 'missed', missed_by, factor, note };
}

function row(systems: readonly SystemRow[], system: string, members: number): SystemRow | undefined {
  return systems.find((candidate) => candidate.system === system && candidate.members === members);
}

/** Why a row has no figure: skipped with a reason, or not in this run. */
function absent(label: string, found: SystemRow | undefined, hint = ''): string {
  if (found === undefined) return `${label} not in this run${hint}`;
  return `${label} skipped: ${found.skipped ?? 'no figures'}`;
}

/** `a ÷ b` of writes/s at 64 connections, with where it came from. */
function throughputRatio(a: SystemRow | undefined, b: SystemRow | undefined, a_label: string, b_label: string, hint = ''): { readonly value: number | null; readonly note: string } {
  const x = a?.throughput?.tx_per_s;
  const y = b?.throughput?.tx_per_s;
  if (x === undefined) return { value: null, note: absent(a_label, a) };
  if (y === undefined) return { value: null, note: absent(b_label, b, hint) };
  return { value: ratioOf(x, y), note: `${x} ÷ ${y} writes/s` };
}

function largest(values: readonly number[]): number | null {
  return values.length > 0 ? Math.max(...values) : null;
}

function failoverTarget(failover: TargetFigures['failover']): Target {
  const what = 'failover, kill of the master to next commit, p99';
  if (failover.runs === 0) return judge(13, what, 'ms', '<=', 1_000, null, 'no failover in this run (--failovers)');
  // A kill after which no commit came within the bench's limit is a miss whatever the others did.
  if (failover.failed > 0) return { ...judge(13, what, 'ms', '<=', 1_000, failover.p99_ms, ''), verdict: 'missed', note: `${failover.failed} of ${failover.runs} kills without a commit in time` };
  return judge(13, what, 'ms', '<=', 1_000, failover.p99_ms, `${failover.runs} kill${failover.runs === 1 ? '' : 's'}`);
}

export function issue13Targets(figures: TargetFigures): readonly Target[] {
  const { systems } = figures;
  const one = row(systems, 'twopc', 1);
  const three = row(systems, 'twopc', 3);
  const five = row(systems, 'twopc', 5);
  const etcd = row(systems, 'etcd', 3);
  const vs_etcd = throughputRatio(three, etcd, 'twopc, 3 nodes', 'etcd', ' (--compare etcd)');
  const one_three = throughputRatio(one, three, 'twopc, 1 node', 'twopc, 3 nodes');
  const five_three = throughputRatio(five, three, 'twopc, 5 nodes', 'twopc, 3 nodes');
  const latency = three?.latency ?? null;
  const latency_note = latency === null ? absent('twopc, 3 nodes', three) : `${latency.committed} commits, 1 connection`;
  const hot = three?.hot_keys ?? null;
  const share = hot?.commit_share;
  const hot_note = hot === null ? absent('twopc, 3 nodes', three) : `${hot.load.committed} committed, ${hot.load.aborted} aborted`;
  const { restart } = figures;
  const store_note = restart.committed < restart_store_named ? `; the promise names ${restart_store_named} (--restart-store ${restart_store_named})` : '';
  return [
    judge(13, 'writes/s at 64 connections, twopc 3 nodes ÷ etcd 3 members', '×', '>=', 1.0, vs_etcd.value, vs_etcd.note),
    judge(13, 'p50 at 1 connection, twopc 3 nodes', 'ms', '<=', 1.0, latency?.latency.p50_ms ?? null, latency_note),
    judge(13, 'p99 at 1 connection, twopc 3 nodes', 'ms', '<=', 3.0, latency?.latency.p99_ms ?? null, latency_note),
    judge(13, 'writes/s at 64 connections, twopc 1 node ÷ 3 nodes', '×', '>=', 0.9, one_three.value, one_three.note),
    judge(13, 'hot keys (8 connections, 2-4 of 24 keys) committed', '%', '>=', 90, share === null || share === undefined ? null : round(share * 100, 1), hot_note),
    judge(13, 'writes/s at 64 connections, twopc 5 nodes ÷ 3 nodes', '×', '>=', 0.7, five_three.value, five_three.note),
    failoverTarget(figures.failover),
    judge(13, 'restart to /health 200, large store with in-doubt', 'ms', '<=', 2_000, restart.health_ms, `${restart.committed} committed, ${restart.in_doubt} in doubt${store_note}`),
  ];
}

export function issue12Targets(figures: TargetFigures): readonly Target[] {
  const soak_note = figures.soak_committed === null ? 'no soak in this run (--soak 1000000)' : `over ${figures.soak_committed} transactions`;
  return [
    judge(12, 'standalone node RSS, idle (largest)', 'MB', '<=', 60, largest(figures.node_idle_rss_mb), figures.node_idle_rss_mb.join(', ')),
    judge(12, 'standalone node RSS after the load runs (largest)', 'MB', '<=', 100, largest(figures.node_after_load_rss_mb), figures.node_after_load_rss_mb.join(', ')),
    judge(12, 'node RSS peak over the soak (largest)', 'MB', '<=', 100, figures.soak_peak_mb, soak_note),
    judge(12, 'twopc cluster --size 3, whole process, idle', 'MB', '<=', 160, figures.cluster_idle_rss_mb, 'one process, a worker thread a node'),
    judge(12, 'twopc commit wall time, median', 'ms', '<=', 150, figures.commit_p50_ms, 'against the running bench cluster'),
    judge(12, 'twopc --help wall time, median', 'ms', '<=', 120, figures.help_p50_ms, ''),
    judge(12, 'in-doubt resolution after restart, from serving', 'ms', '<=', 2_000, figures.restart.resolved_after_serving_ms, `${figures.restart.in_doubt} in doubt`),
  ];
}
