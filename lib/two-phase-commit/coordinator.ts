/**
 * The coordinator's decisions as pure functions: from the votes of one round to the
 * decision, and from a decision to the messages still owed. The node does the sending,
 * the persisting and the waiting.
 */
import type { PrepareResponse } from '../protocol/messages.ts';
import type { Decision } from '../protocol/states.ts';
import { assert } from '../util/assert.ts';

/** One participant's answer to PREPARE, or why there was none. */
export interface Ballot {
  readonly addr: string;
  readonly response: PrepareResponse;
}

export type Outcome =
  | { readonly decision: Extract<Decision, 'COMMIT'> }
  | { readonly decision: Extract<Decision, 'ABORT'>; readonly reason: string };

/** COMMIT only if every participant voted READY; otherwise ABORT with the first refusal's reason. */
export function decideOutcome(participants: readonly string[], ballots: readonly Ballot[]): Outcome {
  assert(participants.length > 0, 'a round has at least one participant');
  const byAddr = new Map(ballots.map((ballot) => [ballot.addr, ballot.response]));
  for (const addr of participants) {
    const response = byAddr.get(addr);
    if (response === undefined) return { decision: 'ABORT', reason: 'unreachable' };
    if (response.status === 'ABORT') return { decision: 'ABORT', reason: response.reason };
  }
  return { decision: 'COMMIT' };
}

/**
 * The sequence at which a participant says this id is already committed (an earlier round of
 * a retried id), if any did: the round then finishes that commit instead of deciding anew.
 */
export function findCommittedSequence(ballots: readonly Ballot[]): number | undefined {
  for (const { response } of ballots) {
    if (response.status === 'ABORT' && response.reason === 'already committed' && response.sequence !== undefined) return response.sequence;
  }
  return undefined;
}

/** The votes as the client sees them: `{ addr: "READY" | "ABORT: reason" }`. */
export function summarizeVotes(ballots: readonly Ballot[]): Readonly<Record<string, string>> {
  return Object.fromEntries(
    ballots.map((ballot) => [ballot.addr, ballot.response.status === 'READY' ? 'READY' : `ABORT: ${ballot.response.reason}`]),
  );
}

/**
 * Who must hear the decision: every participant, whatever it voted. A COMMIT goes to all
 * (all voted READY). An ABORT goes to all as well: one that prepared releases its locks, and
 * one that refused remembers the abort, so a client's later retry of the same id under
 * another master meets an 'aborted earlier' vote there instead of committing what this
 * round aborted.
 */
export function listDecisionRecipients(participants: readonly string[]): readonly string[] {
  return participants;
}

/**
 * Whether a participant holds this id prepared by another round (a client retried it under
 * a new master while the first round is in doubt). Then this round decides nothing: the
 * id's fate is the earlier round's, which termination settles for every holder.
 */
export function isInDoubtElsewhere(ballots: readonly Ballot[]): boolean {
  return ballots.some(({ response }) => response.status === 'ABORT' && response.reason === 'in doubt');
}

/**
 * The coordinator applies a commit to its own replica last, and only once another
 * participant has applied it (or there is no other). So a commit applied on the coordinator
 * is never known to it alone: after the coordinator crashes, a commit nobody else applied
 * was applied nowhere, and can be withdrawn safely.
 */
export function mayApplyLocally(progress: { readonly remote_recipients: number; readonly remote_acks: number }): boolean {
  return progress.remote_recipients === 0 || progress.remote_acks > 0;
}

/** The sequence the next committed transaction gets: one past everything known. */
export function nextSequence(known_max_sequence: number): number {
  assert(Number.isSafeInteger(known_max_sequence) && known_max_sequence >= 0, 'sequences are non-negative integers');
  return known_max_sequence + 1;
}
