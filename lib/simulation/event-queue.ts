/**
 * Simulated time: events ordered by due time, ties broken by the order they were scheduled,
 * so the order never depends on anything but the schedule itself. A run holds a few dozen
 * pending events, so a sorted array (binary-search insertion) serves.
 */
export interface SimEvent {
  readonly at_ms: number;
  /** Returns false when it turned out to have nothing to do (a cancelled timer, a dead incarnation's wake-up). */
  readonly run: () => boolean | void;
}

export class EventQueue {
  /** Pending events, latest first: the next one is popped off the end. */
  private readonly events: SimEvent[] = [];

  push(at_ms: number, run: () => boolean | void): void {
    // After every event due at the same time or earlier: ties keep the order they came in.
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.events[middle] as SimEvent).at_ms > at_ms) low = middle + 1;
      else high = middle;
    }
    this.events.splice(low, 0, { at_ms, run });
  }

  /** Take the next event if it is due by `until_ms`. */
  popDue(until_ms: number): SimEvent | undefined {
    return (this.events.at(-1)?.at_ms ?? Number.POSITIVE_INFINITY) <= until_ms ? this.events.pop() : undefined;
  }
}
