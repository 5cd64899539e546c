import type { Selectable } from 'kysely';
import type { Db, Sqlite } from './database.ts';
import type { TransactionsTable } from './schema.ts';
import type { Payload } from '../protocol/payload.ts';
import type { ParticipantState } from '../protocol/states.ts';
import type { CommittedEntry } from '../protocol/messages.ts';
import { assert } from '../util/assert.ts';
import type { CommittedSummary, ParticipantStore } from './stores.ts';
import type { LocalApplySync } from '../two-phase-commit/local-apply-sync.ts';
import { checkKvRow, extendDigest, origin_mark, type DigestMark, type KvCheckPage } from './replica-digest.ts';

/** One transaction as this node, a participant, holds it on disk. */
export interface ParticipantRecord {
  readonly id: string;
  readonly state: ParticipantState;
  /** The writes; absent for an abort remembered before any prepare arrived. */
  readonly payload?: Payload;
  readonly sequence?: number;
  readonly coordinator?: string;
  readonly epoch: number;
  readonly participants?: readonly string[];
  readonly updated_at: number;
}

export interface PreparedInput {
  readonly id: string;
  readonly payload: Payload;
  readonly coordinator?: string;
  readonly epoch: number;
  readonly participants?: readonly string[];
  readonly now_ms: number;
}

/** A committed transaction to apply: its writes go to `kv`, last writer (by sequence) wins. */
export interface CommitInput extends CommittedEntry {
  readonly epoch: number;
  readonly coordinator?: string;
  readonly now_ms: number;
}

export interface AbortInput {
  readonly id: string;
  readonly epoch: number;
  readonly coordinator?: string;
  readonly now_ms: number;
}

/** Everything one batch of messages changes, written in one SQLite transaction (one fsync). */
export interface ParticipantWrites {
  readonly prepared: readonly PreparedInput[];
  readonly committed: readonly CommitInput[];
  readonly aborted: readonly AbortInput[];
}

/**
 * Where a participant's state is persisted. Each method is one short SQLite transaction,
 * durable when it returns (WAL, synchronous=FULL). `write` is the hot path: a whole batch
 * of prepares, commits and aborts in one transaction, through prepared statements.
 */
export class ParticipantLog implements ParticipantStore {
  private readonly statements: Statements | undefined;
  /**
   * The records this process wrote PREPARED and that are still PREPARED on disk, as `findNow`
   * would read them back: a decision's lookup then needs no select and no JSON.parse of the
   * writes (measured: the decide path's lookup was about 5 % of a slave's CPU under load).
   * Every row of the table is written by `write` below (and `resetReplica`): an id leaves
   * this map before a write that may change its row, and enters it only once a write that
   * made it PREPARED has committed; a record not here is read from the file, as before.
   */
  private readonly prepared_here = new Map<string, ParticipantRecord>();

  constructor(
    private readonly db: Db,
    sqlite?: Sqlite,
  ) {
    this.statements = sqlite ? prepareStatements(sqlite) : undefined;
  }

  /** One transaction's record, read synchronously (the hot path reads one per message). */
  findNow(id: string): ParticipantRecord | undefined {
    assert(this.statements !== undefined, 'the hot path needs the raw SQLite handle');
    return this.prepared_here.get(id) ?? readRecord(this.statements.find, id);
  }

  /**
   * `findNow` of each id, read in one SQLite read transaction: each lookup on its own is a
   * transaction of its own, whose shared lock on the file costs two fcntl calls (measured:
   * 3.6 µs of CPU a lookup of an id not held here, 1.0 µs inside one transaction).
   */
  findManyNow(ids: readonly string[]): readonly (ParticipantRecord | undefined)[] {
    assert(this.statements !== undefined, 'the hot path needs the raw SQLite handle');
    return this.statements.find_many(ids, (id) => this.prepared_here.get(id));
  }

  /** How many transactions are committed here, and the highest sequence among them. */
  summarizeCommitted(): CommittedSummary {
    assert(this.statements !== undefined, 'the hot path needs the raw SQLite handle');
    const row = this.statements.summarize.get() as { count: number; max: number | null };
    return { count: row.count, max: row.max ?? 0 };
  }

  /**
   * Apply a batch: all of it or, if SQLite throws, none of it. Durable when it returns,
   * unless `unsynced`: then SQLite skips this commit's fsync (`synchronous=NORMAL` for it
   * alone) and the WAL, which keeps order, makes it durable with the next synced write.
   */
  write(writes: ParticipantWrites, sync: LocalApplySync = 'synced'): void {
    const statements = this.statements;
    assert(statements !== undefined, 'the hot path needs the raw SQLite handle');
    // Out before the write: whether it lands or throws, these are read from the file.
    for (const entry of writes.committed) this.prepared_here.delete(entry.transaction_id);
    for (const input of writes.aborted) this.prepared_here.delete(input.id);
    if (sync === 'synced') statements.write(writes);
    else {
      statements.sync_normal.run();
      try {
        statements.write(writes);
      } finally {
        statements.sync_full.run();
      }
    }
    this.rememberPrepared(writes);
  }

  /** After a write committed: its prepares, unless the same write also decided them. */
  private rememberPrepared(writes: ParticipantWrites): void {
    if (writes.prepared.length === 0) return;
    const decided = writes.committed.length + writes.aborted.length === 0 ? undefined : new Set([...writes.committed.map((entry) => entry.transaction_id), ...writes.aborted.map((input) => input.id)]);
    for (const input of writes.prepared) {
      if (decided?.has(input.id) === true) continue;
      this.prepared_here.set(input.id, {
        id: input.id,
        state: 'PREPARED',
        epoch: input.epoch,
        updated_at: input.now_ms,
        payload: input.payload,
        ...(input.coordinator !== undefined && { coordinator: input.coordinator }),
        ...(input.participants !== undefined && { participants: input.participants }),
      });
    }
  }

  async find(id: string): Promise<ParticipantRecord | undefined> {
    if (this.statements) return this.findNow(id);
    const row = await this.db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async listPrepared(): Promise<readonly ParticipantRecord[]> {
    const rows = await this.db.selectFrom('transactions').selectAll().where('state', '=', 'PREPARED').execute();
    return rows.map(toRecord);
  }

  /** Every committed sequence above `after`, ascending: how a node finds its contiguous prefix. */
  async listCommittedSequences(after: number): Promise<readonly number[]> {
    const rows = await this.db
      .selectFrom('transactions')
      .select('sequence')
      .where('state', '=', 'COMMITTED')
      .where('sequence', '>', after)
      .orderBy('sequence')
      .execute();
    return rows.map((row) => row.sequence).filter((s): s is number => s !== null);
  }

  async maxCommittedSequence(): Promise<number> {
    const row = await this.db
      .selectFrom('transactions')
      .select((eb) => eb.fn.max('sequence').as('max'))
      .where('state', '=', 'COMMITTED')
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }

  /** The digest `from` extended over the committed log through `through` (lib/storage/replica-digest.ts). */
  digestThrough(from: DigestMark | undefined, through: number, each?: (mark: DigestMark) => void): DigestMark {
    assert(this.statements !== undefined, 'digests read through the raw SQLite handle');
    const start = from ?? origin_mark;
    if (through <= start.sequence) return start;
    return extendDigest(start, iterateLog(this.statements.log_range.iterate(start.sequence, through) as Iterable<LogRow>), through, each);
  }

  /** Check up to `limit` kv rows after `after` against the log entries that wrote them. */
  checkKv(after: string | undefined, limit: number): KvCheckPage {
    assert(this.statements !== undefined, 'a check reads through the raw SQLite handle');
    const rows = this.statements.kv_writers.all(after ?? '', limit) as KvWriterRow[];
    const problems: string[] = [];
    for (const row of rows) {
      const writer = row.id === null || row.payload === null ? undefined : { transaction_id: row.id, sequence: row.sequence, payload: JSON.parse(row.payload) as Payload };
      const problem = checkKvRow(row.key, row.value, row.sequence, writer);
      if (problem !== undefined) problems.push(problem);
    }
    const last = rows.at(-1);
    return { problems, ...(rows.length === limit && last !== undefined && { next: last.key }) };
  }

  /** Forget the replica (every kv row, every COMMITTED transaction) in one transaction, to pull a clean copy. */
  resetReplica(): void {
    assert(this.statements !== undefined, 'a reset writes through the raw SQLite handle');
    // It deletes no PREPARED row; forgetting them here only costs a read each.
    this.prepared_here.clear();
    this.statements.reset();
  }

  /** A page of the committed log after `after`, for a node catching up. */
  async readLog(after: number, limit: number): Promise<readonly CommittedEntry[]> {
    const rows = await this.db
      .selectFrom('transactions')
      .select(['id', 'sequence', 'payload'])
      .where('state', '=', 'COMMITTED')
      .where('sequence', '>', after)
      .orderBy('sequence')
      .limit(limit)
      .execute();
    return rows.map((row) => {
      assert(row.sequence !== null && row.payload !== null, `committed transaction ${row.id} lacks sequence or payload`);
      return { transaction_id: row.id, sequence: row.sequence, payload: JSON.parse(row.payload) as Payload };
    });
  }
}

function readRecord(find: import('better-sqlite3').Statement, id: string): ParticipantRecord | undefined {
  const row = find.get(id) as Selectable<TransactionsTable> | undefined;
  return row ? toRecord(row) : undefined;
}

function toRecord(row: Selectable<TransactionsTable>): ParticipantRecord {
  return {
    id: row.id,
    state: row.state,
    epoch: row.epoch,
    updated_at: row.updated_at,
    ...(row.payload !== null && { payload: JSON.parse(row.payload) as Payload }),
    ...(row.sequence !== null && { sequence: row.sequence }),
    ...(row.coordinator !== null && { coordinator: row.coordinator }),
    ...(row.participants !== null && { participants: JSON.parse(row.participants) as string[] }),
  };
}

interface Statements {
  readonly find: import('better-sqlite3').Statement;
  /** Each id's record, `held` first (no row read), the rest from the file, in one read transaction. */
  readonly find_many: (ids: readonly string[], held: (id: string) => ParticipantRecord | undefined) => (ParticipantRecord | undefined)[];
  readonly summarize: import('better-sqlite3').Statement;
  readonly log_range: import('better-sqlite3').Statement;
  readonly kv_writers: import('better-sqlite3').Statement;
  readonly write: (writes: ParticipantWrites) => void;
  readonly reset: () => void;
  /** `synchronous=NORMAL` (in WAL mode: no fsync at commit) and back to the node's `synchronous=FULL`. */
  readonly sync_normal: import('better-sqlite3').Statement;
  readonly sync_full: import('better-sqlite3').Statement;
}

interface LogRow {
  readonly id: string;
  readonly sequence: number;
  readonly payload: string;
}

interface KvWriterRow {
  readonly key: string;
  readonly value: string | null;
  readonly sequence: number;
  readonly id: string | null;
  readonly payload: string | null;
}

function* iterateLog(rows: Iterable<LogRow>): Iterable<CommittedEntry> {
  for (const row of rows) yield { transaction_id: row.id, sequence: row.sequence, payload: JSON.parse(row.payload) as Payload };
}

function prepareStatements(sqlite: Sqlite): Statements {
  const find = sqlite.prepare('select * from transactions where id = ?');
  const read_many = sqlite.transaction((ids: readonly string[], held: (id: string) => ParticipantRecord | undefined) =>
    ids.map((id) => held(id) ?? readRecord(find, id)),
  );
  const insert_prepared = sqlite.prepare(
    `insert into transactions (id, state, payload, sequence, coordinator, epoch, participants, updated_at)
     values (?, 'PREPARED', ?, null, ?, ?, ?, ?)`,
  );
  const put_kv = sqlite.prepare(
    `insert into kv (key, value, sequence) values (?, ?, ?)
     on conflict (key) do update set value = excluded.value, sequence = excluded.sequence where kv.sequence < excluded.sequence`,
  );
  // A commit's row is almost always there already (PREPARED here): updated in place, which
  // costs SQLite less than an insert that meets the key and turns into the same update. Only
  // an id never held here (a commit learnt from the log) is inserted.
  const commit_held = sqlite.prepare(`update transactions set state = 'COMMITTED', payload = ?, sequence = ?, updated_at = ? where id = ?`);
  const insert_committed = sqlite.prepare(
    `insert into transactions (id, state, payload, sequence, coordinator, epoch, participants, updated_at)
     values (?, 'COMMITTED', ?, ?, ?, ?, null, ?)`,
  );
  const put_aborted = sqlite.prepare(
    `insert into transactions (id, state, payload, sequence, coordinator, epoch, participants, updated_at)
     values (?, 'ABORTED', null, null, ?, ?, null, ?)
     on conflict (id) do update set state = 'ABORTED', updated_at = excluded.updated_at where transactions.state = 'PREPARED'`,
  );
  const write = sqlite.transaction((writes: ParticipantWrites) => {
    for (const input of writes.prepared) {
      insert_prepared.run(input.id, JSON.stringify(input.payload), input.coordinator ?? null, input.epoch, input.participants ? JSON.stringify(input.participants) : null, input.now_ms);
    }
    for (const entry of writes.committed) {
      for (const [key, value] of Object.entries(entry.payload)) put_kv.run(key, value === null ? null : JSON.stringify(value), entry.sequence);
      const payload = JSON.stringify(entry.payload);
      if (commit_held.run(payload, entry.sequence, entry.now_ms, entry.transaction_id).changes === 0) {
        insert_committed.run(entry.transaction_id, payload, entry.sequence, entry.coordinator ?? null, entry.epoch, entry.now_ms);
      }
    }
    for (const input of writes.aborted) put_aborted.run(input.id, input.coordinator ?? null, input.epoch, input.now_ms);
  });
  const summarize = sqlite.prepare(`select count(*) as count, max(sequence) as max from transactions where state = 'COMMITTED'`);
  const log_range = sqlite.prepare(`select id, sequence, payload from transactions where state = 'COMMITTED' and sequence > ? and sequence <= ? order by sequence`);
  const kv_writers = sqlite.prepare(
    `select kv.key as key, kv.value as value, kv.sequence as sequence, t.id as id, t.payload as payload
     from kv left join transactions t on t.sequence = kv.sequence and t.state = 'COMMITTED'
     where kv.key > ? order by kv.key limit ?`,
  );
  const delete_kv = sqlite.prepare('delete from kv');
  const delete_committed = sqlite.prepare(`delete from transactions where state = 'COMMITTED'`);
  const reset = sqlite.transaction(() => {
    delete_kv.run();
    delete_committed.run();
  });
  const sync_normal = sqlite.prepare('pragma synchronous = NORMAL');
  const sync_full = sqlite.prepare('pragma synchronous = FULL');
  return { find, find_many: (ids, held) => read_many(ids, held), summarize, log_range, kv_writers, write: (writes) => write(writes), reset: () => reset(), sync_normal, sync_full };
}
