/**
 * `twopc bench` as users run it: a real child process with tiny settings (1 s runs, 4
 * clients, one failover, a small restart store, `--compare etcd,postgres`). Checks the shape
 * of its JSON answer, that every figure is a positive number, that the baseline ran, that
 * the systems table has twopc at 1, 3 and 5 nodes, etcd and PostgreSQL (or the reason of
 * one that is not installed), that the run was recorded in the results directory, and that bad flags exit
 * 2 with one line and record nothing. Nothing here asserts speed: figures only have to
 * exist and make sense.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanUpCli, makeTempDir, runTwopc, type CliRun } from '../helpers/cli-process.ts';
import { findEtcd } from '../../lib/bench/systems/etcd.ts';
import { findPostgres } from '../../lib/bench/systems/postgres.ts';
import { findWrk } from '../../lib/bench/generator.ts';

/** A whole tiny run takes ~50 s on a quiet 2-core machine; leave room for a busy one. */
const bench_run_timeout_ms = 240_000;

test.after.always(cleanUpCli);

function assertPositive(t: ExecutionContext, value: unknown, what: string): void {
  t.true(typeof value === 'number' && Number.isFinite(value) && value > 0, `${what} should be a positive number, got ${JSON.stringify(value)}`);
}

/** A load run's figures: commits counted, positive rate and latency, nothing failed. */
function assertLoad(t: ExecutionContext, load: any, clients: number, what: string): void {
  t.is(load.clients, clients, `${what}: clients`);
  assertPositive(t, load.committed, `${what}: committed`);
  assertPositive(t, load.tx_per_s, `${what}: tx_per_s`);
  assertPositive(t, load.elapsed_s, `${what}: elapsed_s`);
  assertPositive(t, load.latency.p50_ms, `${what}: p50_ms`);
  assertPositive(t, load.latency.p99_ms, `${what}: p99_ms`);
  t.true(load.latency.p50_ms <= load.latency.p99_ms, `${what}: p50 ≤ p99`);
  // Ours times the commits; wrk's histogram holds every answer (a commit, an abort or an error).
  t.true(load.latency.count >= load.committed && load.latency.count <= load.committed + load.aborted + load.errors, `${what}: one latency per answer`);
  t.is(load.aborted, 0, `${what}: distinct keys never conflict`);
  t.true(Number.isInteger(load.errors) && load.errors >= 0, `${what}: errors counted`);
}

test('a tiny bench run reports every figure with its baseline and records the run', async (t) => {
  t.timeout(bench_run_timeout_ms + 10_000);
  const results = makeTempDir('bench-test');
  const run = await runTwopc(
    ['bench', '--duration', '1', '--clients', '4', '--compare', 'etcd,postgres', '--failovers', '1', '--restart-store', '500', '--in-doubt', '10', '--soak', '20', '--command-runs', '1', '--json', '--results-dir', results],
    { timeout_ms: bench_run_timeout_ms },
  );
  t.is(run.code, 0, `exit code (stderr: ${run.stderr.slice(-1_000)})`);
  const lines = run.stdout.trim().split('\n');
  t.is(lines.length, 1, '--json prints one object on one line');
  const result = JSON.parse(lines[0] ?? '');

  t.is(result.benchmark, 'twopc');
  t.deepEqual(result.settings, { nodes: 3, client_levels: [4], duration_s: 1, compare_duration_s: 1, compare: ['etcd', 'postgres'], generator: null, failovers: 1, restart_store: 500, in_doubt: 10, soak: 20, command_runs: 1 });
  t.is(result.format, 2);
  t.is(result.generator.name, findWrk() === undefined ? 'node' : 'wrk', 'wrk where installed, else ours');
  t.true(typeof result.machine.load_average_1m === 'number' && typeof result.load_average_1m_end === 'number', 'load average at start and end');
  t.is(result.quiet_machine, result.machine.load_average_1m <= 1.5);

  t.deepEqual(result.systems.map((row: any) => row.label), ['twopc, 1 node', 'twopc, 3 nodes', 'twopc, 5 nodes', 'etcd, 3 members', 'PostgreSQL, 3 servers']);
  const not_installed: Readonly<Record<string, string | undefined>> = {
    ...(findEtcd() === undefined && { etcd: 'etcd is not installed (Debian package etcd-server)' }),
    ...(findPostgres() === null && { postgres: 'PostgreSQL is not installed (Debian package postgresql-15)' }),
  };
  for (const row of result.systems) t.log(`${row.label}: ${row.skipped ?? `64 conns ${row.throughput.committed} committed, ${row.throughput.errors} errors; 1 conn ${row.latency.committed} committed, ${row.latency.errors} errors`}`);
  for (const row of result.systems) {
    const reason = not_installed[row.system];
    if (reason !== undefined) {
      t.is(row.skipped, reason);
      t.is(row.throughput, null);
      continue;
    }
    t.is(row.skipped, null, `${row.label} ran`);
    assertSystemLoad(t, row.throughput, 64, `${row.label} at 64 connections`);
    assertSystemLoad(t, row.latency, 1, `${row.label} at 1 connection`);
    // The bench loads a system only once it answered one real write with success, so each twopc row commits.
    if (row.system === 'twopc') assertPositive(t, row.throughput.committed + row.latency.committed + (row.hot_keys?.load.committed ?? 0), `${row.label}: writes committed in its runs`);
  }
  const three = result.systems[1];
  const hot = three.hot_keys;
  t.is(hot.load.clients, 8);
  t.true(Number.isInteger(hot.load.committed) && Number.isInteger(hot.load.aborted) && hot.load.elapsed_s > 0, 'hot keys: counted');
  if (hot.load.committed + hot.load.aborted > 0) t.is(hot.commit_share, Math.round((hot.load.committed / (hot.load.committed + hot.load.aborted)) * 1000) / 1000, 'commit share = 200s / (200s + 409s)');
  else t.is(hot.commit_share, null);
  for (const row of result.systems.filter((_: unknown, i: number) => i !== 1)) t.is(row.hot_keys, null);

  // Every goal of issues 13 and 12, judged: 8 and 7 of them, each with a verdict and a reason.
  t.deepEqual(result.targets.map((target: any) => target.issue), [13, 13, 13, 13, 13, 13, 13, 13, 12, 12, 12, 12, 12, 12, 12]);
  for (const target of result.targets) {
    t.true(['met', 'missed', 'not measured'].includes(target.verdict), `${target.what}: a verdict`);
    t.is(target.measured === null, target.verdict === 'not measured', `${target.what}: a figure unless not measured`);
    t.is(target.missed_by !== null, target.verdict === 'missed' && target.measured !== null, `${target.what}: by how much when missed`);
  }
  const soak_target = result.targets.find((target: any) => target.what.startsWith('node RSS peak over the soak'));
  t.is(soak_target.measured, Math.max(...result.soak.rss.map((node: any) => node.peak_mb)), 'the soak target reads the soak');
  t.is(result.machine.node_version, process.version);
  assertPositive(t, result.machine.cpu_count, 'machine.cpu_count');
  assertPositive(t, result.machine.memory_gb, 'machine.memory_gb');
  t.true(typeof result.machine.cpu_model === 'string' && result.machine.cpu_model.length > 0);
  t.true(Date.parse(result.started_at) <= Date.parse(result.finished_at));

  assertLoad(t, result.latency.twopc, 1, 'latency twopc');
  assertLoad(t, result.latency.baseline, 1, 'latency baseline');
  assertPositive(t, result.latency.ratio.p50, 'latency ratio p50');
  assertPositive(t, result.latency.ratio.p99, 'latency ratio p99');

  t.is(result.throughput.length, 1);
  const [row] = result.throughput;
  t.is(row.clients, 4);
  assertLoad(t, row.twopc, 4, 'throughput twopc');
  assertLoad(t, row.baseline, 4, 'throughput baseline');
  t.is(row.ratio, Math.round((row.twopc.tx_per_s / row.baseline.tx_per_s) * 1000) / 1000, 'ratio is twopc ÷ baseline');

  t.is(result.failover.runs, 1);
  t.is(result.failover.failed, 0, 'the cluster committed again after its master was killed');
  t.is(result.failover.times_ms.length, 1);
  assertPositive(t, result.failover.p50_ms, 'failover p50');
  assertPositive(t, result.failover.max_ms, 'failover max');

  t.is(result.restart.committed, 500);
  t.is(result.restart.in_doubt, 10);
  assertPositive(t, result.restart.store_mb, 'restart store_mb');
  assertPositive(t, result.restart.health_ms, 'restart health_ms');
  assertPositive(t, result.restart.resolved_ms, 'restart resolved_ms (every in-doubt transaction resolved)');
  t.true(result.restart.resolved_ms >= result.restart.health_ms, 'resolved after serving, never before');

  t.is(result.rss.nodes.length, 3, 'RSS of every node');
  for (const node of [...result.rss.nodes, result.rss.baseline]) {
    assertPositive(t, node.peak_mb, `RSS peak of ${node.label}`);
    t.true(node.start_mb <= node.peak_mb && node.end_mb <= node.peak_mb, `${node.label}: start and end within the peak`);
  }
  t.is(result.rss.baseline.label, 'baseline');
  // The bench subtracts the unrounded times and rounds the difference; the recorded times are rounded each.
  t.true(Math.abs((result.restart.resolved_after_serving_ms ?? Number.NaN) - (result.restart.resolved_ms - result.restart.health_ms)) <= 0.11, 'resolved after serving = resolved - health');

  const { footprint, soak } = result;
  t.is(footprint.node_idle_rss_mb.length, 3, 'idle RSS of every node');
  t.is(footprint.node_after_load_rss_mb.length, 3, 'RSS of every node after the load');
  for (const mb of [...footprint.node_idle_rss_mb, ...footprint.node_after_load_rss_mb]) assertPositive(t, mb, 'a node RSS');
  t.is(footprint.cluster.size, 3);
  assertPositive(t, footprint.cluster.idle_rss_mb, 'twopc cluster idle RSS');
  for (const name of ['commit', 'help'] as const) {
    const wall = footprint.commands[name];
    t.is(wall.runs, 1, `${name}: --command-runs 1`);
    t.is(wall.failed, 0, `twopc ${name} exited 0`);
    assertPositive(t, wall.p50_ms, `${name} wall p50`);
  }
  t.true(soak.committed >= 20, `the soak committed what it was asked (${soak.committed})`);
  t.is(soak.clients, 64);
  t.is(soak.rss.length, 3, 'RSS of every node over the soak');
  for (const node of soak.rss) t.true(node.start_mb <= node.peak_mb && node.end_mb <= node.peak_mb);

  t.is(readdirSync(results).length, 1, 'one results file per run');
  t.true(existsSync(result.results_file));
  const recorded = JSON.parse(readFileSync(result.results_file, 'utf8'));
  t.is(recorded.started_at, result.started_at);
  t.deepEqual(recorded.latency, result.latency);
  t.regex(run.stderr, /restart/, 'progress lines on stderr');
});

/**
 * A systems-table run's figures, well-formed: counts, time, nothing aborted, and a positive
 * rate and latencies once it committed. Whether the row committed at all is the caller's
 * check (a 1 s window on a busy machine may close before the run's first answer).
 */
function assertSystemLoad(t: ExecutionContext, load: any, clients: number, what: string): void {
  t.is(load.clients, clients, `${what}: clients`);
  for (const name of ['committed', 'aborted', 'errors'] as const) t.true(Number.isInteger(load[name]) && load[name] >= 0, `${what}: ${name} counted`);
  assertPositive(t, load.elapsed_s, `${what}: elapsed_s`);
  t.is(load.aborted, 0, `${what}: distinct keys never conflict`);
  t.true(load.latency.count >= load.committed && load.latency.count <= load.committed + load.aborted + load.errors, `${what}: one latency per answer`);
  if (load.committed > 0) {
    assertPositive(t, load.tx_per_s, `${what}: tx_per_s`);
    t.true(load.latency.p50_ms > 0 && load.latency.p50_ms <= load.latency.p99_ms, `${what}: 0 < p50 <= p99`);
  } else {
    t.is(load.tx_per_s, 0, `${what}: no commit, no rate`);
  }
}

/** Exactly one line on stderr, `twopc: …`, and nothing that looks like a stack trace. */
function assertUsageError(t: ExecutionContext, run: CliRun, pattern: RegExp): void {
  t.is(run.code, 2, `exit code (stderr: ${run.stderr})`);
  t.regex(run.stderr, /^twopc: [^\n]+\n$/);
  t.regex(run.stderr, pattern);
  t.notRegex(run.stderr, /\n\s+at |node:internal/);
  t.is(run.stdout, '');
}

for (const [args, pattern] of [
  [['--nodes', '2'], /--nodes must be a whole number from 3 to 9/],
  [['--duration', 'soon'], /--duration must be a whole number/],
  [['--clients', '0'], /--clients must be a whole number/],
  [['--restart-store', 'lots'], /--restart-store must be a whole number/],
  [['--soak', 'forever'], /--soak must be a whole number/],
  [['--bogus'], /bogus/],
  [['--compare', 'etcd,mysql'], /--compare takes a comma-separated list of etcd.*got "mysql"/],
  [['--generator', 'ab'], /--generator must be one of wrk, node/],
] as const) {
  test(`bench ${args.join(' ')} is a usage error and runs nothing`, async (t) => {
    const results = join(makeTempDir('bench-test'), 'results');
    const run = await runTwopc(['bench', ...args, '--results-dir', results]);
    assertUsageError(t, run, pattern);
    t.false(existsSync(results), 'no results file for a refused run');
  });
}
