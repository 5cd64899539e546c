/**
 * Cooperative termination: a node holding a PREPARED transaction whose decision has not
 * arrived asks the other participants what they know, and this function says what follows.
 *
 *  1. someone COMMITTED it (or holds a COMMIT decision)   → commit, at that sequence
 *  2. someone ABORTED it (or holds an ABORT decision)      → abort
 *  3. its coordinator is still collecting votes            → wait
 *  4. a reachable participant of its round never prepared it → fence: make that participant
 *     remember an abort (a later prepare then votes ABORT, so no COMMIT can be decided), then abort
 *  5. the coordinator answers with no decision and no round in flight: it restarted and
 *     lost the round, so it never decided and never will, and every member answered (none
 *     can be running a retry of the same id that commits it) → abort (presumed abort)
 *  6. otherwise (every reachable participant PREPARED, someone unreachable) → wait: this is
 *     two-phase commit's blocking window; the locks stay held and conflicting writes abort.
 */
import type { TransactionView } from '../protocol/messages.ts';

export interface PeerAnswer {
  readonly addr: string;
  /** Undefined when the peer did not answer. */
  readonly view: TransactionView | undefined;
}

export type Resolution =
  | { readonly kind: 'commit'; readonly sequence: number }
  | { readonly kind: 'abort' }
  | { readonly kind: 'fence'; readonly addrs: readonly string[] }
  | { readonly kind: 'wait'; readonly reason: string };

export function resolveInDoubt(coordinator: string | undefined, given: readonly PeerAnswer[], participants?: readonly string[], round_epoch?: number): Resolution {
  const answers = given.map((answer) => heardAnswer(answer));
  for (const { view } of answers) {
    if (!view) continue;
    if (view.state === 'COMMITTED' && view.sequence !== undefined) return { kind: 'commit', sequence: view.sequence };
    if (view.decision === 'COMMIT' && view.sequence !== undefined) return { kind: 'commit', sequence: view.sequence };
  }
  if (answers.some(({ view }) => view?.state === 'ABORTED' || view?.decision === 'ABORT')) return { kind: 'abort' };
  if (answers.some(({ view }) => view?.in_flight === true)) return { kind: 'wait', reason: 'coordinator still collecting votes' };
  // Only the round's participants can have voted: a member outside the round that never saw
  // the transaction says nothing about whether it was decided (and is not fenced).
  const in_round = (addr: string) => participants === undefined || participants.includes(addr);
  // A replica that a repair may have made forget the round cannot say it never prepared it: it
  // may have applied it (once: a commit acknowledged by a master that then crashed, its only
  // other copy wiped). It is not fenced; its answer still counts as an answer below.
  const never_prepared = answers.filter(({ addr, view }) => in_round(addr) && view !== undefined && (view.state === 'UNKNOWN' || view.state === 'INIT') && !mayHaveForgottenRound(view, round_epoch));
  if (never_prepared.length > 0) return { kind: 'fence', addrs: never_prepared.map(({ addr }) => addr) };
  const coordinator_answer = answers.find(({ addr }) => addr === coordinator);
  const everyone_answered = answers.every(({ view }) => view !== undefined);
  if (coordinator_answer?.view !== undefined && everyone_answered) return { kind: 'abort' };
  if (coordinator_answer?.view !== undefined) return { kind: 'wait', reason: 'coordinator never decided, but a member that may hold a retry of this id is unreachable' };
  return { kind: 'wait', reason: 'coordinator unreachable and every reachable participant is prepared' };
}

/**
 * What an answer tells: nothing, when it comes from a replica whose committed log a repair
 * wiped and that has not pulled it again since (`log_reset`). Such a replica shows UNKNOWN for
 * a commit it applied before the wipe, so its "never applied it" and "never prepared it" are
 * no facts: counted, a coordinator could withdraw a COMMIT that replica applied (and the
 * master learnt from it), and termination fence it and abort one. It is heard as a silent
 * peer, until its catch-up (which restores every commit its source holds) ends.
 *
 * Caught up, it answers again, but what it forgot its source may never have had: its UNKNOWN
 * for a round of an epoch it may have forgotten (`forgot_through_epoch`) is no "never
 * prepared" to in-doubt resolution (no fence: `resolveInDoubt`, given the round's epoch), and
 * no "nobody applied it" to reconciliation (which commits rather than withdraws).
 */
export function heardAnswer(answer: PeerAnswer): PeerAnswer {
  return answer.view?.log_reset === true ? { addr: answer.addr, view: undefined } : answer;
}

/** Whether `view` is the UNKNOWN of a replica that a repair may have made forget a round of `round_epoch` (given). */
function mayHaveForgottenRound(view: TransactionView, round_epoch: number | undefined): boolean {
  return round_epoch !== undefined && view.state === 'UNKNOWN' && mayHaveForgotten(view.forgot_through_epoch, round_epoch);
}

/**
 * Whether a replica that a repair may have made forget every round up to epoch
 * `forgot_through_epoch` may have prepared (or applied) a round of `round_epoch` and lost it.
 * A round of unknown epoch may be any.
 */
export function mayHaveForgotten(forgot_through_epoch: number | undefined, round_epoch: number | undefined): boolean {
  return forgot_through_epoch !== undefined && (round_epoch === undefined || round_epoch <= forgot_through_epoch);
}

export type Reconciliation =
  | { readonly kind: 'commit'; readonly sequence: number }
  | { readonly kind: 'withdraw' }
  | { readonly kind: 'wait'; readonly reason: string }
  /** Another pass (or a take-over, which adopted it to finish) settled it while this one asked: act on nothing. */
  | { readonly kind: 'skip'; readonly reason: string };

/** What a reconciling node knows of one of its unconfirmed COMMIT decisions once the answers are in. */
export interface UnconfirmedFacts {
  /** Still waiting: no other pass settled it and no take-over adopted it while this one asked. */
  readonly still_unconfirmed: boolean;
  /** The newest epoch a copy of its COMMIT may carry. */
  readonly sent_epoch: number;
  /** Its sequence. */
  readonly sequence: number | undefined;
  /** Another transaction holds its sequence here. */
  readonly sequence_taken_here: boolean;
  /** The highest sequence among this node's other COMMIT decisions still unsettled (waiting, or being committed); 0 if none. */
  readonly highest_unsettled_other: number;
  /** The epoch it was decided in (its term). */
  readonly term: number;
  /**
   * Sequences above it this node keeps: the lowest applied here, and those of its COMMIT
   * decisions a take-over adopted to finish; each with the term this node decided it in
   * (undefined: another master's transaction, or one this node learnt).
   */
  readonly kept_above: readonly KeptSequence[];
  /** This node has caught up since it started (it is serving): a sequence another term gave away is applied here. */
  readonly caught_up: boolean;
}

export interface KeptSequence {
  readonly sequence: number;
  /** The epoch this node decided it in; undefined if this node did not decide it. */
  readonly term: number | undefined;
}

/**
 * A restarted coordinator holding a COMMIT decision it never applied itself does not act on
 * it blindly: it asks the other participants. Since a coordinator applies its own commit
 * only after another participant did (coordinator.ts, `mayApplyLocally`), a decision no
 * participant applied was acknowledged to no client.
 *
 *  - someone applied it      → commit it here too, at that sequence
 *  - someone aborted it      → withdraw it (the cluster resolved it without this node)
 *  - someone is unreachable  → wait: that one may have applied it
 *  - a participant that a repair may have made forget it (UNKNOWN, `forgot_through_epoch` at
 *    or above its term) → commit it at its own sequence once this node has caught up, unless
 *                              another transaction holds that sequence here: that participant
 *                              may have applied it, and the coordinator's own apply (unsynced)
 *                              may have been lost, so a 200 may rest on it; committing a COMMIT
 *                              decision every participant voted READY for is always allowed
 *  - nobody applied it, but a sequence above it of its own term is applied here or adopted
 *    by this node's take-over → commit it at its own sequence: withdrawn, its number would be
 *                              a hole below a committed one (once seed 31568: one run's
 *                              decisions with different participants, the higher applied).
 *                              Only its own term's count: a term hands out a sequence only
 *                              once the runs below it are confirmed, so one of its term above
 *                              it stands on it; another master's may stand on another
 *                              transaction at its number, given while nobody had applied it
 *                              (a later term starts above what is known applied). Committed
 *                              there, it would be two transactions at one sequence.
 *  - nobody applied it, and a decision of this node above it is unsettled
 *                            → wait: withdrawals go from the highest sequence down, so none
 *                              leaves a hole under one settled later as committed (once
 *                              seed 27331)
 *  - nobody applied it, and every participant refuses coordinator messages of `sent_epoch`
 *                            → withdraw it: abort, so its sequence is never used twice
 *  - nobody applied it yet, but a participant still takes messages of `sent_epoch`
 *                            → wait: a copy of the COMMIT sent earlier may still be on its way
 *
 * "Nobody applied it" is no promise about the future: a COMMIT this node sent before it
 * crashed or stepped down may still be in the network, and a participant that applies it
 * after the withdrawal commits what every other replica aborted (once seed 15663). A
 * participant refuses a coordinator message of an epoch below its own (participant.ts,
 * `checkOrigin`: 'stale epoch'), and its epoch never goes back (persisted before it is acted
 * on or reported). So `sent_epoch` is the newest epoch any copy of this COMMIT may carry, and
 * each answer's `enforced_epoch` is the epoch that participant now holds: once every one is
 * above `sent_epoch`, no copy can ever be applied. Until then a later pass asks again; a new
 * term (this node's own after a restart, or whoever leads next) moves the participants on.
 * A sequence another transaction holds here is no hole: the ordering rules do not apply.
 * What this node has not learnt yet (its catch-up failed, it missed a delivery) never turns
 * a wait or a commit into a withdrawal: withdrawing needs every participant to answer that
 * none applied it, and a sequence taken elsewhere but not here only sends it through the
 * ordering rules, whose answers are a wait or the withdrawal it would make anyway.
 *
 * The answers take a while to gather: `still_unconfirmed` is whether the decision is still
 * waiting once they are in. If not, another pass settled it, or a take-over adopted it and is
 * re-sending it as COMMIT, and acting on these answers could withdraw what it commits.
 */
export function reconcileDecision(given: readonly PeerAnswer[], facts: UnconfirmedFacts): Reconciliation {
  if (!facts.still_unconfirmed) return { kind: 'skip', reason: 'settled by another pass while this one asked' };
  const answers = given.map((answer) => heardAnswer(answer));
  for (const { view } of answers) {
    if (view?.state === 'COMMITTED' && view.sequence !== undefined) return { kind: 'commit', sequence: view.sequence };
  }
  if (answers.some(({ view }) => view?.state === 'ABORTED')) return { kind: 'withdraw' };
  const silent = answers.filter(({ view }) => view === undefined).map(({ addr }) => addr);
  if (silent.length > 0) return { kind: 'wait', reason: `no answer from ${silent.join(', ')}` };
  const { sequence, sent_epoch } = facts;
  // A participant whose log a repair wiped may have applied it and forgotten: it cannot say
  // nobody did, and a 200 may rest on that lost copy (the coordinator's own apply is unsynced).
  const forgetful = answers.filter(({ view }) => view?.state === 'UNKNOWN' && mayHaveForgotten(view.forgot_through_epoch, facts.term)).map(({ addr }) => addr);
  if (forgetful.length > 0 && sequence !== undefined && !facts.sequence_taken_here) {
    if (!facts.caught_up) return { kind: 'wait', reason: `${forgetful.join(', ')} may have applied it and lost it in a repair: commit it once caught up` };
    return { kind: 'commit', sequence };
  }
  if (sequence !== undefined && !facts.sequence_taken_here) {
    if (facts.kept_above.some((kept) => kept.sequence > sequence && kept.term === facts.term)) return { kind: 'commit', sequence };
    if (facts.highest_unsettled_other > sequence) return { kind: 'wait', reason: `this node's decision at sequence ${facts.highest_unsettled_other}, above this one, is unsettled: withdrawals go from the highest down` };
  }
  const open = answers.filter(({ view }) => !refusesCopiesOf(view, sent_epoch));
  if (open.length > 0) return { kind: 'wait', reason: `a copy of the COMMIT sent under epoch ${sent_epoch} may still reach ${open.map(({ addr, view }) => `${addr} (epoch ${view?.enforced_epoch ?? 'not reported'})`).join(', ')}` };
  return { kind: 'withdraw' };
}

/** Whether the participant that gave `view` refuses, now and for ever, a coordinator message of `sent_epoch`. */
export function refusesCopiesOf(view: TransactionView | undefined, sent_epoch: number): boolean {
  return view?.enforced_epoch !== undefined && view.enforced_epoch > sent_epoch;
}
