/**
 * Resolving in-doubt transactions in batches (a restart may find a thousand): per batch one
 * round of questions — each peer asked once, about every transaction of the batch it may
 * know — then each transaction judged on its own by `resolveInDoubt` (termination.ts); the
 * fences go out as one message per participant, and the commits and aborts (the fenced ones
 * included) are written together, one local transaction (one fsync). Pure: the recovery
 * service asks and writes.
 */
import type { TransactionView } from '../protocol/messages.ts';
import { resolveInDoubt, type PeerAnswer, type Resolution } from './termination.ts';

/** A PREPARED transaction as this node holds it. */
export interface InDoubtRecord {
  readonly id: string;
  readonly coordinator?: string;
  readonly participants?: readonly string[];
  /** The epoch of the round that prepared it. */
  readonly epoch?: number;
}

export interface Judged {
  readonly id: string;
  readonly resolution: Resolution;
}

/** What one batch writes and what it leaves. */
export interface BatchOutcome {
  readonly commits: readonly { readonly transaction_id: string; readonly sequence: number }[];
  readonly aborts: readonly string[];
  /** Participants to fence before the abort, one transaction each (rare: a round that never reached them). */
  readonly fences: readonly { readonly id: string; readonly addrs: readonly string[] }[];
  readonly waits: readonly { readonly id: string; readonly reason: string }[];
}

/**
 * Who is asked about `record`: its round's participants and every member (a client may have
 * retried the same id through a later master, whose round is the one that counts), never `self`.
 */
export function peersToAsk(record: InDoubtRecord, members: readonly string[], self: string): readonly string[] {
  return [...new Set([...(record.participants ?? []), ...members])].filter((addr) => addr !== self);
}

/** The batch's questions: for each peer, the ids to ask it about, in one request. */
export function planQuestions(records: readonly InDoubtRecord[], members: readonly string[], self: string): ReadonlyMap<string, readonly string[]> {
  const questions = new Map<string, string[]>();
  for (const record of records) {
    for (const addr of peersToAsk(record, members, self)) {
      const ids = questions.get(addr) ?? [];
      ids.push(record.id);
      questions.set(addr, ids);
    }
  }
  return questions;
}

/**
 * Each transaction judged on what the batch heard: `answers` holds, per peer asked, its views
 * by id, or undefined when it did not answer; `own` is this node's view of each.
 */
export function judgeBatch(
  records: readonly InDoubtRecord[],
  own: ReadonlyMap<string, TransactionView>,
  answers: ReadonlyMap<string, ReadonlyMap<string, TransactionView> | undefined>,
  members: readonly string[],
  self: string,
): readonly Judged[] {
  return records.map((record) => {
    const heard: PeerAnswer[] = peersToAsk(record, members, self).map((addr) => ({ addr, view: answers.get(addr)?.get(record.id) }));
    heard.push({ addr: self, view: own.get(record.id) });
    return { id: record.id, resolution: resolveInDoubt(record.coordinator, heard, record.participants, record.epoch) };
  });
}

/** The judged batch as writes: commits and aborts together, fences and waits apart. */
export function splitResolutions(judged: readonly Judged[]): BatchOutcome {
  const commits: { transaction_id: string; sequence: number }[] = [];
  const aborts: string[] = [];
  const fences: { id: string; addrs: readonly string[] }[] = [];
  const waits: { id: string; reason: string }[] = [];
  for (const { id, resolution } of judged) {
    if (resolution.kind === 'commit') commits.push({ transaction_id: id, sequence: resolution.sequence });
    else if (resolution.kind === 'abort') aborts.push(id);
    else if (resolution.kind === 'fence') fences.push({ id, addrs: resolution.addrs });
    else waits.push({ id, reason: resolution.reason });
  }
  return { commits, aborts, fences, waits };
}

/**
 * The fences' messages: for each participant to fence, every transaction of the batch it must
 * remember as aborted, in one request (`/decide-batch` aborts, as `/abort` does one).
 */
export function planFences(fences: BatchOutcome['fences']): ReadonlyMap<string, readonly string[]> {
  const messages = new Map<string, string[]>();
  for (const fence of fences) {
    for (const addr of fence.addrs) {
      const ids = messages.get(addr) ?? [];
      ids.push(fence.id);
      messages.set(addr, ids);
    }
  }
  return messages;
}

/** The fenced transactions that every participant of their fence acknowledged: they abort here too. */
export function listFenced(fences: BatchOutcome['fences'], acknowledged: ReadonlyMap<string, ReadonlySet<string>>): readonly string[] {
  return fences.filter((fence) => fence.addrs.every((addr) => acknowledged.get(addr)?.has(fence.id) === true)).map((fence) => fence.id);
}

/** `items` in consecutive batches of at most `size`. */
export function inBatches<T>(items: readonly T[], size: number): readonly (readonly T[])[] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}
