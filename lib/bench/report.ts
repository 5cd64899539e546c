/**
 * The benchmark's table for people: each figure, its same-run baseline, and the ratio
 * twopc ÷ baseline (for latency and memory, above 1 means twopc is slower or bigger; for
 * throughput, below 1 means twopc commits fewer per second). Figures with no baseline
 * (failover, restart) show `-` there.
 */
import { formatTable, cell } from '../util/text-table.ts';
import type { LoadResult } from './load.ts';
import type { BenchResult } from './run-bench.ts';
import { ratioOf } from './stats.ts';
import type { SystemRow } from './systems-table.ts';
import type { Target } from './targets.ts';
import { hot_key_connections, throughput_connections } from './workloads.ts';

type Row = readonly string[];

function problems(result: LoadResult): string {
  const parts = [result.aborted > 0 && `${result.aborted} aborted`, result.errors > 0 && `${result.errors} errors`].filter(Boolean);
  return parts.length > 0 ? `twopc ${parts.join(', ')}` : '';
}

function loadRows(result: BenchResult): Row[] {
  const { latency } = result;
  const rows: Row[] = [
    ['commit latency p50, 1 client (ms)', cell(latency.twopc.latency.p50_ms), cell(latency.baseline.latency.p50_ms), cell(latency.ratio.p50), `${latency.twopc.committed} commits`],
    ['commit latency p99, 1 client (ms)', cell(latency.twopc.latency.p99_ms), cell(latency.baseline.latency.p99_ms), cell(latency.ratio.p99), problems(latency.twopc)],
  ];
  for (const row of result.throughput) {
    const note = [problems(row.twopc), `p99 ${row.twopc.latency.p99_ms} vs ${row.baseline.latency.p99_ms} ms`].filter(Boolean).join('; ');
    rows.push([`throughput, ${row.clients} clients (tx/s)`, cell(row.twopc.tx_per_s), cell(row.baseline.tx_per_s), cell(row.ratio), note]);
  }
  return rows;
}

function failoverRows(result: BenchResult): Row[] {
  const { failover } = result;
  const note = `${failover.runs} kills${failover.failed > 0 ? `, ${failover.failed} without a commit in time` : ''}`;
  return [
    ['failover, kill to next commit p50 (ms)', cell(failover.p50_ms), '-', '-', note],
    ['failover, kill to next commit p99 (ms)', cell(failover.p99_ms), '-', '-', ''],
    ['failover, kill to next commit max (ms)', cell(failover.max_ms), '-', '-', ''],
  ];
}

function restartRows(result: BenchResult): Row[] {
  const { restart } = result;
  const store = `${restart.committed} committed, ${restart.store_mb} MB`;
  return [
    ['restart to /health 200 (ms)', cell(restart.health_ms), '-', '-', store],
    ['restart to in-doubt resolved (ms)', cell(restart.resolved_ms), '-', '-', `${restart.in_doubt} in doubt`],
    ['other nodes, start to master (ms)', cell(restart.peers_ready_ms), '-', '-', gapNote(result)],
  ];
}

/** Says when a replica held committed sequences above the prefix the nodes reported. */
function gapNote(result: BenchResult): string {
  const { restart } = result;
  if (restart.stored_max_sequence <= restart.settled_last_sequence) return 'same store, no in-doubt';
  return `same store, no in-doubt; before the stop /health said ${restart.settled_last_sequence} but a store held up to ${restart.stored_max_sequence}`;
}

function rssRows(result: BenchResult): Row[] {
  const base = result.rss.baseline;
  return result.rss.nodes.map((node) => [
    `RSS peak, node ${node.label} (MB)`,
    cell(node.peak_mb),
    cell(base?.peak_mb),
    cell(base === null ? null : ratioOf(node.peak_mb, base.peak_mb)),
    `start ${node.start_mb}, end ${node.end_mb}${base === null ? '' : `; baseline ${base.start_mb} → ${base.end_mb}`}`,
  ]);
}

/** The runtime's footprint against the goals of issue 12; no baseline. */
function footprintRows(result: BenchResult): Row[] {
  const { footprint, restart, soak } = result;
  const max = (values: readonly number[]) => (values.length > 0 ? Math.max(...values) : null);
  const load = `load average ${result.machine.load_average_1m} at start, ${result.load_average_1m_end} at end`;
  const times = (what: string, wall: { p50_ms: number; min_ms: number; max_ms: number; runs: number; failed: number }, goal: string) =>
    [`${what} wall time p50 (ms)`, cell(wall.p50_ms), '-', '-', `${goal}; min ${wall.min_ms}, max ${wall.max_ms} of ${wall.runs}${wall.failed > 0 ? `, ${wall.failed} failed` : ''}`];
  const rows: Row[] = [
    ['node RSS idle, standalone (MB)', cell(max(footprint.node_idle_rss_mb)), '-', '-', `goal <= 60; largest of ${footprint.node_idle_rss_mb.join(', ')}`],
    ['node RSS after the load runs (MB)', cell(max(footprint.node_after_load_rss_mb)), '-', '-', `goal <= 100; largest of ${footprint.node_after_load_rss_mb.join(', ')}`],
    [`twopc cluster --size ${footprint.cluster.size} RSS idle (MB)`, cell(footprint.cluster.idle_rss_mb), '-', '-', 'goal <= 160; one process, a worker thread a node'],
    times('twopc commit', footprint.commands.commit, 'goal <= 150, against the running cluster'),
    times('twopc --help', footprint.commands.help, 'goal <= 120'),
    ['in-doubt resolved after serving (ms)', cell(restart.resolved_after_serving_ms), '-', '-', `goal <= 2000; ${restart.in_doubt} in doubt; ${load}`],
  ];
  if (soak !== null) {
    const peak = max(soak.rss.map((node) => node.peak_mb));
    const ends = soak.rss.map((node) => `${node.start_mb} -> ${node.peak_mb} -> ${node.end_mb}`).join('; ');
    rows.push([`node RSS peak over a soak of ${soak.committed} tx (MB)`, cell(peak), '-', '-', `goal <= 100, flat; start -> peak -> end: ${ends}; ${soak.tx_per_s} tx/s, ${soak.errors} errors`]);
  }
  return rows;
}

function systemNote(row: SystemRow, three: SystemRow | undefined): string {
  if (row.skipped !== null) return `skipped: ${row.skipped.split('\n')[0]}`;
  const twopc = three?.throughput?.tx_per_s;
  const versus = row.system !== 'twopc' && twopc !== undefined && row.throughput !== null ? [`twopc 3 nodes ÷ this: ${cell(ratioOf(twopc, row.throughput.tx_per_s))}`] : [];
  const failures = [row.throughput, row.latency]
    .flatMap((load) => (load === null ? [] : [load.aborted > 0 && `${load.aborted} aborted`, load.errors > 0 && `${load.errors} errors`]))
    .filter(Boolean);
  const hot = row.hot_keys === null ? [] : [`hot keys (${hot_key_connections} conns, 2-4 of 24 keys): ${row.hot_keys.load.committed} committed, ${row.hot_keys.load.aborted} aborted (${cell(row.hot_keys.commit_share === null ? null : Math.round(row.hot_keys.commit_share * 1000) / 10)} % commit)${row.hot_keys.load.errors > 0 ? `, ${row.hot_keys.load.errors} errors` : ''}`];
  return [...failures, ...versus, ...hot, ...(row.version === null ? [] : [row.version])].join('; ');
}

/** Issue 13's table: one row a system, same generator, same run. */
export function formatSystems(result: BenchResult): string {
  const headers = ['system', `writes/s, ${throughput_connections} conns`, 'p50, 1 conn (ms)', 'p99, 1 conn (ms)', 'notes'];
  const three = result.systems.find((row) => row.system === 'twopc' && row.members === 3);
  const rows = result.systems.map((row) => [row.label, cell(row.throughput?.tx_per_s), cell(row.latency?.latency.p50_ms), cell(row.latency?.latency.p99_ms), systemNote(row, three)]);
  return formatTable(headers, rows);
}

function figure(value: number | null, unit: Target['unit']): string {
  if (value === null) return '-';
  return unit === '×' ? `${value}×` : `${value} ${unit}`;
}

export function verdictText(target: Target): string {
  if (target.verdict !== 'missed') return target.verdict;
  const by = target.missed_by === null ? '' : ` by ${figure(target.missed_by, target.unit)}`;
  const factor = target.factor === null ? '' : ` (${target.factor}× off)`;
  return `missed${by}${factor}`;
}

/** Every goal of issues 13 and 12: measured, goal, met or missed by how much. */
export function formatTargets(result: BenchResult): string {
  const headers = ['issue', 'target', 'measured', 'goal', 'verdict', 'notes'];
  const rows = result.targets.map((target) => [String(target.issue), target.what, figure(target.measured, target.unit), `${target.comparison} ${figure(target.goal, target.unit)}`, verdictText(target), target.note]);
  return formatTable(headers, rows);
}

export function formatReport(result: BenchResult, results_file: string): string {
  const headers = ['figure', 'twopc', 'baseline', 'ratio', 'notes'];
  const rows = [...loadRows(result), ...failoverRows(result), ...restartRows(result), ...rssRows(result), ...footprintRows(result)];
  const { machine, settings } = result;
  const about = [
    `twopc bench: ${settings.nodes} nodes, ${settings.duration_s} s per run; ${machine.cpu_count}× ${machine.cpu_model}, ${machine.memory_gb} GB, Node ${machine.node_version}, commit ${machine.git_commit?.slice(0, 12) ?? 'unknown'}${machine.git_dirty === true ? ' (dirty)' : ''}`,
    `load generator: ${result.generator.name} (${result.generator.version}); load average ${machine.load_average_1m} at start, ${result.load_average_1m_end} at end${result.quiet_machine ? '' : ' - NOT A QUIET MACHINE: every figure is skewed'}`,
  ];
  const baseline = `baseline: one process, same HTTP + SQLite work, no 2PC. ratio = twopc / baseline.`;
  return [...about, '', formatSystems(result), '', formatTargets(result), '', baseline, formatTable(headers, rows), '', `recorded in ${results_file}`].join('\n');
}
