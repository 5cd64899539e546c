/**
 * Where time comes from. Everything that reads the time takes a Clock, so a simulation can
 * drive it and a test can jump it.
 *
 * Two readings: `now_ms` is wall time (it goes into records and signatures, and can jump when
 * an operator or NTP moves the system clock); `monotonic_ms` only moves forward at the rate of
 * real time, and is what every duration (pause detection, ages, timeouts) is measured with.
 */
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds since the Unix epoch, as the (possibly wrong) wall clock says. */
  now_ms(): number;
  /** Milliseconds since an arbitrary start; never jumps. */
  monotonic_ms(): number;
}

export const system_clock: Clock = Object.freeze({ now_ms: () => Date.now(), monotonic_ms: () => performance.now() });

/** The system clock with a wall-clock offset a fault test may set (`POST /debug/clock`). */
export class SkewableClock implements Clock {
  private offset = 0;

  constructor(private readonly base: Clock = system_clock) {}

  get offset_ms(): number {
    return this.offset;
  }

  /** From now on the wall clock reads `offset_ms` ahead of the base (behind if negative). */
  setOffset(offset_ms: number): void {
    this.offset = offset_ms;
  }

  now_ms(): number {
    return this.base.now_ms() + this.offset;
  }

  monotonic_ms(): number {
    return this.base.monotonic_ms();
  }
}

export function sleep(duration_ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, duration_ms));
}
