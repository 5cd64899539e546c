/**
 * Fills a stopped node's SQLite file directly, for the restart benchmark: committed
 * transactions and PREPARED (in-doubt) ones, written row for row as the node writes them
 * (lib/storage/participant-log.ts: `applyCommit` for a commit learnt from the log,
 * `insertPrepared` for a prepare), in large SQLite transactions so millions of rows take
 * seconds. The node must have created the file (schema, meta) in an earlier run. Only
 * the transaction tables are touched: each node keeps its own meta (epoch, grants).
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveNodeDir } from '../storage/database.ts';
import { assert } from '../util/assert.ts';

/** Rows written per SQLite transaction while filling. */
const fill_batch_rows = 50_000;
/** How far in the past in-doubt transactions were prepared: older than any in-doubt timeout. */
const in_doubt_age_ms = 60 * 60 * 1000;

export interface FillCommittedInput {
  readonly count: number;
  /** Eight hex digits: with the sequence it makes each id, so every replica gets the same ids. */
  readonly id_prefix: string;
  /** The first sequence written: above every sequence in any replica's file. */
  readonly first_sequence: number;
  /** The coordinator recorded on each transaction (the master of the time). */
  readonly coordinator: string;
  readonly epoch: number;
}

export interface FillInDoubtInput {
  readonly count: number;
  readonly coordinator: string;
  readonly epoch: number;
  readonly participants: readonly string[];
}

export function nodeFile(data_dir: string, addr: string): string {
  return join(resolveNodeDir(data_dir, addr), 'twopc.sqlite');
}

function openForFill(file: string): Database.Database {
  assert(existsSync(file), `node file ${file} exists before it is filled`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

/** Checkpoints and truncates the WAL, so the .sqlite file alone holds everything. */
function closeFilled(db: Database.Database): void {
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The highest committed sequence in a node's (stopped) file; 0 for none. */
export function maxStoredSequence(file: string): number {
  const db = openForFill(file);
  try {
    return Number((db.prepare('select coalesce(max(sequence), 0) as max from transactions').get() as { max: number }).max);
  } finally {
    db.close();
  }
}

/**
 * Writes `count` committed single-key transactions at sequences `first_sequence`,
 * `first_sequence + 1`, … (kv row + COMMITTED transactions row each).
 */
export function fillCommitted(file: string, input: FillCommittedInput): void {
  const db = openForFill(file);
  try {
    const put_kv = db.prepare(
      'insert into kv (key, value, sequence) values (?, ?, ?) on conflict (key) do update set value = excluded.value, sequence = excluded.sequence where kv.sequence < excluded.sequence',
    );
    const put_tx = db.prepare(
      "insert into transactions (id, state, payload, sequence, coordinator, epoch, participants, updated_at) values (?, 'COMMITTED', ?, ?, ?, ?, null, ?)",
    );
    const writeBatch = db.transaction((from: number, to: number) => {
      const now_ms = Date.now();
      for (let sequence = from; sequence < to; sequence += 1) {
        const key = `restart-${sequence}`;
        const value = JSON.stringify({ sequence, note: 'twopc bench restart store' });
        put_kv.run(key, value, sequence);
        put_tx.run(committedId(input.id_prefix, sequence), `{${JSON.stringify(key)}:${value}}`, sequence, input.coordinator, input.epoch, now_ms);
      }
    });
    const end = input.first_sequence + input.count;
    for (let from = input.first_sequence; from < end; from += fill_batch_rows) writeBatch(from, Math.min(end, from + fill_batch_rows));
  } finally {
    closeFilled(db);
  }
}

/** A UUID-shaped id (same length as the node's own) fixed by the prefix and the sequence. */
function committedId(id_prefix: string, sequence: number): string {
  return `${id_prefix}-0000-4000-8000-${sequence.toString(16).padStart(12, '0')}`;
}

/** Eight random hex digits for `FillCommittedInput.id_prefix`. */
export function newIdPrefix(): string {
  return randomUUID().slice(0, 8);
}

/** Adds `count` PREPARED transactions, each holding one key nothing else writes. */
export function fillInDoubt(file: string, input: FillInDoubtInput): void {
  const db = openForFill(file);
  try {
    const put_tx = db.prepare(
      "insert into transactions (id, state, payload, sequence, coordinator, epoch, participants, updated_at) values (?, 'PREPARED', ?, null, ?, ?, ?, ?)",
    );
    const participants = JSON.stringify(input.participants);
    const prepared_at = Date.now() - in_doubt_age_ms;
    db.transaction(() => {
      for (let index = 0; index < input.count; index += 1) {
        put_tx.run(randomUUID(), JSON.stringify({ [`in-doubt-${index}`]: index }), input.coordinator, input.epoch, participants, prepared_at);
      }
    })();
  } finally {
    closeFilled(db);
  }
}

export function fileSizeMb(file: string): number {
  return statSync(file).size / (1024 * 1024);
}
