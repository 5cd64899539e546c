/**
 * The runtime's footprint, measured on real processes: a node's RSS when idle, the RSS of
 * `twopc cluster --size 3` (three nodes in worker threads of one process) when idle, and the
 * wall time of `twopc commit` and `twopc --help` as a user runs them (the bin through its
 * shebang), each several times with the median reported. The machine's 1-minute load average
 * goes with the figures: on a shared machine every one of them moves with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { OwnedProcess } from '../process-cluster/owned-process.ts';
import { findFreePorts, isPortFree } from '../util/free-ports.ts';
import { twopc_bin } from '../util/package-root.ts';
import { waitUntil } from '../util/wait-until.ts';
import { call, sleep } from './http.ts';
import { readRssMb } from './rss.ts';
import { round } from './stats.ts';

/** How long a process is left alone after it serves before its idle RSS is read. */
export const idle_settle_ms = 3_000;
const cluster_size = 3;
const cluster_ready_timeout_ms = 60_000;
const command_timeout_ms = 30_000;

export interface WallTimes {
  readonly runs: number;
  readonly p50_ms: number;
  readonly min_ms: number;
  readonly max_ms: number;
  /** Runs that did not exit 0. */
  readonly failed: number;
}

export interface ClusterFootprint {
  readonly size: number;
  /** RSS of the one `twopc cluster` process (its node threads included), idle. */
  readonly idle_rss_mb: number | null;
}

export interface CommandTimes {
  readonly commit: WallTimes;
  readonly help: WallTimes;
  readonly load_average_1m: number;
}

/** RSS of each of `pids` now, in MB (the processes left alone for `idle_settle_ms` first). */
export async function readIdleRss(pids: readonly (number | undefined)[]): Promise<readonly number[]> {
  await sleep(idle_settle_ms);
  return pids.flatMap((pid) => {
    const mb = pid === undefined ? undefined : readRssMb(pid);
    return mb === undefined ? [] : [round(mb, 1)];
  });
}

/** `bin/twopc.mjs ...args` run to its exit, as a user runs it; its wall time and exit code. */
async function timeCommand(args: readonly string[]): Promise<{ readonly ms: number; readonly ok: boolean }> {
  const started = performance.now();
  const child = new OwnedProcess({ command: twopc_bin, args, env: { ...process.env, TWOPC_LOG_LEVEL: 'warn' } });
  const timer = setTimeout(() => void child.stop('SIGKILL'), command_timeout_ms);
  await child.exited;
  clearTimeout(timer);
  return { ms: performance.now() - started, ok: child.exit_code === 0 };
}

async function timeRuns(runs: number, args: () => readonly string[]): Promise<WallTimes> {
  await timeCommand(args()); // warm-up: the file cache, not counted
  const times: number[] = [];
  let failed = 0;
  for (let run = 0; run < runs; run += 1) {
    const { ms, ok } = await timeCommand(args());
    times.push(ms);
    if (!ok) failed += 1;
  }
  const sorted = times.sort((a, b) => a - b);
  return {
    runs: sorted.length,
    p50_ms: round(sorted[Math.floor(sorted.length / 2)] ?? 0, 1),
    min_ms: round(sorted[0] ?? 0, 1),
    max_ms: round(sorted.at(-1) ?? 0, 1),
    failed,
  };
}

/** Wall times of `twopc commit` against the running cluster `addrs` and of `twopc --help`, `runs` times each. */
export async function timeCommands(addrs: readonly string[], runs: number): Promise<CommandTimes> {
  let index = 0;
  const commit = await timeRuns(runs, () => ['commit', '--nodes', addrs.join(','), '--payload', JSON.stringify({ [`footprint-${process.pid}-${(index += 1)}`]: index })]);
  const help = await timeRuns(runs, () => ['--help']);
  return { commit, help, load_average_1m: round(loadavg()[0] ?? 0, 2) };
}

/** A base port with the `count` ports from it free. */
async function findFreeRun(count: number): Promise<number> {
  for (;;) {
    const [base] = await findFreePorts(1);
    if (base === undefined) throw new Error('no free port');
    const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => isPortFree(base + 1 + i)));
    if (rest.every(Boolean)) return base;
  }
}

/** Starts `twopc cluster --size 3`, waits until every node serves, reads its idle RSS, stops it. */
export async function measureClusterFootprint(): Promise<ClusterFootprint> {
  const base = await findFreeRun(cluster_size);
  const data_dir = mkdtempSync(join(tmpdir(), 'twopc-bench-footprint-'));
  const addrs = Array.from({ length: cluster_size }, (_, i) => `127.0.0.1:${base + i}`);
  const child = new OwnedProcess({
    command: twopc_bin,
    args: ['cluster', '--size', String(cluster_size), '--base-port', String(base), '--data-dir', data_dir],
    env: { ...process.env, TWOPC_LOG_LEVEL: 'warn' },
  });
  try {
    await waitUntil('every node of twopc cluster to serve', async () => {
      if (!child.running) throw new Error(`twopc cluster exited: ${child.printed.trim()}`);
      const answers = await Promise.all(addrs.map((addr) => call(addr, 'GET', '/health', undefined, 1_000)));
      return answers.every((answer) => answer.status === 200);
    }, cluster_ready_timeout_ms);
    const [idle] = await readIdleRss([child.pid]);
    return { size: cluster_size, idle_rss_mb: idle ?? null };
  } finally {
    await child.stop('SIGINT');
    rmSync(data_dir, { recursive: true, force: true });
  }
}
