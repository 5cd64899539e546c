/**
 * Our own load generator, the lean one used where wrk is not installed (generator.ts): a
 * workload's requests (workloads.ts; by default POST /transactions with a small payload
 * under a key no other request writes, so conflicts never abort anything) sent from this
 * process. Sequential (one client, one request at a time) for latency; closed-loop with C
 * concurrent clients over an undici Pool of C connections for throughput. Only 200s count
 * as committed; 409s (aborts) and anything else (errors) are counted apart.
 */
import { Pool } from 'undici';
import { round, summarizeLatency, type LatencySummary } from './stats.ts';
import { sleep } from './http.ts';
import { unique_keys, type Workload } from './workloads.ts';

/** Timeout of one benchmark commit; past it the request counts as an error. */
export const commit_timeout_ms = 10_000;
/** Pause after a failed request so a dead target is not hammered in a tight loop. */
const error_backoff_ms = 10;

export interface LoadResult {
  readonly clients: number;
  /** Committed (200) transactions per second over the whole run. */
  readonly tx_per_s: number;
  readonly committed: number;
  /** 409 answers: the transaction aborted. */
  readonly aborted: number;
  /** Anything else: other statuses, refused or reset connections, timeouts. */
  readonly errors: number;
  readonly elapsed_s: number;
  /** Latency of the committed requests. */
  readonly latency: LatencySummary;
}

interface Tally {
  committed: number;
  aborted: number;
  errors: number;
  readonly latencies_ms: number[];
}

let run_counter = 0;

/** A prefix for the keys of one load run, unique to it (and to this process). */
export function newRunPrefix(): string {
  run_counter += 1;
  return `bench-${process.pid}-${Date.now().toString(36)}-${run_counter}`;
}

async function commitOnce(pool: Pool, path: string, body: string, tally: Tally): Promise<void> {
  const started = performance.now();
  try {
    const response = await pool.request({
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      headersTimeout: commit_timeout_ms,
      bodyTimeout: commit_timeout_ms,
    });
    await response.body.dump();
    if (response.statusCode === 200) {
      tally.committed += 1;
      tally.latencies_ms.push(performance.now() - started);
      return;
    }
    if (response.statusCode === 409) tally.aborted += 1;
    else tally.errors += 1;
  } catch {
    tally.errors += 1;
  }
  await sleep(error_backoff_ms);
}

/**
 * `clients` concurrent clients each sending one request of `workload` after another against
 * `addr` for `duration_ms`. With `clients` = 1 this is the sequential latency run.
 */
export async function runLoad(addr: string, clients: number, duration_ms: number, workload: Workload = unique_keys, prefix = newRunPrefix()): Promise<LoadResult> {
  const pool = new Pool(`http://${addr}`, { connections: clients, pipelining: 1, keepAliveTimeout: 10_000 });
  const tally: Tally = { committed: 0, aborted: 0, errors: 0, latencies_ms: [] };
  const started = performance.now();
  const deadline = started + duration_ms;
  const client = async (id: number) => {
    for (let index = 0; performance.now() < deadline; index += 1) await commitOnce(pool, workload.path, workload.body(prefix, id, index), tally);
  };
  try {
    await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
  } finally {
    await pool.close();
  }
  const elapsed_s = (performance.now() - started) / 1000;
  return {
    clients,
    tx_per_s: round(tally.committed / elapsed_s, 1),
    committed: tally.committed,
    aborted: tally.aborted,
    errors: tally.errors,
    elapsed_s: round(elapsed_s, 3),
    latency: summarizeLatency(tally.latencies_ms),
  };
}
