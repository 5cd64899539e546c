/**
 * What the client throws. Each error says what happened, so a caller can tell a certain
 * outcome (aborted, bad input: nothing was applied) from an uncertain one (unknown outcome:
 * it may yet commit) and from a cluster that cannot take writes now.
 */

/** The kinds of failure, one per error class below. */
export type TwopcErrorKind = 'aborted' | 'unavailable' | 'unknown_outcome' | 'unreachable' | 'bad_input' | 'not_serving';

export abstract class TwopcError extends Error {
  abstract readonly kind: TwopcErrorKind;
}

/** Each participant's vote as the master reports it in a 409: `{ addr: "READY" | "ABORT: reason" }`. */
export type Votes = Readonly<Record<string, string>>;

/** The master aborted the transaction: certain, nothing was applied anywhere. */
export class AbortedError extends TwopcError {
  override readonly name = 'AbortedError';
  readonly kind = 'aborted';
  constructor(
    readonly transaction_id: string,
    readonly reason: string,
    readonly votes: Votes,
    /** The master's whole 409 answer. */
    readonly answer: Readonly<Record<string, unknown>>,
  ) {
    super(`transaction ${transaction_id} aborted: ${reason}${describeVotes(votes)}`);
  }
}

/**
 * Nodes answered, but the cluster cannot take writes now (no majority, no master elected,
 * a take-over that did not finish in time). Nothing was applied. `reason` is the node's own.
 */
export class UnavailableError extends TwopcError {
  override readonly name = 'UnavailableError';
  readonly kind = 'unavailable';
  constructor(
    readonly reason: string,
    /** Nodes of the client's list that answered, and how many it has. */
    readonly reachable: number,
    readonly total: number,
  ) {
    super(`${reason}; ${reachable} of ${total} node${total === 1 ? '' : 's'} reachable`);
  }
}

/**
 * The transaction may or may not commit: it may have reached a master, but no outcome came
 * back in time. `in_doubt` is true when a node said the outcome is not settled yet. Never
 * guessed: ask again with `tx(transaction_id)`, or resubmit the same id with `commit`.
 */
export class UnknownOutcomeError extends TwopcError {
  override readonly name = 'UnknownOutcomeError';
  readonly kind = 'unknown_outcome';
  constructor(
    readonly transaction_id: string,
    readonly reason: string,
    readonly in_doubt: boolean,
  ) {
    super(`outcome unknown for transaction ${transaction_id}: ${reason}`);
  }
}

/** No node of the list could be reached: nothing was sent. One reason per node. */
export class UnreachableError extends TwopcError {
  override readonly name = 'UnreachableError';
  readonly kind = 'unreachable';
  constructor(readonly reasons: readonly string[]) {
    super(`no node reachable (${reasons.join('; ')})`);
  }
}

/** The request itself is wrong (a malformed payload, key, id or option); nothing was sent or applied. */
export class BadInputError extends TwopcError {
  override readonly name = 'BadInputError';
  readonly kind = 'bad_input';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Nodes answered a read, but none could serve it as asked: not at `min_sequence` in time,
 * or not a twopc node at all. `reasons` has one line per node asked.
 */
export class NotServedError extends TwopcError {
  override readonly name = 'NotServedError';
  readonly kind = 'not_serving';
  constructor(readonly what: string, readonly reasons: readonly string[]) {
    super(`could not read ${what}: ${reasons.join('; ')}`);
  }
}

function describeVotes(votes: Votes): string {
  const entries = Object.entries(votes);
  if (entries.length === 0) return '';
  return ` (votes: ${entries.map(([addr, vote]) => `${addr} ${vote}`).join(', ')})`;
}
