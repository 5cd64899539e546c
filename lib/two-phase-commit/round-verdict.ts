/**
 * A round's verdict on each of its transactions: from the participants' votes (and whether
 * the coordinator may still decide) to what the round does with it. The coordinator service
 * collects the votes, calls `judgeTransaction`, and carries out the verdict.
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

/** Whether the coordinator may decide at all once the votes are in. */
export type Standing =
  /** Still master of the round's epoch. */
  | { readonly kind: 'leading' }
  /** Stepped down or saw a newer epoch while collecting votes (a new master may be handing out sequences), or a failpoint refused the round. */
  | { readonly kind: 'must-abort'; readonly reason: string };

export type Verdict =
  /** Decide: COMMIT (every participant READY) or ABORT with the first refusal's reason. */
  | { readonly kind: 'decide'; readonly outcome: Outcome }
  /** A participant already committed this id in an earlier round: finish that commit at its sequence, decide nothing new. */
  | { readonly kind: 'committed-earlier'; readonly sequence: number }
  /** A participant holds this id prepared by another round: decide nothing; its holders settle it by termination. */
  | { readonly kind: 'in-doubt-elsewhere' }
  /** A participant holds this id with other writes: refuse the submit, decide nothing, withdraw this round's prepares. */
  | { readonly kind: 'reused-id' };

export const reused_id_reason = 'transaction id reused with a different payload';

/**
 * What the round does with one transaction. In order: an earlier commit of the id is
 * finished (never committed twice); the id held with other writes is refused (one id, one
 * set of writes: deciding ABORT would abort the earlier attempt on its holders); an id
 * another round holds in doubt gets no second fate; otherwise decide.
 */
export function judgeTransaction(participants: readonly string[], ballots: readonly Ballot[], standing: Standing): Verdict {
  const sequence = findCommittedSequence(ballots);
  if (sequence !== undefined) return { kind: 'committed-earlier', sequence };
  if (ballots.some(({ response }) => isRefusal(response, reused_id_reason))) return { kind: 'reused-id' };
  if (isInDoubtElsewhere(ballots)) return { kind: 'in-doubt-elsewhere' };
  if (standing.kind === 'must-abort') return { kind: 'decide', outcome: { decision: 'ABORT', reason: standing.reason } };
  return { kind: 'decide', outcome: decideOutcome(participants, ballots) };
}

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
    if (isRefusal(response, 'already committed') && response.sequence !== undefined) return response.sequence;
  }
  return undefined;
}

/**
 * Whether a participant holds this id prepared by another round (a client retried it under
 * a new master while the first round is in doubt).
 */
export function isInDoubtElsewhere(ballots: readonly Ballot[]): boolean {
  return ballots.some(({ response }) => isRefusal(response, 'in doubt'));
}

/**
 * Who hears what the round did with a transaction. A decision goes to every participant,
 * whatever it voted: one that prepared releases its locks, and one that refused remembers
 * the abort, so a client's later retry of the same id under another master meets an
 * 'aborted earlier' vote there instead of committing what this round aborted. An earlier
 * commit goes to the READY voters (the others have it, or refused for their own reason); a
 * reused id's abort goes to the READY voters only, which prepared this round's writes:
 * the holders of the earlier attempt keep theirs. An id in doubt elsewhere is told nobody.
 */
export function listRecipients(verdict: Verdict, participants: readonly string[], ballots: readonly Ballot[]): readonly string[] {
  switch (verdict.kind) {
    case 'decide':
      return participants;
    case 'committed-earlier':
    case 'reused-id':
      return listReadyVoters(ballots);
    case 'in-doubt-elsewhere':
      return [];
  }
}

/** The participants that voted READY: they hold this round's writes prepared. */
export function listReadyVoters(ballots: readonly Ballot[]): readonly string[] {
  return ballots.filter(({ response }) => response.status === 'READY').map(({ addr }) => addr);
}

/** The votes as the client sees them: `{ addr: "READY" | "ABORT: reason" }`. */
export function summarizeVotes(ballots: readonly Ballot[]): Readonly<Record<string, string>> {
  return Object.fromEntries(
    ballots.map((ballot) => [ballot.addr, ballot.response.status === 'READY' ? 'READY' : `ABORT: ${ballot.response.reason}`]),
  );
}

function isRefusal(response: PrepareResponse, reason: string): response is Extract<PrepareResponse, { status: 'ABORT' }> {
  return response.status === 'ABORT' && response.reason === reason;
}
