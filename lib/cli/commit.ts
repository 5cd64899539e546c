import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { PayloadSchema, type Payload } from '../protocol/payload.ts';
import { commit_timeout_default_ms, type Committed } from '../client/commit.ts';
import { AbortedError, BadInputError, UnavailableError, UnknownOutcomeError, UnreachableError } from '../client/errors.ts';
import { CliError, exit_codes, UsageError, type ExitCode } from './exit.ts';
import { flagInteger, flagSwitch, flagText, type RawFlags } from './flags.ts';
import { cliClient } from './http.ts';
import { resolveNodes } from './nodes.ts';
import { printJson, printLine } from './output.ts';

export { commit_timeout_default_ms };
const commit_timeout_max_ms = 24 * 60 * 60 * 1_000;

export interface CommitFlags {
  readonly payload: Payload;
  readonly nodes: readonly string[];
  readonly timeout_ms: number;
  readonly json: boolean;
}

/**
 * `twopc commit --payload JSON [--nodes A,B,C] [--timeout MS] [--json]`: through the client
 * library. Exit 0 committed · 1 aborted · 2 usage or no node reachable · 3 outcome unknown ·
 * 4 the cluster cannot take writes now.
 */
export async function runCommit(raw: RawFlags): Promise<ExitCode> {
  const flags = parseCommitFlags(raw);
  const transaction_id = randomUUID();
  const client = cliClient(flags.nodes);
  try {
    const committed = await client.commit(flags.payload, { id: transaction_id, timeout_ms: flags.timeout_ms });
    if (flags.json) printJson(withoutMaster(committed));
    else printLine(describeCommitted(committed));
    return exit_codes.ok;
  } catch (error) {
    return reportFailure(transaction_id, error, flags.json);
  } finally {
    client.close();
  }
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

function reportFailure(transaction_id: string, error: unknown, json: boolean): ExitCode {
  if (error instanceof AbortedError) {
    if (json) printJson(error.answer);
    else printLine(`aborted tx ${transaction_id}: ${error.reason}${describeVotes(error.votes)}`);
    return exit_codes.failed;
  }
  if (error instanceof UnknownOutcomeError) {
    if (json) printJson({ transaction_id, status: 'UNKNOWN', reason: error.reason, in_doubt: error.in_doubt });
    throw new CliError(`outcome unknown for tx ${transaction_id}: ${error.reason}; check with: twopc tx ${transaction_id}`, exit_codes.unknown);
  }
  if (error instanceof UnavailableError) throw new CliError(`tx ${transaction_id} not applied: the cluster cannot take writes now: ${error.message}`, exit_codes.unavailable);
  if (error instanceof UnreachableError || error instanceof BadInputError) throw new CliError(`tx ${transaction_id} not applied: ${error.message}`, exit_codes.usage);
  throw error;
}

function describeVotes(votes: Readonly<Record<string, string>>): string {
  const refusals = Object.entries(votes).filter(([, vote]) => vote !== 'READY');
  return refusals.length === 0 ? '' : ` (${refusals.map(([addr, vote]) => `${addr} voted ${vote}`).join(', ')})`;
}

/** The master's answer as `--json` has always printed it. */
function withoutMaster(committed: Committed): Readonly<Record<string, unknown>> {
  const { master: _master, ...answer } = committed;
  return answer;
}

function describeCommitted(committed: Committed): string {
  const count = committed.participants.length;
  return `committed tx ${committed.transaction_id} at sequence ${committed.sequence} on ${count} node${count === 1 ? '' : 's'}`;
}
