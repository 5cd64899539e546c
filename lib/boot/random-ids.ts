import { randomUUID } from 'node:crypto';
import type { Ids } from '../node/peer-calls.ts';

/** Production's transaction ids: random UUIDs. */
export const random_ids: Ids = Object.freeze({ newTransactionId: () => randomUUID() });
