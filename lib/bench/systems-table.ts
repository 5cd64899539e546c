/**
 * Issue 13's table, measured in one run: twopc at 1, 3 and 5 nodes and, with `--compare`,
 * etcd and PostgreSQL at 3 members, one system at a time. Each is started fresh, waited for
 * until it has answered one real write of its workload with success (twopc: a 200 from
 * `POST /transactions` on its master; etcd: a put on its leader; PostgreSQL: a commit on all
 * three through the front), so no measured run is spent on a system still settling (and so
 * again before each next run, once the previous run's answers have drained), warmed up
 * (as long as the throughput run),
 * loaded with 64 keep-alive connections writing keys no other request writes (throughput),
 * then with one connection (p50 / p99), and twopc at 3 nodes also with the hot-key
 * workload; then it is stopped and its data removed. A system that is not installed, does
 * not start, or does not answer such a write within `system_ready_timeout_ms`, is a row with
 * the reason instead of figures.
 */
import type { LoadGenerator } from './generator.ts';
import { call, sleep, type BenchAnswer } from './http.ts';
import { newRunPrefix, type LoadResult } from './load.ts';
import type { Progress } from './progress.ts';
import { round } from './stats.ts';
import { etcdSystem } from './systems/etcd.ts';
import { postgresSystem } from './systems/postgres.ts';
import type { RunningSystem, SystemSpec } from './systems/system.ts';
import { twopcSystem } from './systems/twopc.ts';
import { hot_key_connections, hot_keys, throughput_connections, type Workload } from './workloads.ts';

/** Systems `--compare` can add. */
export type CompareName = 'etcd' | 'postgres';
export const compare_names: readonly CompareName[] = ['etcd', 'postgres'];
/** twopc's rows: the sizes issue 13's targets compare. */
export const twopc_sizes: readonly number[] = [1, 3, 5];
/**
 * Shortest warm-up before a system's measured runs (JIT, connections, caches), at the
 * throughput's connections. The warm-up lasts as long as the throughput run, at least this:
 * a fresh node process spends its first seconds under load compiling (TurboFan on its helper
 * threads took about a third of a master's CPU in the first 8 s, `perf`), and 1 s of warm-up
 * measured that instead of the running database (bench/README.md, profile findings).
 */
const system_warm_up_min_ms = 1_000;
/** How long a system may take to answer a write with success before a run (its first: after starting) before its row fails, in ms. */
export const system_ready_timeout_ms = 30_000;
/** Timeout of one such write, in ms. */
const system_ready_write_timeout_ms = 5_000;
/** Pause after a write that did not succeed, before the next (on a new key), in ms. */
const system_ready_interval_ms = 100;

export interface SystemDurations {
  /** The 64-connection run, in ms. */
  readonly throughput_ms: number;
  /** The one-connection run and the hot-key run, in ms. */
  readonly latency_ms: number;
}

export interface HotKeysResult {
  readonly load: LoadResult;
  /** 200s ÷ (200s + 409s); null when neither came back. */
  readonly commit_share: number | null;
}

export interface SystemRow {
  readonly system: string;
  readonly label: string;
  readonly members: number;
  readonly version: string | null;
  /** Why there are no figures (not installed, did not start, never answered a write with success); null when measured. */
  readonly skipped: string | null;
  readonly throughput: LoadResult | null;
  readonly latency: LoadResult | null;
  readonly hot_keys: HotKeysResult | null;
}

const system_specs: Readonly<Record<CompareName, () => SystemSpec>> = { etcd: () => etcdSystem(), postgres: () => postgresSystem() };

/** twopc's sizes, then the systems compared, in the order given. */
export function systemSpecs(compare: readonly CompareName[]): readonly SystemSpec[] {
  return [...twopc_sizes.map(twopcSystem), ...compare.map((name) => system_specs[name]())];
}

function skippedRow(spec: SystemSpec, reason: string): SystemRow {
  return { system: spec.system, label: spec.label, members: spec.members, version: spec.version(), skipped: reason, throughput: null, latency: null, hot_keys: null };
}

export function commitShare(load: LoadResult): number | null {
  const decided = load.committed + load.aborted;
  return decided > 0 ? round(load.committed / decided, 3) : null;
}

/** A system that did not answer a write with success in time: its row gives `message` as the reason. */
class SystemNotReady extends Error {}

async function loadSystem(spec: SystemSpec, running: RunningSystem, generator: LoadGenerator, durations: SystemDurations, progress: Progress, ready_timeout_ms: number): Promise<SystemRow> {
  const note = (text: string) => progress.note(`${spec.label}: ${text}`);
  // Each run begins on a system that just answered a write: at first one that has settled,
  // then one whose answers to the previous run, still in flight when it ended, have drained.
  const run = async (what: string, workload: Workload, connections: number, duration_ms: number): Promise<LoadResult> => {
    const not_ready = await waitForWrite(spec, running, ready_timeout_ms, `before its ${what}`);
    if (not_ready !== undefined) throw new SystemNotReady(not_ready);
    note(what);
    return generator.run(running.addr, workload, connections, duration_ms);
  };
  await run('warm-up', spec.workload, throughput_connections, Math.max(system_warm_up_min_ms, durations.throughput_ms));
  const throughput = await run(`run at ${throughput_connections} connections`, spec.workload, throughput_connections, durations.throughput_ms);
  note(`${throughput.tx_per_s} writes/s at ${throughput_connections}`);
  const latency = await run('run at 1 connection', spec.workload, 1, durations.latency_ms);
  let hot: HotKeysResult | null = null;
  if (spec.hot_keys) {
    const load = await run(`hot-key run at ${hot_key_connections} connections`, hot_keys, hot_key_connections, durations.latency_ms);
    hot = { load, commit_share: commitShare(load) };
  }
  return { system: spec.system, label: spec.label, members: spec.members, version: spec.version(), skipped: null, throughput, latency, hot_keys: hot };
}

function describeAnswer(answer: BenchAnswer | undefined): string {
  if (answer === undefined) return 'none sent';
  if (answer.status === 0) return 'no answer (refused, reset or timed out)';
  const body = answer.body === undefined ? '' : ` ${typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)}`;
  return `HTTP ${answer.status}${body}`.slice(0, 500);
}

/**
 * Writes one key of the system's workload at a time (a new key each try) until one is
 * answered with 200; none is begun after `timeout_ms` (each may take up to
 * `system_ready_write_timeout_ms`). Returns undefined once one succeeded, else why not
 * (`when` says at which point of the row).
 */
export async function waitForWrite(spec: SystemSpec, running: RunningSystem, timeout_ms: number, when: string): Promise<string | undefined> {
  const prefix = `ready-${newRunPrefix()}`;
  const deadline = performance.now() + timeout_ms;
  let last: BenchAnswer | undefined;
  for (let index = 0; performance.now() < deadline; index += 1) {
    last = await call(running.addr, 'POST', spec.workload.path, JSON.parse(spec.workload.body(prefix, 0, index)), system_ready_write_timeout_ms);
    if (last.status === 200) return undefined;
    await sleep(system_ready_interval_ms);
  }
  return `did not answer a write with success within ${timeout_ms} ms ${when} (last answer: ${describeAnswer(last)})`;
}

/** One system's row: skipped with the reason, or started, loaded and stopped. */
export async function measureSystem(spec: SystemSpec, generator: LoadGenerator, durations: SystemDurations, progress: Progress, ready_timeout_ms = system_ready_timeout_ms): Promise<SystemRow> {
  const reason = await spec.unavailable();
  if (reason !== undefined) {
    progress.note(`${spec.label}: skipped, ${reason}`);
    return skippedRow(spec, reason);
  }
  progress.note(`${spec.label}: starting`);
  let running: RunningSystem;
  try {
    running = await spec.start((text) => progress.note(`${spec.label}: ${text}`));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress.note(`${spec.label}: did not start: ${message.split('\n')[0]}`);
    return skippedRow(spec, `did not start: ${message.slice(0, 2_000)}`);
  }
  try {
    progress.note(`${spec.label}: waiting for its first write to succeed`);
    return await loadSystem(spec, running, generator, durations, progress, ready_timeout_ms);
  } catch (error) {
    if (!(error instanceof SystemNotReady)) throw error;
    progress.note(`${spec.label}: ${error.message}`);
    return skippedRow(spec, error.message);
  } finally {
    progress.note(`${spec.label}: stopping`);
    await running.stop();
  }
}

export async function measureSystems(compare: readonly CompareName[], generator: LoadGenerator, durations: SystemDurations, progress: Progress): Promise<readonly SystemRow[]> {
  const rows: SystemRow[] = [];
  for (const spec of systemSpecs(compare)) rows.push(await measureSystem(spec, generator, durations, progress));
  return rows;
}
