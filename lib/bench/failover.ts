/**
 * Failover time: while one client commits in a loop, SIGKILL the master and measure from
 * the kill to the next successful commit. The client knows nothing but the node list: on a
 * failure it asks `GET /role` of the nodes in turn and follows `master` (or a 421's
 * `master`). After each kill the node is restarted and the cluster settles (every node
 * alive, one master) before the next kill.
 */
import type { ProcessCluster } from '../process-cluster/process-cluster.ts';
import { call, sleep } from './http.ts';
import { round, summarizeLatency } from './stats.ts';

/** Timeout of one commit in the failover loop: short, so a hung master is left quickly. */
const failover_commit_timeout_ms = 2_000;
/** Give up on one failover after this long without a commit (counted as failed). */
export const failover_give_up_ms = 60_000;
/** Commits that must succeed before the kill, so the loop is known to be running. */
const commits_before_kill = 5;
const retry_pause_ms = 10;

export interface FailoverResult {
  readonly runs: number;
  /** Kill-to-next-commit, one per successful failover, in milliseconds. */
  readonly times_ms: readonly number[];
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  /** Failovers with no commit within `failover_give_up_ms`. */
  readonly failed: number;
}

interface Loop {
  stopped: boolean;
  successes: number;
  /** Completion time of the first commit started after `kill_at`, if any. */
  recovered_at: number | undefined;
  kill_at: number | undefined;
}

/** The committing client: follows the master wherever it goes. */
async function commitLoop(cluster: ProcessCluster, loop: Loop, first_master: string, tag: string): Promise<void> {
  let target: string | undefined = first_master;
  let probe = 0;
  for (let index = 0; !loop.stopped; index += 1) {
    if (target === undefined) {
      const asked = cluster.addrs[probe % cluster.addrs.length] ?? first_master;
      probe += 1;
      const role = await call(asked, 'GET', '/role', undefined, failover_commit_timeout_ms);
      target = role.status === 200 && typeof role.body?.master === 'string' ? (role.body.master as string) : undefined;
      if (target === undefined) await sleep(retry_pause_ms);
      continue;
    }
    const started = performance.now();
    const answer = await call(target, 'POST', '/transactions', { payload: { [`failover-${tag}-${index}`]: index } }, failover_commit_timeout_ms);
    if (answer.status === 200) {
      loop.successes += 1;
      if (loop.kill_at !== undefined && started >= loop.kill_at && loop.recovered_at === undefined) loop.recovered_at = performance.now();
      continue;
    }
    target = answer.status === 421 && typeof answer.body?.master === 'string' && answer.body.master !== target ? (answer.body.master as string) : undefined;
    await sleep(retry_pause_ms);
  }
}

/** One kill of the master; resolves to kill-to-commit in ms, or undefined if none came in time. */
async function measureOneFailover(cluster: ProcessCluster, tag: string): Promise<number | undefined> {
  const master = await cluster.waitForAllAlive();
  const loop: Loop = { stopped: false, successes: 0, recovered_at: undefined, kill_at: undefined };
  const running = commitLoop(cluster, loop, master, tag);
  try {
    while (loop.successes < commits_before_kill) await sleep(5);
    loop.kill_at = performance.now();
    await cluster.kill(master, 'SIGKILL');
    const give_up = loop.kill_at + failover_give_up_ms;
    while (loop.recovered_at === undefined && performance.now() < give_up) await sleep(5);
    return loop.recovered_at === undefined ? undefined : loop.recovered_at - loop.kill_at;
  } finally {
    loop.stopped = true;
    await running;
    if (!cluster.isRunning(master)) {
      cluster.spawnNode(master);
      await cluster.waitForHealthy(master);
    }
  }
}

/** `runs` failovers in a row on a running cluster; `onRun` hears each one's result. */
export async function measureFailovers(cluster: ProcessCluster, runs: number, onRun: (run: number, ms: number | undefined) => void): Promise<FailoverResult> {
  const times_ms: number[] = [];
  let failed = 0;
  for (let run = 1; run <= runs; run += 1) {
    const ms = await measureOneFailover(cluster, `${Date.now().toString(36)}-${run}`);
    if (ms === undefined) failed += 1;
    else times_ms.push(round(ms, 1));
    onRun(run, ms);
  }
  await cluster.waitForAllAlive();
  const summary = summarizeLatency(times_ms);
  return { runs, times_ms, p50_ms: summary.p50_ms, p99_ms: summary.p99_ms, max_ms: summary.max_ms, failed };
}
