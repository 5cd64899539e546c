/**
 * A node's COMMIT decisions that it never applied itself and no other replica is known to
 * have applied: found on disk at start-up, or handed over when it stepped down mid-delivery.
 * Reconciliation settles each (commit it here, or withdraw it); a take-over may adopt one to
 * finish. Pure bookkeeping, no I/O: who may act on a decision is decided here, synchronously,
 * so two passes that each awaited answers never both act on one (a withdrawal of a decision a
 * take-over has just adopted would leave it COMMITTED elsewhere and ABORTED here). Each carries
 * the newest epoch its COMMIT may have been sent under: a withdrawal waits until every
 * participant refuses that epoch (termination.ts, `reconcileDecision`). And it knows the
 * sequences around each: withdrawals go from the highest down, and none goes below one of its
 * term kept (applied here, or adopted), so no withdrawal leaves a hole in the sequences.
 */
export type Settlement = 'commit' | 'withdraw';

interface Unconfirmed {
  readonly sequence: number | undefined;
  /** The newest epoch a copy of this COMMIT may carry. */
  readonly sent_epoch: number;
}

export class UnconfirmedDecisions {
  /** Waiting to be settled, with each decision's sequence and newest epoch sent under. */
  private readonly waiting = new Map<string, Unconfirmed>();
  /** Claimed by a pass that is committing or withdrawing it right now. */
  private readonly settling = new Map<string, Unconfirmed & { readonly settlement: Settlement }>();
  /**
   * Decisions a take-over adopted to finish, by id, with their sequences: none below them of
   * their term may be withdrawn. One committed here is in the store, which tells the same, so
   * each leaves once applied here (`forgetApplied`, every reconcile pass) or given back (`add`).
   * No limit of its own: each entry left `waiting` to come here, so it never holds more than
   * `waiting` did at the take-over, and `waiting` holds only this node's COMMIT decisions no
   * other replica is known to have applied, which the sequence gate keeps to one run per term
   * it led and has not settled (a run: at most `rounds_in_flight_max` rounds of
   * `batch_max_transactions`, lib/node/options.ts), plus what a power loss dropped of its own
   * unsynced applies (the commits since its last synced write).
   */
  private readonly adopted = new Map<string, number | undefined>();

  /** `sent_epoch`: the newest epoch this node may have sent its COMMIT under (kept if a newer one is known already). */
  add(id: string, sequence: number | undefined, sent_epoch: number): void {
    if (this.settling.has(id)) return;
    // Given back by a take-over or handed off by a master that stepped down: it may be withdrawn again.
    this.adopted.delete(id);
    const known = this.waiting.get(id)?.sent_epoch ?? 0;
    this.waiting.set(id, { sequence, sent_epoch: Math.max(known, sent_epoch) });
  }

  /** The newest epoch a copy of this COMMIT may carry, while it waits (0: not waiting). */
  sentEpochOf(id: string): number {
    return this.waiting.get(id)?.sent_epoch ?? 0;
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
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return false;
    this.settling.set(id, { ...waiting, settlement });
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
    this.waiting.set(id, { sequence: claimed.sequence, sent_epoch: claimed.sent_epoch });
  }

  /** Settled without a claim: withdrawn already, or applied here. */
  drop(id: string): void {
    this.waiting.delete(id);
  }

  /** A take-over adopted it to finish: it counts as committed until given back (`add`) or applied here (`forgetApplied`). */
  adopt(id: string): void {
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return;
    this.waiting.delete(id);
    this.adopted.set(id, waiting.sequence);
  }

  /** Adopted decisions, with their sequences. */
  listAdopted(): readonly { readonly id: string; readonly sequence: number | undefined }[] {
    return [...this.adopted].map(([id, sequence]) => ({ id, sequence }));
  }

  /** Forget the adopted decisions now applied here: the store tells of them. */
  forgetApplied(isApplied: (id: string) => boolean): void {
    for (const id of this.adopted.keys()) if (isApplied(id)) this.adopted.delete(id);
  }

  /** The highest sequence among the other decisions still unsettled: waiting, or being committed (0: none). */
  highestUnsettledOther(id: string): number {
    let max = 0;
    for (const [other, { sequence }] of this.waiting) if (other !== id && sequence !== undefined && sequence > max) max = sequence;
    for (const [other, { settlement, sequence }] of this.settling) if (other !== id && settlement === 'commit' && sequence !== undefined && sequence > max) max = sequence;
    return max;
  }

  /**
   * The highest sequence among these decisions that may yet be used: waiting ones and ones
   * being committed. One being withdrawn leaves its number free for the next term.
   */
  maxSequence(): number {
    let max = 0;
    for (const { sequence } of this.waiting.values()) if (sequence !== undefined && sequence > max) max = sequence;
    for (const { settlement, sequence } of this.settling.values()) if (settlement === 'commit' && sequence !== undefined && sequence > max) max = sequence;
    return max;
  }
}
