/**
 * One benchmark run, start to finish: first issue 13's systems table (systems-table.ts:
 * twopc at 1, 3 and 5 nodes, and etcd / PostgreSQL with `--compare`, one at a time); then a
 * fresh twopc cluster of node processes and, in the same run, the one-process baseline
 * doing the same HTTP + SQLite work without 2PC; the sequential latency and the throughput
 * at each client level against both; RSS of every process while the load runs; then, on
 * the same twopc cluster, failover time and restart time with a large store. Every load run
 * comes from one generator (generator.ts: wrk where installed). Returns every figure as one
 * object (report.ts renders it, results-file.ts records it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessCluster } from '../process-cluster/process-cluster.ts';
import type { OwnedProcess } from '../process-cluster/owned-process.ts';
import { spawnBaseline } from './processes.ts';
import { findFreePorts } from '../util/free-ports.ts';
import { noteRetry, retryOnPortClash } from '../util/port-clash.ts';
import { call, closeHttp } from './http.ts';
import { waitUntil } from '../util/wait-until.ts';
import type { LoadResult } from './load.ts';
import { chooseGenerator, type GeneratorName, type LoadGenerator } from './generator.ts';
import { measureSystems, type CompareName, type SystemRow } from './systems-table.ts';
import { unique_keys } from './workloads.ts';
import { issue12Targets, issue13Targets, type Target } from './targets.ts';
import { RssSampler, type RssSummary } from './rss.ts';
import { measureFailovers, type FailoverResult } from './failover.ts';
import { measureRestart, type RestartResult } from './restart.ts';
import { describeMachine, type MachineDescription } from './machine.ts';
import { ratioOf } from './stats.ts';
import type { Progress } from './progress.ts';
import { measureClusterFootprint, readIdleRss, timeCommands, type ClusterFootprint, type CommandTimes } from './footprint.ts';
import { runSoak, type SoakResult } from './soak.ts';
import { loadavg } from 'node:os';
import { round } from './stats.ts';

export interface BenchSettings {
  readonly nodes: number;
  /** Concurrent clients of each throughput run. */
  readonly client_levels: readonly number[];
  /** Length of each load run (latency, each throughput level, each target), in seconds. */
  readonly duration_s: number;
  /** Length of the systems table's 64-connection runs, in seconds (its 1-connection runs last `duration_s`). */
  readonly compare_duration_s: number;
  /** Systems loaded beside twopc in the systems table. */
  readonly compare: readonly CompareName[];
  /** The load generator asked for; null: wrk where installed, else ours. */
  readonly generator: GeneratorName | null;
  readonly failovers: number;
  /** Committed transactions in the restarted node's store. */
  readonly restart_store: number;
  /** PREPARED transactions left in doubt in that store. */
  readonly in_doubt: number;
  /** Transactions of the soak after the load runs (RSS start / peak / end over them); 0: no soak. */
  readonly soak: number;
  /** Runs of each timed command (`twopc commit`, `twopc --help`); the median is the figure. */
  readonly command_runs: number;
}

/** A twopc figure next to its same-run baseline. */
export interface Compared<T> {
  readonly twopc: T;
  readonly baseline: T;
}

export interface ThroughputRow extends Compared<LoadResult> {
  readonly clients: number;
  /** twopc tx/s ÷ baseline tx/s. */
  readonly ratio: number | null;
}

export interface BenchResult {
  readonly benchmark: 'twopc';
  readonly format: 2;
  readonly started_at: string;
  readonly finished_at: string;
  readonly machine: MachineDescription;
  /** 1-minute load average when the run ended (the start's is `machine.load_average_1m`). */
  readonly load_average_1m_end: number;
  /** False when the load average at the start was above `quiet_load_average_max`: figures are skewed. */
  readonly quiet_machine: boolean;
  readonly settings: BenchSettings;
  readonly generator: { readonly name: GeneratorName; readonly version: string; readonly reason: string };
  /** Issue 13's table: twopc at 1, 3, 5 nodes and the systems compared, same generator, same run. */
  readonly systems: readonly SystemRow[];
  /** Every goal of issues 13 and 12 judged against this run's figures (targets.ts). */
  readonly targets: readonly Target[];
  /** Sequential single-client commits. */
  readonly latency: Compared<LoadResult> & { readonly ratio: { readonly p50: number | null; readonly p99: number | null } };
  readonly throughput: readonly ThroughputRow[];
  readonly failover: FailoverResult;
  readonly restart: RestartResult;
  readonly rss: { readonly nodes: readonly RssSummary[]; readonly baseline: RssSummary | null };
  readonly footprint: Footprint;
  readonly soak: SoakResult | null;
}

/** The runtime's footprint (lib/bench/footprint.ts), next to the issue's goals in the report. */
export interface Footprint {
  /** RSS of every node process once all serve and were left alone a moment, before any load. */
  readonly node_idle_rss_mb: readonly number[];
  /** RSS of every node process at the end of the load runs. */
  readonly node_after_load_rss_mb: readonly number[];
  readonly cluster: ClusterFootprint;
  readonly commands: CommandTimes;
}

/** Warm-up before each target's first measured run (JIT, connections, SQLite cache), in ms. */
const warm_up_ms = 500;
/** A 1-minute load average above this at the start means the machine was not quiet (2 cores). */
export const quiet_load_average_max = 1.5;
const baseline_ready_timeout_ms = 30_000;

interface Baseline {
  readonly addr: string;
  readonly process: OwnedProcess;
  readonly data_dir: string;
}

async function startBaseline(): Promise<Baseline> {
  const [port] = await findFreePorts(1);
  if (port === undefined) throw new Error('no free port for the baseline');
  const data_dir = mkdtempSync(join(tmpdir(), 'twopc-bench-baseline-'));
  const child = spawnBaseline(port, data_dir);
  const addr = `127.0.0.1:${port}`;
  const baseline = { addr, process: child, data_dir };
  try {
    await waitUntil('the baseline server to serve', async () => {
      if (!child.running) throw new Error(`the baseline server exited: ${child.printed.trim()}`);
      return (await call(addr, 'GET', '/health', undefined, 1_000)).status === 200;
    }, baseline_ready_timeout_ms);
  } catch (error) {
    await stopBaseline(baseline);
    throw error;
  }
  return baseline;
}

async function stopBaseline(baseline: Baseline): Promise<void> {
  await baseline.process.stop('SIGTERM');
  rmSync(baseline.data_dir, { recursive: true, force: true });
}

function describeLoad(result: LoadResult): string {
  return `${result.tx_per_s} tx/s, p50 ${result.latency.p50_ms} ms`;
}

/** Latency and throughput against both targets, twopc first at each step. */
async function measureLatencyAndThroughput(settings: BenchSettings, generator: LoadGenerator, master: string, baseline: Baseline, progress: Progress) {
  const duration_ms = settings.duration_s * 1000;
  const runLoad = (addr: string, clients: number, ms: number) => generator.run(addr, unique_keys, clients, ms);
  progress.note('warming up');
  await runLoad(master, 1, warm_up_ms);
  await runLoad(baseline.addr, 1, warm_up_ms);
  progress.note('sequential latency: twopc');
  const twopc = await runLoad(master, 1, duration_ms);
  progress.note(`sequential latency: baseline (twopc ${describeLoad(twopc)})`);
  const base = await runLoad(baseline.addr, 1, duration_ms);
  const latency = { twopc, baseline: base, ratio: { p50: ratioOf(twopc.latency.p50_ms, base.latency.p50_ms), p99: ratioOf(twopc.latency.p99_ms, base.latency.p99_ms) } };
  const throughput: ThroughputRow[] = [];
  for (const clients of settings.client_levels) {
    // One client is the sequential run already measured.
    if (clients === 1) {
      throughput.push({ clients, twopc, baseline: base, ratio: ratioOf(twopc.tx_per_s, base.tx_per_s) });
      continue;
    }
    progress.note(`throughput at ${clients} clients: twopc`);
    const row_twopc = await runLoad(master, clients, duration_ms);
    progress.note(`throughput at ${clients} clients: baseline (twopc ${describeLoad(row_twopc)})`);
    const row_base = await runLoad(baseline.addr, clients, duration_ms);
    throughput.push({ clients, twopc: row_twopc, baseline: row_base, ratio: ratioOf(row_twopc.tx_per_s, row_base.tx_per_s) });
  }
  return { latency, throughput };
}

/** The load runs with the RSS of every node and of the baseline sampled throughout. */
async function measureLoad(settings: BenchSettings, generator: LoadGenerator, cluster: ProcessCluster, master: string, baseline: Baseline, progress: Progress) {
  const sampler = new RssSampler();
  for (const addr of cluster.addrs) sampler.track(addr, () => cluster.pidOf(addr));
  sampler.track('baseline', () => baseline.process.pid);
  sampler.start();
  const measured = await measureLatencyAndThroughput(settings, generator, master, baseline, progress).finally(() => sampler.stop());
  const summaries = sampler.summaries();
  const rss = {
    nodes: summaries.filter((summary) => summary.label !== 'baseline'),
    baseline: summaries.find((summary) => summary.label === 'baseline') ?? null,
  };
  return { ...measured, rss };
}

/** A command's median wall time, or null when every run failed (no figure of a working command). */
function wallTime(times: CommandTimes['commit']): number | null {
  return times.failed === times.runs ? null : times.p50_ms;
}

export async function runBench(settings: BenchSettings, progress: Progress): Promise<BenchResult> {
  const started_at = new Date().toISOString();
  const machine = describeMachine();
  const quiet_machine = machine.load_average_1m <= quiet_load_average_max;
  if (!quiet_machine) progress.warn(`the machine is not quiet: load average ${machine.load_average_1m} at the start (above ${quiet_load_average_max}); every figure is skewed, record runs only from a quiet machine`);
  const generator = chooseGenerator(settings.generator ?? undefined);
  progress.note(`load generator: ${generator.name} (${generator.reason})`);
  try {
    const systems = await measureSystems(settings.compare, generator, { throughput_ms: settings.compare_duration_s * 1000, latency_ms: settings.duration_s * 1000 }, progress);
    progress.note(`starting ${settings.nodes} nodes and the baseline`);
    const { cluster, master } = await ProcessCluster.launch(settings.nodes, { label: 'bench-cluster' }, noteRetry((text) => progress.note(`cluster: ${text}`)));
    let load: Awaited<ReturnType<typeof measureLoad>>;
    let failover: FailoverResult;
    let restart: RestartResult;
    let node_idle_rss_mb: readonly number[];
    let node_after_load_rss_mb: readonly number[];
    let commands: CommandTimes;
    let soak: SoakResult | null = null;
    try {
      const baseline = await retryOnPortClash(startBaseline, noteRetry((text) => progress.note(`baseline: ${text}`)));
      try {
        progress.note('idle RSS of every node');
        node_idle_rss_mb = await readIdleRss(cluster.addrs.map((addr) => cluster.pidOf(addr)));
        load = await measureLoad(settings, generator, cluster, master, baseline, progress);
        node_after_load_rss_mb = await readIdleRss(cluster.addrs.map((addr) => cluster.pidOf(addr)));
      } finally {
        await stopBaseline(baseline);
      }
      progress.note(`twopc commit and twopc --help, ${settings.command_runs} runs each`);
      commands = await timeCommands(cluster.addrs, settings.command_runs);
      if (settings.soak > 0) {
        progress.note(`soak: ${settings.soak} transactions`);
        soak = await runSoak(generator, cluster, master, settings.soak, settings.duration_s * 1000, (text) => progress.note(`soak: ${text}`));
      }
      failover = await measureFailovers(cluster, settings.failovers, (run, ms) =>
        progress.note(`failover ${run}/${settings.failovers}: ${ms === undefined ? 'no commit in time' : `${Math.round(ms)} ms`}`),
      );
      restart = await measureRestart(cluster, { committed: settings.restart_store, in_doubt: settings.in_doubt }, (text) => progress.note(`restart: ${text}`));
    } finally {
      await cluster.stop();
    }
    progress.note('idle RSS of twopc cluster --size 3');
    const cluster_footprint = await measureClusterFootprint();
    const figures = {
      systems,
      failover,
      restart,
      node_idle_rss_mb,
      node_after_load_rss_mb,
      soak_peak_mb: soak === null || soak.rss.length === 0 ? null : Math.max(...soak.rss.map((node) => node.peak_mb)),
      soak_committed: soak?.committed ?? null,
      cluster_idle_rss_mb: cluster_footprint.idle_rss_mb,
      commit_p50_ms: wallTime(commands.commit),
      help_p50_ms: wallTime(commands.help),
    };
    return {
      benchmark: 'twopc',
      format: 2,
      started_at,
      finished_at: new Date().toISOString(),
      machine,
      load_average_1m_end: round(loadavg()[0] ?? 0, 2),
      quiet_machine,
      settings,
      generator: { name: generator.name, version: generator.version, reason: generator.reason },
      systems,
      targets: [...issue13Targets(figures), ...issue12Targets(figures)],
      latency: load.latency,
      throughput: load.throughput,
      failover,
      restart,
      rss: load.rss,
      footprint: {
        node_idle_rss_mb,
        node_after_load_rss_mb,
        cluster: cluster_footprint,
        commands,
      },
      soak,
    };
  } finally {
    await closeHttp();
  }
}
