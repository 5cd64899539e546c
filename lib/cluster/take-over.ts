/**
 * What a new master decides before it accepts writes, as pure functions: where its term's
 * sequences start (never at a number someone may have used), what becomes of its own COMMIT
 * decisions from an earlier term that nobody confirmed, and which in-doubt rounds it must
 * wait for. ClusterService and RecoveryService gather the reports and records, call these,
 * and carry out the answer.
 */
import type { PeerReport } from './membership.ts';
import type { Role } from '../protocol/states.ts';
import { mayHaveForgotten } from '../two-phase-commit/termination.ts';

/**
 * Every sequence a replica is known to have applied: this node's, the granters' of its epoch
 * (a majority, even if their heartbeats never arrived), and every peer's last report (an old
 * report is still a floor: applied stays applied). Reservations (`max_sequence`) do not
 * count: a deposed master's unconfirmed run is withdrawn by it, and its number reused.
 */
export function knownMaxApplied(own_max_applied: number, granted_applied: number, reports: readonly (PeerReport | undefined)[]): number {
  const reported = reports.map((report) => Math.max(report?.last_sequence ?? 0, report?.max_applied ?? 0));
  return Math.max(own_max_applied, granted_applied, ...reported);
}

/**
 * Where the new term's sequences start: above everything known applied, above this node's
 * own COMMIT decisions of an earlier term still being delivered or unconfirmed (`own_max_decided`),
 * and above the decisions it adopted to finish.
 */
export function startOfTerm(known_max_applied: number, own_max_decided: number, adopted_sequences: readonly number[]): number {
  return Math.max(known_max_applied, own_max_decided, ...adopted_sequences);
}

/** What a take-over knows of one peer's COMMIT decisions nobody is known to have settled. */
export interface DecisionWitness {
  readonly addr: string;
  /** Answered its last probe (or has missed fewer than the limit since). */
  readonly reachable: boolean;
  /** Its report from a probe sent after this term was won, if any: current, unlike an older one. */
  readonly fresh_report: PeerReport | undefined;
  /** The `max_decided` its grant of this term carried, if it granted it. */
  readonly granted_decided: number | undefined;
}

/** A peer the new master must hear from before handing out sequences, and why. */
export interface UnsettledDecision {
  readonly addr: string;
  /** The unsettled decision's sequence, if known (undefined: not heard from since the term was won). */
  readonly max_decided: number | undefined;
}

/**
 * The peer (a deposed master) that may hold a COMMIT decision above `max_sequence` that
 * nobody is known to have applied, if any: a replica this node cannot reach may have applied
 * it, so handing out that sequence could give it twice. The new master waits for it.
 *
 * Only a report asked for after this term was won counts as current: an older one may predate
 * the decision (once seed 11148: a new master whose heartbeats had stalled on a slow disk
 * still held the deposed master's report from before it led, `max_decided` 0; the one probe
 * of the take-over missed, the peer stayed reachable, and the term handed out the sequence of
 * the deposed master's COMMIT, which the crashed third replica had applied). So a reachable
 * peer not heard from since is waited for, and so is a granter whose grant carried an
 * unsettled decision above `max_sequence`, until a current report shows it settled.
 */
export function findUnsettledDecision(max_sequence: number, peers: readonly DecisionWitness[]): UnsettledDecision | undefined {
  for (const peer of peers) {
    if (peer.fresh_report !== undefined) {
      const max_decided = peer.fresh_report.max_decided ?? 0;
      if (max_decided > max_sequence) return { addr: peer.addr, max_decided };
    } else if ((peer.granted_decided ?? 0) > max_sequence) {
      return { addr: peer.addr, max_decided: peer.granted_decided };
    } else if (peer.reachable) {
      return { addr: peer.addr, max_decided: undefined };
    }
  }
  return undefined;
}

/** What this node knows about one of its unconfirmed COMMIT decisions once a take-over's reconciliation is done. */
export interface UnconfirmedAtTakeOver {
  /** Its decision record now: undefined once withdrawn. */
  readonly decision: { readonly decision: 'COMMIT' | 'ABORT'; readonly sequence?: number } | undefined;
  /** Applied here meanwhile (the take-over's catch-up brought it from a replica). */
  readonly applied_here: boolean;
  /** Another transaction holds its sequence here. */
  readonly sequence_taken_here: boolean;
  /** Still unconfirmed after the awaits that gathered the above: no reconcile pass settled it meanwhile. */
  readonly still_unconfirmed: boolean;
}

export type TakeOverSplit =
  /** Not this take-over's any more: withdrawn or not a COMMIT, applied here, or settled by a concurrent reconcile pass. */
  | { readonly kind: 'settled'; readonly reason: string }
  /** Above everything known applied and free here: the new term finishes it at its sequence (nobody else can have used it). */
  | { readonly kind: 'adopt'; readonly sequence: number }
  /** Left to reconciliation (`reconcileDecision`), which withdraws it once no late copy of its COMMIT can be applied. */
  | { readonly kind: 'wait'; readonly sequence: number; readonly reason: string };

/**
 * The split of a take-over's unconfirmed decisions, after `reconcile` settled what the
 * cluster could tell. A decision whose sequence only an unreachable peer's stale report
 * shows applied is not withdrawn: that peer may be a participant that applied this very
 * decision (its acknowledgement lost), and withdrawing would give the sequence twice.
 * Nor is one whose sequence another transaction took here, although it can never commit at
 * it: `reconcile` just left it waiting, so some participant did not answer or may still
 * take a copy of its COMMIT sent earlier, and a withdrawal now could be followed by that
 * copy's commit (the rule of seed 15663, termination.ts). A take-over never withdraws;
 * reconciliation does, once every participant refuses the epochs the COMMIT went out under.
 */
export function splitForTakeOver(known: UnconfirmedAtTakeOver, known_max_applied: number): TakeOverSplit {
  if (!known.still_unconfirmed) return { kind: 'settled', reason: 'a reconcile pass settled it meanwhile' };
  const { decision } = known;
  if (decision?.decision !== 'COMMIT' || decision.sequence === undefined) return { kind: 'settled', reason: 'no COMMIT decision any more' };
  if (known.applied_here) return { kind: 'settled', reason: 'applied here' };
  if (known.sequence_taken_here) return { kind: 'wait', sequence: decision.sequence, reason: `sequence ${decision.sequence} is taken here; reconciliation withdraws it once no copy of its COMMIT can be applied` };
  if (decision.sequence > known_max_applied) return { kind: 'adopt', sequence: decision.sequence };
  return { kind: 'wait', sequence: decision.sequence, reason: `sequence ${decision.sequence} is known applied only by an unreachable peer` };
}

/** Who this node is now, as a take-over sees it once an await is over. */
export interface Leadership {
  readonly role: Role;
  readonly epoch: number;
  /** The epoch this node leads as master, if it does. */
  readonly term: number | undefined;
}

export type AdoptedFate =
  /** Re-send them under `epoch`, the term that adopted them, which this node still leads. */
  | { readonly kind: 'redrive'; readonly epoch: number }
  /** The term ended while the take-over awaited: they are reconciliation's again. */
  | { readonly kind: 'give-back'; readonly reason: string };

/**
 * What becomes of the unconfirmed COMMIT decisions a take-over of `term` adopted
 * (`splitForTakeOver`), once its awaits are over. A coordinator message counts only from the
 * master of the epoch it carries (participant.ts, `checkOrigin`), so they are re-sent under
 * `term`, and only while this node still leads it. A take-over that lost its term meanwhile (a
 * newer epoch granted to another node) hands them back to reconciliation, which masks them in
 * views and commits or withdraws each by asking the participants. (Once seed 19190: re-sent
 * under the epoch just granted to another node, every participant refused them, 'not the
 * master' and later 'stale epoch' even once this node led again, while its views still showed
 * the round in flight, so every in-doubt pass waited for ever.)
 *
 * Safety: nothing was sent under the adoption yet, and each decision was unconfirmed (no
 * replica known to have applied it) when adopted; given back, it is masked again and
 * reconciliation withdraws it only once every participant answered, none applied it and none
 * can still take a copy sent earlier (each refuses the epochs it went out under, `term`
 * included), and commits it (same id, same sequence) if one did. So a decision a replica
 * applied or may still apply is never withdrawn, and no transaction gets two outcomes. Once
 * re-sent, a step-down before any replica applied it hands it back the same way
 * (`isKnownOnlyHere`, pending-delivery.ts), with the epoch it was re-sent under.
 */
export function decideAdopted(term: number, now: Leadership): AdoptedFate {
  if (now.role === 'MASTER' && now.term === term && now.epoch === term) return { kind: 'redrive', epoch: term };
  return { kind: 'give-back', reason: `the take-over of epoch ${term} ended before it re-sent them (epoch ${now.epoch}, ${now.role === 'MASTER' ? `master of ${now.term}` : 'not master'})` };
}

/** A PREPARED transaction and the round that prepared it (`GET /cluster/in-doubt`). */
export interface InDoubtRound {
  readonly transaction_id: string;
  readonly coordinator?: string;
  readonly participants: readonly string[];
  /** The epoch it was prepared in (absent from older nodes). */
  readonly epoch?: number;
}

/**
 * Whether a round held PREPARED by `holder` may already be committed at a sequence this node
 * (`here`) cannot learn: its coordinator does not answer, and neither does some other
 * participant of the round, which, if the coordinator delivered its COMMIT there first,
 * applied it. (A coordinator never applies a commit before another participant has, so when
 * only the coordinator is silent, every replica that can hold the sequence answers.) A round
 * this node coordinated is its own to settle. A participant that a repair may have made forget
 * the round (`forgotThrough`: the newest epoch it may have forgotten a round of) answers, but
 * cannot tell: it counts as silent.
 */
export function isUnknowableRound(round: InDoubtRound, holder: string, here: string, isReachable: (addr: string) => boolean, forgotThrough: (addr: string) => number | undefined = () => undefined): boolean {
  const { coordinator } = round;
  const tells = (addr: string) => isReachable(addr) && !mayHaveForgotten(forgotThrough(addr), round.epoch);
  if (coordinator === undefined || coordinator === here || tells(coordinator)) return false;
  return round.participants.some((addr) => addr !== coordinator && addr !== holder && addr !== here && !tells(addr));
}

/** The ids of the unknowable rounds among those each holder (this node and its reachable peers) holds in doubt. */
export function listUnknowableRounds(
  held: readonly { readonly holder: string; readonly rounds: readonly InDoubtRound[] }[],
  here: string,
  isReachable: (addr: string) => boolean,
  forgotThrough: (addr: string) => number | undefined = () => undefined,
): readonly string[] {
  const unknowable = new Set<string>();
  for (const { holder, rounds } of held) for (const round of rounds) if (isUnknowableRound(round, holder, here, isReachable, forgotThrough)) unknowable.add(round.transaction_id);
  return [...unknowable];
}
