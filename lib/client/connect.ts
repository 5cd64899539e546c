/**
 * `connect({ nodes, secret })`: a client of one twopc cluster. It remembers the master it
 * last talked to and finds the new one after a failover; reads go to the master first.
 */
import { describeBadAddr, parseAddr } from './addr.ts';
import { commitTransaction, type CommitOptions, type Committed } from './commit.ts';
import { BadInputError } from './errors.ts';
import { createTransport } from './http.ts';
import type { Entry, ListOptions, Page, ReadOptions } from './read.ts';
import type { NodeStatus } from './status.ts';
import type { MasterMemory } from './submit.ts';
import type { TransactionReport } from './transaction.ts';
import { secret_min_length_chars } from '../security/signature.ts';

export interface ConnectOptions {
  /** Nodes of the cluster as `host:port` (any subset that includes a reachable one works). */
  readonly nodes: readonly string[];
  /** The cluster secret (or a client key), when the cluster signs requests. */
  readonly secret?: string;
}

export interface TwopcClient {
  /** The nodes this client asks, as given. */
  readonly nodes: readonly string[];
  /**
   * Commit `payload` (each key written with its value, `null` deletes it) through the master.
   * Throws `AbortedError`, `UnavailableError`, `UnknownOutcomeError`, `UnreachableError`, `BadInputError`.
   */
  commit(payload: Readonly<Record<string, unknown>>, options?: CommitOptions): Promise<Committed>;
  /** A committed value, or undefined when the key is absent. */
  get(key: string, options?: ReadOptions): Promise<Entry | undefined>;
  /** One page of committed keys in key order; pass `next` as `after` for the next page. */
  list(options?: ListOptions): Promise<Page>;
  /** One transaction on every node, and what that adds up to. */
  tx(transaction_id: string): Promise<TransactionReport>;
  /** Every node's role, epoch, last sequence and whether it reaches a majority. */
  status(): Promise<readonly NodeStatus[]>;
  /** Drop idle connections. The client can still be used afterwards. */
  close(): void;
}

/**
 * The read, status and tx code loads on its first call, not with the client: a process that
 * only commits (`twopc commit`) starts without it (issue 12, bench/README.md "Runtime footprint").
 */
export function connect(options: ConnectOptions): TwopcClient {
  const nodes = checkNodes(options.nodes);
  const secret = checkSecret(options.secret);
  const transport = createTransport(secret);
  const memory: MasterMemory = { master: undefined };
  const readOrder = async () => (await import('./read.ts')).masterFirst(transport, memory, nodes);
  return {
    nodes,
    commit: (payload, commit_options = {}) => commitTransaction(transport, memory, nodes, payload, commit_options),
    get: async (key, read_options = {}) => {
      const { readKey } = await import('./read.ts');
      const read = await readKey(transport, read_options.node === undefined ? await readOrder() : [], key, read_options);
      return read.kind === 'found' ? read.entry : undefined;
    },
    list: async (list_options = {}) => {
      const { readPage } = await import('./read.ts');
      return readPage(transport, list_options.node === undefined ? await readOrder() : [], list_options);
    },
    tx: async (transaction_id) => (await import('./transaction.ts')).inspectTransaction(transport, nodes, transaction_id),
    status: async () => (await import('./status.ts')).readClusterStatus(transport, nodes),
    close: () => transport.close(),
  };
}

function checkNodes(nodes: readonly string[]): readonly string[] {
  if (!Array.isArray(nodes) || nodes.length === 0) throw new BadInputError('nodes: give at least one HOST:PORT');
  const seen = new Set<string>();
  for (const addr of nodes) {
    if (typeof addr !== 'string' || parseAddr(addr) === undefined) throw new BadInputError(describeBadAddr(String(addr)));
    if (seen.has(addr)) throw new BadInputError(`nodes names ${addr} twice`);
    seen.add(addr);
  }
  return Object.freeze([...nodes]);
}

function checkSecret(secret: string | undefined): string | undefined {
  if (secret === undefined || secret === '') return undefined;
  if (secret.length < secret_min_length_chars) throw new BadInputError(`the cluster secret must be at least ${secret_min_length_chars} characters`);
  return secret;
}
