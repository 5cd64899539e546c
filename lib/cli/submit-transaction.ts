import { setTimeout as sleep } from 'node:timers/promises';
import { answerReason, isRecord, postJson } from './http.ts';
import { findMaster } from './master.ts';

/** Timeout of one `GET /role` while looking for the master. */
export const role_timeout_ms = 1_000;
/** First pause before retrying when there is no master yet; doubles up to the maximum. */
export const retry_backoff_initial_ms = 100;
export const retry_backoff_max_ms = 1_000;

export interface SubmitRequest {
  readonly nodes: readonly string[];
  readonly transaction_id: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly timeout_ms: number;
}

/** How a submission ended. Only `unknown` leaves the outcome open. */
export type SubmitOutcome =
  | { readonly kind: 'committed'; readonly master: string; readonly answer: Readonly<Record<string, unknown>> }
  | { readonly kind: 'aborted'; readonly master: string; readonly answer: Readonly<Record<string, unknown>> }
  /** The master refused the request itself (bad payload): nothing was applied. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** No node could be reached; nothing was sent. */
  | { readonly kind: 'unreachable'; readonly reason: string }
  /** Nodes answered but none accepted the transaction before the deadline; nothing was applied. */
  | { readonly kind: 'unavailable'; readonly reason: string }
  /** The request may have reached a master, but no outcome came back before the deadline. */
  | { readonly kind: 'unknown'; readonly reason: string };

interface Attempt {
  /** Where to send next; undefined means "look the master up first". */
  target: string | undefined;
  maybeSent: boolean;
  everReached: boolean;
  lastReason: string;
  backoff_ms: number;
  /** 421 redirects followed since the last pause; bounded so stale views cannot ping-pong. */
  redirects: number;
}

/**
 * Submits one transaction to the master, following 421 redirects and retrying (same
 * transaction id, so a retry is idempotent) on 503, a missing master or a broken connection,
 * until `timeout_ms` runs out.
 */
export async function submitTransaction(request: SubmitRequest): Promise<SubmitOutcome> {
  const deadline = Date.now() + request.timeout_ms;
  const attempt: Attempt = {
    target: undefined,
    maybeSent: false,
    everReached: false,
    lastReason: 'no master found',
    backoff_ms: retry_backoff_initial_ms,
    redirects: 0,
  };
  for (let remaining = request.timeout_ms; remaining > 0; remaining = deadline - Date.now()) {
    const outcome = attempt.target === undefined
      ? await lookUpMaster(request, attempt, remaining)
      : await sendTo(attempt.target, request, attempt, remaining);
    if (outcome !== undefined) return outcome;
  }
  return finalOutcome(request, attempt);
}

async function lookUpMaster(request: SubmitRequest, attempt: Attempt, remaining_ms: number): Promise<SubmitOutcome | undefined> {
  const search = await findMaster(request.nodes, Math.min(role_timeout_ms, remaining_ms));
  if (search.kind === 'found') {
    attempt.everReached = true;
    attempt.target = search.master;
    return undefined;
  }
  if (search.kind === 'unreachable') {
    if (!attempt.everReached && !attempt.maybeSent) {
      return { kind: 'unreachable', reason: `no node reachable (${search.reasons.join('; ')})` };
    }
    attempt.lastReason = 'no node reachable';
  } else {
    attempt.everReached = true;
    attempt.lastReason = 'no master elected';
  }
  await backOff(attempt, remaining_ms);
  return undefined;
}

async function sendTo(master: string, request: SubmitRequest, attempt: Attempt, remaining_ms: number): Promise<SubmitOutcome | undefined> {
  const body = { payload: request.payload, transaction_id: request.transaction_id };
  const result = await postJson(master, '/transactions', body, remaining_ms);
  attempt.target = undefined;
  if (result.kind === 'unreachable') {
    attempt.lastReason = `master ${master}: ${result.reason}`;
  } else if (result.kind === 'no-answer') {
    attempt.maybeSent = true;
    attempt.lastReason = `master ${master}: ${result.reason}`;
  } else {
    const outcome = interpretAnswer(master, result.status, result.body, attempt);
    if (outcome !== undefined) return outcome;
    if (attempt.target !== undefined && attempt.redirects++ < request.nodes.length) return undefined;
  }
  await backOff(attempt, remaining_ms);
  return undefined;
}

function interpretAnswer(master: string, status: number, body: unknown, attempt: Attempt): SubmitOutcome | undefined {
  const answer = isRecord(body) ? body : {};
  if (status === 200) return { kind: 'committed', master, answer };
  if (status === 409) return { kind: 'aborted', master, answer };
  if (status === 421) {
    attempt.lastReason = `${master} is not the master`;
    const named = answer['master'];
    if (typeof named === 'string' && named !== master) attempt.target = named;
    return undefined;
  }
  if (status === 503) {
    // Either no master is ready yet, or an earlier attempt of this id is in doubt there
    // (then the write may yet commit: a timeout is an unknown outcome, not a refusal).
    if (answer['in_doubt'] === true) attempt.maybeSent = true;
    attempt.lastReason = `${master}: ${answerReason(status, body)}`;
    return undefined;
  }
  if (status >= 400 && status < 500) return { kind: 'rejected', reason: `${master} refused the transaction: ${answerReason(status, body)}` };
  attempt.maybeSent = true;
  attempt.lastReason = `${master}: ${answerReason(status, body)}`;
  return undefined;
}

async function backOff(attempt: Attempt, remaining_ms: number): Promise<void> {
  await sleep(Math.max(0, Math.min(attempt.backoff_ms, remaining_ms)));
  attempt.backoff_ms = Math.min(attempt.backoff_ms * 2, retry_backoff_max_ms);
  attempt.redirects = 0;
}

function finalOutcome(request: SubmitRequest, attempt: Attempt): SubmitOutcome {
  const reason = `${attempt.lastReason} (gave up after ${request.timeout_ms} ms)`;
  if (attempt.maybeSent) return { kind: 'unknown', reason };
  if (!attempt.everReached) return { kind: 'unreachable', reason };
  return { kind: 'unavailable', reason };
}
