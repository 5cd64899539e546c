/**
 * Restart time with a large store: the benchmark's cluster, settled after the load and
 * failover phases, is stopped. Every node's file gets the same `committed` transactions
 * written directly (store-filler.ts), so the replicas agree; then one slave alone gets `in_doubt` PREPARED transactions whose
 * coordinator (the old master) never decided. The other nodes start and elect a master;
 * then the filled node starts, and the clock runs from its spawn to its first 200 on
 * GET /health and on to the moment it holds no prepared transaction (`twopc_locked_keys`
 * 0 in /metrics: every in-doubt one resolved).
 */
import type { ProcessCluster } from '../process-cluster/process-cluster.ts';
import { waitUntil } from '../util/wait-until.ts';
import { call } from './http.ts';
import { fileSizeMb, fillCommitted, fillInDoubt, maxStoredSequence, newIdPrefix, nodeFile } from './store-filler.ts';
import { round } from './stats.ts';
import { assert } from '../util/assert.ts';

/** How long the filled node may take to serve and to resolve its in-doubt transactions. */
export const restart_give_up_ms = 300_000;
const metrics_timeout_ms = 2_000;

export interface RestartSettings {
  readonly committed: number;
  readonly in_doubt: number;
}

export interface RestartResult {
  readonly committed: number;
  readonly in_doubt: number;
  /** Last sequence every node reported on /health before the stop (the contiguous prefix). */
  readonly settled_last_sequence: number;
  /** Highest committed sequence in any node's file then; above the prefix means a gap. */
  readonly stored_max_sequence: number;
  /** Size of the restarted node's SQLite file. */
  readonly store_mb: number;
  /** Time to write the rows directly into every node's file (not a figure of twopc; for context). */
  readonly fill_s: number;
  /** From starting the other nodes (same store, no in-doubt) until they have a master. */
  readonly peers_ready_ms: number;
  /** From spawning the filled node to its first 200 on GET /health. */
  readonly health_ms: number;
  /** From spawning it until no prepared transaction is left on it; null if not within the limit. */
  readonly resolved_ms: number | null;
  /** From its first 200 on /health until no prepared transaction is left: the in-doubt resolution itself. */
  readonly resolved_after_serving_ms: number | null;
}

async function lockedKeys(addr: string): Promise<number | undefined> {
  const answer = await call(addr, 'GET', '/metrics', undefined, metrics_timeout_ms);
  if (answer.status !== 200 || typeof answer.body !== 'string') return undefined;
  const match = /^twopc_locked_keys (\d+)$/m.exec(answer.body);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Every running node's last sequence once they all report the same one. */
async function settledSequence(cluster: ProcessCluster): Promise<number> {
  return waitUntil('every node at one last sequence', async () => {
    const healths = await Promise.all(cluster.addrs.map((addr) => call(addr, 'GET', '/health', undefined, metrics_timeout_ms)));
    const sequences = new Set(healths.map((health) => (health.status === 200 ? health.body?.last_sequence : undefined)));
    const [sequence] = sequences;
    return sequences.size === 1 && typeof sequence === 'number' ? sequence : undefined;
  }, restart_give_up_ms);
}

/**
 * Runs the restart measurement on `cluster` (every node running and settled; it keeps the
 * data the earlier phases wrote). Leaves the cluster running; `note` hears progress.
 */
export async function measureRestart(cluster: ProcessCluster, settings: RestartSettings, note: (text: string) => void): Promise<RestartResult> {
  const master = await cluster.waitForAllAlive();
  const settled = await settledSequence(cluster);
  const role = await call(master, 'GET', '/role', undefined, metrics_timeout_ms);
  const epoch = Number(role.body?.epoch ?? 0);
  const target = cluster.addrs.filter((addr) => addr !== master).at(-1);
  assert(target !== undefined, 'a node other than the master to restart');
  const peers = cluster.addrs.filter((addr) => addr !== target);
  note('stopping every node');
  await Promise.all(cluster.addrs.map((addr) => cluster.kill(addr, 'SIGTERM')));

  note(`writing ${settings.committed} committed transactions into every node's store`);
  const fill_started = performance.now();
  const file = nodeFile(cluster.data_dir, target);
  const id_prefix = newIdPrefix();
  // A replica may hold committed sequences above the contiguous prefix /health reports
  // (a gap below them): the filled ones go above everything any replica holds.
  const stored_max_sequence = Math.max(...cluster.addrs.map((addr) => maxStoredSequence(nodeFile(cluster.data_dir, addr))));
  const first_sequence = Math.max(settled, stored_max_sequence) + 1;
  for (const addr of cluster.addrs) {
    fillCommitted(nodeFile(cluster.data_dir, addr), { count: settings.committed, id_prefix, first_sequence, coordinator: master, epoch });
  }
  fillInDoubt(file, { count: settings.in_doubt, coordinator: master, epoch, participants: cluster.addrs });
  const fill_s = (performance.now() - fill_started) / 1000;
  const store_mb = fileSizeMb(file);

  note('starting the other nodes on the same store');
  const peers_started = performance.now();
  for (const peer of peers) cluster.spawnNode(peer);
  await cluster.waitForAllAlive(restart_give_up_ms);
  const peers_ready_ms = performance.now() - peers_started;

  note(`restarting ${target} with ${settings.in_doubt} in-doubt transactions`);
  const started = performance.now();
  cluster.spawnNode(target);
  await cluster.waitForHealthy(target, restart_give_up_ms);
  const health_ms = performance.now() - started;
  let resolved_ms: number | null = null;
  try {
    await waitUntil('in-doubt transactions resolved', async () => (await lockedKeys(target)) === 0, restart_give_up_ms, 20);
    resolved_ms = performance.now() - started;
  } catch {
    resolved_ms = null;
  }
  return {
    committed: settings.committed,
    in_doubt: settings.in_doubt,
    settled_last_sequence: settled,
    stored_max_sequence,
    store_mb: round(store_mb, 1),
    fill_s: round(fill_s, 2),
    peers_ready_ms: round(peers_ready_ms, 1),
    health_ms: round(health_ms, 1),
    resolved_ms: resolved_ms === null ? null : round(resolved_ms, 1),
    resolved_after_serving_ms: resolved_ms === null ? null : round(resolved_ms - health_ms, 1),
  };
}
