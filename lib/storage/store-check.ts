/**
 * Is a node's SQLite file fit to serve from? Checked at every start, before the node joins:
 * SQLite's own `quick_check` (b-tree pages, records, NOT NULL columns, free list), then what
 * twopc knows must hold between its tables: every `kv` row was written by a COMMITTED
 * transaction at that row's sequence, and no row is newer than the log's last sequence. A
 * file that fails either is not served from: a replica that joins broken answers 500 to
 * reads and ABORT to every prepare, and so stops every write in the cluster.
 *
 * Both read the whole file, so their cost is what a restart waits for: on a store of 2 million
 * transactions (725 MB) measured at 2.0 s for `quick_check` and 1.0–1.4 s for a join of every
 * kv row with the log, before this file was made cheaper (bench/README.md, issue 13's
 * restart target).
 */
import type { Sqlite } from './database.ts';
import type { CommittedSummary } from './stores.ts';

/** Most problems a check reports (SQLite's own check stops there too). */
export const store_problems_max = 5;

/**
 * The file's problems from the two halves of the check: its structure's when it has any (a
 * table read through broken pages tells nothing true), else its tables'. Empty when sound.
 */
export function judgeStore(structural: readonly string[], tables: readonly string[]): readonly string[] {
  return structural.length > 0 ? structural : tables;
}

/** SQLite's own check of the file's structure; empty when sound. Never throws. */
export function checkStructure(sqlite: Sqlite): readonly string[] {
  try {
    return runQuickCheck(sqlite);
  } catch (error) {
    return [describeProblem(error)];
  }
}

/** What the table check found, and what it counted of the committed log on the way. */
export interface TablesVerdict {
  /** Empty when every kv row is held by the log. */
  readonly problems: readonly string[];
  /** How many transactions are committed, and the highest sequence among them; undefined if they could not be counted. */
  readonly committed: CommittedSummary | undefined;
}

/** What twopc knows must hold between its tables (kv against the log). Never throws. */
export function checkTables(sqlite: Sqlite): TablesVerdict {
  try {
    const range = countCommitted(sqlite);
    return { problems: checkKvAgainstLog(sqlite, range), committed: { count: range.count, max: range.last ?? 0 } };
  } catch (error) {
    return { problems: [describeProblem(error)], committed: undefined };
  }
}

function describeProblem(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `quick_check` without re-evaluating the tables' CHECK constraints on every row: SQLite
 * enforces them on every write, and evaluating `state in (…)` over each stored row doubled
 * the check's CPU (1.05 s against 0.45 s of user time on 725 MB) while it guards two columns
 * of nine; a value that changed at rest in any column is the replica digest's to find
 * (lib/node/replica-integrity.ts). Pages, records and the free list are checked as before.
 */
function runQuickCheck(sqlite: Sqlite): readonly string[] {
  sqlite.pragma('ignore_check_constraints = ON');
  try {
    const rows = sqlite.pragma(`quick_check(${store_problems_max})`) as { quick_check: string }[];
    return rows.map((row) => row.quick_check).filter((text) => text !== 'ok');
  } finally {
    sqlite.pragma('ignore_check_constraints = OFF');
  }
}

interface CommittedRange {
  readonly count: number;
  readonly first: number | null;
  readonly last: number | null;
}

function countCommitted(sqlite: Sqlite): CommittedRange {
  return sqlite.prepare(`select count(sequence) as count, min(sequence) as first, max(sequence) as last from transactions where state = 'COMMITTED'`).get() as CommittedRange;
}

/**
 * Every kv row names a COMMITTED transaction at its own sequence, and none is above the log's
 * last. Sequences are unique, so when the committed ones number `last - first + 1` they are
 * every sequence `first..last` (the usual store, and how lib/node/open-node.ts reads its
 * applied prefix): then a kv row is fine exactly when its sequence is an integer in that
 * range, one scan of `kv` (0.3 s for 2 million rows) instead of a lookup into the log for
 * each row (1.0–1.4 s). A log with gaps is joined row by row, as before.
 */
function checkKvAgainstLog(sqlite: Sqlite, range: CommittedRange): readonly string[] {
  const last = range.last ?? 0;
  const contiguous = range.count === 0 || (range.first !== null && range.last !== null && range.count === range.last - range.first + 1);
  const orphans = contiguous
    ? (sqlite
        .prepare(`select key, sequence from kv where not (typeof(sequence) = 'integer' and sequence between ? and ?) limit ${store_problems_max}`)
        .all(range.first ?? 1, last) as { key: string; sequence: number }[])
    : (sqlite
        .prepare(
          `select kv.key as key, kv.sequence as sequence from kv left join transactions t on t.sequence = kv.sequence and t.state = 'COMMITTED'
           where t.id is null limit ${store_problems_max}`,
        )
        .all() as { key: string; sequence: number }[]);
  return orphans.map((row) =>
    row.sequence > last ? `kv row ${JSON.stringify(row.key)} is at sequence ${row.sequence}, above the log's last ${last}` : `kv row ${JSON.stringify(row.key)} is at sequence ${row.sequence}, which no committed transaction holds`,
  );
}
