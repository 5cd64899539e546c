/**
 * A simulated node's disk: what its store transactions committed (`DurableState`, which
 * survives a simulated crash), and the four stores of lib/storage/stores.ts over it, with
 * the SQLite classes' semantics (lib/storage/*.ts): a batch is applied all or none, and a
 * sequence or an id is never stored twice. The hot path's synchronous writes are durable
 * when they return; an asynchronous write takes simulated disk time, and a crash before it
 * lands loses it. An unsynced participant batch is visible at once and durable only once a
 * synced write follows it (SQLite's WAL keeps order); a crash before that loses it.
 */
import type { CommittedEntry } from '../protocol/messages.ts';
import type { JsonValue, Payload } from '../protocol/payload.ts';
import type { EpochGrant } from '../cluster/election.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';
import type { ParticipantRecord, ParticipantWrites } from '../storage/participant-log.ts';
import type { Term } from '../storage/meta.ts';
import type { NodeStores } from '../storage/stores.ts';
import { assert } from '../util/assert.ts';
import { checkKvRow, extendDigest, origin_mark, type KvCheckPage } from '../storage/replica-digest.ts';
import type { DiskFaults } from './disk-faults.ts';
import type { LocalApplySync } from '../two-phase-commit/local-apply-sync.ts';

export type KvEntry = { readonly value: JsonValue; readonly sequence: number };

/** Everything one node has on disk. */
export class DurableState {
  epoch = 0;
  members: readonly string[] | undefined;
  grant: EpochGrant | undefined;
  log_reset = false;
  forgot_through_epoch: number | undefined;
  readonly terms: Term[] = [];
  readonly records = new Map<string, ParticipantRecord>();
  readonly decisions = new Map<string, DecisionRecord>();
  readonly kv = new Map<string, KvEntry>();
  /** The unique indexes on `transactions.sequence` (of COMMITTED rows) and `decisions.sequence`. */
  private readonly committed_at = new Map<number, string>();
  private readonly decided_at = new Set<number>();
  /** The participant tables as of the last synced write, while unsynced batches follow it. */
  private last_synced: { readonly records: Map<string, ParticipantRecord>; readonly kv: Map<string, KvEntry>; readonly committed_at: Map<number, string> } | undefined;

  listPrepared(): readonly ParticipantRecord[] {
    return [...this.records.values()].filter((record) => record.state === 'PREPARED');
  }

  listCommitted(): readonly ParticipantRecord[] {
    return [...this.records.values()].filter((record) => record.state === 'COMMITTED');
  }

  /** Committed sequences above `after`, ascending. */
  listSequences(after: number): number[] {
    return [...this.committed_at.keys()].filter((sequence) => sequence > after).sort((a, b) => a - b);
  }

  /** The committed log in (after, through], ascending, at most `limit` entries. */
  readLog(after: number, through: number, limit: number): CommittedEntry[] {
    return this.listSequences(after)
      .filter((sequence) => sequence <= through)
      .slice(0, limit)
      .map((sequence) => ({ transaction_id: this.committed_at.get(sequence) as string, sequence, payload: this.committedAt(sequence)?.payload as Payload }));
  }

  /** The COMMITTED record at `sequence`, if any. */
  committedAt(sequence: number): ParticipantRecord | undefined {
    const id = this.committed_at.get(sequence);
    return id === undefined ? undefined : this.records.get(id);
  }

  /** Keys above `after`, in key order (SQLite's, for ASCII keys). */
  listKeys(after: string | undefined): string[] {
    return [...this.kv.keys()].filter((key) => after === undefined || key > after).sort();
  }

  /** Apply a participant batch as participant-log.ts's one SQLite transaction does: all of it, or (throwing) none. */
  write(writes: ParticipantWrites, sync: LocalApplySync = 'synced'): void {
    const before = sync === 'unsynced' && this.last_synced === undefined ? { records: new Map(this.records), kv: new Map(this.kv), committed_at: new Map(this.committed_at) } : undefined;
    this.apply(writes);
    if (sync === 'synced') this.markSynced();
    else this.last_synced ??= before;
  }

  /** A synced write landed: everything written before it is on disk too. */
  markSynced(): void {
    this.last_synced = undefined;
  }

  /** A crash that loses the page cache (a power loss): the unsynced batches since the last synced write are gone. */
  loseUnsynced(): void {
    const kept = this.last_synced;
    if (kept === undefined) return;
    restore(this.records, kept.records);
    restore(this.kv, kept.kv);
    restore(this.committed_at, kept.committed_at);
    this.last_synced = undefined;
  }

  private apply(writes: ParticipantWrites): void {
    const sequences = new Map<number, string>();
    const prepared = new Set<string>();
    for (const input of writes.prepared) {
      assert(!this.records.has(input.id) && !prepared.has(input.id), `UNIQUE constraint failed: transactions.id ${input.id}`);
      prepared.add(input.id);
    }
    for (const entry of writes.committed) {
      const holder = sequences.get(entry.sequence) ?? this.committed_at.get(entry.sequence);
      assert(holder === undefined || holder === entry.transaction_id, `UNIQUE constraint failed: transactions.sequence ${entry.sequence}`);
      sequences.set(entry.sequence, entry.transaction_id);
    }
    for (const { id, payload, epoch, now_ms, coordinator, participants } of writes.prepared) {
      this.records.set(id, { id, state: 'PREPARED', payload, epoch, updated_at: now_ms, ...(coordinator !== undefined && { coordinator }), ...(participants !== undefined && { participants }) });
    }
    for (const entry of writes.committed) {
      for (const [key, value] of Object.entries(entry.payload)) {
        const held = this.kv.get(key);
        if (held === undefined || held.sequence < entry.sequence) this.kv.set(key, { value, sequence: entry.sequence });
      }
      const existing = this.records.get(entry.transaction_id) ?? { epoch: entry.epoch, ...(entry.coordinator !== undefined && { coordinator: entry.coordinator }) };
      // One row an id: a commit at another sequence frees the old one, as SQLite's UPDATE does.
      if ('state' in existing && existing.state === 'COMMITTED' && existing.sequence !== undefined) this.committed_at.delete(existing.sequence);
      this.records.set(entry.transaction_id, { ...existing, id: entry.transaction_id, state: 'COMMITTED', payload: entry.payload, sequence: entry.sequence, updated_at: entry.now_ms });
      this.committed_at.set(entry.sequence, entry.transaction_id);
    }
    for (const { id, epoch, now_ms, coordinator } of writes.aborted) {
      const existing = this.records.get(id);
      if (existing === undefined) this.records.set(id, { id, state: 'ABORTED', epoch, updated_at: now_ms, ...(coordinator !== undefined && { coordinator }) });
      else if (existing.state === 'PREPARED') this.records.set(id, { ...existing, state: 'ABORTED', updated_at: now_ms });
    }
  }

  /** As participant-log.ts's checkKv: a page of kv entries in key order, each checked against the log entry that wrote it. */
  checkKv(after: string | undefined, limit: number): KvCheckPage {
    const keys = this.listKeys(after).slice(0, limit);
    const problems = keys.flatMap((key) => {
      const entry = this.kv.get(key) as KvEntry;
      const record = this.committedAt(entry.sequence);
      const writer = record?.payload === undefined ? undefined : { transaction_id: record.id, sequence: entry.sequence, payload: record.payload };
      return checkKvRow(key, entry.value === null ? null : JSON.stringify(entry.value), entry.sequence, writer) ?? [];
    });
    const last = keys.at(-1);
    return { problems, ...(keys.length === limit && last !== undefined && { next: last }) };
  }

  /** As participant-log.ts's resetReplica: every kv entry and every COMMITTED record go. */
  resetReplica(): void {
    this.kv.clear();
    for (const id of this.committed_at.values()) this.records.delete(id);
    this.committed_at.clear();
  }

  recordDecisions(records: readonly DecisionRecord[]): void {
    const sequences = new Set<number>();
    for (const { id, sequence } of records) {
      assert(!this.decisions.has(id), `UNIQUE constraint failed: decisions.id ${id}`);
      assert(sequence === undefined || !(sequences.has(sequence) || this.decided_at.has(sequence)), `UNIQUE constraint failed: decisions.sequence ${sequence}`);
      if (sequence !== undefined) sequences.add(sequence);
    }
    for (const record of records) this.decisions.set(record.id, record);
    for (const sequence of sequences) this.decided_at.add(sequence);
  }

  /** Turn a COMMIT decision into ABORT, freeing its sequence (decision-log.ts, withdraw). */
  withdrawDecision(id: string): void {
    const decision = this.decisions.get(id);
    if (!decision) return;
    const { sequence, ...rest } = decision;
    if (sequence !== undefined) this.decided_at.delete(sequence);
    this.decisions.set(id, { ...rest, decision: 'ABORT' });
  }
}

/**
 * The stores one incarnation of a node uses. `disk` makes an asynchronous write land, synced,
 * after simulated disk time, or never if the node crashes first. While `faults` says the disk is
 * failing, every write throws before it changes anything (a rolled-back SQLite transaction).
 */
export function openMemoryStores(durable: DurableState, disk: (write: () => void) => Promise<void>, faults: DiskFaults): NodeStores {
  // Every write but an unsynced participant batch is synced (`disk` too): it makes what came before it durable.
  const sync = <A extends unknown[], R>(write: (...args: A) => R) => (...args: A): R => {
    faults.checkWrite();
    const result = write(...args);
    durable.markSynced();
    return result;
  };
  const present = (key: string) => {
    const entry = durable.kv.get(key);
    return entry && entry.value !== null ? { key, ...entry } : undefined;
  };
  return {
    participant_log: {
      findNow: (id) => durable.records.get(id),
      findManyNow: (ids) => ids.map((id) => durable.records.get(id)),
      find: async (id) => durable.records.get(id),
      write: (writes, sync_mode) => (faults.checkWrite(), durable.write(writes, sync_mode)),
      listPrepared: async () => durable.listPrepared(),
      summarizeCommitted: () => {
        const sequences = durable.listSequences(0);
        return { count: sequences.length, max: sequences.at(-1) ?? 0 };
      },
      listCommittedSequences: async (after) => durable.listSequences(after),
      readLog: async (after, limit) => durable.readLog(after, Number.MAX_SAFE_INTEGER, limit),
      digestThrough: (from, through, each) => {
        const start = from ?? origin_mark;
        return through <= start.sequence ? start : extendDigest(start, durable.readLog(start.sequence, through, Number.MAX_SAFE_INTEGER), through, each);
      },
      checkKv: (after, limit) => durable.checkKv(after, limit),
      resetReplica: sync(() => durable.resetReplica()),
    },
    decision_log: {
      recordMany: sync((records) => durable.recordDecisions(records)),
      find: async (id) => durable.decisions.get(id),
      listUnapplied: async () =>
        [...durable.decisions.values()]
          .filter(({ id, decision }) => decision === 'COMMIT' && durable.records.get(id)?.state === 'PREPARED')
          .map(({ id, sequence }) => ({ id, ...(sequence !== undefined && { sequence }) })),
      withdraw: (id) => disk(() => durable.withdrawDecision(id)),
    },
    meta: {
      readEpoch: async () => durable.epoch,
      writeEpoch: (epoch) => disk(() => (durable.epoch = Math.max(durable.epoch, epoch))),
      readMembers: async () => durable.members,
      writeMembers: (members) => disk(() => (durable.members = [...members])),
      readGrant: async () => durable.grant,
      writeGrant: (grant) => disk(() => (durable.grant = grant)),
      recordTerm: (term) =>
        disk(() => {
          if (!durable.terms.some((known) => known.epoch === term.epoch)) durable.terms.push(term);
        }),
      listTerms: async () => [...durable.terms].sort((a, b) => a.epoch - b.epoch),
      readLogReset: async () => durable.log_reset,
      writeLogReset: (reset) => disk(() => (durable.log_reset = reset)),
      readForgotThroughEpoch: async () => durable.forgot_through_epoch,
      writeForgotThroughEpoch: (epoch) => disk(() => (durable.forgot_through_epoch = epoch)),
    },
    kv: {
      get: async (key) => present(key),
      page: async (after, limit) => {
        const items = durable.listKeys(after).flatMap((key) => present(key) ?? []);
        return { items: items.slice(0, limit), more: items.length > limit };
      },
    },
  };
}

function restore<K, V>(table: Map<K, V>, kept: ReadonlyMap<K, V>): void {
  table.clear();
  for (const [key, value] of kept) table.set(key, value);
}
