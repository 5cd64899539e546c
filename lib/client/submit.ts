/**
 * Submitting one transaction until it has an outcome or the deadline passes: find the
 * master (`/role`, 421 answers), follow failovers, and resubmit the same transaction id
 * after a broken connection or a 503, which is safe because the master answers a known id
 * with its recorded outcome. Only a certain answer (200, 409, a refusal of the request
 * itself) ends it early; an attempt that may have reached a master makes a missed deadline
 * an unknown outcome, never a guess.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { answerReason, isRecord, secret_hint } from './answer.ts';
import type { Transport } from './http.ts';
import { findMaster, nodeWithoutMajority } from './master.ts';

/** Timeout of one `GET /role` while looking for the master. */
export const role_timeout_ms = 1_000;
/** First pause before trying again when there is no master yet; doubles up to the maximum. */
export const retry_backoff_initial_ms = 50;
export const retry_backoff_max_ms = 1_000;
/**
 * How long every answering node may report itself cut off from the majority before the
 * commit gives up as unavailable, deadline or not: long enough for a starting node to hear
 * its peers' heartbeats, short enough not to keep a caller waiting on a lost cluster.
 */
export const no_majority_patience_ms = 2_000;

export interface SubmitRequest {
  readonly nodes: readonly string[];
  readonly transaction_id: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly timeout_ms: number;
}

/** The master this client talked to last: where the next submission goes first. */
export interface MasterMemory {
  master: string | undefined;
}

/** How a submission ended. `unknown` alone leaves the outcome open. */
export type SubmitOutcome =
  | { readonly kind: 'committed'; readonly master: string; readonly answer: Readonly<Record<string, unknown>> }
  | { readonly kind: 'aborted'; readonly master: string; readonly answer: Readonly<Record<string, unknown>> }
  /** A node refused the request itself (bad payload, bad signature): nothing was applied. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** No node could be reached; nothing was sent. */
  | { readonly kind: 'unreachable'; readonly reasons: readonly string[] }
  /** Nodes answered but none took the transaction; nothing was applied. */
  | { readonly kind: 'unavailable'; readonly reason: string; readonly reachable: number; readonly total: number }
  /** The request may have reached a master, but no outcome came back before the deadline. */
  | { readonly kind: 'unknown'; readonly reason: string; readonly in_doubt: boolean };

interface Attempt {
  /** Where to send next; undefined means "look the master up first". */
  target: string | undefined;
  maybeSent: boolean;
  inDoubt: boolean;
  everReached: boolean;
  lastReason: string;
  /** Nodes of the list that answered the last look-up. */
  reachable: number;
  unreachableReasons: readonly string[];
  /** Since when every answering node has reported no majority; undefined while one has it. */
  noMajoritySince: number | undefined;
  backoff_ms: number;
  /** 421 redirects followed since the last pause; bounded so stale views cannot ping-pong. */
  redirects: number;
}

export async function submitTransaction(transport: Transport, memory: MasterMemory, request: SubmitRequest): Promise<SubmitOutcome> {
  const deadline = Date.now() + request.timeout_ms;
  const attempt: Attempt = {
    target: memory.master,
    maybeSent: false,
    inDoubt: false,
    everReached: false,
    lastReason: 'no master found',
    reachable: 0,
    unreachableReasons: [],
    noMajoritySince: undefined,
    backoff_ms: retry_backoff_initial_ms,
    redirects: 0,
  };
  for (let remaining = request.timeout_ms; remaining > 0; remaining = deadline - Date.now()) {
    const outcome = attempt.target === undefined
      ? await lookUpMaster(transport, request, attempt, remaining)
      : await sendTo(transport, attempt.target, request, attempt, remaining);
    if (outcome !== undefined) {
      if (outcome.kind === 'committed' || outcome.kind === 'aborted') memory.master = outcome.master;
      return outcome;
    }
  }
  memory.master = undefined;
  return finalOutcome(request, attempt, `gave up after ${request.timeout_ms} ms`);
}

async function lookUpMaster(transport: Transport, request: SubmitRequest, attempt: Attempt, remaining_ms: number): Promise<SubmitOutcome | undefined> {
  const search = await findMaster(transport, request.nodes, Math.min(role_timeout_ms, remaining_ms));
  if (search.kind === 'found') {
    attempt.everReached = true;
    attempt.noMajoritySince = undefined;
    attempt.target = search.master;
    return undefined;
  }
  if (search.kind === 'unreachable') {
    attempt.reachable = 0;
    attempt.unreachableReasons = search.reasons;
    if (!attempt.everReached && !attempt.maybeSent) return { kind: 'unreachable', reasons: search.reasons };
    attempt.lastReason = `no node reachable (${search.reasons.join('; ')})`;
    await backOff(attempt, remaining_ms);
    return undefined;
  }
  attempt.everReached = true;
  attempt.reachable = search.answered.length;
  const cut_off = search.answered.every((role) => nodeWithoutMajority([role]) !== undefined);
  attempt.noMajoritySince = cut_off ? attempt.noMajoritySince ?? Date.now() : undefined;
  // Ask an answering node itself: it says why it takes no writes (or names a new master).
  const asked = nodeWithoutMajority(search.answered) ?? search.answered[0];
  if (asked !== undefined) {
    const outcome = await sendTo(transport, asked.addr, request, attempt, remaining_ms);
    if (outcome !== undefined) return outcome;
  }
  if (attempt.noMajoritySince !== undefined && Date.now() - attempt.noMajoritySince >= no_majority_patience_ms) {
    return finalOutcome(request, attempt, `still no majority after ${no_majority_patience_ms} ms`);
  }
  return undefined;
}

async function sendTo(transport: Transport, node: string, request: SubmitRequest, attempt: Attempt, remaining_ms: number): Promise<SubmitOutcome | undefined> {
  const body = { payload: request.payload, transaction_id: request.transaction_id };
  const result = await transport.request(node, '/transactions', { method: 'POST', body, timeout_ms: remaining_ms });
  attempt.target = undefined;
  if (result.kind === 'unreachable') {
    attempt.lastReason = `${node}: ${result.reason}`;
  } else if (result.kind === 'no-answer') {
    attempt.maybeSent = true;
    attempt.lastReason = `${node}: ${result.reason}`;
  } else {
    const outcome = interpretAnswer(node, result.status, result.body, attempt);
    if (outcome !== undefined) return outcome;
    if (attempt.target !== undefined && attempt.redirects++ < request.nodes.length) return undefined;
  }
  await backOff(attempt, remaining_ms);
  return undefined;
}

function interpretAnswer(node: string, status: number, body: unknown, attempt: Attempt): SubmitOutcome | undefined {
  const answer = isRecord(body) ? body : {};
  attempt.everReached = true;
  if (status === 200 && answer['status'] === 'COMMITTED') return { kind: 'committed', master: node, answer };
  if (status === 409 && answer['status'] === 'ABORTED') return { kind: 'aborted', master: node, answer };
  if (status === 421) {
    attempt.lastReason = `${node} is not the master`;
    const named = answer['master'];
    if (typeof named === 'string' && named !== node) attempt.target = named;
    return undefined;
  }
  if (status === 503) {
    // No master ready, no majority, or an earlier attempt of this id is in doubt there
    // (then the write may yet commit: a missed deadline is an unknown outcome).
    if (answer['in_doubt'] === true) {
      attempt.maybeSent = true;
      attempt.inDoubt = true;
    }
    attempt.lastReason = `${node}: ${answerReason(status, body)}`;
    return undefined;
  }
  if (status === 401) return { kind: 'rejected', reason: `${node} refused the request: ${answerReason(status, body)} (${secret_hint})` };
  if (status >= 400 && status < 500) return { kind: 'rejected', reason: `${node} refused the transaction: ${answerReason(status, body)}` };
  // A 5xx, or a 200/409 that is not a twopc answer: it may have been acted on.
  attempt.maybeSent = true;
  attempt.lastReason = `${node}: ${answerReason(status, body)}`;
  return undefined;
}

async function backOff(attempt: Attempt, remaining_ms: number): Promise<void> {
  await sleep(Math.max(0, Math.min(attempt.backoff_ms, remaining_ms)));
  attempt.backoff_ms = Math.min(attempt.backoff_ms * 2, retry_backoff_max_ms);
  attempt.redirects = 0;
}

function finalOutcome(request: SubmitRequest, attempt: Attempt, why: string): SubmitOutcome {
  const reason = `${attempt.lastReason} (${why})`;
  if (attempt.maybeSent) return { kind: 'unknown', reason, in_doubt: attempt.inDoubt };
  if (!attempt.everReached) return { kind: 'unreachable', reasons: attempt.unreachableReasons.length > 0 ? attempt.unreachableReasons : [reason] };
  return { kind: 'unavailable', reason, reachable: attempt.reachable, total: request.nodes.length };
}
