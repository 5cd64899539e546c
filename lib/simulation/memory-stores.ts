/**
 * A simulated node's disk: what its store transactions committed (`DurableState`, which
 * survives a simulated crash), and the four stores of lib/storage/stores.ts over it, with
 * the SQLite classes' semantics (lib/storage/*.ts): a batch is applied all or none, and a
 * sequence or an id is never stored twice. The hot path's synchronous writes are durable
 * when they return; an asynchronous write takes simulated disk time, and a crash before it
 * lands loses it.
 */
import type { CommittedEntry } from '../protocol/messages.ts';
import type { JsonValue, Payload } from '../protocol/payload.ts';
import type { EpochGrant } from '../cluster/election.ts';
import type { DecisionRecord } from '../storage/decision-log.ts';
import type { ParticipantRecord, ParticipantWrites } from '../storage/participant-log.ts';
import type { Term } from '../storage/meta.ts';
import type { KvItem } from '../storage/kv-reads.ts';
import type { DecisionStore, KvReader, NodeMetaStore, NodeStores, ParticipantStore } from '../storage/stores.ts';
import { assert } from '../util/assert.ts';
import { checkKvRow, extendDigest, origin_mark, type KvCheckPage } from '../storage/replica-digest.ts';
import type { DiskFaults } from './disk-faults.ts';
import type { LocalApplySync } from '../two-phase-commit/local-apply-sync.ts';

export interface KvEntry {
  readonly value: JsonValue;
  readonly sequence: number;
}

/** What an unsynced batch overwrote (undefined: absent before). */
interface Undo {
  readonly kv: Map<string, KvEntry | undefined>;
  readonly records: Map<string, ParticipantRecord | undefined>;
  readonly committed_at: Map<number, string | undefined>;
}

/** Everything one node has on disk. */
export class DurableState {
  epoch = 0;
  members: readonly string[] | undefined;
  grant: EpochGrant | undefined;
  readonly terms: Term[] = [];
  readonly records = new Map<string, ParticipantRecord>();
  readonly decisions = new Map<string, DecisionRecord>();
  readonly kv = new Map<string, KvEntry>();
  /** The unique indexes on `transactions.sequence` and `decisions.sequence`. */
  private readonly committed_at = new Map<number, string>();
  private readonly decided_at = new Set<number>();
  /** What each unsynced batch since the last synced write overwrote, oldest first. */
  private readonly unsynced: Undo[] = [];

  listPrepared(): readonly ParticipantRecord[] {
    return [...this.records.values()].filter((record) => record.state === 'PREPARED');
  }

  listCommitted(): readonly ParticipantRecord[] {
    return [...this.records.values()].filter((record) => record.state === 'COMMITTED');
  }

  /**
   * Apply a participant batch as participant-log.ts's one SQLite transaction does: all of it,
   * or (throwing) none. An `unsynced` batch is undone by a crash (`loseUnsynced`) unless a
   * synced write comes after it, as SQLite's WAL keeps a prefix of its commits.
   */
  write(writes: ParticipantWrites, sync: LocalApplySync = 'synced'): void {
    const undo = sync === 'unsynced' ? this.captureUndo(writes) : undefined;
    this.apply(writes);
    if (undo) this.unsynced.push(undo);
    else this.markSynced();
  }

  /** A synced write landed: everything written before it is on disk too. */
  markSynced(): void {
    this.unsynced.length = 0;
  }

  /** A crash (the page cache lost too, as in a power loss): the unsynced batches since the last synced write are gone. */
  loseUnsynced(): void {
    for (const undo of this.unsynced.reverse()) {
      for (const [key, entry] of undo.kv) entry === undefined ? this.kv.delete(key) : this.kv.set(key, entry);
      for (const [id, record] of undo.records) record === undefined ? this.records.delete(id) : this.records.set(id, record);
      for (const [sequence, id] of undo.committed_at) id === undefined ? this.committed_at.delete(sequence) : this.committed_at.set(sequence, id);
    }
    this.unsynced.length = 0;
  }

  /** What `writes` will overwrite, to put back if it is lost. */
  private captureUndo(writes: ParticipantWrites): Undo {
    const undo: Undo = { kv: new Map(), records: new Map(), committed_at: new Map() };
    const keepRecord = (id: string) => void (undo.records.has(id) || undo.records.set(id, this.records.get(id)));
    for (const input of writes.prepared) keepRecord(input.id);
    for (const input of writes.aborted) keepRecord(input.id);
    for (const entry of writes.committed) {
      keepRecord(entry.transaction_id);
      if (!undo.committed_at.has(entry.sequence)) undo.committed_at.set(entry.sequence, this.committed_at.get(entry.sequence));
      for (const key of Object.keys(entry.payload)) if (!undo.kv.has(key)) undo.kv.set(key, this.kv.get(key));
    }
    return undo;
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
    for (const input of writes.prepared) {
      this.records.set(input.id, {
        id: input.id,
        state: 'PREPARED',
        payload: input.payload,
        epoch: input.epoch,
        updated_at: input.now_ms,
        ...(input.coordinator !== undefined && { coordinator: input.coordinator }),
        ...(input.participants !== undefined && { participants: input.participants }),
      });
    }
    for (const entry of writes.committed) {
      for (const [key, value] of Object.entries(entry.payload)) {
        const held = this.kv.get(key);
        if (held === undefined || held.sequence < entry.sequence) this.kv.set(key, { value, sequence: entry.sequence });
      }
      const existing = this.records.get(entry.transaction_id);
      this.records.set(entry.transaction_id, {
        ...(existing ?? { epoch: entry.epoch, ...(entry.coordinator !== undefined && { coordinator: entry.coordinator }) }),
        id: entry.transaction_id,
        state: 'COMMITTED',
        payload: entry.payload,
        sequence: entry.sequence,
        updated_at: entry.now_ms,
      });
      this.committed_at.set(entry.sequence, entry.transaction_id);
    }
    for (const input of writes.aborted) {
      const existing = this.records.get(input.id);
      if (existing === undefined) {
        this.records.set(input.id, { id: input.id, state: 'ABORTED', epoch: input.epoch, updated_at: input.now_ms, ...(input.coordinator !== undefined && { coordinator: input.coordinator }) });
      } else if (existing.state === 'PREPARED') {
        this.records.set(input.id, { ...existing, state: 'ABORTED', updated_at: input.now_ms });
      }
    }
  }

  /** The committed log in (after, through], ascending. */
  listLog(after: number, through: number): readonly CommittedEntry[] {
    return readLog(this, after, Number.MAX_SAFE_INTEGER).filter((entry) => entry.sequence <= through);
  }

  /** As participant-log.ts's checkKv: a page of kv entries in key order, each checked against the log entry that wrote it. */
  checkKv(after: string | undefined, limit: number): KvCheckPage {
    const keys = [...this.kv.keys()].filter((key) => after === undefined || key > after).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, limit);
    const problems: string[] = [];
    for (const key of keys) {
      const entry = this.kv.get(key);
      if (entry === undefined) continue;
      const id = this.committed_at.get(entry.sequence);
      const record = id === undefined ? undefined : this.records.get(id);
      const writer = record?.payload === undefined ? undefined : { transaction_id: record.id, sequence: entry.sequence, payload: record.payload };
      const problem = checkKvRow(key, entry.value === null ? null : JSON.stringify(entry.value), entry.sequence, writer);
      if (problem !== undefined) problems.push(problem);
    }
    const last = keys.at(-1);
    return { problems, ...(keys.length === limit && last !== undefined && { next: last }) };
  }

  /** As participant-log.ts's resetReplica: every kv entry and every COMMITTED record go. */
  resetReplica(): void {
    this.kv.clear();
    for (const [id, record] of this.records) if (record.state === 'COMMITTED') this.records.delete(id);
    this.committed_at.clear();
  }

  recordDecisions(records: readonly DecisionRecord[]): void {
    const sequences = new Set<number>();
    for (const record of records) {
      assert(!this.decisions.has(record.id), `UNIQUE constraint failed: decisions.id ${record.id}`);
      assert(record.sequence === undefined || !(sequences.has(record.sequence) || this.decided_at.has(record.sequence)), `UNIQUE constraint failed: decisions.sequence ${record.sequence}`);
      if (record.sequence !== undefined) sequences.add(record.sequence);
    }
    for (const record of records) this.decisions.set(record.id, record);
    for (const record of records) if (record.sequence !== undefined) this.decided_at.add(record.sequence);
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
 * The stores one incarnation of a node uses. `disk` makes an asynchronous write land after
 * simulated disk time, or never if the node crashes first. While `faults` says the disk is
 * failing, every write throws before it changes anything (a rolled-back SQLite transaction).
 */
export function openMemoryStores(durable: DurableState, disk: (write: () => void) => Promise<void>, faults: DiskFaults): NodeStores {
  const sync = <A extends unknown[], R>(write: (...args: A) => R) => (...args: A): R => {
    faults.checkWrite();
    const result = write(...args);
    durable.markSynced();
    return result;
  };
  const synced = (write: () => void) =>
    disk(() => {
      write();
      durable.markSynced();
    });
  const participant_log: ParticipantStore = {
    findNow: (id) => durable.records.get(id),
    find: async (id) => durable.records.get(id),
    write: (writes, sync_mode) => (faults.checkWrite(), durable.write(writes, sync_mode)),
    listPrepared: async () => durable.listPrepared(),
    summarizeCommitted: () => {
      const sequences = durable.listCommitted().map((record) => record.sequence ?? 0);
      return { count: sequences.length, max: Math.max(0, ...sequences) };
    },
    listCommittedSequences: async (after) =>
      durable
        .listCommitted()
        .flatMap((record) => (record.sequence !== undefined && record.sequence > after ? [record.sequence] : []))
        .sort((a, b) => a - b),
    readLog: async (after, limit) => readLog(durable, after, limit),
    digestThrough: (from, through) => {
      const start = from ?? origin_mark;
      return through <= start.sequence ? start : extendDigest(start, durable.listLog(start.sequence, through), through);
    },
    checkKv: (after, limit) => durable.checkKv(after, limit),
    resetReplica: sync(() => durable.resetReplica()),
  };
  const decision_log: DecisionStore = {
    recordMany: sync((records) => durable.recordDecisions(records)),
    find: async (id) => durable.decisions.get(id),
    listUnapplied: async () =>
      [...durable.decisions.values()]
        .filter((decision) => decision.decision === 'COMMIT' && durable.records.get(decision.id)?.state === 'PREPARED')
        .map((decision) => ({ id: decision.id, ...(decision.sequence !== undefined && { sequence: decision.sequence }) })),
    withdraw: (id) => synced(() => durable.withdrawDecision(id)),
  };
  const meta: NodeMetaStore = {
    readEpoch: async () => durable.epoch,
    writeEpoch: (epoch) => synced(() => (durable.epoch = epoch)),
    readMembers: async () => durable.members,
    writeMembers: (members) => synced(() => (durable.members = [...members])),
    readGrant: async () => durable.grant,
    writeGrant: (grant) => synced(() => (durable.grant = grant)),
    recordTerm: (term) =>
      synced(() => {
        if (!durable.terms.some((known) => known.epoch === term.epoch)) durable.terms.push(term);
      }),
    listTerms: async () => [...durable.terms].sort((a, b) => a.epoch - b.epoch),
  };
  const kv: KvReader = {
    get: async (key) => {
      const entry = durable.kv.get(key);
      return entry && entry.value !== null ? { key, ...entry } : undefined;
    },
    page: async (after, limit) => {
      const items: KvItem[] = [...durable.kv]
        .filter(([key, entry]) => entry.value !== null && (after === undefined || key > after))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, entry]) => ({ key, ...entry }));
      return { items: items.slice(0, limit), more: items.length > limit };
    },
  };
  return { participant_log, decision_log, meta, kv };
}

function readLog(durable: DurableState, after: number, limit: number): readonly CommittedEntry[] {
  return durable
    .listCommitted()
    .filter((record) => record.sequence !== undefined && record.sequence > after && record.payload !== undefined)
    .sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0))
    .slice(0, limit)
    .map((record) => ({ transaction_id: record.id, sequence: record.sequence ?? 0, payload: record.payload as Payload }));
}
