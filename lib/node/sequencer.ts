/**
 * Where a master hands out sequence numbers. A sequence is reserved only once the one before
 * it is confirmed, that is applied on another replica (or given up). So at any moment a
 * master holds at most one unconfirmed sequence, and it is its highest: if the master dies
 * with it, the next master (which learns the highest applied sequence from the replicas)
 * reuses exactly that number, and the sequence never has a gap.
 */
import type { NodeState } from './context.ts';
import { nextSequence } from '../two-phase-commit/coordinator.ts';
import { assert } from '../util/assert.ts';

export interface Reservation {
  readonly sequence: number;
  /** Another replica applied it (or it was handed off): the next reservation may go. */
  confirm(): void;
  /** It was never used (no COMMIT decision was recorded with it): give the number back. */
  cancel(): void;
}

export class Sequencer {
  /** Settles when the newest reservation is confirmed or cancelled. */
  private gate: Promise<void> = Promise.resolve();

  constructor(private readonly state: NodeState) {}

  /**
   * Wait for the previous reservation to settle, at most `wait_ms`, then reserve the next
   * sequence. Undefined if the wait timed out (the caller decides ABORT: nothing is reserved).
   */
  async reserve(wait_ms: number): Promise<Reservation | undefined> {
    const previous = this.gate;
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      previous.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), wait_ms))),
    ]);
    clearTimeout(timer);
    if (!settled) {
      // Pass the turn on when the previous one settles, having used nothing.
      void previous.then(release);
      return undefined;
    }
    const sequence = nextSequence(this.state.max_sequence);
    this.state.max_sequence = sequence;
    let open = true;
    const state = this.state;
    return {
      sequence,
      confirm: () => {
        if (!open) return;
        open = false;
        release();
      },
      cancel: () => {
        if (!open) return;
        open = false;
        assert(state.max_sequence >= sequence, 'max_sequence never falls below a reservation still open');
        if (state.max_sequence === sequence) state.max_sequence = sequence - 1;
        release();
      },
    };
  }
}
