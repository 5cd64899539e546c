/**
 * One transaction as every node sees it (`GET /transactions/:id` on each, at once), and
 * what that adds up to: COMMITTED, ABORTED, PENDING (prepared or collecting votes
 * somewhere, no decision seen yet) or UNKNOWN (no reachable node has seen it).
 */
import * as v from 'valibot';
import { TransactionIdSchema } from '../protocol/transaction-id.ts';
import { answerReason, isRecord } from './answer.ts';
import { BadInputError, UnreachableError } from './errors.ts';
import type { Transport } from './http.ts';

/** Timeout of each `/transactions/:id` call. */
export const transaction_view_timeout_ms = 2_000;

/** One node's view; `state` is `down` when the node could not be asked, `error` when its answer was not one. */
export interface TransactionView {
  readonly addr: string;
  readonly state: string;
  readonly sequence: number | null;
  readonly epoch: number | null;
  readonly coordinator: string | null;
  readonly since: string | number | null;
  /** Every participant of its round, as this node recorded them. */
  readonly participants: readonly string[] | null;
  readonly error?: string;
}

export type TransactionOutcome = 'COMMITTED' | 'ABORTED' | 'PENDING' | 'UNKNOWN';

export interface TransactionReport {
  readonly transaction_id: string;
  readonly outcome: TransactionOutcome;
  /** The sequence it committed at, when some node reports one. */
  readonly sequence: number | null;
  readonly nodes: readonly TransactionView[];
}

/** Every node's view of `transaction_id`; throws `BadInputError` for a malformed id, `UnreachableError` when no node answers. */
export async function inspectTransaction(transport: Transport, nodes: readonly string[], transaction_id: string): Promise<TransactionReport> {
  const checked = v.safeParse(TransactionIdSchema, transaction_id);
  if (!checked.success) throw new BadInputError(`bad transaction id: ${checked.issues[0].message}`);
  const views = await Promise.all(nodes.map((addr) => readTransactionView(transport, addr, transaction_id)));
  if (views.every((view) => view.state === 'down')) throw new UnreachableError(views.map((view) => `${view.addr}: ${view.error ?? 'down'}`));
  return {
    transaction_id,
    outcome: summarizeViews(views),
    sequence: views.find((view) => view.sequence !== null)?.sequence ?? null,
    nodes: views,
  };
}

/** Pure: what the views add up to. A COMMITTED anywhere wins; an ABORTED anywhere means no commit. */
export function summarizeViews(views: readonly Pick<TransactionView, 'state'>[]): TransactionOutcome {
  const states = new Set(views.map((view) => view.state));
  if (states.has('COMMITTED')) return 'COMMITTED';
  if (states.has('ABORTED')) return 'ABORTED';
  if (states.has('PREPARED') || states.has('INIT')) return 'PENDING';
  return 'UNKNOWN';
}

async function readTransactionView(transport: Transport, addr: string, transaction_id: string): Promise<TransactionView> {
  const result = await transport.request(addr, `/transactions/${encodeURIComponent(transaction_id)}`, { timeout_ms: transaction_view_timeout_ms });
  const empty = { addr, sequence: null, epoch: null, coordinator: null, since: null, participants: null };
  if (result.kind !== 'answer') return { ...empty, state: 'down', error: result.reason };
  const body = isRecord(result.body) ? result.body : {};
  if (result.status !== 200 || typeof body['state'] !== 'string' || body['transaction_id'] !== transaction_id) {
    return { ...empty, state: 'error', error: answerReason(result.status, result.body) };
  }
  return {
    addr,
    state: body['state'],
    sequence: numberOrNull(body['sequence']),
    epoch: numberOrNull(body['epoch']),
    coordinator: typeof body['coordinator'] === 'string' ? body['coordinator'] : null,
    since: typeof body['since'] === 'string' || typeof body['since'] === 'number' ? body['since'] : null,
    participants: Array.isArray(body['participants']) ? body['participants'].filter((item): item is string => typeof item === 'string') : null,
  };
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
