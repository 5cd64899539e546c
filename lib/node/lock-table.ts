import { assert } from '../util/assert.ts';

/**
 * Key locks held by prepared transactions, in memory. Rebuilt from the PREPARED rows on
 * start-up, so locks survive a crash exactly as long as their transactions do.
 */
export class LockTable {
  private readonly holders = new Map<string, string>();
  private readonly keysByTransaction = new Map<string, readonly string[]>();

  holderOf(key: string): string | undefined {
    return this.holders.get(key);
  }

  /** Take every key for `transaction_id`. The caller has checked there is no conflict. */
  acquire(transaction_id: string, keys: readonly string[]): void {
    for (const key of keys) {
      const holder = this.holders.get(key);
      assert(holder === undefined || holder === transaction_id, `lock on ${key} taken by ${transaction_id} while ${holder} holds it`);
      this.holders.set(key, transaction_id);
    }
    this.keysByTransaction.set(transaction_id, keys);
  }

  release(transaction_id: string): void {
    for (const key of this.keysByTransaction.get(transaction_id) ?? []) {
      if (this.holders.get(key) === transaction_id) this.holders.delete(key);
    }
    this.keysByTransaction.delete(transaction_id);
  }

  get size(): number {
    return this.holders.size;
  }
}
