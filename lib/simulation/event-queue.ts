/**
 * Simulated time: events ordered by due time, ties broken by the order they were scheduled,
 * so the order never depends on anything but the schedule itself.
 */
export interface SimEvent {
  readonly at_ms: number;
  readonly order: number;
  readonly label: string;
  /** Returns false when it turned out to have nothing to do (a cancelled timer, a dead incarnation's wake-up). */
  readonly run: () => boolean | void;
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private scheduled = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at_ms: number, label: string, run: () => boolean | void): void {
    this.heap.push({ at_ms, order: this.scheduled++, label, run });
    this.siftUp(this.heap.length - 1);
  }

  pop(): SimEvent | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.at_ms;
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.before(left, smallest)) smallest = left;
      if (right < this.heap.length && this.before(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a] as SimEvent;
    const y = this.heap[b] as SimEvent;
    return x.at_ms < y.at_ms || (x.at_ms === y.at_ms && x.order < y.order);
  }

  private swap(a: number, b: number): void {
    const x = this.heap[a] as SimEvent;
    this.heap[a] = this.heap[b] as SimEvent;
    this.heap[b] = x;
  }
}
