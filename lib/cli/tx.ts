import { CliError, exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagSwitch, positional, type RawFlags } from './flags.ts';
import { BadInputError, UnreachableError } from '../client/errors.ts';
import { inspectTransaction, type TransactionReport, type TransactionView } from '../client/transaction.ts';
import { cliTransport } from './http.ts';
import { resolveNodes } from './nodes.ts';
import { printJson, printLine } from './output.ts';
import { cell, formatTable } from '../util/text-table.ts';
import { explainTransaction } from './tx-explain.ts';

export type { TransactionView };

/**
 * `twopc tx ID [--nodes …] [--json]`: exit 0 when some node has seen the transaction, 1 when
 * no reachable node has, 2 for a malformed id or no node reachable.
 */
export async function runTx(rawId: unknown, raw: RawFlags): Promise<ExitCode> {
  const transaction_id = positional(rawId, 'transaction ID');
  const nodes = resolveNodes(raw['nodes']);
  let report: TransactionReport;
  try {
    report = await inspectTransaction(cliTransport(), nodes, transaction_id);
  } catch (error) {
    if (error instanceof BadInputError) throw new UsageError(error.message);
    if (error instanceof UnreachableError) throw new CliError(`no node reachable (${nodes.join(', ')})`, exit_codes.usage);
    throw error;
  }
  const explanation = explainTransaction(transaction_id, report.nodes);
  if (flagSwitch(raw['json'])) printJson({ transaction_id, outcome: report.outcome, nodes: report.nodes, explanation });
  else printLine(`${formatTransactionTable(report.nodes)}\n${explanation}`);
  if (report.outcome === 'UNKNOWN') throw new CliError(`no reachable node has seen transaction ${transaction_id}`, exit_codes.failed);
  return exit_codes.ok;
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
