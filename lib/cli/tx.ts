import { CliError, exit_codes, type ExitCode } from './exit.ts';
import { flagSwitch, positional, type RawFlags } from './flags.ts';
import { answerReason, getJson, isRecord } from './http.ts';
import { resolveNodes } from './nodes.ts';
import { printJson, printLine } from './output.ts';
import { cell, formatTable } from '../util/text-table.ts';
import { explainTransaction } from './tx-explain.ts';

/** Timeout of each `/transactions/:id` call made by `tx`. */
export const tx_timeout_ms = 2_000;

/** One node's view of a transaction; `state` is `down` when the node could not be asked. */
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

/** `twopc tx ID [--nodes …] [--json]` */
export async function runTx(rawId: unknown, raw: RawFlags): Promise<ExitCode> {
  const transaction_id = positional(rawId, 'transaction ID');
  const nodes = resolveNodes(raw['nodes']);
  const views = await Promise.all(nodes.map((addr) => readTransactionView(addr, transaction_id)));
  const explanation = explainTransaction(transaction_id, views);
  if (flagSwitch(raw['json'])) printJson({ transaction_id, nodes: views, explanation });
  else printLine(`${formatTransactionTable(views)}\n${explanation}`);
  if (views.every((view) => view.state === 'down')) {
    throw new CliError(`no node reachable (${nodes.join(', ')})`, exit_codes.usage);
  }
  return exit_codes.ok;
}

export async function readTransactionView(addr: string, transaction_id: string): Promise<TransactionView> {
  const result = await getJson(addr, `/transactions/${encodeURIComponent(transaction_id)}`, tx_timeout_ms);
  const empty = { addr, sequence: null, epoch: null, coordinator: null, since: null, participants: null };
  if (result.kind !== 'answer') return { ...empty, state: 'down', error: result.reason };
  const body = isRecord(result.body) ? result.body : {};
  if (typeof body['state'] !== 'string') {
    const state = result.status === 404 ? 'UNKNOWN' : 'error';
    return { ...empty, state, error: answerReason(result.status, result.body) };
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

export function formatTransactionTable(views: readonly TransactionView[]): string {
  const rows = views.map((view) => [
    view.addr,
    view.state,
    cell(view.sequence),
    cell(view.epoch),
    cell(view.coordinator),
    view.error === undefined ? formatSince(view.since) : view.error,
  ]);
  return formatTable(['NODE', 'STATE', 'SEQUENCE', 'EPOCH', 'COORDINATOR', 'SINCE'], rows);
}

/** `since` as an ISO time when it is epoch milliseconds. */
function formatSince(since: string | number | null): string {
  return typeof since === 'number' && Number.isFinite(since) ? new Date(since).toISOString() : cell(since);
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
