/**
 * Which rounds share the next run of sequences, and in what order (a pure rule).
 *
 * A master hands out one run of consecutive sequences at a time, and the next only once the
 * previous run is confirmed (lib/node/sequencer.ts). Rounds whose votes are in and that have
 * COMMITs to number wait at that gate. When it opens, every round waiting then shares one
 * run: one reservation, one decisions write, one `/decide-batch` per peer, one confirmation.
 * So a step of the sequence chain carries every waiting round's commits instead of one
 * round's.
 *
 * Order: rounds take their part of the run in the order they started (their `round`
 * number, which follows the submission queue), whatever order their votes came back in.
 * Blind writes of one term share keys (key-sharing.ts) and every replica keeps the highest
 * sequence's write, so of two waiting rounds writing one key, the one submitted later wins.
 * Inside a round, its commits keep the round's own order.
 *
 * Participants: a run holds only rounds prepared on the same participants as its first
 * round, the longest such prefix in round order; the rest wait for the next run. So every
 * commit of a run goes to the same replicas in the same `/decide-batch` messages, as when a
 * run was one round's: one replica never applies a higher commit of a run that a lower one
 * never reached (a round that started while a node was down, beside one that started after
 * it came back). Such rounds are rare (the alive set changed between them), so sharing runs
 * loses nothing by it.
 *
 * A round prepared in an epoch this node no longer leads (it stepped down, or adopted a
 * newer epoch, while the round waited) gets no sequence: the new term may already be
 * handing out these numbers. Its COMMITs become ABORT, as when the wait times out.
 */

/** A round whose votes are in and whose COMMIT decisions wait for sequences. */
export interface WaitingRound {
  /** The round's number: rounds start in this order. */
  readonly round: number;
  /** The epoch the round prepared in. */
  readonly epoch: number;
  /** Its COMMIT decisions, each needing a sequence (at least one). */
  readonly commits: number;
  /** The nodes it was prepared on. */
  readonly participants: readonly string[];
}

/** One round's part of the run: sequences `first + offset` .. `first + offset + count - 1`. */
export interface RunPart {
  readonly round: number;
  readonly offset: number;
  readonly count: number;
}

export interface RunPlan {
  /** The rounds sharing the run, in sequence order. */
  readonly parts: readonly RunPart[];
  /** Sequences the run takes in all (0: reserve nothing). */
  readonly count: number;
  /** Rounds that get no sequence (prepared in an epoch this node does not lead now), in round order. */
  readonly refused: readonly number[];
  /** Rounds that keep waiting for the next run (other participants than the run's first), in round order. */
  readonly deferred: readonly number[];
}

/**
 * The next run, formed from every round waiting as the gate opens. `leading_epoch` is the
 * epoch this node leads as master now, or undefined when it is not master.
 */
export function formRun(waiting: readonly WaitingRound[], leading_epoch: number | undefined): RunPlan {
  const ordered = [...waiting].sort((a, b) => a.round - b.round);
  const parts: RunPart[] = [];
  const refused: number[] = [];
  const deferred: number[] = [];
  let count = 0;
  let run_participants: string | undefined;
  for (const { round, epoch, commits, participants } of ordered) {
    if (epoch !== leading_epoch) {
      refused.push(round);
      continue;
    }
    const key = participantsKey(participants);
    run_participants ??= key;
    if (deferred.length > 0 || key !== run_participants) {
      deferred.push(round);
      continue;
    }
    parts.push({ round, offset: count, count: commits });
    count += commits;
  }
  return { parts, count, refused, deferred };
}

/** A set of participants, whatever order it is listed in. */
function participantsKey(participants: readonly string[]): string {
  return JSON.stringify([...participants].sort());
}
