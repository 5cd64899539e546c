import type { LockHolder } from '../two-phase-commit/key-sharing.ts';

/**
 * Key locks held by prepared transactions, in memory, each with the round that prepared it.
 * A key may have several holders when one master's term prepared them all (blind writes,
 * ordered by sequence: lib/two-phase-commit/key-sharing.ts decides who may share). Rebuilt
 * from the PREPARED rows on start-up, so locks survive a crash exactly as long as their
 * transactions do.
 */
export class LockTable {
  private readonly holders = new Map<string, Map<string, LockHolder>>();
  private readonly keysByTransaction = new Map<string, readonly string[]>();

  /** Every transaction holding `key`, oldest first. */
  holdersOf(key: string): readonly LockHolder[] {
    const holders = this.holders.get(key);
    return holders === undefined ? [] : [...holders.values()];
  }

  /** Take every key for `holder`. The caller has checked the rule (`findConflict`). */
  acquire(holder: LockHolder, keys: readonly string[]): void {
    for (const key of keys) {
      let holders = this.holders.get(key);
      if (holders === undefined) this.holders.set(key, (holders = new Map()));
      holders.set(holder.transaction_id, holder);
    }
    this.keysByTransaction.set(holder.transaction_id, keys);
  }

  release(transaction_id: string): void {
    for (const key of this.keysByTransaction.get(transaction_id) ?? []) {
      const holders = this.holders.get(key);
      holders?.delete(transaction_id);
      if (holders?.size === 0) this.holders.delete(key);
    }
    this.keysByTransaction.delete(transaction_id);
  }

  /** How many keys are locked. */
  get size(): number {
    return this.holders.size;
  }
}
