/**
 * Where a master hands out sequence numbers. Commits reserve a run of consecutive sequences
 * (the commits of every round waiting as the gate opens), and only once the previous run is
 * confirmed, that is applied on enough other replicas (or given up). So at any moment a master holds at most one unconfirmed run, and it is its
 * highest: if the master dies with it, the next master (which learns the highest applied
 * sequence from the replicas) reuses exactly those numbers, and the sequence never has a gap.
 */
import type { NodeState } from './context.ts';
import type { RunOfSequences } from '../two-phase-commit/pending-delivery.ts';
import { assert } from '../util/assert.ts';

export interface Reservation {
  /** The first of `count` consecutive sequences reserved together (the commits of the rounds that share a run). */
  readonly first: number;
  readonly count: number;
  /** Another replica applied them all (or they were handed off): the next reservation may go. */
  confirm(): void;
  /** They were never used (no COMMIT decision was recorded with them): give the numbers back. */
  cancel(): void;
}

export class Sequencer {
  /** Settles when the newest reservation is confirmed or cancelled. */
  private gate: Promise<void> = Promise.resolve();
  /** Runs held so far (`hold`): a wait begun before the latest one reserves nothing. */
  private holds = 0;

  constructor(private readonly state: NodeState) {}

  /**
   * Hold sequences `first`..`first + count - 1` that a new term took over from an earlier one
   * of this node (decided, never confirmed): the next reservation waits for them as for any.
   * The caller has already raised `max_sequence` past them.
   */
  hold(first: number, count: number): Reservation {
    assert(Number.isSafeInteger(first) && first > 0 && count > 0, 'a held run is a positive range');
    this.holds += 1;
    const previous = this.gate;
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    let open = true;
    const settle = () => {
      if (!open) return;
      open = false;
      void previous.then(release);
    };
    return { first, count, confirm: settle, cancel: settle };
  }

  /**
   * Wait for the previous reservation to settle, then reserve the next `size()` sequences:
   * `size` is asked as the gate opens (how many commits wait for it then), so every round
   * waiting shares the run (lib/two-phase-commit/run-formation.ts). Undefined when it says 0:
   * nothing is reserved and the turn passes on. The wait itself has no limit; each round
   * waiting bounds its own (CoordinatorService).
   *
   * A wait begun before a run was held (a new term took over decisions of an earlier one)
   * passes the turn without asking `size`: the held run is unconfirmed and ahead of it, and
   * rounds of the new term that joined it since wait for the next reservation, behind the
   * held run. Only one unconfirmed run at a time, whatever the terms.
   */
  async reserveWhenOpen(size: () => number): Promise<Reservation | undefined> {
    const previous = this.gate;
    const holds = this.holds;
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    await previous;
    if (this.holds !== holds) {
      release();
      return undefined;
    }
    const count = size();
    assert(Number.isSafeInteger(count) && count >= 0, 'a reservation holds a whole number of sequences');
    if (count === 0) {
      release();
      return undefined;
    }
    const first = this.state.max_sequence + 1;
    const last = first + count - 1;
    this.state.max_sequence = last;
    let open = true;
    const state = this.state;
    return {
      first,
      count,
      confirm: () => {
        if (!open) return;
        open = false;
        release();
      },
      cancel: () => {
        if (!open) return;
        open = false;
        // Unless something moved past it meanwhile (a step-down resets it to what is applied).
        if (state.max_sequence === last) state.max_sequence = first - 1;
        release();
      },
    };
  }
}

/**
 * A run of sequences is confirmed once every commit in it has been applied by enough other
 * replicas that, with this master's own decision, a majority of the membership holds it
 * (`countAcksNeeded`): a new master, which takes over with a majority, then always learns of
 * it. The sequencer then lets the next run be reserved. The rounds sharing a run may have
 * had different participants, so each round's commits see the run through their own `share`.
 */
export class RunConfirmation {
  private remaining: number;

  constructor(
    private readonly reservation: { confirm(): void },
    count: number,
  ) {
    this.remaining = count;
  }

  /** The run as the commits of one round see it: each needs `acks_needed` remote acknowledgements. */
  share(acks_needed: number): RunOfSequences {
    return { acks_needed, acknowledgeOne: () => this.acknowledgeOne(), release: () => this.release() };
  }

  /** One commit of the run reached its quorum of other replicas. */
  acknowledgeOne(): void {
    this.remaining -= 1;
    if (this.remaining <= 0) this.reservation.confirm();
  }

  /** Give the run up (stepped down): the next master settles what is left. */
  release(): void {
    this.reservation.confirm();
  }
}
