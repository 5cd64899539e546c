/**
 * When an ABORT is final for the client (issue 14 item 13). A coordinator's ABORT decision
 * binds the id only where it is remembered: a participant holding it ABORTED votes ABORT
 * ('aborted earlier') in any later round of the same id. Every round runs on a majority of
 * the membership, so once a majority remembers the abort no later round (a client's retry
 * under another master) can commit the id, and "aborted" is the truth for good. Before
 * that, a master cut off mid-round may decide ABORT and tell nobody, and the next master
 * commit the retry: answering "aborted" then would contradict a commit on every replica.
 */
import type { TransactionView } from '../protocol/messages.ts';
import { hasMajority } from '../cluster/election.ts';

/** An ABORT remembered by `remembered_count` nodes (this one included) of `member_count`: final for the client? */
export function isAbortFinal(remembered_count: number, member_count: number): boolean {
  return hasMajority(remembered_count, member_count);
}

/** One member's view of the id (this node's own included), or undefined when it did not answer. */
export interface MemberAnswer {
  readonly addr: string;
  readonly view: Pick<TransactionView, 'state' | 'sequence' | 'participants' | 'decision' | 'in_flight'> | undefined;
}

export type AbortedEarlierAnswer =
  /** A later round committed it: that is the outcome. */
  | { readonly kind: 'committed'; readonly sequence: number; readonly participants: readonly string[] }
  /** A majority remembers the abort: no round can commit it any more. */
  | { readonly kind: 'aborted' }
  /**
   * No member holds it open and a majority answered, so no round committed it; make these
   * members (which never saw it) remember the abort, then judge again with their answers.
   */
  | { readonly kind: 'fence'; readonly addrs: readonly string[] }
  /** A round of it may still commit (someone holds it prepared, in flight, decided COMMIT) or too few answered. */
  | { readonly kind: 'in-doubt' };

/**
 * A resubmit of an id this master knows aborted (by its own decision or as a participant),
 * judged from every member's view of it. A COMMIT needs every participant of its round — a
 * majority — to have prepared it, so a majority answering with none of them holding it
 * prepared or committed means no round committed it.
 */
export function judgeAbortedEarlier(answers: readonly MemberAnswer[], member_count: number): AbortedEarlierAnswer {
  for (const { view } of answers) {
    if (view?.state === 'COMMITTED' && view.sequence !== undefined) return { kind: 'committed', sequence: view.sequence, participants: view.participants ?? [] };
  }
  const open = answers.some(({ view }) => view !== undefined && (view.state === 'PREPARED' || view.state === 'INIT' || view.state === 'COMMITTED' || view.decision === 'COMMIT' || view.in_flight === true));
  if (open) return { kind: 'in-doubt' };
  const remembered = answers.filter(({ view }) => view?.state === 'ABORTED').length;
  if (isAbortFinal(remembered, member_count)) return { kind: 'aborted' };
  const unknown = answers.filter(({ view }) => view !== undefined && view.state === 'UNKNOWN').map(({ addr }) => addr);
  if (unknown.length > 0 && isAbortFinal(remembered + unknown.length, member_count)) return { kind: 'fence', addrs: unknown };
  return { kind: 'in-doubt' };
}
