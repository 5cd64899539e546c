import { assert } from '../util/assert.ts';

/**
 * Which committed sequences this node has applied. `applied_through` is the contiguous
 * prefix (every sequence 1..N applied): the "last committed sequence" a node reports and
 * the point catch-up resumes from. Commits may arrive out of order; those above the prefix
 * wait in `ahead` until the gap closes.
 */
export class SequenceTracker {
  private through = 0;
  private readonly ahead = new Set<number>();
  private highest = 0;

  constructor(applied: Iterable<number> = []) {
    for (const sequence of applied) this.add(sequence);
  }

  /** Every sequence 1..`through` applied, none above. */
  static contiguous(through: number): SequenceTracker {
    assert(Number.isSafeInteger(through) && through >= 0, 'a contiguous prefix is a non-negative integer');
    const tracker = new SequenceTracker();
    tracker.through = through;
    tracker.highest = through;
    return tracker;
  }

  add(sequence: number): void {
    assert(Number.isSafeInteger(sequence) && sequence >= 1, `sequence ${sequence} is a positive integer`);
    if (sequence > this.highest) this.highest = sequence;
    if (sequence <= this.through) return;
    this.ahead.add(sequence);
    while (this.ahead.delete(this.through + 1)) this.through += 1;
  }

  /** Nothing applied any more: the replica was wiped to pull a clean copy. */
  reset(): void {
    this.through = 0;
    this.highest = 0;
    this.ahead.clear();
  }

  has(sequence: number): boolean {
    return sequence <= this.through || this.ahead.has(sequence);
  }

  get applied_through(): number {
    return this.through;
  }

  get max_applied(): number {
    return this.highest;
  }
}
