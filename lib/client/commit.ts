/**
 * `commit`: check the payload and the id, submit (lib/client/submit.ts), and turn the
 * outcome into a result or a typed error. The id is the caller's or a fresh UUID; the same
 * id may be submitted again at any time, and the master answers it with its recorded outcome.
 */
import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { TransactionIdSchema } from '../protocol/transaction-id.ts';
import { PayloadSchema } from '../protocol/payload.ts';
import { isRecord } from './answer.ts';
import { AbortedError, BadInputError, UnavailableError, UnknownOutcomeError, UnreachableError } from './errors.ts';
import type { Transport } from './http.ts';
import { submitTransaction, type MasterMemory, type SubmitOutcome } from './submit.ts';

/** How long a commit keeps trying when no `timeout_ms` is given. */
export const commit_timeout_default_ms = 10_000;

export interface CommitOptions {
  /** The transaction id (1–128 of letters, digits, `. _ : -`); default a fresh UUID. */
  readonly id?: string;
  /** Give up after this long (default 10 s): then the outcome is unknown if it may have been sent. */
  readonly timeout_ms?: number;
}

/** The master's 200 answer. */
export interface Committed {
  readonly transaction_id: string;
  readonly status: 'COMMITTED';
  readonly sequence: number;
  readonly participants: readonly string[];
  /** The node that committed it. */
  readonly master: string;
}

/** What the caller passed, checked: a payload the nodes accept and a well-formed id. */
export function checkCommitRequest(payload: unknown, options: CommitOptions): { readonly transaction_id: string; readonly timeout_ms: number } {
  const checked = v.safeParse(PayloadSchema, payload);
  if (!checked.success) throw new BadInputError(`bad payload: ${checked.issues[0].message}`);
  const transaction_id = options.id ?? randomUUID();
  const id = v.safeParse(TransactionIdSchema, transaction_id);
  if (!id.success) throw new BadInputError(`bad transaction id: ${id.issues[0].message}`);
  const timeout_ms = options.timeout_ms ?? commit_timeout_default_ms;
  if (!Number.isFinite(timeout_ms) || timeout_ms <= 0) throw new BadInputError('timeout_ms must be a positive number of milliseconds');
  return { transaction_id, timeout_ms };
}

export async function commitTransaction(
  transport: Transport,
  memory: MasterMemory,
  nodes: readonly string[],
  payload: Readonly<Record<string, unknown>>,
  options: CommitOptions,
): Promise<Committed> {
  const { transaction_id, timeout_ms } = checkCommitRequest(payload, options);
  const outcome = await submitTransaction(transport, memory, { nodes, transaction_id, payload, timeout_ms });
  return resultOf(transaction_id, outcome);
}

/** The outcome as the caller gets it: the committed answer, or the error that says what happened. */
export function resultOf(transaction_id: string, outcome: SubmitOutcome): Committed {
  switch (outcome.kind) {
    case 'committed':
      return {
        ...outcome.answer,
        transaction_id,
        status: 'COMMITTED',
        sequence: typeof outcome.answer['sequence'] === 'number' ? outcome.answer['sequence'] : 0,
        participants: Array.isArray(outcome.answer['participants']) ? outcome.answer['participants'].filter((addr): addr is string => typeof addr === 'string') : [],
        master: outcome.master,
      };
    case 'aborted': {
      const votes = outcome.answer['votes'];
      const reason = typeof outcome.answer['reason'] === 'string' ? outcome.answer['reason'] : 'no reason given';
      throw new AbortedError(transaction_id, reason, isRecord(votes) ? stringValues(votes) : {}, outcome.answer);
    }
    case 'unknown':
      throw new UnknownOutcomeError(transaction_id, outcome.reason, outcome.in_doubt);
    case 'rejected':
      throw new BadInputError(outcome.reason);
    case 'unreachable':
      throw new UnreachableError(outcome.reasons);
    case 'unavailable':
      throw new UnavailableError(outcome.reason, outcome.reachable, outcome.total);
  }
}

function stringValues(record: Readonly<Record<string, unknown>>): Readonly<Record<string, string>> {
  return Object.fromEntries(Object.entries(record).map(([addr, vote]) => [addr, String(vote)]));
}
