/**
 * Reads: one key (`GET /kv/:key`) or one page of keys in order (`GET /kv`). Asked of the
 * master first when one is known (it has applied everything it acknowledged), else of each
 * node in turn; `min_sequence` makes any node wait until it has applied that sequence
 * (read-your-writes on a replica); `node` pins the read to one node. A node cut off from
 * the majority or catching up marks its answer `stale`: another node's fresh answer is
 * preferred, and a stale one is returned (marked) only when no node has a fresh one.
 */
import * as v from 'valibot';
import { KeySchema } from '../protocol/payload.ts';
import { answerReason, isRecord, secret_hint } from './answer.ts';
import { BadInputError, NotServedError, UnreachableError } from './errors.ts';
import type { Transport } from './http.ts';
import { findMaster } from './master.ts';
import { role_timeout_ms, type MasterMemory } from './submit.ts';

/** Timeout of one read; a read with `min_sequence` also allows for the node's wait. */
export const read_timeout_ms = 2_000;
export const read_with_min_sequence_timeout_ms = 5_000;
export const list_limit_max = 1_000;

export interface ReadOptions {
  /** Wait (on the node, bounded) until it has applied this sequence. */
  readonly min_sequence?: number;
  /** Read from this node only (`host:port`). */
  readonly node?: string;
}

export interface ListOptions extends ReadOptions {
  /** Start after this key (exclusive); omitted: from the first key. */
  readonly after?: string;
  /** Keys per page, 1–1000 (default 100). */
  readonly limit?: number;
}

/** One committed key. `stale` is set when the node that answered may miss recent commits. */
export interface Entry {
  readonly key: string;
  readonly value: unknown;
  readonly sequence: number;
  readonly stale?: true;
}

/** One page of keys in key order; `next` is the `after` of the next page, absent on the last. */
export interface Page {
  readonly items: readonly Entry[];
  readonly next?: string;
  readonly stale?: true;
}

/** What reading one key came to: found, or absent; `stale` as for `Entry`; `node` answered. */
export type KeyRead =
  | { readonly kind: 'found'; readonly entry: Entry; readonly node: string }
  | { readonly kind: 'absent'; readonly stale: boolean; readonly node: string };

/** The master first (looked up when not known yet), then the other nodes in list order. */
export async function masterFirst(transport: Transport, memory: MasterMemory, nodes: readonly string[]): Promise<readonly string[]> {
  if (memory.master === undefined) {
    const search = await findMaster(transport, nodes, role_timeout_ms);
    if (search.kind === 'found') memory.master = search.master;
  }
  const master = memory.master;
  return master === undefined ? nodes : [master, ...nodes.filter((addr) => addr !== master)];
}

/** Read one key; throws `BadInputError`, `UnreachableError` or `NotServedError`. */
export async function readKey(transport: Transport, order: readonly string[], key: string, options: ReadOptions): Promise<KeyRead> {
  const checked = v.safeParse(KeySchema, key);
  if (!checked.success) throw new BadInputError(`bad key: ${checked.issues[0].message}`);
  const path = `/kv/${encodeURIComponent(key)}${query({ min_sequence: options.min_sequence })}`;
  return readFirstFresh(transport, order, path, options, `key ${JSON.stringify(key)}`, (node, status, body) => {
    if (status === 200 && isEntry(body)) return { kind: 'found', entry: body, node };
    // A twopc node says which key it did not find; any other 404 is not an answer about keys.
    if (status === 404 && isRecord(body) && body['key'] === key) return { kind: 'absent', stale: body['stale'] === true, node };
    return undefined;
  }, (read) => (read.kind === 'found' ? read.entry.stale === true : read.stale));
}

/** Read one page of keys; throws as `readKey` does. */
export async function readPage(transport: Transport, order: readonly string[], options: ListOptions): Promise<Page> {
  const limit = options.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > list_limit_max)) {
    throw new BadInputError(`limit must be an integer 1-${list_limit_max}`);
  }
  const path = `/kv${query({ after: options.after, limit, min_sequence: options.min_sequence })}`;
  return readFirstFresh(transport, order, path, options, 'keys', (_node, status, body) => (status === 200 && isPage(body) ? body : undefined), (page) => page.stale === true);
}

/**
 * Ask each node of `order` in turn (only `options.node` when given) until one gives a fresh
 * answer `accept` recognises; else the first stale one; else throw with every node's reason.
 */
async function readFirstFresh<T>(
  transport: Transport,
  order: readonly string[],
  path: string,
  options: ReadOptions,
  what: string,
  accept: (node: string, status: number, body: unknown) => T | undefined,
  isStale: (answer: T) => boolean,
): Promise<T> {
  checkMinSequence(options.min_sequence);
  const nodes = options.node === undefined ? order : [options.node];
  const timeout_ms = options.min_sequence === undefined ? read_timeout_ms : read_with_min_sequence_timeout_ms;
  const reasons: string[] = [];
  let unreachable = 0;
  let stale: T | undefined;
  for (const node of nodes) {
    const result = await transport.request(node, path, { timeout_ms });
    if (result.kind !== 'answer') {
      unreachable += 1;
      reasons.push(`${node}: ${result.reason}`);
      continue;
    }
    const answer = accept(node, result.status, result.body);
    if (answer !== undefined && !isStale(answer)) return answer;
    if (answer !== undefined) stale ??= answer;
    else reasons.push(`${node}: ${describeRefusal(result.status, result.body)}`);
  }
  if (stale !== undefined) return stale;
  if (unreachable === nodes.length) throw new UnreachableError(reasons);
  throw new NotServedError(what, reasons);
}

function describeRefusal(status: number, body: unknown): string {
  if (status === 401) return `refused: ${answerReason(status, body)} (${secret_hint})`;
  if (status === 404 || !isRecord(body)) return `not a twopc answer (${answerReason(status, body)})`;
  return answerReason(status, body);
}

function checkMinSequence(min_sequence: number | undefined): void {
  if (min_sequence !== undefined && (!Number.isSafeInteger(min_sequence) || min_sequence < 0)) {
    throw new BadInputError('min_sequence must be a whole number');
  }
}

function query(parameters: Readonly<Record<string, string | number | undefined>>): string {
  const parts = Object.entries(parameters).flatMap(([name, value]) => (value === undefined ? [] : [`${name}=${encodeURIComponent(String(value))}`]));
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function isEntry(body: unknown): body is Entry {
  return isRecord(body) && typeof body['key'] === 'string' && typeof body['sequence'] === 'number' && 'value' in body;
}

function isPage(body: unknown): body is Page {
  return isRecord(body) && Array.isArray(body['items']) && body['items'].every(isEntry);
}
