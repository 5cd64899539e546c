/**
 * The faults a scenario injects into a running chaos cluster: failpoints, crashes, kills,
 * pauses, clock jumps and partitions, each counted; and what a scenario needs from the nodes
 * (a failpoint name, the clock route), checked before the run so a missing one is reported
 * as a skip rather than a failure.
 */
import type { ChaosCluster } from './cluster.ts';
import { describe, sleep } from './node-http.ts';
import type { NetnsLayout } from './netns.ts';
import type { Prng } from './prng.ts';
import type { Workload } from './workload.ts';

/** Thrown when the nodes lack something a scenario needs: the scenario is reported as skipped. */
export class ScenarioSkipped extends Error {
  override readonly name = 'ScenarioSkipped';
}

export interface FaultContext {
  readonly cluster: ChaosCluster;
  readonly random: Prng;
  readonly workload: Workload;
  readonly netns: NetnsLayout | undefined;
  /** Which run of this scenario this is (0-based): some scenarios vary by it. */
  readonly run_index: number;
  /** Count injected faults (one unless told) and say what they were on stderr. */
  readonly fault: (what: string, count?: number) => void;
  readonly progress: (line: string) => void;
}

/** How long a crash failpoint may wait for a transaction to reach it. */
const crash_wait_ms = 6_000;
const agreement_wait_ms = 20_000;

export async function setFailpoint(cluster: ChaosCluster, addr: string, name: string, action: string): Promise<boolean> {
  const answer = await cluster.http.post(addr, '/debug/failpoints', { name, action }, 2_000);
  return answer.kind === 'answer' && answer.status === 200;
}

/** Throws ScenarioSkipped when the node does not know failpoint `name`. */
export async function requireFailpoint(cluster: ChaosCluster, name: string): Promise<void> {
  const addr = cluster.addrs[0] ?? '';
  const answer = await cluster.http.post(addr, '/debug/failpoints', { name, action: 'off' }, 2_000);
  if (answer.kind !== 'answer' || answer.status !== 200) throw new ScenarioSkipped(`the node does not offer failpoint ${name} (${describe(answer)})`);
}

export async function requireClockRoute(cluster: ChaosCluster): Promise<void> {
  const addr = cluster.addrs[0] ?? '';
  const answer = await cluster.http.post(addr, '/debug/clock', { offset_ms: 0 }, 2_000);
  if (answer.kind !== 'answer' || answer.status !== 200) throw new ScenarioSkipped(`the node does not offer POST /debug/clock (${describe(answer)})`);
}

/** Nodes whose clock a scenario moved, so healing puts back only those. */
export const clocks_moved = new Set<string>();

export async function setClockOffset(cluster: ChaosCluster, addr: string, offset_ms: number): Promise<boolean> {
  if (offset_ms === 0) clocks_moved.delete(addr);
  else clocks_moved.add(addr);
  const answer = await cluster.http.post(addr, '/debug/clock', { offset_ms }, 2_000);
  return answer.kind === 'answer' && answer.status === 200;
}

/** The master every node agrees on, waiting for one (bounded). */
export async function currentMaster(context: FaultContext): Promise<string> {
  return context.cluster.waitForAgreement(agreement_wait_ms);
}

export function slavesOf(context: FaultContext, master: string): readonly string[] {
  return context.cluster.addrs.filter((addr) => addr !== master);
}

/**
 * Arm `crash` at failpoint `name` on `addr`, wait until a transaction makes the node die
 * there, keep it down a little, and start it again. Disarms if nothing hit it in time.
 */
export async function crashAt(context: FaultContext, addr: string, name: string): Promise<void> {
  const { cluster } = context;
  if (!(await setFailpoint(cluster, addr, name, 'crash'))) throw new Error(`could not arm ${name} on ${addr}`);
  context.progress(`armed ${name}=crash on ${addr}`);
  if (await cluster.waitForExit(addr, crash_wait_ms)) {
    context.fault(`${addr} crashed at ${name}`);
    await sleep(context.random.int(500, 1_500));
    cluster.spawnNode(addr);
    context.progress(`restarted ${addr}`);
  } else {
    await setFailpoint(cluster, addr, name, 'off');
    context.progress(`${addr} never reached ${name}; disarmed`);
  }
}

export async function killAndRestart(context: FaultContext, addr: string): Promise<void> {
  await context.cluster.kill(addr, 'SIGKILL');
  context.fault(`SIGKILL ${addr}`);
  await sleep(context.random.int(1_000, 2_000));
  context.cluster.spawnNode(addr);
  context.progress(`restarted ${addr}`);
}

export async function pauseFor(context: FaultContext, addr: string, duration_ms: number): Promise<void> {
  context.cluster.pause(addr);
  context.fault(`SIGSTOP ${addr} for ${duration_ms} ms`);
  await sleep(duration_ms);
  context.cluster.resume(addr);
  context.progress(`SIGCONT ${addr}`);
}

export async function partitionFor(context: FaultContext, side_a: readonly string[], side_b: readonly string[], duration_ms: number): Promise<void> {
  const netns = context.netns;
  if (netns === undefined) throw new ScenarioSkipped('no network namespaces');
  netns.partition(side_a, side_b);
  context.fault(`partition [${side_a.join(' ')}] | [${side_b.join(' ')}] for ${duration_ms} ms`);
  await sleep(duration_ms);
  netns.heal();
  context.progress('partition healed');
}
