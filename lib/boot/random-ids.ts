import { randomFillSync } from 'node:crypto';
import type { Ids } from '../node/peer-calls.ts';

/**
 * Production's transaction ids: UUIDs laid out as version 7 (RFC 9562), the wall-clock
 * millisecond in the first 48 bits and 74 random bits after it, so two ids never meet in
 * practice, as with random version 4 UUIDs, but ids made one after another sort near each
 * other. Every replica indexes its transactions (and the master its decisions) by id: a
 * batch of random ids dirtied one index page each, written to the WAL at every commit;
 * time-ordered ones land on the same few pages (measured in process, 16-transaction
 * batches, synchronous=FULL: a prepare write's CPU 40 → 24-27 µs a transaction, a commit
 * write's 30 → 26-28, bench/README.md "Profile findings"). Ids a client chooses are kept
 * as they come.
 */
export const random_ids: Ids = Object.freeze({ newTransactionId: () => newTimeOrderedId(Date.now()) });

/** Random bytes drawn 4 KiB at a time (randomUUID keeps a cache of its own the same way). */
const random_pool = Buffer.alloc(4096);
let random_pool_at = random_pool.length;

/** A version 7 UUID for `now_ms` (epoch milliseconds, below 2^48). */
export function newTimeOrderedId(now_ms: number): string {
  if (random_pool_at + 10 > random_pool.length) {
    randomFillSync(random_pool);
    random_pool_at = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeUIntBE(now_ms, 0, 6);
  random_pool.copy(bytes, 6, random_pool_at, random_pool_at + 10);
  random_pool_at += 10;
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
