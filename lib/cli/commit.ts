import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { PayloadSchema, type Payload } from '../protocol/payload.ts';
import { CliError, exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagInteger, flagSwitch, flagText, type RawFlags } from './flags.ts';
import { resolveNodes } from './nodes.ts';
import { printJson, printLine } from './output.ts';
import { submitTransaction, type SubmitOutcome } from './submit-transaction.ts';

/** How long `commit` keeps trying when `--timeout` is not given. */
export const commit_timeout_default_ms = 10_000;
const commit_timeout_max_ms = 24 * 60 * 60 * 1_000;

export interface CommitFlags {
  readonly payload: Payload;
  readonly nodes: readonly string[];
  readonly timeout_ms: number;
  readonly json: boolean;
}

/** `twopc commit --payload JSON [--nodes A,B,C] [--timeout MS] [--json]` */
export async function runCommit(raw: RawFlags): Promise<ExitCode> {
  const flags = parseCommitFlags(raw);
  const transaction_id = randomUUID();
  const outcome = await submitTransaction({
    nodes: flags.nodes,
    transaction_id,
    payload: flags.payload,
    timeout_ms: flags.timeout_ms,
  });
  return reportOutcome(transaction_id, outcome, flags.json);
}

export function parseCommitFlags(raw: RawFlags): CommitFlags {
  if (raw['payload'] === undefined) throw new UsageError('--payload JSON is required, e.g. --payload \'{"color":"blue"}\'');
  return {
    payload: parsePayload(flagText(raw['payload'], '--payload')),
    nodes: resolveNodes(raw['nodes']),
    timeout_ms: raw['timeout'] === undefined
      ? commit_timeout_default_ms
      : flagInteger(raw['timeout'], '--timeout', 1, commit_timeout_max_ms),
    json: flagSwitch(raw['json']),
  };
}

/** The payload must be a JSON object the node would accept: each key is written, `null` deletes it. */
export function parsePayload(text: string): Payload {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--payload is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = v.safeParse(PayloadSchema, value);
  if (!parsed.success) {
    throw new UsageError(`--payload: ${parsed.issues[0].message}`);
  }
  return parsed.output;
}

function reportOutcome(transaction_id: string, outcome: SubmitOutcome, json: boolean): ExitCode {
  switch (outcome.kind) {
    case 'committed':
      if (json) printJson(outcome.answer);
      else printLine(describeCommitted(transaction_id, outcome.answer));
      return exit_codes.ok;
    case 'aborted':
      if (json) printJson(outcome.answer);
      else printLine(`aborted tx ${transaction_id}: ${String(outcome.answer['reason'] ?? 'unknown reason')}`);
      return exit_codes.failed;
    case 'unknown':
      if (json) printJson({ transaction_id, status: 'UNKNOWN', reason: outcome.reason });
      throw new CliError(
        `outcome unknown for tx ${transaction_id}: ${outcome.reason}; check with: twopc tx ${transaction_id}`,
        exit_codes.unknown,
      );
    case 'rejected':
    case 'unreachable':
    case 'unavailable':
      throw new CliError(`tx ${transaction_id} not applied: ${outcome.reason}`, exit_codes.usage);
  }
}

function describeCommitted(transaction_id: string, answer: Readonly<Record<string, unknown>>): string {
  const participants = answer['participants'];
  const count = Array.isArray(participants) ? participants.length : participants;
  const where = typeof count === 'number' ? ` on ${count} node${count === 1 ? '' : 's'}` : '';
  return `committed tx ${transaction_id} at sequence ${String(answer['sequence'] ?? '?')}${where}`;
}
