/**
 * One chaos campaign: for each chosen scenario and run, start a fresh cluster of node
 * processes, put the clients to work, inject the scenario's faults, heal, wait for
 * quiescence, dump every replica and check. Every child process and namespace of a run is
 * gone when the run ends, also when it fails or the user presses Ctrl-C.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, type Finding } from './checker.ts';
import { ChaosCluster, abandonAllClusters, type Placement } from './cluster.ts';
import { clocks_moved, ScenarioSkipped, setClockOffset, type FaultContext } from './faults.ts';
import { netnsUnavailableReason, NetnsLayout, removeLeftovers } from './netns.ts';
import { sleep } from './node-http.ts';
import { RoleObserver } from './observer.ts';
import { findFreePorts } from '../util/free-ports.ts';
import { Prng } from './prng.ts';
import { dumpReplicas, type DumpResult } from './replica-dump.ts';
import { summarize, type RunResult, type ScenarioRow } from './report.ts';
import type { Scenario } from './scenarios.ts';
import { Workload } from './workload.ts';

export interface CampaignOptions {
  readonly scenarios: readonly Scenario[];
  readonly runs: number;
  readonly seed: number;
  readonly progress: (line: string) => void;
}

/** Load before the first fault, and after healing before the clients stop. */
const warmup_ms = 1_000;
const after_heal_ms = 1_500;
/** Bounds on a cluster reaching agreement at start, and on quiescence after the faults. */
const startup_timeout_ms = 30_000;
const quiescence_timeout_ms = 30_000;
const prepared_recheck_ms = 1_000;

/** Namespaces of the run in progress, for the Ctrl-C cleanup. */
const live_layouts = new Set<NetnsLayout>();

/** Kill every node process and remove every namespace this process made. */
export function emergencyCleanup(): void {
  abandonAllClusters();
  for (const layout of live_layouts) layout.destroy();
  live_layouts.clear();
}

/** A seed for one run of one scenario, so `--scenario X --seed S` reproduces X's runs of an `all` campaign. */
function runSeed(seed: number, name: string, run_index: number): number {
  return createHash('sha256').update(`${seed} ${name} ${run_index}`).digest().readUInt32LE(0);
}

export async function runCampaign(options: CampaignOptions): Promise<ScenarioRow[]> {
  const netns_reason = options.scenarios.some((scenario) => scenario.needs_netns) ? netnsUnavailableReason() : undefined;
  if (netns_reason === undefined && options.scenarios.some((scenario) => scenario.needs_netns)) removeLeftovers();
  const rows: ScenarioRow[] = [];
  for (const scenario of options.scenarios) {
    const results: RunResult[] = [];
    for (let run_index = 0; run_index < options.runs; run_index += 1) {
      const tag = `[${scenario.name} #${run_index + 1}]`;
      const started = Date.now();
      const progress = (line: string) => options.progress(`${tag} ${((Date.now() - started) / 1000).toFixed(1)}s ${line}`);
      if (scenario.needs_netns && netns_reason !== undefined) {
        results.push({ kind: 'skipped', reason: netns_reason });
        progress(`skipped: ${netns_reason}`);
        break;
      }
      const result = await runOnce(scenario, run_index, runSeed(options.seed, scenario.name, run_index), progress);
      results.push(result);
      if (result.kind === 'skipped') {
        progress(`skipped: ${result.reason}`);
        break;
      }
      progress(`${result.attempted} attempted, ${result.committed} committed, ${result.aborted} aborted, ${result.indeterminate} indeterminate; ${result.faults} faults, ${result.failovers} failovers; ${result.findings.length} anomalies`);
      for (const finding of result.findings.slice(0, 10)) progress(`  ${finding.kind}: ${finding.detail}`);
    }
    rows.push(summarize(scenario.name, results));
  }
  return rows;
}

async function placementFor(scenario: Scenario): Promise<{ placement: Placement; layout?: NetnsLayout }> {
  if (!scenario.needs_netns) {
    const ports = await findFreePorts(scenario.size);
    return { placement: { addrs: ports.map((port) => `127.0.0.1:${port}`), prefix: () => [] } };
  }
  const layout = new NetnsLayout(scenario.size);
  live_layouts.add(layout);
  layout.create();
  return { placement: layout.placement(randomBytes(24).toString('hex')), layout };
}

async function runOnce(scenario: Scenario, run_index: number, seed: number, progress: (line: string) => void): Promise<RunResult> {
  const { placement, layout } = await placementFor(scenario);
  const cluster = new ChaosCluster(placement);
  try {
    try {
      scenario.before_start?.(cluster);
    } catch (error) {
      if (error instanceof ScenarioSkipped) return { kind: 'skipped', reason: error.message };
      throw error;
    }
    cluster.startAll();
    try {
      await cluster.waitForAgreement(startup_timeout_ms);
    } catch (error) {
      return ranWith([{ kind: 'stuck', detail: `the cluster never started: ${String(error)}` }]);
    }
    try {
      await scenario.prepare(cluster);
    } catch (error) {
      if (error instanceof ScenarioSkipped) return { kind: 'skipped', reason: error.message };
      throw error;
    }
    return await loadFaultAndCheck(scenario, cluster, layout, run_index, seed, progress);
  } finally {
    await cluster.stop();
    if (layout) {
      layout.destroy();
      live_layouts.delete(layout);
    }
  }
}

function ranWith(findings: readonly Finding[]): RunResult {
  const run = check({ attempts: [], replicas: [], claims: [] });
  const anomalies = { ...run.anomalies };
  for (const finding of findings) anomalies[finding.kind] += 1;
  return { kind: 'ran', attempted: 0, committed: 0, aborted: 0, indeterminate: 0, faults: 0, failovers: 0, anomalies, findings };
}

async function loadFaultAndCheck(scenario: Scenario, cluster: ChaosCluster, layout: NetnsLayout | undefined, run_index: number, seed: number, progress: (line: string) => void): Promise<RunResult> {
  const random = new Prng(seed);
  const run_id = `x${seed.toString(36)}`;
  const workload = new Workload(cluster, run_id, random.fork(1));
  const observer = new RoleObserver(cluster);
  const extra: Finding[] = [];
  let faults = 0;
  const context: FaultContext = {
    cluster,
    random: random.fork(2),
    workload,
    netns: layout,
    run_index,
    fault: (what, count = 1) => {
      faults += count;
      if (what !== '') progress(what);
    },
    progress,
  };
  progress(`seed ${seed}, nodes ${cluster.addrs.join(' ')}`);
  observer.start();
  workload.start();
  try {
    await sleep(warmup_ms);
    await scenario.inject(context);
  } catch (error) {
    extra.push({ kind: 'stuck', detail: `during the faults: ${error instanceof Error ? error.message : String(error)}` });
  }
  layout?.heal();
  cluster.healProcesses();
  await Promise.all([...clocks_moved].filter((addr) => cluster.addrs.includes(addr)).map((addr) => setClockOffset(cluster, addr, 0)));
  await sleep(after_heal_ms);
  await workload.stop();
  const quiet = await cluster.waitForSameSequence(quiescence_timeout_ms);
  if (!quiet) extra.push({ kind: 'stuck', detail: `the cluster did not quiesce within ${quiescence_timeout_ms} ms: ${await cluster.describeHealth()}` });
  const attempts = workload.attempts;
  const { replicas, failures } = await dumpSettled(cluster, attempts.map((attempt) => attempt.transaction_id), quiet ? quiescence_timeout_ms : 0);
  for (const failure of failures) extra.push({ kind: 'stuck', detail: failure });
  await observer.stop();
  const verdict = check({ attempts, replicas, claims: [...observer.claims.values()] });
  const findings = [...extra, ...verdict.findings];
  if (findings.length > 0) progress(`node output kept in ${keepNodeOutput(cluster, seed)}`);
  const anomalies = { ...verdict.anomalies };
  for (const finding of extra) anomalies[finding.kind] += 1;
  const count = (outcome: string) => attempts.filter((attempt) => attempt.outcome === outcome).length;
  return {
    kind: 'ran',
    attempted: attempts.length,
    committed: count('committed'),
    aborted: count('aborted'),
    indeterminate: count('indeterminate'),
    faults,
    failovers: observer.failovers(),
    anomalies,
    findings,
  };
}

/** Write every node's output to a file next to the temp data, for a report of what went wrong. */
function keepNodeOutput(cluster: ChaosCluster, seed: number): string {
  const path = join(tmpdir(), `twopc-chaos-${seed}.log`);
  writeFileSync(path, cluster.addrs.map((addr) => `--- ${addr}\n${cluster.outputOf(addr)}`).join('\n'));
  return path;
}

/** Dump every replica, again while anything is still PREPARED somewhere (bounded). */
async function dumpSettled(cluster: ChaosCluster, ids: readonly string[], timeout_ms: number): Promise<DumpResult> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const dump = await dumpReplicas(cluster, ids);
    const prepared = dump.replicas.some((replica) => Object.values(replica.transactions).some((view) => view.state === 'PREPARED'));
    if (!prepared || Date.now() >= deadline) return dump;
    await sleep(prepared_recheck_ms);
  }
}
