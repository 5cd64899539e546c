/**
 * Where a simulated master hands out sequence numbers (lib/node/sequencer.ts), driven by
 * simulated time instead of promises and timers: sequence s+1 is reserved only once s is
 * confirmed (applied on another replica, or handed off) or cancelled, a waiting reservation
 * gives up after `wait_ms`, and a cancelled one gives its number back if it is still the top.
 */
import { nextSequence } from '../two-phase-commit/coordinator.ts';
import { assert } from '../util/assert.ts';
import type { SimNode } from './sim-node.ts';

export interface SimReservation {
  readonly sequence: number;
  /** Another replica applied it (or it was handed off): the next reservation may go. */
  confirm(): void;
  /** It was never used: give the number back. */
  cancel(): void;
}

/** One turn in the queue of reservations: settled once its reservation is confirmed, cancelled or skipped. */
class Gate {
  private settled = false;
  private readonly waiters: (() => void)[] = [];

  static open(): Gate {
    const gate = new Gate();
    gate.settled = true;
    return gate;
  }

  whenSettled(run: () => void): void {
    if (this.settled) run();
    else this.waiters.push(run);
  }

  settle(): void {
    if (this.settled) return;
    this.settled = true;
    for (const run of this.waiters.splice(0)) run();
  }
}

export class SimSequencer {
  /** Settles when the newest reservation is confirmed or cancelled. */
  private gate = Gate.open();

  constructor(private readonly node: SimNode) {}

  /**
   * Once the previous reservation settles, at most `wait_ms` from now, reserve the next
   * sequence; `then(undefined)` if the wait timed out (nothing is reserved).
   */
  reserve(wait_ms: number, then: (reservation: SimReservation | undefined) => void): void {
    const previous = this.gate;
    const mine = new Gate();
    this.gate = mine;
    let decided = false;
    this.node.after(wait_ms, 'sequence-wait-timeout', () => {
      if (decided) return;
      decided = true;
      // Pass the turn on when the previous one settles, having used nothing.
      previous.whenSettled(() => mine.settle());
      then(undefined);
    });
    previous.whenSettled(() => {
      if (decided) return;
      decided = true;
      then(this.take(mine));
    });
  }

  /**
   * Hold `first`..`first + count - 1`, which a new term took over from an earlier one of this
   * node (decided, never confirmed): the next reservation waits for them as for any
   * (sequencer.ts, hold). The caller has already raised `max_sequence` past them.
   */
  hold(first: number, count: number): SimReservation {
    assert(Number.isSafeInteger(first) && first > 0 && count > 0, 'a held run is a positive range');
    const previous = this.gate;
    const mine = new Gate();
    this.gate = mine;
    let open = true;
    const settle = (): void => {
      if (!open) return;
      open = false;
      previous.whenSettled(() => mine.settle());
    };
    return { sequence: first, confirm: settle, cancel: settle };
  }

  private take(mine: Gate): SimReservation {
    const { state } = this.node;
    const sequence = nextSequence(state.max_sequence);
    state.max_sequence = sequence;
    let open = true;
    return {
      sequence,
      confirm: () => {
        if (!open) return;
        open = false;
        mine.settle();
      },
      cancel: () => {
        if (!open) return;
        open = false;
        // The node's memory is replaced on restart; a reservation of an earlier life is moot.
        const current = this.node.state;
        // Unless something moved past it meanwhile (a step-down resets it to what is applied).
        if (current === state && current.max_sequence === sequence) current.max_sequence = sequence - 1;
        mine.settle();
      },
    };
  }
}
