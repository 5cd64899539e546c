/**
 * What the checker reads from one replica after quiescence: its data (`GET /kv` paged), its
 * committed log (`GET /cluster/log` paged), its last sequence, the terms it led
 * (`GET /cluster/terms`) and its view of every transaction of interest
 * (`GET /transactions/:id`). Plain data, so the checker can be fed hand-made dumps too.
 */
import type { ChaosCluster } from './cluster.ts';
import { describe } from './node-http.ts';

export interface KvItem {
  readonly key: string;
  readonly value: unknown;
  readonly sequence: number;
}

export interface LogEntry {
  readonly transaction_id: string;
  readonly sequence: number;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface Term {
  readonly epoch: number;
  readonly master: string;
}

export interface TransactionState {
  readonly state: string;
  readonly sequence?: number;
}

export interface ReplicaDump {
  readonly addr: string;
  readonly last_sequence: number;
  /** Undefined when the node would not serve its data (not serving after quiescence failed). */
  readonly kv: readonly KvItem[] | undefined;
  readonly log: readonly LogEntry[];
  /** Undefined when the node does not offer `GET /cluster/terms`. */
  readonly terms: readonly Term[] | undefined;
  /** This replica's state of each transaction id asked about. */
  readonly transactions: Readonly<Record<string, TransactionState>>;
}

const page_limit = 1000;
const view_concurrency = 16;

export async function dumpKv(cluster: ChaosCluster, addr: string): Promise<KvItem[]> {
  const items: KvItem[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await cluster.http.getOk(addr, `/kv?limit=${page_limit}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`);
    items.push(...(page.items as KvItem[]).map(({ key, value, sequence }) => ({ key, value, sequence })));
    if (page.next === undefined) return items;
    after = page.next;
  }
}

export async function dumpLog(cluster: ChaosCluster, addr: string): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  let after = 0;
  for (;;) {
    const page = await cluster.http.getOk(addr, `/cluster/log?after=${after}&limit=${page_limit}`);
    const batch = (page.entries as LogEntry[]).map(({ transaction_id, sequence, payload }) => ({ transaction_id, sequence, payload }));
    entries.push(...batch);
    const last = batch.at(-1);
    if (batch.length < page_limit || last === undefined) return entries;
    after = last.sequence;
  }
}

export async function dumpTerms(cluster: ChaosCluster, addr: string): Promise<Term[] | undefined> {
  const answer = await cluster.http.get(addr, '/cluster/terms', 5_000);
  if (answer.kind !== 'answer' || answer.status !== 200 || !Array.isArray(answer.body?.terms)) return undefined;
  return (answer.body.terms as Term[]).map(({ epoch, master }) => ({ epoch, master }));
}

/** Each id's state on one node, a few requests at a time. */
export async function dumpTransactions(cluster: ChaosCluster, addr: string, ids: readonly string[]): Promise<Record<string, TransactionState>> {
  const states: Record<string, TransactionState> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++];
      if (id === undefined) return;
      const view = await cluster.http.getOk(addr, `/transactions/${encodeURIComponent(id)}`);
      states[id] = typeof view.sequence === 'number' ? { state: view.state, sequence: view.sequence } : { state: view.state };
    }
  };
  await Promise.all(Array.from({ length: view_concurrency }, worker));
  return states;
}

/** The replicas that could be dumped, and why the others could not. */
export interface DumpResult {
  readonly replicas: ReplicaDump[];
  readonly failures: readonly string[];
}

/**
 * Every replica's dump. Logs come first, so each node is asked about every attempted id and
 * every id in any replica's log.
 */
export async function dumpReplicas(cluster: ChaosCluster, attempted_ids: readonly string[]): Promise<DumpResult> {
  const failures: string[] = [];
  const parts = await Promise.all(
    cluster.addrs.map(async (addr) => {
      try {
        const health = await cluster.http.get(addr, '/health', 5_000);
        if (health.kind !== 'answer' || typeof health.body?.last_sequence !== 'number') throw new Error(`GET /health: ${describe(health)}`);
        const [kv, log, terms] = await Promise.all([
          dumpKv(cluster, addr).catch((error: unknown) => {
            failures.push(`could not read the data of ${addr}: ${error instanceof Error ? error.message : String(error)}`);
            return undefined;
          }),
          dumpLog(cluster, addr),
          dumpTerms(cluster, addr),
        ]);
        return { addr, last_sequence: health.body.last_sequence as number, kv, log, terms };
      } catch (error) {
        failures.push(`could not dump ${addr}: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    }),
  );
  const dumped = parts.filter((part) => part !== undefined);
  const ids = [...new Set([...attempted_ids, ...dumped.flatMap((part) => part.log.map((entry) => entry.transaction_id))])];
  const replicas: ReplicaDump[] = [];
  for (const part of dumped) {
    try {
      replicas.push({ ...part, transactions: await dumpTransactions(cluster, part.addr, ids) });
    } catch (error) {
      failures.push(`could not read transactions of ${part.addr}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { replicas, failures };
}
