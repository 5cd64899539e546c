import { randomUUID } from 'node:crypto';
import type { Ids } from './peer-calls.ts';

/** Production's transaction ids: random UUIDs. */
export const random_ids: Ids = Object.freeze({ newTransactionId: () => randomUUID() });
