/**
 * A node's COMMIT decisions that it never applied itself and no other replica is known to
 * have applied: found on disk at start-up, or handed over when it stepped down mid-delivery.
 * Reconciliation settles each (commit it here, or withdraw it); a take-over may adopt one to
 * finish. Pure bookkeeping, no I/O: who may act on a decision is decided here, synchronously,
 * so two passes that each awaited answers never both act on one (a withdrawal of a decision a
 * take-over has just adopted would leave it COMMITTED elsewhere and ABORTED here).
 */
export type Settlement = 'commit' | 'withdraw';

export class UnconfirmedDecisions {
  /** Waiting to be settled, with each decision's sequence. */
  private readonly waiting = new Map<string, number | undefined>();
  /** Claimed by a pass that is committing or withdrawing it right now. */
  private readonly settling = new Map<string, { readonly settlement: Settlement; readonly sequence: number | undefined }>();

  add(id: string, sequence: number | undefined): void {
    if (!this.settling.has(id)) this.waiting.set(id, sequence);
  }

  /** Still waiting: no pass has settled, claimed or adopted it. A pass re-checks this after its awaits. */
  isWaiting(id: string): boolean {
    return this.waiting.has(id);
  }

  /** Waiting or being settled: a view of the transaction must not show this decision yet (it may still be withdrawn). */
  isMasked(id: string): boolean {
    return this.waiting.has(id) || this.settling.has(id);
  }

  listWaiting(): readonly string[] {
    return [...this.waiting.keys()];
  }

  get size(): number {
    return this.waiting.size + this.settling.size;
  }

  /** Take a waiting decision to settle it; false if it is not waiting any more (someone else acted). */
  claim(id: string, settlement: Settlement): boolean {
    if (!this.waiting.has(id)) return false;
    this.settling.set(id, { settlement, sequence: this.waiting.get(id) });
    this.waiting.delete(id);
    return true;
  }

  /** The claimed settlement is done. */
  finish(id: string): void {
    this.settling.delete(id);
  }

  /** The claimed settlement failed: the decision waits again. */
  giveBack(id: string): void {
    const claimed = this.settling.get(id);
    if (!claimed) return;
    this.settling.delete(id);
    this.waiting.set(id, claimed.sequence);
  }

  /** Settled without a claim (applied here, withdrawn already, or adopted by a take-over to finish). */
  drop(id: string): void {
    this.waiting.delete(id);
  }

  /**
   * The highest sequence among these decisions that may yet be used: waiting ones and ones
   * being committed. One being withdrawn leaves its number free for the next term.
   */
  maxSequence(): number {
    let max = 0;
    for (const sequence of this.waiting.values()) if (sequence !== undefined && sequence > max) max = sequence;
    for (const { settlement, sequence } of this.settling.values()) if (settlement === 'commit' && sequence !== undefined && sequence > max) max = sequence;
    return max;
  }
}
