/**
 * A replica's digest of what it applied: SHA-256 chained over its committed log in sequence
 * order, `d(s) = sha256(d(s-1), s, id, payload)` from `d(0) = digest_origin`. Two replicas
 * that applied the same transactions at the same sequences have the same digest at every
 * sequence; one edited row, on either side, makes them differ from there on. The payload is
 * hashed with its keys sorted, so how a message spelled it does not matter.
 */
import { createHash } from 'node:crypto';
import type { CommittedEntry } from '../protocol/messages.ts';

export const digest_origin = '0'.repeat(64);

/** A digest and the sequence it covers (every committed sequence 1..`sequence`). */
export interface DigestMark {
  readonly sequence: number;
  readonly digest: string;
}

export const origin_mark: DigestMark = Object.freeze({ sequence: 0, digest: digest_origin });

/** What a full recomputation from the stored rows found. */
export interface ReplicaAudit extends DigestMark {
  /** Stored rows that contradict each other (a kv row its log entry did not write); empty when none. */
  readonly problems: readonly string[];
}

/** One page of the kv check: the problems found, and the key to go on after (absent on the last page). */
export interface KvCheckPage {
  readonly problems: readonly string[];
  readonly next?: string;
}

export function chainDigest(previous: DigestMark, entry: CommittedEntry): DigestMark {
  const payload = Object.keys(entry.payload)
    .sort()
    .map((key) => [key, entry.payload[key]]);
  const digest = createHash('sha256').update(previous.digest).update(`\n${entry.sequence}\n${entry.transaction_id}\n`).update(JSON.stringify(payload)).digest('hex');
  return { sequence: entry.sequence, digest };
}

/**
 * Extend `from` over `entries` (ascending, starting at `from.sequence + 1`, no gap). Throws
 * when one is missing: a digest covers a contiguous prefix or nothing. `each` hears every
 * mark on the way, the last included.
 */
export function extendDigest(from: DigestMark, entries: Iterable<CommittedEntry>, through: number, each?: (mark: DigestMark) => void): DigestMark {
  let mark = from;
  for (const entry of entries) {
    if (entry.sequence > through) break;
    if (entry.sequence !== mark.sequence + 1) throw new Error(`the log has no committed transaction at sequence ${mark.sequence + 1}`);
    mark = chainDigest(mark, entry);
    each?.(mark);
  }
  if (mark.sequence !== through) throw new Error(`the log has no committed transaction at sequence ${mark.sequence + 1}`);
  return mark;
}

/** Does a kv row hold what the log entry at its sequence wrote? A problem's text, or undefined. */
export function checkKvRow(key: string, stored: string | null, sequence: number, writer: CommittedEntry | undefined): string | undefined {
  if (writer === undefined) return `kv row ${JSON.stringify(key)} is at sequence ${sequence}, which no committed transaction holds`;
  if (!Object.hasOwn(writer.payload, key)) return `kv row ${JSON.stringify(key)} is at sequence ${sequence}, whose transaction ${writer.transaction_id} did not write it`;
  const written = writer.payload[key];
  const expected = written === null || written === undefined ? null : JSON.stringify(written);
  if (stored !== expected) return `kv row ${JSON.stringify(key)} holds something else than transaction ${writer.transaction_id} wrote at sequence ${sequence}`;
  return undefined;
}
