/**
 * Where waiting comes from. Every sleep and timer of a node goes through a Timers (next to
 * the Clock it is read with), so the simulation (lib/simulation) can run the node's real
 * services on simulated time: production wires `real_timers`.
 */

/** A timer that has not fired yet can be cancelled; cancelling a fired one does nothing. */
export interface Timer {
  cancel(): void;
}

export interface Timers {
  /** Run `run` once, `duration_ms` from now; 0: once the I/O already waiting has been taken in. */
  after(duration_ms: number, run: () => void): Timer;
  /** A promise that settles `duration_ms` from now. */
  sleep(duration_ms: number): Promise<void>;
}

export const real_timers: Timers = Object.freeze({
  after(duration_ms: number, run: () => void): Timer {
    // setTimeout(0) waits a millisecond; setImmediate runs right after the event loop's poll.
    if (duration_ms <= 0) {
      const immediate = setImmediate(run);
      return { cancel: () => clearImmediate(immediate) };
    }
    const handle = setTimeout(run, duration_ms);
    return { cancel: () => clearTimeout(handle) };
  },
  sleep(duration_ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, duration_ms));
  },
});
