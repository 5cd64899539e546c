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

/** How long a node whose disk failed may take to say so (`/health` 503 store-failed), and to serve again once it recovers. */
const store_fault_wait_ms = 15_000;
const rejoin_wait_ms = 30_000;

/** A disk fault on one node: how to make its store writes fail, and how to make them land again. */
export interface DiskFault {
  readonly what: string;
  readonly fail: () => Promise<void>;
  readonly recover: () => Promise<void>;
}

/**
 * Make `addr`'s disk fail for about `duration_ms` under load, then recover it, and check what
 * issue 14 item 2 asks: the node leaves the alive set saying why, the others commit without
 * it (at least one acknowledged commit while it is out, waited for a little past the
 * duration, since a master's failure costs an election first), and it serves again by itself.
 * Throws (a `stuck` finding) when any of that does not happen; the disk recovers in any case.
 */
export async function sickDiskFor(context: FaultContext, addr: string, disk: DiskFault, duration_ms: number): Promise<void> {
  const committed = () => context.workload.attempts.filter((attempt) => attempt.outcome === 'committed').length;
  const started = Date.now();
  let recovered = false;
  const recover = async () => {
    if (recovered) return;
    recovered = true;
    await disk.recover();
  };
  try {
    await disk.fail();
    context.fault(`${disk.what} on ${addr} for ${duration_ms} ms`);
    const fault = await pollHealth(context.cluster, addr, store_fault_wait_ms, (health) => (health.status === 503 && health.body?.status === 'store-failed' ? String(health.body.store_fault) : undefined));
    if (fault === undefined) throw new Error(`${addr} did not leave the alive set within ${store_fault_wait_ms} ms of ${disk.what}`);
    context.progress(`${addr} out after ${Date.now() - started} ms: ${fault}`);
    const committed_before = committed();
    await sleep(Math.max(0, started + duration_ms - Date.now()));
    const deadline = Date.now() + store_fault_wait_ms;
    while (committed() === committed_before && Date.now() < deadline) await sleep(100);
    const during = committed() - committed_before;
    if (during === 0) throw new Error(`no commit was acknowledged while ${addr} could not persist`);
    context.progress(`${during} commits acknowledged while ${addr} could not persist`);
    await recover();
    const recovered_at = Date.now();
    context.progress(`${addr} disk recovered`);
    const back = await pollHealth(context.cluster, addr, rejoin_wait_ms, (health) => (health.status === 200 ? true : undefined));
    if (back === undefined) throw new Error(`${addr} did not serve again within ${rejoin_wait_ms} ms of its disk recovering`);
    context.progress(`${addr} rejoined by itself ${Date.now() - recovered_at} ms after its disk recovered`);
  } finally {
    await recover();
  }
}

/** Poll `addr`'s /health until `accept` returns something (bounded). */
async function pollHealth<T>(cluster: ChaosCluster, addr: string, timeout_ms: number, accept: (health: { readonly status: number; readonly body: any }) => T | undefined): Promise<T | undefined> {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline) {
    const health = await cluster.http.get(addr, '/health', 1_000);
    const accepted = health.kind === 'answer' ? accept(health) : undefined;
    if (accepted !== undefined) return accepted;
    await sleep(100);
  }
  return undefined;
}
